// EventLog holds one session's retained events. The engine-independent
// state (state.h) decides seqs, dedupe and retention; an EventLog only keeps
// events by seq and answers range reads. The memory engine keeps whole
// events in RAM (MemoryEventLog); the file engine keeps a small index entry
// per event and reads payloads from its journal.
//
// Invariants kept by the caller: Append receives seqs that continue
// last_seq() + 1; DropThrough never moves past last_seq().
//
// Thread-safety: none; the owning state's lock guards it. Lifetime: owned
// by its session's entry in the state.

#ifndef ACPSTORE_ENGINE_EVENT_LOG_H_
#define ACPSTORE_ENGINE_EVENT_LOG_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "acpstore/records.h"
#include "acpstore/result.h"
#include "acpstore/status.h"

namespace acpstore::engine {

// A page of events with no byte cap (only its count bounds it).
inline constexpr uint64_t kNoByteCap = ~uint64_t{0};

// Whether a page of `events` events and `bytes` payload bytes takes the
// next event, of `event_bytes`: always the first, so a cap below one
// event's size still makes progress; then only while the page's payloads
// stay within `max_bytes`. Every engine pages by this rule, so what a
// page holds (and so where the next one starts) does not depend on it.
inline bool PageTakes(size_t events, uint64_t bytes, uint64_t event_bytes,
                      uint64_t max_bytes) {
  return events == 0 || (bytes <= max_bytes && event_bytes <= max_bytes - bytes);
}

class EventLog {
 public:
  virtual ~EventLog() = default;

  // {first_seq, last_seq, retained, bytes}. last_seq is the high-water
  // mark: it never decreases, even when every event was dropped.
  virtual EventStreamInfo Info() const = 0;
  // The summary readers may see. An engine that applies a mutation before
  // it is durable (the file engine) hides events not yet acknowledged:
  // Read() returns none of them and this summary ends before them.
  // Deciders use Info(), which counts them. Default: the same as Info().
  virtual EventStreamInfo VisibleInfo() const { return Info(); }

  virtual void Append(Event event) = 0;
  // Drops every event with seq <= through_seq; returns how many went.
  virtual uint64_t DropThrough(EventSeq through_seq) = 0;
  // Migration (record::AdvanceSeqOp): drops every retained event and sets
  // the high-water mark to through_seq (>= last_seq), so the stream reads
  // {through_seq + 1, through_seq, 0, 0}. Returns how many events went.
  virtual uint64_t AdvanceTo(EventSeq through_seq) = 0;

  // Appends to *out up to `limit` visible retained events with seq >
  // after, ascending, and no more payload bytes than `max_bytes` (the first
  // event always: see PageTakes). kDataLoss if a stored event fails its
  // checksum.
  virtual Status Read(EventSeq after, size_t limit, uint64_t max_bytes,
                      std::vector<Event>* out) const = 0;
  // The retained event `seq`, visible or not (deciders dedupe against
  // it); kNotFound if it was dropped.
  virtual Result<Event> Get(EventSeq seq) const = 0;
};

// Makes the log of a newly created session.
using EventLogFactory =
    std::function<std::unique_ptr<EventLog>(const Session& session)>;

}  // namespace acpstore::engine

#endif  // ACPSTORE_ENGINE_EVENT_LOG_H_
