// FileStore: the Store contract (store.h) over a data directory - the
// embedded default engine (Engine::kFile). Layout, write path, recovery and
// retention: docs/recovery.md and
// docs/decisions/0003-file-engine-write-path.md.
//
//   <data_dir>/LOCK       advisory lock, held for the store's life
//   <data_dir>/journal/   segment files (src/journal)
//   <data_dir>/snapshot/  snapshot files (src/snapshot, file_snapshot.h)
//
// FileStore is a thin composition of two parts with their own locks and a
// narrow interface between them (decision 0011):
//   * FileCommitPipeline (file_commit_pipeline.h): the write path. Owns
//     the in-memory state and its lock, decides → encodes → applies
//     speculatively → submits to the group committer (one write and one
//     fdatasync per batch), marks events durable and finishes completions
//     on the journal's writer thread, and handles failed commits.
//   * FileSnapshotter (file_snapshotter.h): snapshots, keeping the newest
//     two, and deleting journal segments nothing needs; its own thread and
//     its own lock, taken before the pipeline's, never after.
// FileStore itself opens and closes the directory, serves event reads
// (the index under the pipeline's lock, the bytes without it), runs
// maintenance (lease sweep and retention, including the disk limit, as one
// mutation through the pipeline, then asks the snapshotter to reclaim),
// and reports stats.
//
// Readers never see an event before it is acknowledged; other records may
// be visible to readers up to one group commit early (the contract only
// promises that acknowledged writes are visible). Failures of a group
// commit: a failed fsync or write makes the store unwritable until reopened
// (kUnavailable); ENOSPC makes it refuse writes with kInsufficientStorage
// until one succeeds again (one probe write at a time). Either way the
// speculative state is rebuilt from disk, up to the last acknowledged
// record.
//
// Thread-safety: every Store method may be called from any thread.
// Lifetime: Subscriptions must be destroyed before the store; the
// destructor stops background work, writes a snapshot, drains and closes
// the journal, and releases the lock. The FileSystem given to Open is
// borrowed and must outlive the store.

#ifndef ACPSTORE_ENGINE_FILE_STORE_H_
#define ACPSTORE_ENGINE_FILE_STORE_H_

#include <cstdint>
#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "acpstore/options.h"
#include "acpstore/store.h"
#include "engine/deciding_store.h"
#include "engine/file_commit_pipeline.h"
#include "engine/file_event_reader.h"
#include "engine/file_recovery.h"
#include "engine/file_snapshotter.h"
#include "engine/payload_cache.h"
#include "engine/periodic_thread.h"
#include "engine/state.h"
#include "io/file_system.h"

namespace acpstore::engine {

// What the file engine knows beyond StoreStats: recovery, damage, disk.
struct FileStoreInfo {
  int64_t recovery_ms = 0;
  uint64_t records_replayed = 0;
  uint64_t torn_tail_bytes = 0;
  std::optional<uint64_t> snapshot_loaded;     // number
  // "path: why; kept as <path>.damaged-<ms>" (set aside at open).
  std::vector<std::string> snapshots_skipped;
  uint64_t data_loss_reads = 0;  // events that failed their checksum
  uint64_t journal_bytes = 0;
  uint64_t snapshots_written = 0;
  uint64_t segments_deleted = 0;
  Status writable;  // CheckWritable()
};

class FileStore final : public DecidingStore {
 public:
  // Opens options.data_dir (created 0700 if missing), takes its lock and
  // recovers. `fs`: nullptr for the POSIX file system.
  static Result<std::unique_ptr<FileStore>> Open(const StoreOptions& options,
                                                 io::FileSystem* fs = nullptr);
  ~FileStore() override;

  Result<EventPage> ListEvents(const Scope& scope, std::string_view session_id,
                               EventSeq after, uint32_t limit) override;
  void RunMaintenance(Completion<MaintenanceReport> done) override;
  StoreStats Stats() override;
  Status CheckWritable() override;

  // ----------------------------------------------------- file engine only
  // Writes a snapshot now (after making everything submitted durable),
  // keeps the newest two (and the older files they refer to, decision
  // 0027), then deletes dead segments. `self_contained`: the snapshot
  // refers to no older file (compact). Blocks; must not be called from a
  // completion.
  Status SnapshotNow(bool self_contained = false);
  // Deletes journal segments that hold no retained event and lie before the
  // oldest kept snapshot. Returns how many went. Blocks like SnapshotNow.
  Result<size_t> ReclaimSegments();
  // Moves the least recently used transcripts out of memory until the
  // resident ones fit three quarters of their share (decision 0018), as
  // the snapshot thread does on its own once folds pass the share, then
  // seals what still does not fit (decision 0021). `all` false: only
  // transcripts untouched since the previous pass may leave, as in the
  // background passes. Blocks.
  Status EvictTranscriptsNow(bool all = true);
  // Decision 0034: the transcripts a snapshot or an eviction found damaged
  // on disk and rebuilt from their sessions' retained events, most recent
  // last: at most 64 of `*total` (if given), all counted in
  // Stats().data_loss_reads. kDataLoss statuses with the details
  // "tenant", "session" and "path".
  std::vector<Status> DamagedTranscripts(uint64_t* total = nullptr);
  FileStoreInfo Info();
  // Tests only: the key of the clientEventId tags (kept in snapshots), so
  // a test can make ids whose tags collide.
  ClientIdKey ClientIdKeyForTesting();
  // Tests only: returns once the snapshot thread has run what was asked
  // of it so far (the eviction passes folds past the share asked for, the
  // snapshots the journal asked for) and is idle, so that a test's
  // outcome does not depend on when that thread got the CPU. Blocks.
  void WaitForBackgroundForTesting();

 private:
  FileStore(const StoreOptions& options, io::FileSystem& fs, FileLayout layout,
            std::unique_ptr<io::FileLock> lock);
  // Recovers the state and starts the pipeline, the snapshotter and the
  // maintenance thread.
  Status Recover();
  // Reports what recovery worked around to options_.on_recovery_damage
  // (a torn tail cut, damaged snapshots skipped) and sets the skipped
  // snapshots aside (snapshot::SetAsideDamaged), noting them in
  // opened_info_. After the journal writer cut the tail.
  Status ReportRecoveryDamage(const RecoveredState& rec);

  Result<EventPage> ReadSubscriptionPage(std::string_view tenant_id,
                                         std::string_view session_id,
                                         uint64_t incarnation, EventSeq after,
                                         uint32_t limit,
                                         uint64_t max_bytes) override;
  // Reads an evicted transcript back (without the lock) before its
  // session's append is decided (decision 0018).
  Status PrepareAppend(const Scope& scope,
                       std::string_view session_id) override;

  // The cached events themselves, not copies (SSE fan-out).
  Result<SharedEventPage> ReadSharedSubscriptionPage(
      std::string_view tenant_id, std::string_view session_id,
      uint64_t incarnation, EventSeq after, uint32_t limit,
      uint64_t max_bytes) override;

  // A page of events: the index is consulted under the pipeline's lock,
  // the bytes are read without it. `scope` set: a ListEvents in that
  // scope; else a subscription of session incarnation `incarnation`.
  Result<EventPage> ReadEvents(const Scope* scope, std::string_view tenant_id,
                               std::string_view session_id,
                               uint64_t incarnation, EventSeq after,
                               uint32_t limit, uint64_t max_bytes);
  // ReadEvents without the copies: the events as the reader (and its
  // payload cache) holds them.
  Result<SharedEventPage> ReadSharedEvents(const Scope* scope,
                                           std::string_view tenant_id,
                                           std::string_view session_id,
                                           uint64_t incarnation,
                                           EventSeq after, uint32_t limit,
                                           uint64_t max_bytes);

  // DecidingStore's hooks: all go to the pipeline.
  void ReadState(base::FunctionRef<void(const StoreState&)> read) override;
  Status WaitForSubmitted() override;
  void Submit(std::unique_ptr<Waiter> waiter, DecideFn decide,
              bool sweep_leases_first) override;

  // Constant after construction.
  io::FileSystem& fs_;
  const FileLayout layout_;
  const std::unique_ptr<io::FileLock> lock_;
  // Thread-safe themselves; shared by reads, the pipeline and the
  // snapshotter.
  PayloadCache cache_;
  FileEventReader reader_;
  // What recovery found; set by Recover, constant afterwards.
  FileStoreInfo opened_info_;

  // Set by Recover (null if it failed) and constant afterwards. Declared in
  // this order so the snapshotter, which uses the pipeline, goes first.
  std::unique_ptr<FileCommitPipeline> pipeline_;
  std::unique_ptr<FileSnapshotter> snapshotter_;
  // What layout_.transcripts_over signals (decision 0018): null until the
  // snapshotter exists (recovery folds before it does) and after it stops.
  std::atomic<FileSnapshotter*> evictor_{nullptr};
  std::atomic<bool> evict_before_write_{false};
  // `layout` with its transcript budget and the call that signals evictor_.
  FileLayout WithTranscriptBudget(FileLayout layout,
                                  const StoreOptions& options);
  std::unique_ptr<PeriodicThread> maintenance_;  // null when interval is 0
};

}  // namespace acpstore::engine

#endif  // ACPSTORE_ENGINE_FILE_STORE_H_
