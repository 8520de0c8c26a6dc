// MemoryEventLog keeps a session's retained events whole, in a deque
// indexed by seq - first_seq (seqs are dense, so no search is needed).
//
// Thread-safety: none (see EventLog). Lifetime: owned by the state.

#ifndef ACPSTORE_ENGINE_MEMORY_EVENT_LOG_H_
#define ACPSTORE_ENGINE_MEMORY_EVENT_LOG_H_

#include <deque>

#include "engine/event_log.h"

namespace acpstore::engine {

class MemoryEventLog final : public EventLog {
 public:
  MemoryEventLog() = default;

  EventStreamInfo Info() const override;
  void Append(Event event) override;
  uint64_t DropThrough(EventSeq through_seq) override;
  uint64_t AdvanceTo(EventSeq through_seq) override;
  Status Read(EventSeq after, size_t limit, uint64_t max_bytes,
              std::vector<Event>* out) const override;
  Result<Event> Get(EventSeq seq) const override;

  static EventLogFactory Factory();

 private:
  std::deque<Event> events_;  // events_[i].seq == first_seq_ + i
  EventSeq first_seq_ = 1;
  EventSeq last_seq_ = 0;
  uint64_t bytes_ = 0;
};

}  // namespace acpstore::engine

#endif  // ACPSTORE_ENGINE_MEMORY_EVENT_LOG_H_
