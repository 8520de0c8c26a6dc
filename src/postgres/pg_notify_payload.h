// The live-event notification: its channel, its payload format, and the
// coalescing of a server's pending notifications into as few payloads as
// PostgreSQL takes (decision 0032).
//
// Payload, byte by byte (UTF-8 text; PostgreSQL refuses a payload of 8,000
// bytes or more, so each is at most kMaxNotifyPayloadBytes):
//
//   payload = line *( LF line )                 LF = 0x0A
//   line    = last-seq SP tenant-id HT session-id
//                                               SP = 0x20, HT = 0x09
//   last-seq = 1*DIGIT                          decimal, no sign, fits uint64
//
// One line per session: the session's last seq when it was sent (0 for a
// deleted session). Ids contain no control character (record/validate.h
// CheckId), so HT and LF never occur inside one. A one-line payload is the
// format of acpstore 0.1.0, which reads only that: it takes a longer
// payload for one session whose id does not exist and wakes nobody, so
// during a rolling upgrade its streams get other servers' events from its
// once-a-second recheck (pg_listener.h), up to a second late, never lost.
//
// Thread-safety: pure functions; PendingNotifications is not thread-safe
// (PgListener guards it).

#ifndef ACPSTORE_POSTGRES_PG_NOTIFY_PAYLOAD_H_
#define ACPSTORE_POSTGRES_PG_NOTIFY_PAYLOAD_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "acpstore/records.h"
#include "acpstore/status.h"
#include "base/function_ref.h"

namespace acpstore::postgres {

// Below PostgreSQL's 8,000-byte limit with room to spare.
inline constexpr size_t kMaxNotifyPayloadBytes = 7000;

// The NOTIFY channel of the store in `schema`: "<schema>.events".
std::string NotifyChannel(const std::string& schema);

// The longest schema name a store can use, in bytes. PostgreSQL keeps
// identifiers to 63 bytes (NAMEDATALEN - 1): it truncates a longer schema
// name without a word, and pg_notify refuses a longer channel ("channel
// name too long"), which would drop every live event between servers.
// The channel is the longest identifier derived from the schema's (the
// advisory-lock keys are hashed; the connections' application names,
// "acpstore:<schema>", are cut to 63 bytes, a label only), so the schema
// name gets 63 bytes less the 7 of ".events".
inline constexpr size_t kMaxSchemaNameBytes = 63 - 7;

// OK when `schema` can name a store: 1 to kMaxSchemaNameBytes bytes and no
// NUL byte (PostgreSQL takes any other byte in a quoted identifier).
// kInvalidArgument otherwise, naming the limit. Every way in takes it:
// PgConn::Connect, PgStore::Open, and the CLI's --postgres-schema.
Status CheckSchemaName(std::string_view schema);

// One line: "<lastSeq> <tenantId>\t<sessionId>".
std::string NotifyPayload(EventSeq last_seq, std::string_view tenant_id,
                          std::string_view session_id);

// Calls visit for each well-formed line of `payload`, in order; skips the
// others. Returns the number of lines visited.
size_t ForEachNotified(
    std::string_view payload,
    base::FunctionRef<void(std::string_view tenant_id,
                           std::string_view session_id, EventSeq last_seq)>
        visit);

// A server's notifications not sent yet, one per session: a session named
// again keeps the highest last seq (a listener reads every row up to what
// it hears, so the highest covers the others). Bounded: a session beyond
// `max_sessions` is dropped and counted, and reaches other servers'
// streams through their recheck (pg_listener.h).
class PendingNotifications {
 public:
  explicit PendingNotifications(size_t max_sessions)
      : max_sessions_(max_sessions) {}

  // Adds one line (NotifyPayload); false if it is malformed or dropped.
  // dropped(): lines dropped here, by TakePayloads and by Discard.
  bool Add(std::string_view line);
  // Adds every line of a payload TakePayloads gave out (sending it failed).
  void AddPayload(std::string_view payload);
  // Counts every line of such a payload as dropped (it will not be sent).
  void Discard(std::string_view payload);
  bool empty() const { return by_session_.empty(); }
  size_t size() const { return by_session_.size(); }
  uint64_t dropped() const { return dropped_; }

  // Everything pending, as payloads of at most `max_bytes` each, and
  // nothing left pending. A line longer than `max_bytes` (ids far beyond
  // the default limits) is dropped and counted: PostgreSQL would refuse the
  // whole statement.
  std::vector<std::string> TakePayloads(
      size_t max_bytes = kMaxNotifyPayloadBytes);

 private:
  const size_t max_sessions_;
  // "<tenantId>\t<sessionId>" -> the highest last seq.
  std::unordered_map<std::string, EventSeq> by_session_;
  uint64_t dropped_ = 0;
};

}  // namespace acpstore::postgres

#endif  // ACPSTORE_POSTGRES_PG_NOTIFY_PAYLOAD_H_
