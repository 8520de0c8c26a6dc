// FileCommitPipeline: submitting journal records, the commit callback, what
// a failed group commit does, and the narrow interface the snapshot side
// uses. See file_commit_pipeline.h and
// docs/decisions/0003-file-engine-write-path.md.

#include "engine/file_commit_pipeline.h"

#include <iterator>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

#include "journal/format.h"
#include "record/mutation_codec.h"

namespace acpstore::engine {

// The bookkeeping of one journal record in flight: built under mu_, then
// only touched by the journal's writer thread (its commit callback).
struct FileCommitPipeline::Inflight {
  uint64_t ticket = 0;
  uint64_t generation = 0;
  uint64_t bytes = 0;  // charged to pending_bytes_
  // A probe (the disk was full) is applied only once it commits.
  bool probe = false;
  record::Mutation mutation;  // probes only
  std::vector<record::EventSpan> spans;
  // Each session the record appended to: where to mark events durable.
  struct Group {
    std::string tenant_id;
    std::string session_id;
    uint64_t incarnation = 0;
    EventSeq last_seq = 0;
  };
  std::vector<Group> groups;
  std::vector<std::string> notify;  // session keys for the hub
  std::unique_ptr<Waiter> waiter;   // may be null (maintenance)
};

FileCommitPipeline::FileCommitPipeline(const StoreOptions& options,
                                       Clock* clock, io::FileSystem& fs,
                                       const FileLayout& layout,
                                       FileEventReader& reader,
                                       PayloadCache& cache,
                                       SubscriptionHub& hub, Start start,
                                       std::function<void()> snapshot_due)
    : options_(options),
      clock_(clock),
      fs_(fs),
      layout_(layout),
      reader_(reader),
      cache_(cache),
      hub_(hub),
      snapshot_due_(std::move(snapshot_due)),
      committer_(std::move(start.committer)) {
  base::MutexLock lock(&mu_);
  context_ = std::move(start.context);
  state_ = std::move(start.state);
  acked_end_ = start.end;
  segment_sizes_ = std::move(start.segment_sizes);
  for (const auto& [segment, size] : segment_sizes_) journal_bytes_ += size;
  unsnapshotted_ = start.unsnapshotted;
  appended_base_ = state_->counters().events_appended;
  dropped_base_ = state_->counters().events_dropped_retention;
  committer_->SetBatchListener(this);
}

FileCommitPipeline::~FileCommitPipeline() {
  (void)Close();
  base::MutexLock lock(&mu_);
  state_.reset();  // before the context its logs point into
  context_.reset();
}

// ------------------------------------------------------------------ writes

void FileCommitPipeline::Submit(std::unique_ptr<Waiter> waiter,
                                DecideFn decide, bool sweep_leases_first) {
  // Events the payload cache evicts to make room for this record's pending
  // bytes: dropped after the waiter is finished, outside mu_.
  PayloadCache::Released released;
  std::vector<std::unique_ptr<Waiter>> finish_ok;
  Status failure;
  {
    base::MutexLock lock(&mu_);
    failure = AdmitLocked();
    if (failure.ok()) {
      // With the disk full, one write at a time is tried, and applied only
      // once it is durable (nothing speculative to undo if it fails).
      const bool probe = degraded_;
      // Read under mu_: decisions see a clock that moves forward in
      // decision (journal) order.
      const DecideContext ctx{clock_->NowMs(), &options_};
      record::Mutation m;
      if (sweep_leases_first && !probe) {
        MaintenanceReport unused;
        m = DecideLeaseSweep(*state_, ctx, &unused);
        if (!m.empty()) {
          failure = ApplyWithoutEventsLocked(m);
          if (!failure.ok()) failure = InternalFailureLocked(failure);
        }
      }
      const size_t applied = m.ops.size();
      if (failure.ok()) {
        Result<record::Mutation> d =
            decide(static_cast<const StoreState&>(*state_), ctx);
        if (!d.ok()) {
          failure = std::move(d).error();
          // The sweep was applied: it must reach the journal on its own.
          std::unique_ptr<Waiter> none;
          if (!m.empty()) {
            (void)SubmitLocked(std::move(m), applied, &none, false, &released);
          }
        } else {
          m.Append(std::move(*d));
          if (m.empty()) {
            FinishAfterInflightLocked(std::exchange(waiter, nullptr),
                                      &finish_ok);
          } else {
            failure =
                SubmitLocked(std::move(m), applied, &waiter, probe, &released);
          }
        }
      }
    }
  }
  if (waiter != nullptr) waiter->Finish(failure);
  for (auto& w : finish_ok) w->Finish(Status::OK());
}

Status FileCommitPipeline::AdmitLocked() {
  if (!failed_.ok()) return failed_;
  if (closing_) return Status::Unavailable("the store is closing");
  if (degraded_ && probe_in_flight_) {
    return Status::InsufficientStorage(
        "the disk is full; writes resume once space returns");
  }
  if (pending_bytes_ > 0 && pending_bytes_ >= options_.memory_budget_bytes) {
    return Status::Unavailable(
        "writes waiting for the disk exceed the memory budget; retry shortly");
  }
  return Status::OK();
}

void FileCommitPipeline::UpdateCacheCapacityLocked(
    PayloadCache::Released* released) {
  const uint64_t budget = options_.memory_budget_bytes;
  cache_.SetCapacity(budget > pending_bytes_ ? budget - pending_bytes_ : 0,
                     released);
}

Status FileCommitPipeline::InternalFailureLocked(const Status& why) {
  Status s = Status::Internal(
      "the file store applied an inconsistent mutation and accepts no more "
      "writes until reopened: " +
      std::string(why.message()));
  if (failed_.ok()) {
    failed_ = s;
    ++generation_;
    committer_->AbortQueued(s);
    RebuildLocked();
  }
  return s;
}

Status FileCommitPipeline::ApplyWithoutEventsLocked(
    const record::Mutation& m) {
  context_->BeginPending(0, {});
  Status s = state_->Apply(m);
  const bool matched = context_->End();
  if (s.ok() && !matched) s = Status::Internal("a sweep appended events");
  return s;
}

Status FileCommitPipeline::SubmitLocked(record::Mutation m, size_t applied,
                                        std::unique_ptr<Waiter>* waiter,
                                        bool probe,
                                        PayloadCache::Released* released) {
  auto in = std::make_shared<Inflight>();
  std::string rec;
  const size_t header = journal::BeginRecord(&rec);
  record::EncodeMutation(m, &rec, &in->spans);
  journal::FinishRecord(&rec, header, journal::RecordType::kMutation);
  in->notify = SubscriptionHub::SessionsToNotify(m);

  size_t events_before = 0;  // events of the ops applied already
  for (size_t i = 0; i < m.ops.size(); ++i) {
    const auto* op = std::get_if<record::AppendEventsOp>(&m.ops[i]);
    if (op == nullptr || op->events.empty()) continue;
    if (i < applied) {
      events_before += op->events.size();
      continue;
    }
    in->groups.push_back(Inflight::Group{op->tenant_id, op->session_id, 0,
                                         op->events.back().seq});
  }
  in->ticket = last_ticket_ + 1;
  in->generation = generation_;
  in->bytes = 2 * rec.size();  // the event in the log + the record queued
  in->probe = probe;

  if (probe) {
    in->mutation = std::move(m);
    probe_in_flight_ = true;
  } else {
    record::Mutation tail;
    tail.ops.assign(std::make_move_iterator(
                        m.ops.begin() + static_cast<std::ptrdiff_t>(applied)),
                    std::make_move_iterator(m.ops.end()));
    context_->BeginPending(
        in->ticket,
        std::span<const record::EventSpan>(in->spans).subspan(events_before));
    Status s = state_->Apply(std::move(tail));
    const bool matched = context_->End();
    if (s.ok() && !matched) {
      s = Status::Internal("appended events do not match their spans");
    }
    if (!s.ok()) return InternalFailureLocked(s);
    for (Inflight::Group& g : in->groups) {
      const SessionEntry* e =
          state_->FindSessionInTenant(g.tenant_id, g.session_id);
      g.incarnation = e != nullptr ? e->incarnation : 0;
    }
  }
  in->waiter = std::move(*waiter);
  last_ticket_ = in->ticket;
  pending_bytes_ += in->bytes;
  unsnapshotted_ = true;
  UpdateCacheCapacityLocked(released);
  // Under mu_: records reach the journal in decision order. The callback
  // never runs inline here (AdmitLocked refuses once closing).
  committer_->SubmitFramed(
      std::move(rec),
      [this, in](const Result<journal::RecordLocation>& r) {
        OnCommitted(in, r);
      });
  return Status::OK();
}

void FileCommitPipeline::FinishAfterInflightLocked(
    std::unique_ptr<Waiter> waiter,
    std::vector<std::unique_ptr<Waiter>>* now) {
  if (done_ticket_ >= last_ticket_) {
    now->push_back(std::move(waiter));
  } else {
    barriers_.push_back(Barrier{last_ticket_, std::move(waiter)});
  }
}

void FileCommitPipeline::OnCommitted(
    std::shared_ptr<Inflight> in,
    const Result<journal::RecordLocation>& result) {
  base::MutexLock lock(&done_mu_);
  committed_.push_back(Committed{std::move(in), result});
}

void FileCommitPipeline::OnBatchEnd() {
  std::vector<Committed> batch;
  {
    base::MutexLock lock(&done_mu_);
    batch.swap(committed_);
  }
  if (batch.empty()) return;
  // In journal order: each record's waiter, then the barriers it released.
  struct Finish {
    Waiter* waiter;
    Status status;
  };
  std::vector<Finish> finish;
  finish.reserve(batch.size());
  std::vector<std::unique_ptr<Waiter>> barriers;
  std::vector<std::string> notify;
  bool want_snapshot = false;
  // What the payload cache gives up for the batch's events: dropped last,
  // with no lock held, so the frees do not lengthen the lock's holds.
  PayloadCache::Released released;
  {
    base::MutexLock lock(&mu_);
    for (Committed& c : batch) {
      Status failure = c.result.status();
      const size_t first_barrier = barriers.size();
      CommitOneLocked(*c.in, c.result, &failure, &want_snapshot, &barriers,
                      &released);
      if (c.in->waiter) finish.push_back(Finish{c.in->waiter.get(), failure});
      for (size_t i = first_barrier; i < barriers.size(); ++i) {
        finish.push_back(Finish{barriers[i].get(), failure});
      }
      if (failure.ok()) {
        notify.insert(notify.end(),
                      std::make_move_iterator(c.in->notify.begin()),
                      std::make_move_iterator(c.in->notify.end()));
      }
    }
  }
  // Acknowledge first: a subscriber's wake-up is not on the writer's path
  // to the next batch, the appender's reply is.
  for (const Finish& f : finish) f.waiter->Finish(f.status);
  hub_.Notify(notify);
  if (want_snapshot) snapshot_due_();
  released.clear();
}

void FileCommitPipeline::CommitOneLocked(
    Inflight& record, const Result<journal::RecordLocation>& result,
    Status* failure, bool* want_snapshot,
    std::vector<std::unique_ptr<Waiter>>* barriers,
    PayloadCache::Released* released) {
  Inflight* in = &record;
  done_ticket_ = in->ticket;
  pending_bytes_ -= in->bytes;
  UpdateCacheCapacityLocked(released);
  if (result.ok()) {
    const journal::RecordLocation& loc = *result;
    acked_end_ = loc.end();
    bytes_since_capture_ += loc.size;
    uint64_t& size = segment_sizes_[loc.segment];
    journal_bytes_ += loc.end().offset - size;
    size = loc.end().offset;
    if (window_through_ && in->ticket <= *window_through_) {
      window_[in->ticket] = loc;
    }
    if (in->probe) {
      probe_in_flight_ = false;
      context_->BeginDurable(loc, in->spans);
      Status s = state_->Apply(std::move(in->mutation));
      const bool matched = context_->End();
      if (s.ok() && !matched) {
        s = Status::Internal("appended events do not match their spans");
      }
      if (!s.ok()) {
        *failure = InternalFailureLocked(s);
      } else {
        degraded_ = false;
      }
    } else if (in->generation == generation_) {
      for (const Inflight::Group& g : in->groups) {
        const SessionEntry* e =
            state_->FindSessionInTenant(g.tenant_id, g.session_id);
        if (e == nullptr || e->incarnation != g.incarnation) continue;
        static_cast<FileEventLog*>(e->events.get())
            ->MarkDurable(in->ticket, loc, g.last_seq, released);
      }
    }
    if (options_.snapshot_every_bytes > 0 &&
        bytes_since_capture_ >= options_.snapshot_every_bytes) {
      *want_snapshot = true;
    }
  } else {
    HandleCommitFailureLocked(*in, *failure);
  }
  while (!barriers_.empty() && barriers_.front().ticket <= in->ticket) {
    barriers->push_back(std::move(barriers_.front().waiter));
    barriers_.pop_front();
  }
}

void FileCommitPipeline::HandleCommitFailureLocked(const Inflight& in,
                                                   const Status& failure) {
  const bool no_space = failure.code() == StatusCode::kInsufficientStorage;
  if (in.probe) {
    // Nothing was applied for a probe: there is nothing to undo.
    probe_in_flight_ = false;
    if (!no_space && failed_.ok()) failed_ = failure;
    return;
  }
  if (in.generation != generation_) return;  // this failure was handled
  ++generation_;
  // Every record queued behind this one was decided on top of it: fail
  // them all before the writer gets to them (group_committer.h).
  committer_->AbortQueued(failure);
  if (no_space) {
    degraded_ = true;
  } else if (failed_.ok()) {
    failed_ = failure;
  }
  RebuildLocked();
}

void FileCommitPipeline::RebuildLocked() {
  // Rare and exceptional: this holds mu_ across recovery's reads, so
  // readers wait for it rather than see state that was never durable.
  Result<RecoveredState> r = RecoverState(fs_, layout_, &reader_, acked_end_);
  if (!r.ok()) {
    if (failed_.ok()) {
      failed_ = Status::Unavailable(
          "a journal write failed and the state could not be reloaded from "
          "disk: " +
          r.error().ToString());
    }
    return;
  }
  const uint64_t appended = state_->counters().events_appended;
  const uint64_t dropped = state_->counters().events_dropped_retention;
  state_.reset();  // before the context its logs point into
  context_ = std::move(r->context);
  state_ = std::move(r->state);
  // Keep the cumulative counters continuous across the rebuild.
  appended_base_ =
      state_->counters().events_appended - (appended - appended_base_);
  dropped_base_ =
      state_->counters().events_dropped_retention - (dropped - dropped_base_);
}

// ------------------------------------------------------------------- reads

void FileCommitPipeline::ReadState(
    base::FunctionRef<void(const StoreState&)> read) {
  base::MutexLock lock(&mu_);
  read(*state_);
}

Status FileCommitPipeline::CheckWritable() {
  base::MutexLock lock(&mu_);
  if (!failed_.ok()) return failed_;
  if (closing_) return Status::Unavailable("the store is closing");
  if (degraded_) {
    return Status::InsufficientStorage(
        "the disk is full; writes resume once space returns");
  }
  return Status::OK();
}

DiskUsage FileCommitPipeline::DiskUsageLocked() const {
  DiskUsage usage;
  usage.segment_sizes = segment_sizes_;
  return usage;
}

// -------------------------------------------------- for the snapshot side

Result<FileCommitPipeline::Capture> FileCommitPipeline::BeginCapture(
    StateImage* image) {
  base::MutexLock lock(&mu_);
  if (!failed_.ok()) return failed_;
  if (degraded_) {
    return Status::InsufficientStorage("no snapshot while the disk is full");
  }
  // Only copies: encoding and writing happen in the caller, without mu_.
  CaptureState(*state_, image);
  Capture c;
  c.through = last_ticket_;
  c.generation = generation_;
  c.pending = done_ticket_ < last_ticket_;
  c.covered = acked_end_;
  if (c.pending) {
    window_through_ = c.through;
    window_.clear();
  }
  bytes_since_capture_ = 0;
  unsnapshotted_ = false;
  return c;
}

void FileCommitPipeline::WithTranscripts(
    base::FunctionRef<void(StoreState& state, uint64_t generation)> fn) {
  base::MutexLock lock(&mu_);
  fn(*state_, generation_);
}

Result<FileCommitPipeline::Window> FileCommitPipeline::EndCapture(
    const Capture& capture, const Status& flushed) {
  Window window;
  base::MutexLock lock(&mu_);
  window.swap(window_);
  window_through_.reset();
  Status bad = flushed;
  if (bad.ok() && (generation_ != capture.generation || !failed_.ok())) {
    bad = Status::Unavailable(
        "a journal write failed while the snapshot was taken");
  }
  if (!bad.ok()) {
    unsnapshotted_ = true;
    return bad;
  }
  return window;
}

void FileCommitPipeline::CaptureNotWritten() {
  base::MutexLock lock(&mu_);
  unsnapshotted_ = true;
}

Result<journal::JournalPosition> FileCommitPipeline::Flush() {
  return committer_->Flush();
}

FileCommitPipeline::Dead FileCommitPipeline::DeadSegments(
    const std::vector<uint64_t>& segments, uint64_t below) {
  base::MutexLock lock(&mu_);
  Dead dead;
  if (!failed_.ok() || degraded_) return dead;
  dead.segments = engine::DeadSegments(segments, *context_, below);
  dead.generation = generation_;
  return dead;
}

bool FileCommitPipeline::GenerationIs(uint64_t generation) {
  base::MutexLock lock(&mu_);
  return generation_ == generation;
}

void FileCommitPipeline::SegmentDeleted(uint64_t segment) {
  base::MutexLock lock(&mu_);
  auto it = segment_sizes_.find(segment);
  if (it != segment_sizes_.end()) {
    journal_bytes_ -= it->second;
    segment_sizes_.erase(it);
  }
}

// --------------------------------------------------------------- lifecycle

bool FileCommitPipeline::BeginClose() {
  base::MutexLock lock(&mu_);
  closing_ = true;
  return failed_.ok() && !degraded_ && unsnapshotted_;
}

Status FileCommitPipeline::Close() { return committer_->Close(); }

// ------------------------------------------------------------------- stats

void FileCommitPipeline::FillStats(
    base::FunctionRef<void(const StoreState&)> fill_state, StoreStats* stats) {
  {
    base::MutexLock lock(&mu_);
    fill_state(*state_);
    // Replay counted what was appended before this open.
    stats->events_appended -= appended_base_;
    stats->events_dropped_retention -= dropped_base_;
    stats->journal_bytes = journal_bytes_;
    stats->memory_index_bytes =
        context_->index_entries() * sizeof(IndexEntry) +
        state_->counters().client_id_index_bytes;
  }
  const journal::JournalStats js = committer_->stats();
  stats->fsyncs = js.fsyncs;
  stats->group_commit_records = js.records;
  stats->fsync_micros_log2 = js.fsync_micros_log2;
  stats->fsync_micros_total = js.fsync_micros_total;
  stats->batch_records_log2 = js.batch_records_log2;
}

uint64_t FileCommitPipeline::journal_bytes() {
  base::MutexLock lock(&mu_);
  return journal_bytes_;
}

ClientIdKey FileCommitPipeline::client_id_key() {
  base::MutexLock lock(&mu_);
  return state_->client_id_key();
}

}  // namespace acpstore::engine
