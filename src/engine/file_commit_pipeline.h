// FileCommitPipeline: the file engine's write path, from a decided Mutation
// to a finished waiter. It owns the in-memory state (StoreState and the
// FileLogContext its event logs point into) and the lock that guards it,
// and the journal's GroupCommitter. docs/decisions/0003-file-engine-write-
// path.md has the design; decision 0011 why it is a class of its own.
//
//   Submit (any thread, under mu_): admit → decide → encode one framed
//     record → apply speculatively → GroupCommitter::SubmitFramed, still
//     under mu_, so journal order is decision order.
//   OnCommitted (the journal's writer thread; one write and one fdatasync
//     per batch of records) only collects the record; OnBatchEnd, once per
//     batch, marks the batch's events durable under one hold of mu_, then,
//     with no lock held, finishes the waiters (and the barriers waiting for
//     them) in journal order, and only then wakes the subscribers, once for
//     the batch (issue 14: acknowledgements first, one lock per batch).
//     The events the payload cache evicts (here and in Submit, which
//     shrinks it by the pending bytes) are freed last, outside mu_: with
//     many writers, freeing them under it lengthens every wait for it.
//   A failed commit: abort everything queued behind it, fail the store
//     (kUnavailable) or degrade it to one probe write at a time (ENOSPC),
//     and rebuild the state from disk up to the last acknowledged record.
//
// What the snapshot side (FileSnapshotter) may ask of it, and nothing more:
// a capture of the state with the ticket window that later resolves the
// pending events the capture names (BeginCapture/EndCapture), a Flush, the
// dead segments under the state lock (DeadSegments, with the generation
// that must not change before they go), and SegmentDeleted. It tells the
// snapshot side that enough bytes were committed through `snapshot_due`.
//
// Thread-safety: every public method may be called from any thread, except
// as noted. mu_ (the state lock) guards everything mutable here; it is never
// held across I/O except by RebuildLocked (a failed commit: rare). Lock
// order: FileSnapshotter::op_mu_ → mu_ → GroupCommitter's and PayloadCache's
// own locks. Nothing here is called back with mu_ held except the deciders
// (by Submit) and the readers (by ReadState).
// Lifetime: the references given to the constructor (options, clock, file
// system, layout, reader, cache, hub) must outlive the pipeline; Close()
// (or the destructor) drains the journal, after which no callback runs.

#ifndef ACPSTORE_ENGINE_FILE_COMMIT_PIPELINE_H_
#define ACPSTORE_ENGINE_FILE_COMMIT_PIPELINE_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "acpstore/clock.h"
#include "acpstore/options.h"
#include "acpstore/store.h"
#include "base/function_ref.h"
#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "engine/decide.h"
#include "engine/file_event_log.h"
#include "engine/file_event_reader.h"
#include "engine/file_recovery.h"
#include "engine/file_retention.h"
#include "engine/file_snapshot.h"
#include "engine/payload_cache.h"
#include "engine/state.h"
#include "engine/subscription_hub.h"
#include "engine/waiter.h"
#include "io/file_system.h"
#include "journal/group_committer.h"
#include "journal/position.h"
#include "record/mutation.h"

namespace acpstore::engine {

class FileCommitPipeline : private journal::BatchListener {
 public:
  // What recovery found, handed over once at open.
  struct Start {
    std::unique_ptr<journal::GroupCommitter> committer;
    std::unique_ptr<FileLogContext> context;  // outlives `state`
    std::unique_ptr<StoreState> state;
    journal::JournalPosition end;  // the journal's end: all acknowledged
    std::map<uint64_t, uint64_t> segment_sizes;  // segment -> bytes
    bool unsnapshotted = false;  // the journal holds records past a snapshot
  };

  FileCommitPipeline(const StoreOptions& options, Clock* clock,
                     io::FileSystem& fs, const FileLayout& layout,
                     FileEventReader& reader, PayloadCache& cache,
                     SubscriptionHub& hub, Start start,
                     std::function<void()> snapshot_due);
  // Close()s.
  ~FileCommitPipeline() override;
  FileCommitPipeline(const FileCommitPipeline&) = delete;
  FileCommitPipeline& operator=(const FileCommitPipeline&) = delete;

  // ------------------------------------------------------------- writes
  using DecideFn = base::FunctionRef<Result<record::Mutation>(
      const StoreState& state, const DecideContext& ctx)>;
  // DecidingStore::Submit's contract: under mu_, sweep expired leases first
  // if asked, run `decide` at the clock's now, apply and journal the
  // Mutation; `waiter` finishes (no lock held) once it is durable, or with
  // why not. A decision with an empty Mutation finishes after every record
  // submitted before it has committed (its reply may depend on them).
  void Submit(std::unique_ptr<Waiter> waiter, DecideFn decide,
              bool sweep_leases_first) EXCLUDES(mu_);

  // -------------------------------------------------------------- reads
  // Runs `read` under mu_.
  void ReadState(base::FunctionRef<void(const StoreState&)> read)
      EXCLUDES(mu_);
  // OK, or why a write would be refused now.
  Status CheckWritable() EXCLUDES(mu_);

  // For a decider Submit runs (which holds mu_ but cannot say so to the
  // analysis): the journal's segments and what lives in them.
  void AssertHeld() const ASSERT_CAPABILITY(mu_) { mu_.AssertHeld(); }
  // Segment sizes for the disk-retention decider; other_bytes is left 0.
  DiskUsage DiskUsageLocked() const REQUIRES(mu_);
  const FileLogContext& ContextLocked() const REQUIRES(mu_) {
    return *context_;
  }

  // --------------------------------------------- for the snapshot side
  // The state's copy and where it stands. Records up to `through` are in
  // the image; the pending ones are resolved through EndCapture's window.
  struct Capture {
    uint64_t through = 0;     // last record submitted
    uint64_t generation = 0;  // must be unchanged at EndCapture
    bool pending = false;     // some records <= through not yet committed
    journal::JournalPosition covered;  // acked end, when !pending
  };
  // Copies the state into `image` (decision 0003: only copies, under mu_)
  // and, if records are in flight, opens the window that records where
  // they land. Fails while the store is failed or the disk is full.
  Result<Capture> BeginCapture(StateImage* image) EXCLUDES(mu_);
  // After the caller's Flush (`flushed`): closes the window and returns
  // the locations of the records committed since BeginCapture. Fails if
  // the flush did, or if any commit failed meanwhile (the image is void).
  using Window = std::map<uint64_t, journal::RecordLocation>;  // by ticket
  Result<Window> EndCapture(const Capture& capture, const Status& flushed)
      EXCLUDES(mu_);
  // A snapshot of the last capture was not written: the next close (or
  // request) must try again.
  void CaptureNotWritten() EXCLUDES(mu_);
  // Decision 0018: moves transcripts in and out of memory (nothing
  // logical changes, nothing is journaled), under mu_, with the state's
  // generation (a failed commit rebuilds the state and changes it).
  void WithTranscripts(
      base::FunctionRef<void(StoreState& state, uint64_t generation)> fn)
      EXCLUDES(mu_);

  // Waits until everything submitted is written and fdatasync'ed. Must not
  // be called from a completion.
  Result<journal::JournalPosition> Flush();

  // The segments of `segments` below `below` that hold no retained event
  // (file_retention.h), and the generation they were computed in. Empty
  // while failed or degraded.
  struct Dead {
    std::vector<uint64_t> segments;
    uint64_t generation = 0;
  };
  Dead DeadSegments(const std::vector<uint64_t>& segments, uint64_t below)
      EXCLUDES(mu_);
  bool GenerationIs(uint64_t generation) EXCLUDES(mu_);
  // Segment `segment` was deleted: stop counting its bytes.
  void SegmentDeleted(uint64_t segment) EXCLUDES(mu_);

  // ---------------------------------------------------------- lifecycle
  // Refuses writes from now on. True when the state holds records no
  // snapshot covers and a final snapshot is worth writing (not failed,
  // not degraded).
  bool BeginClose() EXCLUDES(mu_);
  // Drains and closes the journal: after this no commit callback runs.
  // Idempotent.
  Status Close();

  // -------------------------------------------------------------- stats
  // Under one hold of mu_: `fill_state` over the state, then this
  // pipeline's figures (counters since open, journal bytes, index bytes,
  // group-commit stats).
  void FillStats(base::FunctionRef<void(const StoreState&)> fill_state,
                 StoreStats* stats) EXCLUDES(mu_);
  uint64_t journal_bytes() EXCLUDES(mu_);
  ClientIdKey client_id_key() EXCLUDES(mu_);

 private:
  struct Inflight;  // file_commit_pipeline.cc
  struct Barrier {
    uint64_t ticket = 0;
    std::unique_ptr<Waiter> waiter;
  };

  // Why a mutation may not start now, or OK.
  Status AdmitLocked() REQUIRES(mu_);
  // Applies ops [applied, end) of `m` speculatively (unless a probe) and
  // submits the whole of `m` as one journal record, taking *waiter. On
  // failure *waiter is left for the caller to finish with the status.
  // Events the payload cache evicts go to *released (dropped by the caller
  // after mu_).
  Status SubmitLocked(record::Mutation m, size_t applied,
                      std::unique_ptr<Waiter>* waiter, bool probe,
                      PayloadCache::Released* released) REQUIRES(mu_);
  // Applies `m` to the state outside any record (no events allowed).
  Status ApplyWithoutEventsLocked(const record::Mutation& m) REQUIRES(mu_);
  // Completes `waiter` inline if nothing is in flight, else once every
  // record submitted so far has committed (it may depend on them).
  void FinishAfterInflightLocked(std::unique_ptr<Waiter> waiter,
                                 std::vector<std::unique_ptr<Waiter>>* now)
      REQUIRES(mu_);
  // A record's commit callback: queues it for OnBatchEnd.
  void OnCommitted(std::shared_ptr<Inflight> in,
                   const Result<journal::RecordLocation>& result)
      EXCLUDES(done_mu_);
  // journal::BatchListener: completes every record queued since the last.
  void OnBatchEnd() override EXCLUDES(mu_, done_mu_);
  // One committed (or failed) record's bookkeeping; `failure` may be
  // replaced by an internal failure. Barriers it releases go to *barriers.
  // A probe's mutation is moved out of `record` into the state.
  void CommitOneLocked(Inflight& record,
                       const Result<journal::RecordLocation>& result,
                       Status* failure, bool* want_snapshot,
                       std::vector<std::unique_ptr<Waiter>>* barriers,
                       PayloadCache::Released* released) REQUIRES(mu_);
  void HandleCommitFailureLocked(const Inflight& in, const Status& failure)
      REQUIRES(mu_);
  // Replaces the state with the disk's, up to the last acknowledged record.
  void RebuildLocked() REQUIRES(mu_);
  void UpdateCacheCapacityLocked(PayloadCache::Released* released)
      REQUIRES(mu_);
  Status InternalFailureLocked(const Status& why) REQUIRES(mu_);

  // Constant after construction; borrowed (see Lifetime).
  const StoreOptions& options_;
  Clock* const clock_;
  io::FileSystem& fs_;
  const FileLayout& layout_;
  FileEventReader& reader_;
  PayloadCache& cache_;
  SubscriptionHub& hub_;
  const std::function<void()> snapshot_due_;
  // Thread-safe itself; its commit callbacks run on its writer thread.
  const std::unique_ptr<journal::GroupCommitter> committer_;

  // Records whose commit callback ran and that OnBatchEnd has not taken.
  // Its own lock: callbacks run on the writer thread, or inline after the
  // journal closed. Never held while taking mu_.
  struct Committed {
    std::shared_ptr<Inflight> in;
    Result<journal::RecordLocation> result;
  };
  base::Mutex done_mu_;
  std::vector<Committed> committed_ GUARDED_BY(done_mu_);

  mutable base::Mutex mu_;
  // Replaced together on a rebuild; the context outlives the state.
  std::unique_ptr<FileLogContext> context_ GUARDED_BY(mu_);
  std::unique_ptr<StoreState> state_ GUARDED_BY(mu_);
  uint64_t last_ticket_ GUARDED_BY(mu_) = 0;  // last record submitted
  uint64_t done_ticket_ GUARDED_BY(mu_) = 0;  // last record completed
  // Bumped by each failed commit that invalidated speculative state.
  uint64_t generation_ GUARDED_BY(mu_) = 0;
  uint64_t pending_bytes_ GUARDED_BY(mu_) = 0;
  journal::JournalPosition acked_end_ GUARDED_BY(mu_);
  Status failed_ GUARDED_BY(mu_);          // permanent: reopen to clear
  bool degraded_ GUARDED_BY(mu_) = false;  // ENOSPC: probe writes only
  bool probe_in_flight_ GUARDED_BY(mu_) = false;
  bool closing_ GUARDED_BY(mu_) = false;
  std::deque<Barrier> barriers_ GUARDED_BY(mu_);
  // While a capture waits for the records its image names.
  std::optional<uint64_t> window_through_ GUARDED_BY(mu_);
  std::map<uint64_t, journal::RecordLocation> window_ GUARDED_BY(mu_);
  // What the last capture does not hold: snapshot triggers.
  uint64_t bytes_since_capture_ GUARDED_BY(mu_) = 0;
  bool unsnapshotted_ GUARDED_BY(mu_) = false;
  uint64_t journal_bytes_ GUARDED_BY(mu_) = 0;
  std::map<uint64_t, uint64_t> segment_sizes_ GUARDED_BY(mu_);
  // Counter values at open: stats report what happened since.
  uint64_t appended_base_ GUARDED_BY(mu_) = 0;
  uint64_t dropped_base_ GUARDED_BY(mu_) = 0;
};

}  // namespace acpstore::engine

#endif  // ACPSTORE_ENGINE_FILE_COMMIT_PIPELINE_H_
