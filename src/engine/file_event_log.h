// FileEventLog is the file engine's EventLog: per retained event a 16-byte
// index entry (where its framed sub-record lives in the journal, and its
// payload size), with the seq implied by the position in a deque that
// starts at first_seq. Bodies are read back through FileEventReader
// (payload cache, else pread) and verified on every read.
//
// Write path. The engine applies a mutation to the state *before* its
// journal record is durable (so the next decision sees it), which appends
// events here as *pending*: held whole in memory, counted by Info() (the
// deciders' view) but hidden from readers: VisibleInfo() and Read() stop
// at durable_seq. When the record commits, MarkDurable() turns them into
// index entries, so an event is never visible before it is acknowledged.
// Recovery and apply-on-commit append events that are durable already.
//
// How Append() learns which of the two it is: the engine brackets each
// StoreState::Apply with FileLogContext::BeginPending/BeginDurable ... End,
// giving the record's ticket or location and the EncodeMutation spans of
// its events, which Apply visits in the same order (op order, then event
// order). This keeps the shared EventLog interface free of journal types.
//
// FileLogContext also keeps, per journal segment, how many indexed events
// live in it, so segments whose events were all dropped can be deleted.
//
// Thread-safety: none; the engine's state lock guards every log and the
// context. Lifetime: the context outlives every log made with it (both are
// owned by the engine and replaced together on a rebuild).

#ifndef ACPSTORE_ENGINE_FILE_EVENT_LOG_H_
#define ACPSTORE_ENGINE_FILE_EVENT_LOG_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <span>
#include <vector>

#include "engine/event_log.h"
#include "engine/file_event_reader.h"
#include "journal/position.h"
#include "record/mutation_codec.h"

namespace acpstore::engine {

// 16 bytes per retained durable event.
struct IndexEntry {
  EventLocation location;
  uint32_t payload_bytes = 0;
};
static_assert(sizeof(IndexEntry) <= 32, "SPEC §4: <= 32 bytes per event");

class FileLogContext {
 public:
  explicit FileLogContext(FileEventReader* reader) : reader_(reader) {}
  FileLogContext(const FileLogContext&) = delete;
  FileLogContext& operator=(const FileLogContext&) = delete;

  FileEventReader* reader() const { return reader_; }

  // The events appended until End() are in the durable record `record`,
  // at `spans` (one per event, in Apply order).
  void BeginDurable(const journal::RecordLocation& record,
                    std::span<const record::EventSpan> spans);
  // The events appended until End() are in record `ticket`, not yet
  // written.
  void BeginPending(uint64_t ticket, std::span<const record::EventSpan> spans);
  // False when the appends did not match the spans one to one (a bug, or a
  // journal record whose events do not match the state's view of them).
  bool End();

  // What the next Append() must record. Called by FileEventLog only.
  struct NextAppend {
    bool durable = false;
    EventLocation location;  // durable
    uint64_t ticket = 0;     // pending
    record::EventSpan span;  // pending
  };
  std::optional<NextAppend> TakeNext();

  void AddLive(uint64_t segment);
  void RemoveLive(uint64_t segment);
  // Segment -> indexed events in it; segments with none are absent.
  const std::map<uint64_t, uint64_t>& live_by_segment() const { return live_; }
  uint64_t index_entries() const { return index_entries_; }

 private:
  FileEventReader* const reader_;
  bool active_ = false;
  bool durable_ = false;
  bool misuse_ = false;
  journal::RecordLocation record_;
  uint64_t ticket_ = 0;
  std::span<const record::EventSpan> spans_;
  size_t next_ = 0;
  std::map<uint64_t, uint64_t> live_;
  uint64_t index_entries_ = 0;
};

class FileEventLog final : public EventLog {
 public:
  explicit FileEventLog(FileLogContext* context);
  // A log restored from a snapshot: high-water mark `last_seq`, and the
  // durable events [first_seq, first_seq + entries.size()), which must be
  // every event up to last_seq.
  FileEventLog(FileLogContext* context, EventSeq first_seq, EventSeq last_seq,
               std::deque<IndexEntry> entries);
  ~FileEventLog() override;
  FileEventLog(const FileEventLog&) = delete;
  FileEventLog& operator=(const FileEventLog&) = delete;

  EventStreamInfo Info() const override;
  EventStreamInfo VisibleInfo() const override;
  void Append(Event event) override;
  uint64_t DropThrough(EventSeq through_seq) override;
  // Also makes the new mark visible at once: an AdvanceSeqOp appends no
  // event, so no MarkDurable follows it (only the offline import uses it).
  uint64_t AdvanceTo(EventSeq through_seq) override;
  Status Read(EventSeq after, size_t limit, uint64_t max_bytes,
              std::vector<Event>* out) const override;
  Result<Event> Get(EventSeq seq) const override;

  // Readers without the state lock: PlanRead (under it) lists where the
  // visible events after `after` live, up to `limit` and `max_bytes` of
  // payload (PageTakes); the caller reads them with FileEventReader after
  // letting go of the lock. The index knows each payload's size, so a page
  // stops at its cap before anything is read.
  struct PlannedRead {
    EventSeq seq = 0;
    EventLocation location;
  };
  void PlanRead(EventSeq after, size_t limit, uint64_t max_bytes,
                std::vector<PlannedRead>* plan) const;

  // Record `ticket` is durable at `record`: its pending events here become
  // index entries (and enter the payload cache) and readers may see every
  // seq up to `through_seq`, the last one the record appended. The events
  // the cache evicts for them go to *released when given (the caller drops
  // them outside its locks).
  void MarkDurable(uint64_t ticket, const journal::RecordLocation& record,
                   EventSeq through_seq,
                   PayloadCache::Released* released = nullptr);

  // The highest retained seq whose event lives in a segment <= `segment`
  // (seqs are in journal order, so those form a prefix), if any.
  std::optional<EventSeq> LastSeqInSegmentsThrough(uint64_t segment) const;

  // Adds, per segment, how many of this log's durable events live there.
  void CountBySegment(std::map<uint64_t, uint64_t>* counts) const;

  // For snapshots: the retained events, durable ones by location and
  // pending ones by record ticket and span.
  struct PendingRef {
    uint64_t ticket = 0;
    record::EventSpan span;
    uint32_t payload_bytes = 0;
  };
  struct Image {
    EventSeq first_seq = 1;
    EventSeq last_seq = 0;
    std::vector<IndexEntry> durable;  // seqs first_seq, first_seq + 1, ...
    std::vector<PendingRef> pending;  // the seqs after those
  };
  void Capture(Image* image) const;

  EventSeq durable_seq() const { return durable_seq_; }
  bool has_pending() const { return !pending_.empty(); }

 private:
  struct PendingEvent {
    Event event;
    uint64_t ticket = 0;
    record::EventSpan span;
  };

  FileLogContext* const context_;
  EventSeq first_seq_ = 1;
  EventSeq last_seq_ = 0;     // high-water mark, pending included
  EventSeq durable_seq_ = 0;  // readers see seqs <= this
  // Durable retained events: seqs [first_seq_, durable_seq_].
  std::deque<IndexEntry> index_;
  // Pending retained events: the seqs after those, up to last_seq_.
  std::deque<PendingEvent> pending_;
  uint64_t bytes_ = 0;          // payload bytes, pending included
  uint64_t durable_bytes_ = 0;  // payload bytes of index_
};

}  // namespace acpstore::engine

#endif  // ACPSTORE_ENGINE_FILE_EVENT_LOG_H_
