// PgListener: the one dedicated notification connection per server. It
// LISTENs on the store's channel and turns each line of a notification
// (pg_notify_payload.h: a session and its last seq, never the payload)
// into a wake-up of that session's local subscribers, who then read the
// new rows; and it sends this server's own notifications (Publish), after
// the COMMITs that made them true (decision 0013). When the connection is
// lost it reconnects with backoff (100 ms doubling to 5 s) and then wakes
// every subscriber, since notifications sent meanwhile are gone: each
// re-reads from its cursor, so no stream skips an event.
//
// Sending (decision 0032): Publish only queues, so a commit thread never
// waits for a NOTIFY. The listener thread sends everything pending in ONE
// statement, several sessions per notification (up to
// kMaxNotifyPayloadBytes each): at most one statement in flight, and what
// is published meanwhile goes with the next one, so under load one NOTIFY
// transaction covers many batches and every server's listening backend
// handles one notification for many sessions. A send that fails because
// the connection broke stays pending and goes out after the reconnect; one
// the database refuses on a live connection is dropped (sending it again
// might fail for ever and hold back the rest). Pending notifications are
// bounded (kMaxPendingSessions, one per session), and a line longer than a
// payload may be is never sent. What is dropped is counted
// (notify_dropped, StoreStats::notifications_dropped) and reaches other
// servers' streams through their recheck. While the connection is down
// (reconnecting with backoff) nothing is sent; the recheck covers that
// too.
// This server's own notifications come back to it (PostgreSQL delivers to
// every listener) and are skipped: the store woke its local subscribers at
// the COMMIT already.
//
// Commits NOTIFY after their COMMIT, so a server that dies between the two
// never sends it. The safety net: every kRecheckMs the listener reads
// (incarnation, last_seq) of every session that has local subscribers, in
// one query, and wakes those whose row moved since it last looked or heard
// a notification (or that it sees for the first time, or that are gone):
// such a commit reaches the streams within about kRecheckMs.
//
// Thread-safety: Publish may be called from any thread; everything else
// runs on the listener's one thread, the callbacks too. Lifetime: the
// destructor sends what is pending (if connected), then stops and joins the
// thread; callbacks must stay valid until then.

#ifndef ACPSTORE_POSTGRES_PG_LISTENER_H_
#define ACPSTORE_POSTGRES_PG_LISTENER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "acpstore/records.h"
#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "postgres/pg_notify_payload.h"

namespace acpstore::postgres {

class PgConn;

class PgListener {
 public:
  using OnNotify = std::function<void(std::string_view tenant_id,
                                      std::string_view session_id,
                                      EventSeq last_seq)>;
  using OnGap = std::function<void()>;
  // The session keys (engine/keys.h TenantKey) with local subscribers.
  using Subscribed = std::function<std::vector<std::string>()>;

  static constexpr int kRecheckMs = 1000;
  // How long a publish waits for others to share its statement: at 16-64
  // writers on two cores, 2 ms let one NOTIFY cover ~5 batches (appends/s
  // +6-20%, PostgreSQL CPU per append -10%; docs/benchmarks.md), a small
  // part of the 100 ms SPEC §10 allows for a live event across servers.
  static constexpr int kSendWindowMs = 2;
  // Sessions with a notification waiting to be sent.
  static constexpr size_t kMaxPendingSessions = 65536;

  PgListener(std::string url, std::string schema, std::string channel,
             OnNotify on_notify, OnGap on_gap, Subscribed subscribed);
  ~PgListener();
  PgListener(const PgListener&) = delete;
  PgListener& operator=(const PgListener&) = delete;

  // Queues notifications (NotifyPayload lines) to send; never blocks on
  // the database.
  void Publish(const std::vector<std::string>& lines) EXCLUDES(mu_);

  // Times the connection was (re-)established; for tests and stats.
  uint64_t connects() const { return connects_.load(); }
  bool connected() const { return connected_.load(); }
  // The connection's backend process id (0 while disconnected): other
  // servers see it as the sender of this server's notifications.
  int backend_pid() const { return backend_pid_.load(); }
  // Cumulative: notification statements sent, payloads in them, sends
  // that failed, and lines (sessions) dropped: beyond kMaxPendingSessions,
  // longer than a payload may be, or refused on a live connection.
  uint64_t notify_statements() const { return notify_statements_.load(); }
  uint64_t notify_payloads() const { return notify_payloads_.load(); }
  uint64_t notify_failures() const { return notify_failures_.load(); }
  uint64_t notify_dropped() const EXCLUDES(mu_);

 private:
  void Loop();
  struct Seen {
    int64_t incarnation = 0;
    int64_t last_seq = 0;
  };
  // One recheck (see above) on `conn`; false if the connection failed.
  bool Recheck(PgConn& conn);
  // Hands every line of every notification libpq holds, except this
  // connection's own, to on_notify_.
  void Drain(PgConn& conn);
  // Sends everything pending in one statement; false if the connection
  // failed (what it took is pending again).
  bool SendPending(PgConn& conn) EXCLUDES(mu_);
  // Wakes the thread's poll (Publish, the destructor).
  void Wake();

  const std::string url_;
  const std::string schema_;
  const std::string channel_;
  const OnNotify on_notify_;
  const OnGap on_gap_;
  const Subscribed subscribed_;
  // Listener thread only: what the last recheck or notification showed.
  std::unordered_map<std::string, Seen> seen_;
  mutable base::Mutex mu_;
  PendingNotifications pending_ GUARDED_BY(mu_) =
      PendingNotifications(kMaxPendingSessions);
  // An eventfd: readable while something was published since the thread
  // last looked.
  const int wake_fd_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> connected_{false};
  std::atomic<int> backend_pid_{0};
  std::atomic<uint64_t> connects_{0};
  std::atomic<uint64_t> notify_statements_{0};
  std::atomic<uint64_t> notify_payloads_{0};
  std::atomic<uint64_t> notify_failures_{0};
  std::thread thread_;
};

// The application_name of the listener connection of `schema`'s stores,
// as pg_stat_activity shows it: "acpstore-listener:<schema>".
std::string ListenerApplicationName(const std::string& schema);

}  // namespace acpstore::postgres

#endif  // ACPSTORE_POSTGRES_PG_LISTENER_H_
