// FileStore: opening, closing, the Store methods and the decide → apply →
// journal template. The write path's machinery is in file_store_write.cc,
// snapshots and retention in file_store_background.cc.

#include "engine/file_store.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "engine/decide_util.h"
#include "engine/file_retention.h"
#include "engine/file_store_internal.h"
#include "engine/queries.h"
#include "journal/journal_writer.h"
#include "journal/segment_files.h"
#include "record/validate.h"
#include "snapshot/snapshot_dir.h"

namespace acpstore::engine {
namespace {

// Record offsets in the event index are 32-bit (file_event_reader.h): a
// segment is at most this big plus one batch (<= 1 GiB).
constexpr uint64_t kMaxSegmentBytes = 1ULL << 30;

}  // namespace

// ------------------------------------------------------------- open/close

FileStore::FileStore(const StoreOptions& options, io::FileSystem& fs,
                     FileLayout layout, std::unique_ptr<io::FileLock> lock)
    : DecidingStore(options),
      fs_(fs),
      layout_(std::move(layout)),
      lock_(std::move(lock)),
      cache_(options.memory_budget_bytes),
      reader_(fs, layout_.journal_dir, &cache_) {}

Result<std::unique_ptr<FileStore>> FileStore::Open(const StoreOptions& options,
                                                   io::FileSystem* fs_or_null) {
  io::FileSystem& fs =
      fs_or_null != nullptr ? *fs_or_null : io::PosixFileSystem();
  FileLayout layout(options.data_dir);
  ACPSTORE_RETURN_IF_ERROR(fs.CreateDir(layout.data_dir));
  ACPSTORE_ASSIGN_OR_RETURN(std::unique_ptr<io::FileLock> lock,
                            LockDataDir(fs, layout));
  ACPSTORE_RETURN_IF_ERROR(fs.CreateDir(layout.journal_dir));
  ACPSTORE_RETURN_IF_ERROR(fs.CreateDir(layout.snapshot_dir));
  ACPSTORE_RETURN_IF_ERROR(
      snapshot::RemoveTempFiles(fs, layout.snapshot_dir).status());
  std::unique_ptr<FileStore> store(
      new FileStore(options, fs, std::move(layout), std::move(lock)));
  ACPSTORE_RETURN_IF_ERROR(store->Recover());
  return store;
}

Status FileStore::Recover() {
  const auto start = std::chrono::steady_clock::now();
  ACPSTORE_ASSIGN_OR_RETURN(RecoveredState rec,
                            RecoverState(fs_, layout_, &reader_));
  journal::JournalWriterOptions wopts;
  wopts.segment_bytes =
      std::clamp<uint64_t>(options_.segment_bytes, 4096, kMaxSegmentBytes);
  ACPSTORE_ASSIGN_OR_RETURN(
      std::unique_ptr<journal::JournalWriter> writer,
      journal::JournalWriter::Open(fs_, layout_.journal_dir, wopts, rec.end));
  const journal::JournalPosition end = writer->end();
  journal::GroupCommitOptions copts;
  copts.sync = options_.sync;
  copts.sync_interval_ms = options_.sync_interval_ms;
  committer_ =
      std::make_unique<journal::GroupCommitter>(std::move(writer), copts);

  ACPSTORE_ASSIGN_OR_RETURN(std::vector<uint64_t> segments,
                            journal::ListSegments(fs_, layout_.journal_dir));
  ACPSTORE_ASSIGN_OR_RETURN(
      uint64_t next_number,
      snapshot::NextSnapshotNumber(fs_, layout_.snapshot_dir));
  {
    base::MutexLock lock(&snapshot_mu_);
    next_snapshot_number_ = next_number;
    if (rec.snapshot) {
      kept_.push_back(KeptSnapshot{rec.snapshot_header.number,
                                   {rec.snapshot_header.covered.segment,
                                    rec.snapshot_header.covered.offset}});
    }
  }
  base::MutexLock lock(&mu_);
  for (uint64_t s : segments) {
    ACPSTORE_ASSIGN_OR_RETURN(uint64_t size, fs_.FileSize(journal::SegmentPath(
                                                 layout_.journal_dir, s)));
    segment_sizes_[s] = size;
    journal_bytes_ += size;
  }
  if (rec.snapshot) {
    Result<uint64_t> size = fs_.FileSize(rec.snapshot->path);
    snapshot_bytes_ = size.ok() ? *size : 0;
    info_.snapshot_loaded = rec.snapshot_header.number;
  }
  for (const auto& skipped : rec.skipped_snapshots) {
    info_.snapshots_skipped.push_back(skipped.path + ": " +
                                      skipped.status.ToString());
  }
  info_.records_replayed = rec.records_replayed;
  info_.torn_tail_bytes = rec.torn_bytes;
  context_ = std::move(rec.context);
  state_ = std::move(rec.state);
  acked_end_ = end;
  unsnapshotted_ = rec.records_replayed > 0;
  appended_base_ = state_->counters().events_appended;
  dropped_base_ = state_->counters().events_dropped_retention;
  info_.recovery_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now() - start)
                          .count();
  bg_thread_ = std::thread([this] { BackgroundLoop(); });
  if (options_.maintenance_interval_ms > 0) {
    maintenance_ = std::make_unique<PeriodicThread>(
        std::chrono::milliseconds(options_.maintenance_interval_ms),
        [this] { RunMaintenance(nullptr); });
  }
  opened_ = true;
  return Status::OK();
}

FileStore::~FileStore() {
  // First: the maintenance task and the snapshot thread use everything.
  maintenance_.reset();
  {
    base::MutexLock lock(&bg_mu_);
    bg_stop_ = true;
  }
  bg_cv_.SignalAll();
  if (bg_thread_.joinable()) bg_thread_.join();
  bool snapshot = false;
  if (committer_ != nullptr) {
    base::MutexLock lock(&mu_);
    closing_ = true;
    snapshot = opened_ && failed_.ok() && !degraded_ && unsnapshotted_;
  }
  if (snapshot) (void)SnapshotNow();  // best effort: recovery replays anyway
  if (committer_ != nullptr) (void)committer_->Close();
  base::MutexLock lock(&mu_);
  state_.reset();  // before the context its logs point into
  context_.reset();
}

// ------------------------------------------------------------------- reads

void FileStore::ReadState(base::FunctionRef<void(const StoreState&)> read) {
  base::MutexLock lock(&mu_);
  read(*state_);
}

Result<EventPage> FileStore::ListEvents(const Scope& scope,
                                        std::string_view session_id,
                                        EventSeq after, uint32_t limit) {
  ACPSTORE_RETURN_IF_ERROR(record::ValidateListLimit(limit));
  return ReadEvents(&scope, scope.tenant_id, session_id, 0, after, limit);
}

Result<EventPage> FileStore::ReadEvents(const Scope* scope,
                                        std::string_view tenant_id,
                                        std::string_view session_id,
                                        uint64_t incarnation, EventSeq after,
                                        uint32_t limit) {
  ACPSTORE_ASSIGN_OR_RETURN(
      SharedEventPage shared,
      ReadSharedEvents(scope, tenant_id, session_id, incarnation, after, limit));
  EventPage page{{}, shared.first_seq, shared.last_seq, shared.truncated};
  page.events.reserve(shared.events.size());
  for (const std::shared_ptr<const Event>& e : shared.events) {
    page.events.push_back(*e);
  }
  return page;
}

Result<SharedEventPage> FileStore::ReadSharedEvents(
    const Scope* scope, std::string_view tenant_id, std::string_view session_id,
    uint64_t incarnation, EventSeq after, uint32_t limit) {
  SharedEventPage page;
  std::vector<FileEventLog::PlannedRead> plan;
  {
    base::MutexLock lock(&mu_);
    const SessionEntry* e =
        scope != nullptr ? state_->FindSession(*scope, session_id)
                         : state_->FindSessionInTenant(tenant_id, session_id);
    if (e == nullptr || (scope == nullptr && e->incarnation != incarnation)) {
      if (scope != nullptr) return SessionNotFound(session_id);
      return Status::NotFound("the session was deleted")
          .With("sessionId", session_id);
    }
    const EventStreamInfo info = e->events->VisibleInfo();
    page.first_seq = info.first_seq;
    page.last_seq = info.last_seq;
    page.truncated = after + 1 < info.first_seq;
    static_cast<const FileEventLog*>(e->events.get())
        ->PlanRead(after, limit, &plan);
  }
  page.events.reserve(plan.size());
  for (const FileEventLog::PlannedRead& p : plan) {
    Result<std::shared_ptr<const Event>> event =
        reader_.Read(p.location, p.seq, /*unlocked=*/true);
    if (event.ok()) {
      page.events.push_back(std::move(*event));
      continue;
    }
    if (event.error().code() != StatusCode::kNotFound) return event.error();
    // Retention dropped these events and a segment went meanwhile: read
    // again under the lock, where nothing can go.
    base::MutexLock lock(&mu_);
    Result<EventPage> locked =
        scope != nullptr
            ? QueryListEvents(*state_, *scope, session_id, after, limit)
            : QuerySubscriptionPage(*state_, tenant_id, session_id,
                                    incarnation, after, limit);
    if (!locked.ok()) return locked.error();
    return SharedEventPage::FromCopies(std::move(*locked));
  }
  return page;
}

Result<EventPage> FileStore::ReadSubscriptionPage(std::string_view tenant_id,
                                                  std::string_view session_id,
                                                  uint64_t incarnation,
                                                  EventSeq after,
                                                  uint32_t limit) {
  return ReadEvents(nullptr, tenant_id, session_id, incarnation, after, limit);
}

Result<SharedEventPage> FileStore::ReadSharedSubscriptionPage(
    std::string_view tenant_id, std::string_view session_id,
    uint64_t incarnation, EventSeq after, uint32_t limit) {
  return ReadSharedEvents(nullptr, tenant_id, session_id, incarnation, after,
                          limit);
}

// ------------------------------------------------------------------ actions
// --------------------------------------------------------------- operations

void FileStore::RunMaintenance(Completion<MaintenanceReport> done) {
  bool dropped_for_disk = false;
  Completion<MaintenanceReport> wrapped =
      [this, done = std::move(done)](Result<MaintenanceReport> r) {
        // Dropped events may have emptied old segments.
        if (r.ok() && r->events_dropped > 0) RequestBackground(0, true);
        if (done) done(std::move(r));
      };
  Commit(std::move(wrapped),
         [&](const StoreState& st,
             const DecideContext& ctx) -> Result<Decision<MaintenanceReport>> {
           mu_.AssertHeld();
           Decision<MaintenanceReport> d;
           // One mutation, ordered so every op applies after the ones before:
           // sweeps touch live actions, disk drops precede session deletes.
           d.mutation = DecideLeaseSweep(st, ctx, &d.result);
           if (options_.retention.max_disk_bytes > 0) {
             DiskUsage usage;
             usage.segment_sizes = segment_sizes_;
             usage.other_bytes = snapshot_bytes_;
             record::Mutation disk = DecideDiskRetention(
                 st, *context_, usage, options_.retention.max_disk_bytes,
                 &d.result);
             if (!disk.empty()) dropped_for_disk = true;
             d.mutation.Append(std::move(disk));
           }
           d.mutation.Append(DecideRetention(st, ctx, &d.result));
           return d;
         });
  // Space comes back once two snapshots cover the drops (the older kept
  // snapshot bounds what may be deleted).
  if (dropped_for_disk) RequestBackground(2, true);
}

StoreStats FileStore::Stats() {
  StoreStats stats;
  {
    base::MutexLock lock(&mu_);
    const StateCounters& c = state_->counters();
    FillStateStats(*state_, &stats);
    // Replay counted what was appended before this open.
    stats.events_appended -= appended_base_;
    stats.events_dropped_retention -= dropped_base_;
    stats.journal_bytes = journal_bytes_;
    stats.snapshot_bytes = snapshot_bytes_;
    stats.memory_index_bytes = context_->index_entries() * sizeof(IndexEntry) +
                               c.client_id_index_bytes;
    stats.recovery_ms = info_.recovery_ms;
    stats.torn_tail_truncations = info_.torn_tail_bytes > 0 ? 1 : 0;
  }
  const journal::JournalStats js = committer_->stats();
  stats.fsyncs = js.fsyncs;
  stats.group_commit_records = js.records;
  stats.fsync_micros_log2 = js.fsync_micros_log2;
  stats.fsync_micros_total = js.fsync_micros_total;
  stats.batch_records_log2 = js.batch_records_log2;
  stats.memory_cache_bytes = cache_.bytes();
  stats.subscriptions = hub().size();
  stats.data_loss_reads = reader_.data_loss_reads();
  return stats;
}

Status FileStore::CheckWritable() {
  base::MutexLock lock(&mu_);
  if (!failed_.ok()) return failed_;
  if (closing_) return Status::Unavailable("the store is closing");
  if (degraded_) {
    return Status::InsufficientStorage(
        "the disk is full; writes resume once space returns");
  }
  return Status::OK();
}

FileStoreInfo FileStore::Info() {
  FileStoreInfo info;
  {
    base::MutexLock lock(&mu_);
    info = info_;
    info.journal_bytes = journal_bytes_;
  }
  info.data_loss_reads = reader_.data_loss_reads();
  info.writable = CheckWritable();
  return info;
}

ClientIdKey FileStore::ClientIdKeyForTesting() {
  base::MutexLock lock(&mu_);
  return state_->client_id_key();
}

}  // namespace acpstore::engine
