// FileSnapshotter: the file engine's snapshot and reclaim machinery.
// Writes snapshots (capture under the commit pipeline's lock, encode and
// write on the caller's thread without it), keeps the newest two, and
// deletes journal segments nothing needs any more: those holding no
// retained event that lie before the older kept snapshot. Its background
// thread runs what Request() asks for: after enough committed bytes
// (StoreOptions::snapshot_every_bytes), after maintenance dropped events,
// and twice after a disk-retention drop (space comes back only once two
// snapshots cover it). See docs/recovery.md and decision 0003.
//
// It uses FileCommitPipeline only through the pipeline's "for the snapshot
// side" methods; the pipeline knows nothing of it but a callback.
//
// Thread-safety: every public method may be called from any thread.
// Locks: op_mu_ makes snapshots and reclaims one at a time and is held
// across their I/O; it is taken before the pipeline's mu_, never after
// (order: op_mu_ → FileCommitPipeline::mu_). bg_mu_ guards only the
// background requests and is never held while taking another lock.
// SnapshotNow and ReclaimSegments block on the journal (Flush): never call
// them from a completion.
// Lifetime: the references given to the constructor must outlive it; the
// destructor stops the background thread (StopBackground).

#ifndef ACPSTORE_ENGINE_FILE_SNAPSHOTTER_H_
#define ACPSTORE_ENGINE_FILE_SNAPSHOTTER_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string_view>
#include <thread>
#include <vector>

#include "acpstore/clock.h"
#include "acpstore/result.h"
#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "engine/file_commit_pipeline.h"
#include "engine/file_event_reader.h"
#include "engine/file_recovery.h"
#include "engine/transcript_ref.h"
#include "io/file_system.h"
#include "journal/position.h"

namespace acpstore::engine {

class FileSnapshotter {
 public:
  struct KeptSnapshot {
    uint64_t number = 0;
    journal::JournalPosition covered;
    // Decision 0027: the older snapshot files it refers to sealed
    // transcript parts in (number -> bytes referred to): kept with it.
    std::map<uint64_t, uint64_t> refers;
  };

  // `next_number`: the number the next snapshot gets; `loaded`: the
  // snapshot recovery started from, if any, and `loaded_bytes` its size.
  FileSnapshotter(Clock* clock, io::FileSystem& fs, const FileLayout& layout,
                  FileEventReader& reader, FileCommitPipeline& pipeline,
                  uint64_t next_number, std::optional<KeptSnapshot> loaded,
                  uint64_t loaded_bytes);
  ~FileSnapshotter();
  FileSnapshotter(const FileSnapshotter&) = delete;
  FileSnapshotter& operator=(const FileSnapshotter&) = delete;

  // Starts the background thread. Once.
  void StartBackground();
  // Stops and joins it; requests made later are only recorded. Idempotent.
  void StopBackground() EXCLUDES(bg_mu_);
  // Asks the background thread for `snapshots` snapshots (each reclaims
  // after it) and/or a reclaim. Never blocks on I/O: safe from a
  // completion or a commit callback.
  void Request(int snapshots, bool reclaim) EXCLUDES(bg_mu_);
  // Asks the thread for a transcript eviction pass (decision 0018). Only
  // signals: callable under the pipeline's lock.
  void RequestEviction() EXCLUDES(bg_mu_);
  // Tests only: returns once the background thread has run everything
  // asked of it so far (and what that asked for in turn) and is idle, or
  // is stopped (or was never started). Blocks.
  void WaitForBackground() EXCLUDES(bg_mu_);

  // Writes a snapshot now (after making everything it holds durable),
  // keeps the newest two (and the files they refer to), then reclaims.
  // `self_contained`: every sealed transcript part is copied, none
  // referred to in an older file (decision 0027; compact). Blocks.
  Status SnapshotNow(bool self_contained = false) EXCLUDES(op_mu_);
  // One transcript eviction pass (decision 0018) now, then sealing
  // (decision 0021). `all`: every transcript may be evicted; otherwise
  // only those untouched since the previous pass (as in the background).
  // Blocks.
  Status EvictNow(bool all = true) EXCLUDES(op_mu_);
  // The same (every transcript may go, however recently used), unless a
  // snapshot or a pass is running (then OK at once): the writers'
  // backpressure past twice the share.
  Status EvictIfIdle() EXCLUDES(op_mu_);
  // Deletes the dead segments; returns how many went. Blocks.
  Result<size_t> ReclaimSegments() EXCLUDES(op_mu_);

  // Size of the newest snapshot file and of the older ones it refers to
  // (counted by max_disk_bytes).
  uint64_t snapshot_bytes() const { return snapshot_bytes_.load(); }
  uint64_t snapshots_written() const { return snapshots_written_.load(); }
  uint64_t segments_deleted() const { return segments_deleted_.load(); }
  // Snapshots that could not be written (a full disk, a permission error,
  // ...), and why the latest attempt failed ("" once one succeeds again).
  // The store goes on: everything acknowledged is in the journal; recovery
  // time and journal space grow until a snapshot succeeds.
  uint64_t snapshots_failed() const { return snapshots_failed_.load(); }
  std::string snapshot_failing() const EXCLUDES(damage_mu_);
  // Decision 0034: the transcripts a snapshot or an eviction pass could
  // not copy because their bytes on disk are damaged (kDataLoss, with the
  // details "tenant", "session" and "path") and rebuilt from their
  // sessions' retained events; the most recent kMaxDamageNoted of
  // damaged_transcripts_total().
  std::vector<Status> damaged_transcripts() const EXCLUDES(damage_mu_);
  uint64_t damaged_transcripts_total() const { return damaged_total_.load(); }
  static constexpr size_t kMaxDamageNoted = 64;

 private:
  void BackgroundLoop() EXCLUDES(bg_mu_, op_mu_);
  Status SnapshotLocked(bool self_contained = false) REQUIRES(op_mu_);
  Status WriteSnapshotLocked(bool self_contained) REQUIRES(op_mu_);
  // Decision 0027: deletes the snapshot files no kept snapshot is or
  // refers to; sets snapshot_bytes_.
  void DeleteUnkeptLocked() REQUIRES(op_mu_);
  // Decision 0018: evicts the least recently used transcripts until the
  // resident ones fit three quarters of layout_.transcript_budget, those
  // without a copy on disk written to the spill file first.
  // `all`: every transcript may go, not only those untouched since the
  // previous pass (StoreState::BeginEvictionPass).
  Status EvictLocked(bool all = false) REQUIRES(op_mu_);
  // Then seals the largest resident transcripts' sealable prefixes
  // (decision 0021) until the resident ones fit `target`; how many.
  Result<size_t> SealLocked(uint64_t target) REQUIRES(op_mu_);
  // Lets folds signal again (see the .cc).
  void ReArm(uint64_t generation, bool progressed);
  Result<size_t> ReclaimLocked() REQUIRES(op_mu_);
  // Decision 0034: rebuilds the transcript of (tenant, id, incarnation)
  // from its session's retained events if it still is the one whose bytes
  // were found damaged (the same sealed prefix still holding the damaged
  // entries, or the same evicted reference), and then notes `damage`.
  // Under the pipeline's lock.
  void RebuildDamaged(StoreState& st, std::string_view tenant_id,
                      std::string_view id, uint64_t incarnation,
                      const TranscriptSealed* sealed,
                      const TranscriptRef* evicted, Status damage)
      EXCLUDES(damage_mu_);

  // Constant after construction; borrowed (see Lifetime).
  Clock* const clock_;
  io::FileSystem& fs_;
  const FileLayout& layout_;
  FileEventReader& reader_;
  FileCommitPipeline& pipeline_;

  // One snapshot or reclaim at a time; held across their I/O.
  base::Mutex op_mu_;
  std::vector<KeptSnapshot> kept_ GUARDED_BY(op_mu_);  // oldest first
  uint64_t next_number_ GUARDED_BY(op_mu_) = 1;

  // Read by Stats and by the disk-retention decider (under the pipeline's
  // lock, which must not wait for op_mu_): hence atomics.
  std::atomic<uint64_t> snapshot_bytes_{0};
  std::atomic<uint64_t> snapshots_written_{0};
  std::atomic<uint64_t> segments_deleted_{0};
  std::atomic<uint64_t> snapshots_failed_{0};
  std::string snapshot_failing_ GUARDED_BY(damage_mu_);

  std::atomic<uint64_t> damaged_total_{0};
  mutable base::Mutex damage_mu_;
  std::deque<Status> damaged_ GUARDED_BY(damage_mu_);

  base::Mutex bg_mu_;
  base::CondVar bg_cv_;
  bool bg_stop_ GUARDED_BY(bg_mu_) = false;
  int bg_snapshots_ GUARDED_BY(bg_mu_) = 0;
  bool bg_reclaim_ GUARDED_BY(bg_mu_) = false;
  bool bg_evict_ GUARDED_BY(bg_mu_) = false;
  bool bg_started_ GUARDED_BY(bg_mu_) = false;
  // The thread is running what it took (WaitForBackground).
  bool bg_busy_ GUARDED_BY(bg_mu_) = false;
  base::CondVar bg_idle_cv_;  // bg_busy_ cleared, or stopping
  // Where evicted transcripts without a copy in a snapshot go; a new one
  // after each snapshot (which copies them and moves their references).
  std::unique_ptr<TranscriptSpill> spill_ GUARDED_BY(op_mu_);
  std::thread bg_thread_;  // started by StartBackground
};

}  // namespace acpstore::engine

#endif  // ACPSTORE_ENGINE_FILE_SNAPSHOTTER_H_
