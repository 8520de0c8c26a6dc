// FileEventLog and FileLogContext: see file_event_log.h.

#include "engine/file_event_log.h"

#include <algorithm>
#include <cassert>
#include <utility>

#include "journal/format.h"

namespace acpstore::engine {

// ------------------------------------------------------------ FileLogContext

void FileLogContext::BeginDurable(const journal::RecordLocation& record,
                                  std::span<const record::EventSpan> spans) {
  active_ = true;
  durable_ = true;
  misuse_ = false;
  record_ = record;
  spans_ = spans;
  next_ = 0;
}

void FileLogContext::BeginPending(uint64_t ticket,
                                  std::span<const record::EventSpan> spans) {
  active_ = true;
  durable_ = false;
  misuse_ = false;
  ticket_ = ticket;
  spans_ = spans;
  next_ = 0;
}

bool FileLogContext::End() {
  const bool ok = active_ && !misuse_ && next_ == spans_.size();
  active_ = false;
  spans_ = {};
  next_ = 0;
  return ok;
}

std::optional<FileLogContext::NextAppend> FileLogContext::TakeNext() {
  if (!active_ || next_ >= spans_.size()) {
    misuse_ = true;
    return std::nullopt;
  }
  const record::EventSpan& span = spans_[next_++];
  NextAppend next;
  next.durable = durable_;
  next.span = span;
  next.ticket = ticket_;
  if (durable_) {
    next.location =
        EventLocation{static_cast<uint32_t>(record_.segment),
                      static_cast<uint32_t>(record_.offset +
                                            journal::kHeaderSize + span.offset),
                      span.length};
  }
  return next;
}

void FileLogContext::AddLive(uint64_t segment) {
  ++live_[segment];
  ++index_entries_;
}

void FileLogContext::RemoveLive(uint64_t segment) {
  auto it = live_.find(segment);
  if (it != live_.end() && --it->second == 0) live_.erase(it);
  --index_entries_;
}

// -------------------------------------------------------------- FileEventLog

FileEventLog::FileEventLog(FileLogContext* context) : context_(context) {}

FileEventLog::FileEventLog(FileLogContext* context, EventSeq first_seq,
                           EventSeq last_seq, std::deque<IndexEntry> entries)
    : context_(context),
      first_seq_(first_seq),
      last_seq_(last_seq),
      durable_seq_(last_seq),
      index_(std::move(entries)) {
  assert(first_seq_ + index_.size() == last_seq_ + 1);
  for (const IndexEntry& e : index_) {
    context_->AddLive(e.location.segment);
    durable_bytes_ += e.payload_bytes;
  }
  bytes_ = durable_bytes_;
}

FileEventLog::~FileEventLog() {
  for (const IndexEntry& e : index_) context_->RemoveLive(e.location.segment);
}

EventStreamInfo FileEventLog::Info() const {
  return EventStreamInfo{first_seq_, last_seq_, last_seq_ + 1 - first_seq_,
                         bytes_};
}

EventStreamInfo FileEventLog::VisibleInfo() const {
  return EventStreamInfo{std::min(first_seq_, durable_seq_ + 1), durable_seq_,
                         index_.size(), durable_bytes_};
}

void FileEventLog::Append(Event event) {
  assert(event.seq == last_seq_ + 1);
  std::optional<FileLogContext::NextAppend> next = context_->TakeNext();
  if (!next) return;  // End() reports the misuse
  const uint32_t payload_bytes = static_cast<uint32_t>(event.payload.size());
  if (last_seq_ < first_seq_) first_seq_ = event.seq;  // nothing retained
  last_seq_ = event.seq;
  bytes_ += payload_bytes;
  if (next->durable && pending_.empty()) {
    index_.push_back(IndexEntry{next->location, payload_bytes});
    durable_bytes_ += payload_bytes;
    durable_seq_ = event.seq;
    context_->AddLive(next->location.segment);
    return;
  }
  // Durable appends behind pending ones cannot happen (the engine applies
  // on commit only when nothing is in flight); keep them pending.
  assert(!next->durable);
  pending_.push_back(PendingEvent{std::move(event), next->ticket, next->span});
}

uint64_t FileEventLog::DropThrough(EventSeq through_seq) {
  through_seq = std::min(through_seq, last_seq_);
  if (through_seq < first_seq_) return 0;
  const uint64_t dropped = through_seq - first_seq_ + 1;
  uint64_t from_index = std::min<uint64_t>(dropped, index_.size());
  for (uint64_t i = 0; i < from_index; ++i) {
    const IndexEntry& e = index_.front();
    context_->RemoveLive(e.location.segment);
    durable_bytes_ -= e.payload_bytes;
    bytes_ -= e.payload_bytes;
    index_.pop_front();
  }
  while (!pending_.empty() && pending_.front().event.seq <= through_seq) {
    bytes_ -= pending_.front().event.payload.size();
    pending_.pop_front();
  }
  first_seq_ = through_seq + 1;
  return dropped;
}

uint64_t FileEventLog::AdvanceTo(EventSeq through_seq) {
  assert(through_seq >= last_seq_);
  const uint64_t dropped = DropThrough(last_seq_);
  last_seq_ = std::max(last_seq_, through_seq);
  first_seq_ = last_seq_ + 1;
  durable_seq_ = std::max(durable_seq_, last_seq_);
  return dropped;
}

void FileEventLog::MarkDurable(uint64_t ticket,
                               const journal::RecordLocation& record,
                               EventSeq through_seq,
                               PayloadCache::Released* released) {
  PayloadCache* cache = context_->reader()->cache();
  while (!pending_.empty() && pending_.front().ticket == ticket) {
    PendingEvent& p = pending_.front();
    IndexEntry entry;
    entry.location =
        EventLocation{static_cast<uint32_t>(record.segment),
                      static_cast<uint32_t>(
                          record.offset + journal::kHeaderSize + p.span.offset),
                      p.span.length};
    entry.payload_bytes = static_cast<uint32_t>(p.event.payload.size());
    index_.push_back(entry);
    durable_bytes_ += entry.payload_bytes;
    context_->AddLive(entry.location.segment);
    if (cache != nullptr) {
      cache->Insert(entry.location.CacheKey(),
                    std::make_shared<const Event>(std::move(p.event)),
                    released);
    }
    pending_.pop_front();
  }
  durable_seq_ = std::max(durable_seq_, std::min(through_seq, last_seq_));
}

Status FileEventLog::Read(EventSeq after, size_t limit, uint64_t max_bytes,
                          std::vector<Event>* out) const {
  EventSeq seq = std::max(after + 1, first_seq_);
  uint64_t bytes = 0;
  for (size_t n = 0; n < limit && seq <= durable_seq_; ++n, ++seq) {
    const IndexEntry& e = index_[seq - first_seq_];
    if (!PageTakes(n, bytes, e.payload_bytes, max_bytes)) break;
    bytes += e.payload_bytes;
    ACPSTORE_ASSIGN_OR_RETURN(std::shared_ptr<const Event> event,
                              context_->reader()->Read(e.location, seq));
    out->push_back(*event);
  }
  return Status::OK();
}

void FileEventLog::PlanRead(EventSeq after, size_t limit, uint64_t max_bytes,
                            std::vector<PlannedRead>* plan) const {
  EventSeq seq = std::max(after + 1, first_seq_);
  uint64_t bytes = 0;
  for (size_t n = 0; n < limit && seq <= durable_seq_; ++n, ++seq) {
    const IndexEntry& e = index_[seq - first_seq_];
    if (!PageTakes(n, bytes, e.payload_bytes, max_bytes)) break;
    bytes += e.payload_bytes;
    plan->push_back(PlannedRead{seq, e.location});
  }
}

Result<Event> FileEventLog::Get(EventSeq seq) const {
  if (seq < first_seq_ || seq > last_seq_) {
    return Status::NotFound("event was dropped by retention");
  }
  if (seq > durable_seq_) {
    const EventSeq front = pending_.front().event.seq;
    return pending_[seq - front].event;
  }
  const IndexEntry& e = index_[seq - first_seq_];
  ACPSTORE_ASSIGN_OR_RETURN(std::shared_ptr<const Event> event,
                            context_->reader()->Read(e.location, seq));
  return *event;
}

std::optional<EventSeq> FileEventLog::LastSeqInSegmentsThrough(
    uint64_t segment) const {
  auto it = std::upper_bound(
      index_.begin(), index_.end(), segment,
      [](uint64_t s, const IndexEntry& e) { return s < e.location.segment; });
  if (it == index_.begin()) return std::nullopt;
  return first_seq_ + static_cast<EventSeq>(it - index_.begin()) - 1;
}

void FileEventLog::CountBySegment(std::map<uint64_t, uint64_t>* counts) const {
  for (const IndexEntry& e : index_) ++(*counts)[e.location.segment];
}

void FileEventLog::Capture(Image* image) const {
  image->first_seq = first_seq_;
  image->last_seq = last_seq_;
  image->durable.assign(index_.begin(), index_.end());
  image->pending.clear();
  image->pending.reserve(pending_.size());
  for (const PendingEvent& p : pending_) {
    image->pending.push_back(PendingRef{
        p.ticket, p.span, static_cast<uint32_t>(p.event.payload.size())});
  }
}

}  // namespace acpstore::engine
