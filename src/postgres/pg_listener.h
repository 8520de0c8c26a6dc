// PgListener: the one dedicated connection per server that LISTENs on the
// store's channel (pg_write.h NotifyChannel) and turns each notification
// ("<lastSeq> <tenantId>\t<sessionId>", never the payload) into a wake-up
// of that session's local subscribers, who then read the new rows. When the
// connection is lost it reconnects with backoff (100 ms doubling to 5 s)
// and then wakes every subscriber, since notifications sent meanwhile are
// gone: each re-reads from its cursor, so no stream skips an event.
//
// Commits NOTIFY after their COMMIT (decision 0013), so a server that dies
// between the two never sends it. The safety net: every kRecheckMs the
// listener reads (incarnation, last_seq) of every session that has local
// subscribers, in one query, and wakes those whose row moved since it last
// looked or heard a notification (or that it sees for the first time, or
// that are gone): such a commit reaches the streams within about
// kRecheckMs.
//
// Thread-safety: owns one thread; the callbacks run on it. Lifetime: the
// destructor stops and joins the thread; callbacks must stay valid until
// then.

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

  PgListener(std::string url, std::string schema, std::string channel,
             OnNotify on_notify, OnGap on_gap, Subscribed subscribed);
  ~PgListener();
  PgListener(const PgListener&) = delete;
  PgListener& operator=(const PgListener&) = delete;

  // Times the connection was (re-)established; for tests and stats.
  uint64_t connects() const { return connects_.load(); }
  bool connected() const { return connected_.load(); }

 private:
  void Loop();
  struct Seen {
    int64_t incarnation = 0;
    int64_t last_seq = 0;
  };
  // One recheck (see above) on `conn`; false if the connection failed.
  bool Recheck(PgConn& conn);
  // Hands every notification libpq holds to on_notify_.
  void Drain(PgConn& conn);

  const std::string url_;
  const std::string schema_;
  const std::string channel_;
  const OnNotify on_notify_;
  const OnGap on_gap_;
  const Subscribed subscribed_;
  // Listener thread only: what the last recheck or notification showed.
  std::unordered_map<std::string, Seen> seen_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> connected_{false};
  std::atomic<uint64_t> connects_{0};
  std::thread thread_;
};

// The application_name of the listener connection of `schema`'s stores,
// as pg_stat_activity shows it: "acpstore-listener:<schema>".
std::string ListenerApplicationName(const std::string& schema);

// Parses a notification payload; false if it is not one of ours.
bool ParseNotifyPayload(std::string_view payload, std::string_view* tenant_id,
                        std::string_view* session_id, EventSeq* last_seq);

}  // namespace acpstore::postgres

#endif  // ACPSTORE_POSTGRES_PG_LISTENER_H_
