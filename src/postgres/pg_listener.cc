// PgListener: see pg_listener.h.

#include "postgres/pg_listener.h"

#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <memory>
#include <utility>

#include "postgres/pg_conn.h"

namespace acpstore::postgres {
namespace {

// How long one wait on the socket lasts: bounds how late Stop is seen.
constexpr int kPollMs = 200;

}  // namespace

std::string ListenerApplicationName(const std::string& schema) {
  // PostgreSQL keeps 63 bytes of it; a schema name is at most that too.
  return ("acpstore-listener:" + schema).substr(0, 63);
}

bool ParseNotifyPayload(std::string_view payload, std::string_view* tenant_id,
                        std::string_view* session_id, EventSeq* last_seq) {
  size_t space = payload.find(' ');
  if (space == std::string_view::npos) return false;
  auto [end, ec] =
      std::from_chars(payload.data(), payload.data() + space, *last_seq);
  if (ec != std::errc() || end != payload.data() + space) return false;
  std::string_view rest = payload.substr(space + 1);
  size_t tab = rest.find('\t');
  if (tab == std::string_view::npos) return false;
  *tenant_id = rest.substr(0, tab);
  *session_id = rest.substr(tab + 1);
  return true;
}

PgListener::PgListener(std::string url, std::string schema,
                       std::string channel, OnNotify on_notify, OnGap on_gap)
    : url_(std::move(url)),
      schema_(std::move(schema)),
      channel_(std::move(channel)),
      on_notify_(std::move(on_notify)),
      on_gap_(std::move(on_gap)),
      thread_([this] { Loop(); }) {}

PgListener::~PgListener() {
  stop_.store(true);
  thread_.join();
}

void PgListener::Loop() {
  auto backoff = std::chrono::milliseconds(100);
  while (!stop_.load()) {
    Result<std::unique_ptr<PgConn>> conn = PgConn::Connect(url_, schema_);
    if (conn.ok()) {
      std::unique_ptr<PgConn> c = std::move(*conn);
      // Named, so operators (and tests) can tell it from pool connections.
      if (c->Query("SELECT set_config('application_name', $1, false)",
                   PgParams().Text(ListenerApplicationName(schema_)))
              .ok() &&
          c->Run("LISTEN " + c->QuoteIdentifier(channel_)).ok()) {
        connected_.store(true);
        connects_.fetch_add(1);
        backoff = std::chrono::milliseconds(100);
        // Whatever was committed while nobody listened (before the first
        // LISTEN too): every subscriber reads again from its cursor.
        on_gap_();
        while (!stop_.load() && c->healthy()) {
          pollfd pfd{PQsocket(c->raw()), POLLIN, 0};
          int n = poll(&pfd, 1, kPollMs);
          if (n < 0) continue;  // EINTR
          if (n == 0) continue;
          if (PQconsumeInput(c->raw()) == 0) break;  // connection lost
          while (PGnotify* note = PQnotifies(c->raw())) {
            std::string_view tenant, session;
            EventSeq seq = 0;
            if (ParseNotifyPayload(note->extra, &tenant, &session, &seq)) {
              on_notify_(tenant, session, seq);
            }
            PQfreemem(note);
          }
        }
        connected_.store(false);
      }
    }
    // Wait out the backoff in short steps, so Stop is not delayed.
    auto until = std::chrono::steady_clock::now() + backoff;
    while (!stop_.load() && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
  }
}

}  // namespace acpstore::postgres
