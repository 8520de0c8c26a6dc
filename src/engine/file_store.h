// FileStore: the Store contract (store.h) over a data directory - the
// embedded default engine (Engine::kFile). Layout, write path, recovery and
// retention: docs/recovery.md and
// docs/decisions/0003-file-engine-write-path.md.
//
//   <data_dir>/LOCK       advisory lock, held for the store's life
//   <data_dir>/journal/   segment files (src/journal)
//   <data_dir>/snapshot/  snapshot files (src/snapshot, file_snapshot.h)
//
// Write path: DecidingStore validates and builds the decider; Submit, under
// mu_, decides → encodes →
// apply to the state speculatively → submit to the GroupCommitter, still
// under mu_, so journal order is decision order. The commit callback (the
// journal's writer thread) makes the new events readable (FileEventLog
// MarkDurable), then runs the completion with no lock held and wakes
// subscribers. Readers never see an event before it is acknowledged; other
// records may be visible to readers up to one group commit early (the
// contract only promises that acknowledged writes are visible).
//
// Failures of a group commit (journal/group_committer.h): a failed fsync or
// write makes the store unwritable until reopened (kUnavailable); ENOSPC
// makes it refuse writes with kInsufficientStorage until one succeeds
// again (one probe write at a time). Either way the speculative state is
// rebuilt from disk, up to the last acknowledged record.
//
// Thread-safety: every Store method may be called from any thread.
// Lifetime: Subscriptions must be destroyed before the store; the
// destructor stops background work, writes a snapshot, drains and closes
// the journal, and releases the lock. The FileSystem given to Open is
// borrowed and must outlive the store.

#ifndef ACPSTORE_ENGINE_FILE_STORE_H_
#define ACPSTORE_ENGINE_FILE_STORE_H_

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "acpstore/options.h"
#include "acpstore/store.h"
#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "engine/deciding_store.h"
#include "engine/file_event_log.h"
#include "engine/file_event_reader.h"
#include "engine/file_recovery.h"
#include "engine/payload_cache.h"
#include "engine/periodic_thread.h"
#include "engine/state.h"
#include "engine/subscription_hub.h"
#include "io/file_system.h"
#include "journal/group_committer.h"
#include "journal/position.h"

namespace acpstore::engine {

// What the file engine knows beyond StoreStats: recovery, damage, disk.
struct FileStoreInfo {
  int64_t recovery_ms = 0;
  uint64_t records_replayed = 0;
  uint64_t torn_tail_bytes = 0;
  std::optional<uint64_t> snapshot_loaded;     // number
  std::vector<std::string> snapshots_skipped;  // "path: why"
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
  // keeps the newest two, then deletes dead segments. Blocks; must not be
  // called from a completion.
  Status SnapshotNow();
  // Deletes journal segments that hold no retained event and lie before the
  // oldest kept snapshot. Returns how many went. Blocks like SnapshotNow.
  Result<size_t> ReclaimSegments();
  FileStoreInfo Info();
  // Tests only: the key of the clientEventId tags (kept in snapshots), so
  // a test can make ids whose tags collide.
  ClientIdKey ClientIdKeyForTesting();

 private:
  struct Inflight;
  struct Barrier {
    uint64_t ticket = 0;
    std::unique_ptr<Waiter> waiter;
  };
  struct KeptSnapshot {
    uint64_t number = 0;
    journal::JournalPosition covered;
  };

  FileStore(const StoreOptions& options, io::FileSystem& fs, FileLayout layout,
            std::unique_ptr<io::FileLock> lock);
  Status Recover();

  Result<EventPage> ReadSubscriptionPage(std::string_view tenant_id,
                                         std::string_view session_id,
                                         uint64_t incarnation, EventSeq after,
                                         uint32_t limit) override;
  // The cached events themselves, not copies (SSE fan-out).
  Result<SharedEventPage> ReadSharedSubscriptionPage(
      std::string_view tenant_id, std::string_view session_id,
      uint64_t incarnation, EventSeq after, uint32_t limit) override;

  // A page of events: the index is consulted under mu_, the bytes are
  // read without it. `scope` set: a ListEvents in that scope; else a
  // subscription of session incarnation `incarnation`.
  Result<EventPage> ReadEvents(const Scope* scope, std::string_view tenant_id,
                               std::string_view session_id,
                               uint64_t incarnation, EventSeq after,
                               uint32_t limit) EXCLUDES(mu_);
  // ReadEvents without the copies: the events as the reader (and its
  // payload cache) holds them.
  Result<SharedEventPage> ReadSharedEvents(const Scope* scope,
                                           std::string_view tenant_id,
                                           std::string_view session_id,
                                           uint64_t incarnation,
                                           EventSeq after, uint32_t limit)
      EXCLUDES(mu_);

  void ReadState(base::FunctionRef<void(const StoreState&)> read) override
      EXCLUDES(mu_);

  // ------------------------------------------------ write path
  // (file_store_write.cc)
  void Submit(std::unique_ptr<Waiter> waiter, DecideFn decide,
              bool sweep_leases_first) override EXCLUDES(mu_);
  // Why a mutation may not start now, or OK.
  Status AdmitLocked() REQUIRES(mu_);
  // Applies ops [applied, end) of `m` speculatively (unless a probe) and
  // submits the whole of `m` as one journal record, taking *waiter. On
  // failure *waiter is left for the caller to finish with the status.
  Status SubmitLocked(record::Mutation m, size_t applied,
                      std::unique_ptr<Waiter>* waiter, bool probe)
      REQUIRES(mu_);
  // Applies `m` to the state outside any record (no events allowed).
  Status ApplyWithoutEventsLocked(const record::Mutation& m) REQUIRES(mu_);
  // Completes `waiter` inline if nothing is in flight, else once every
  // record submitted so far has committed (it may depend on them).
  void FinishAfterInflightLocked(std::unique_ptr<Waiter> waiter,
                                 std::vector<std::unique_ptr<Waiter>>* now)
      REQUIRES(mu_);
  void OnCommitted(const std::shared_ptr<Inflight>& in,
                   const Result<journal::RecordLocation>& result) EXCLUDES(mu_);
  void HandleCommitFailureLocked(const Inflight& in, const Status& failure)
      REQUIRES(mu_);
  // Replaces the state with the disk's, up to the last acknowledged record.
  void RebuildLocked() REQUIRES(mu_);
  void UpdateCacheCapacityLocked() REQUIRES(mu_);
  Status InternalFailureLocked(const Status& why) REQUIRES(mu_);

  // -------------------------------------- background
  // (file_store_background.cc)
  void BackgroundLoop();
  // Asks the background thread for `snapshots` snapshots (each reclaims
  // after it) and/or a reclaim.
  void RequestBackground(int snapshots, bool reclaim) EXCLUDES(bg_mu_);
  Status SnapshotLocked() REQUIRES(snapshot_mu_) EXCLUDES(mu_);
  Result<size_t> ReclaimLocked() REQUIRES(snapshot_mu_) EXCLUDES(mu_);

  io::FileSystem& fs_;
  const FileLayout layout_;
  const std::unique_ptr<io::FileLock> lock_;
  PayloadCache cache_;
  FileEventReader reader_;
  std::unique_ptr<journal::GroupCommitter> committer_;  // set by Recover

  base::Mutex mu_;
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
  // While a snapshot waits for the records its image names.
  std::optional<uint64_t> window_through_ GUARDED_BY(mu_);
  std::map<uint64_t, journal::RecordLocation> window_ GUARDED_BY(mu_);
  uint64_t bytes_since_snapshot_ GUARDED_BY(mu_) = 0;
  bool unsnapshotted_ GUARDED_BY(mu_) = false;
  uint64_t journal_bytes_ GUARDED_BY(mu_) = 0;
  std::map<uint64_t, uint64_t> segment_sizes_ GUARDED_BY(mu_);
  uint64_t snapshot_bytes_ GUARDED_BY(mu_) = 0;
  // Counter values at open: Stats() reports what happened since.
  uint64_t appended_base_ GUARDED_BY(mu_) = 0;
  uint64_t dropped_base_ GUARDED_BY(mu_) = 0;
  FileStoreInfo info_ GUARDED_BY(mu_);

  // One snapshot or reclaim at a time; held across their I/O. Taken
  // before mu_, never after.
  base::Mutex snapshot_mu_;
  std::vector<KeptSnapshot> kept_ GUARDED_BY(snapshot_mu_);  // oldest first
  uint64_t next_snapshot_number_ GUARDED_BY(snapshot_mu_) = 1;

  base::Mutex bg_mu_;
  base::CondVar bg_cv_;
  bool bg_stop_ GUARDED_BY(bg_mu_) = false;
  int bg_snapshots_ GUARDED_BY(bg_mu_) = 0;
  bool bg_reclaim_ GUARDED_BY(bg_mu_) = false;
  std::thread bg_thread_;
  std::unique_ptr<PeriodicThread> maintenance_;  // null when interval is 0
  bool opened_ = false;  // Open finished; the destructor may snapshot
};

}  // namespace acpstore::engine

#endif  // ACPSTORE_ENGINE_FILE_STORE_H_
