// PgListener: see pg_listener.h.

#include "postgres/pg_listener.h"

#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <memory>
#include <utility>

#include "engine/keys.h"
#include "postgres/pg_conn.h"
#include "postgres/pg_rows.h"

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
                       std::string channel, OnNotify on_notify, OnGap on_gap,
                       Subscribed subscribed)
    : url_(std::move(url)),
      schema_(std::move(schema)),
      channel_(std::move(channel)),
      on_notify_(std::move(on_notify)),
      on_gap_(std::move(on_gap)),
      subscribed_(std::move(subscribed)),
      thread_([this] { Loop(); }) {}

PgListener::~PgListener() {
  stop_.store(true);
  thread_.join();
}

void PgListener::Drain(PgConn& conn) {
  while (PGnotify* note = PQnotifies(conn.raw())) {
    std::string_view tenant, session;
    EventSeq seq = 0;
    if (ParseNotifyPayload(note->extra, &tenant, &session, &seq)) {
      auto it = seen_.find(engine::TenantKey(tenant, session));
      if (it != seen_.end() && static_cast<int64_t>(seq) > it->second.last_seq) {
        it->second.last_seq = static_cast<int64_t>(seq);
      }
      on_notify_(tenant, session, seq);
    }
    PQfreemem(note);
  }
}

bool PgListener::Recheck(PgConn& conn) {
  std::vector<std::string> keys = subscribed_();
  std::sort(keys.begin(), keys.end());
  // Forget sessions nobody follows any more.
  for (auto it = seen_.begin(); it != seen_.end();) {
    if (std::binary_search(keys.begin(), keys.end(), it->first)) {
      ++it;
    } else {
      it = seen_.erase(it);
    }
  }
  if (keys.empty()) return true;
  std::vector<std::string> tenants, ids;
  for (const std::string& k : keys) {
    size_t nul = k.find('\0');
    if (nul == std::string::npos) continue;
    tenants.push_back(k.substr(0, nul));
    ids.push_back(k.substr(nul + 1));
  }
  Result<PgResult> r = conn.Query(
      "SELECT s.tenant_id, s.session_id, s.incarnation, s.last_seq "
      "FROM unnest($1::text[], $2::text[]) AS k(t, i) "
      "JOIN sessions s ON s.tenant_id = k.t AND s.session_id = k.i",
      PgParams().Text(TextArray(tenants)).Text(TextArray(ids)));
  if (!r.ok()) return conn.healthy();  // tried again next time
  std::unordered_map<std::string, Seen> now;
  for (int i = 0; i < r->rows(); ++i) {
    now[engine::TenantKey(r->Text(i, 0), r->Text(i, 1))] =
        Seen{r->Int(i, 2), r->Int(i, 3)};
  }
  for (const std::string& k : keys) {
    auto n = now.find(k);
    // A session that is gone counts as incarnation -1: seen once.
    const Seen cur = n == now.end() ? Seen{-1, 0} : n->second;
    auto s = seen_.find(k);
    const bool moved = s == seen_.end() ||
                       s->second.incarnation != cur.incarnation ||
                       s->second.last_seq < cur.last_seq;
    seen_[k] = cur;
    if (!moved) continue;
    const size_t nul = k.find('\0');
    if (nul == std::string::npos) continue;
    std::string_view key(k);
    on_notify_(key.substr(0, nul), key.substr(nul + 1),
               static_cast<EventSeq>(cur.last_seq));
  }
  return true;
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
        seen_.clear();
        auto recheck = std::chrono::steady_clock::now();
        while (!stop_.load() && c->healthy()) {
          if (std::chrono::steady_clock::now() >= recheck) {
            if (!Recheck(*c)) break;
            Drain(*c);  // what arrived while the query ran
            recheck = std::chrono::steady_clock::now() +
                      std::chrono::milliseconds(kRecheckMs);
          }
          pollfd pfd{PQsocket(c->raw()), POLLIN, 0};
          int n = poll(&pfd, 1, kPollMs);
          if (n < 0) continue;  // EINTR
          if (n == 0) continue;
          if (PQconsumeInput(c->raw()) == 0) break;  // connection lost
          Drain(*c);
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
