// MemoryEventLog: see memory_event_log.h.

#include "engine/memory_event_log.h"

#include <algorithm>
#include <cassert>
#include <utility>

namespace acpstore::engine {

EventStreamInfo MemoryEventLog::Info() const {
  return EventStreamInfo{first_seq_, last_seq_, events_.size(), bytes_};
}

void MemoryEventLog::Append(Event event) {
  assert(event.seq == last_seq_ + 1);
  if (events_.empty()) first_seq_ = event.seq;
  last_seq_ = event.seq;
  bytes_ += event.payload.size();
  events_.push_back(std::move(event));
}

uint64_t MemoryEventLog::DropThrough(EventSeq through_seq) {
  uint64_t dropped = 0;
  while (!events_.empty() && events_.front().seq <= through_seq) {
    bytes_ -= events_.front().payload.size();
    events_.pop_front();
    ++dropped;
  }
  first_seq_ = std::max(first_seq_, std::min(through_seq, last_seq_) + 1);
  return dropped;
}

uint64_t MemoryEventLog::AdvanceTo(EventSeq through_seq) {
  assert(through_seq >= last_seq_);
  const uint64_t dropped = events_.size();
  events_.clear();
  bytes_ = 0;
  last_seq_ = std::max(last_seq_, through_seq);
  first_seq_ = last_seq_ + 1;
  return dropped;
}

Status MemoryEventLog::Read(EventSeq after, size_t limit, uint64_t max_bytes,
                            std::vector<Event>* out) const {
  EventSeq from = std::max(after + 1, first_seq_);
  if (from > last_seq_) return Status::OK();
  size_t index = from - first_seq_;
  size_t end = std::min(events_.size(), index + limit);
  uint64_t bytes = 0;
  for (size_t n = 0; index < end; ++index, ++n) {
    const uint64_t size = events_[index].payload.size();
    if (!PageTakes(n, bytes, size, max_bytes)) break;
    bytes += size;
    out->push_back(events_[index]);
  }
  return Status::OK();
}

Result<Event> MemoryEventLog::Get(EventSeq seq) const {
  if (seq < first_seq_ || seq > last_seq_) {
    return Status::NotFound("event was dropped by retention");
  }
  return events_[seq - first_seq_];
}

EventLogFactory MemoryEventLog::Factory() {
  return [](const Session&) { return std::make_unique<MemoryEventLog>(); };
}

}  // namespace acpstore::engine
