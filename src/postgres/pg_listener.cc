// PgListener: see pg_listener.h.

#include "postgres/pg_listener.h"

#include <libpq-fe.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <utility>

#include "base/thread_name.h"
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

PgListener::PgListener(std::string url, std::string schema,
                       std::string channel, OnNotify on_notify, OnGap on_gap,
                       Subscribed subscribed)
    : url_(std::move(url)),
      schema_(std::move(schema)),
      channel_(std::move(channel)),
      on_notify_(std::move(on_notify)),
      on_gap_(std::move(on_gap)),
      subscribed_(std::move(subscribed)),
      wake_fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)),
      thread_([this] {
        base::NameThisThread("acp-pg-listen");
        Loop();
      }) {}

PgListener::~PgListener() {
  stop_.store(true);
  Wake();
  thread_.join();
  if (wake_fd_ >= 0) close(wake_fd_);
}

void PgListener::Wake() {
  if (wake_fd_ < 0) return;  // no eventfd: the poll's timeout bounds the wait
  const uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof one);
}

void PgListener::Publish(const std::vector<std::string>& lines) {
  if (lines.empty()) return;
  bool was_empty = false;
  {
    base::MutexLock lock(&mu_);
    was_empty = pending_.empty();
    for (const std::string& line : lines) (void)pending_.Add(line);
  }
  if (was_empty) Wake();
}

uint64_t PgListener::notify_dropped() const {
  base::MutexLock lock(&mu_);
  return pending_.dropped();
}

bool PgListener::SendPending(PgConn& conn) {
  std::vector<std::string> payloads;
  {
    base::MutexLock lock(&mu_);
    if (pending_.empty()) return true;
    payloads = pending_.TakePayloads();
  }
  // One statement, one notification per payload. It commits on its own
  // without a WAL flush to wait for (a transaction that only NOTIFYs
  // writes no WAL before its commit record, flushed asynchronously), so
  // it holds PostgreSQL's notification lock only briefly. Prepared:
  // unprepared, PostgreSQL planned it again each time (decision 0017).
  static constexpr PgStatement kNotifyAll{
      "notify_all", "SELECT pg_notify($1, n) FROM unnest($2::text[]) AS n"};
  Result<PgResult> r =
      conn.Exec(kNotifyAll, PgParams().Text(channel_).Text(TextArray(payloads)));
  if (r.ok()) {
    notify_statements_.fetch_add(1);
    notify_payloads_.fetch_add(payloads.size());
    return true;
  }
  notify_failures_.fetch_add(1);
  base::MutexLock lock(&mu_);
  if (!conn.healthy()) {
    // Perhaps sent, perhaps not: again after the reconnect (a
    // notification heard twice only wakes streams that find nothing new).
    for (const std::string& p : payloads) pending_.AddPayload(p);
    return false;
  }
  // Refused on a live connection (cancelled, a lock or statement timeout,
  // a full notification queue): sending it again could fail the same way
  // for ever and hold back every later notification, so it is dropped and
  // counted; other servers' streams get these events from their recheck.
  for (const std::string& p : payloads) pending_.Discard(p);
  return true;
}

void PgListener::Drain(PgConn& conn) {
  const int self = PQbackendPID(conn.raw());
  while (PGnotify* note = PQnotifies(conn.raw())) {
    // Our own: the store woke its subscribers at the COMMIT; only the
    // recheck's record of what was heard moves.
    const bool own = note->be_pid == self;
    ForEachNotified(note->extra, [&](std::string_view tenant,
                                     std::string_view session, EventSeq seq) {
      if (!seen_.empty()) {
        auto it = seen_.find(engine::TenantKey(tenant, session));
        if (it != seen_.end() &&
            static_cast<int64_t>(seq) > it->second.last_seq) {
          it->second.last_seq = static_cast<int64_t>(seq);
        }
      }
      if (!own) on_notify_(tenant, session, seq);
    });
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
        backend_pid_.store(PQbackendPID(c->raw()));
        connected_.store(true);
        connects_.fetch_add(1);
        backoff = std::chrono::milliseconds(100);
        // Whatever was committed while nobody listened (before the first
        // LISTEN too): every subscriber reads again from its cursor.
        on_gap_();
        seen_.clear();
        using Clock = std::chrono::steady_clock;
        auto recheck = Clock::now();
        // When what is pending goes out: a publish starts the window, and
        // what is published within it goes in the same statement. Now
        // after a reconnect, for what a failed send left pending.
        // Clock::time_point::max(): nothing waits to be sent.
        constexpr Clock::time_point kNever = Clock::time_point::max();
        Clock::time_point send_at = Clock::now();
        while (!stop_.load() && c->healthy()) {
          if (Clock::now() >= recheck) {
            if (!Recheck(*c)) break;
            Drain(*c);  // what arrived while the query ran
            recheck = Clock::now() + std::chrono::milliseconds(kRecheckMs);
          }
          // Without an eventfd nothing wakes the poll: it looks for what was
          // published every kSendWindowMs instead.
          int timeout = wake_fd_ >= 0 ? kPollMs : kSendWindowMs;
          if (send_at != kNever) {
            const auto left = std::chrono::ceil<std::chrono::milliseconds>(
                send_at - Clock::now());
            timeout = static_cast<int>(
                std::clamp<int64_t>(left.count(), 0, kPollMs));
          }
          pollfd pfd[2] = {{PQsocket(c->raw()), POLLIN, 0},
                           {wake_fd_, POLLIN, 0}};
          const int n = poll(pfd, wake_fd_ >= 0 ? 2 : 1, timeout);
          if (n < 0) continue;  // EINTR
          if (wake_fd_ < 0) {
            send_at = Clock::now();
          } else if ((pfd[1].revents & POLLIN) != 0) {
            uint64_t count = 0;
            (void)!read(wake_fd_, &count, sizeof count);
            if (send_at == kNever) {
              send_at = Clock::now() + std::chrono::milliseconds(kSendWindowMs);
            }
          }
          if (Clock::now() >= send_at) {
            send_at = kNever;
            if (!SendPending(*c)) break;
          }
          if (pfd[0].revents != 0 && PQconsumeInput(c->raw()) == 0) {
            break;  // connection lost
          }
          Drain(*c);  // also what arrived while a NOTIFY ran
        }
        // Stopping: what the last commits published goes out if it can.
        if (stop_.load() && c->healthy()) (void)SendPending(*c);
        connected_.store(false);
        backend_pid_.store(0);
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
