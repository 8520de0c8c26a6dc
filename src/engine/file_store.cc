// FileStore: opening and closing, event reads, maintenance and stats; the
// composition of FileCommitPipeline (the write path) and FileSnapshotter
// (snapshots and reclaim). See file_store.h.

#include "engine/file_store.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "engine/decide_util.h"
#include "engine/file_retention.h"
#include "engine/queries.h"
#include "engine/transcript_ref.h"
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
      layout_(WithTranscriptBudget(std::move(layout), options)),
      lock_(std::move(lock)),
      cache_(options.memory_budget_bytes),
      reader_(fs, layout_.journal_dir, &cache_) {}

FileLayout FileStore::WithTranscriptBudget(FileLayout layout,
                                           const StoreOptions& options) {
  // Decision 0035: off, the snapshot's transcripts are kept as references.
  layout.keep_transcripts_off = options.transcript_max_bytes == 0;
  // Decision 0018: transcripts keep a quarter of the memory budget
  // (StoreOptions::memory_budget_bytes); past it the least recently used
  // leave memory.
  if (options.transcript_max_bytes > 0) {
    layout.transcript_budget =
        std::max<uint64_t>(options.memory_budget_bytes / 4, 1);
    layout.transcripts_over = [this](bool twice) {
      if (FileSnapshotter* s = evictor_.load()) s->RequestEviction();
      // The snapshot thread is behind (writing a snapshot, or starved of
      // CPU): writers evict before their next write (Submit).
      if (twice) evict_before_write_.store(true);
    };
  }
  return layout;
}

Result<std::unique_ptr<FileStore>> FileStore::Open(const StoreOptions& options,
                                                   io::FileSystem* fs_or_null) {
  io::FileSystem& fs =
      fs_or_null != nullptr ? *fs_or_null : io::PosixFileSystem();
  FileLayout layout(options.data_dir);
  layout.transcripts = transcript::Limits{options.transcript_max_bytes,
                                          options.transcript_max_tool_bytes};
  ACPSTORE_RETURN_IF_ERROR(fs.CreateDir(layout.data_dir));
  ACPSTORE_ASSIGN_OR_RETURN(std::unique_ptr<io::FileLock> lock,
                            LockDataDir(fs, layout));
  ACPSTORE_RETURN_IF_ERROR(FinishInterruptedRepair(fs, layout));
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
  FileCommitPipeline::Start start_pipeline;
  start_pipeline.end = writer->end();
  journal::GroupCommitOptions copts;
  copts.sync = options_.sync;
  copts.sync_interval_ms = options_.sync_interval_ms;
  start_pipeline.committer =
      std::make_unique<journal::GroupCommitter>(std::move(writer), copts);

  ACPSTORE_ASSIGN_OR_RETURN(std::vector<uint64_t> segments,
                            journal::ListSegments(fs_, layout_.journal_dir));
  ACPSTORE_ASSIGN_OR_RETURN(
      uint64_t next_number,
      snapshot::NextSnapshotNumber(fs_, layout_.snapshot_dir));
  for (uint64_t s : segments) {
    ACPSTORE_ASSIGN_OR_RETURN(uint64_t size, fs_.FileSize(journal::SegmentPath(
                                                 layout_.journal_dir, s)));
    start_pipeline.segment_sizes[s] = size;
  }
  std::optional<FileSnapshotter::KeptSnapshot> loaded;
  uint64_t loaded_bytes = 0;
  if (rec.snapshot) {
    loaded = FileSnapshotter::KeptSnapshot{
        rec.snapshot_header.number,
        {rec.snapshot_header.covered.segment,
         rec.snapshot_header.covered.offset},
        rec.snapshot_referred};
    Result<uint64_t> size = fs_.FileSize(rec.snapshot->path);
    loaded_bytes = size.ok() ? *size : 0;
    for (const auto& [n, bytes] : rec.snapshot_referred) {
      Result<uint64_t> more = fs_.FileSize(
          snapshot::ReferredFilePath(fs_, layout_.snapshot_dir, n));
      if (more.ok()) loaded_bytes += *more;
    }
    opened_info_.snapshot_loaded = rec.snapshot_header.number;
  }
  ACPSTORE_RETURN_IF_ERROR(ReportRecoveryDamage(rec));
  opened_info_.records_replayed = rec.records_replayed;
  opened_info_.torn_tail_bytes = rec.torn_bytes;
  start_pipeline.context = std::move(rec.context);
  start_pipeline.state = std::move(rec.state);
  start_pipeline.unsnapshotted = rec.records_replayed > 0;

  // The pipeline reaches the snapshotter only through this callback (on
  // the journal's writer thread, no lock held); no record commits before
  // Open returns, so the snapshotter exists by then.
  pipeline_ = std::make_unique<FileCommitPipeline>(
      options_, clock_, fs_, layout_, reader_, cache_, hub(),
      std::move(start_pipeline), [this] { snapshotter_->Request(1, true); });
  snapshotter_ = std::make_unique<FileSnapshotter>(
      clock_, fs_, layout_, reader_, *pipeline_, next_number, loaded,
      loaded_bytes);
  opened_info_.recovery_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::steady_clock::now() - start)
          .count();
  snapshotter_->StartBackground();
  evictor_.store(snapshotter_.get());
  // Replay may have folded past the share before anyone could be told.
  snapshotter_->RequestEviction();
  if (options_.maintenance_interval_ms > 0) {
    maintenance_ = std::make_unique<PeriodicThread>(
        "acp-maintenance",
        std::chrono::milliseconds(options_.maintenance_interval_ms),
        [this] { RunMaintenance(nullptr); });
  }
  return Status::OK();
}

Status FileStore::ReportRecoveryDamage(const RecoveredState& rec) {
  const auto report = [this](const Status& s) {
    if (options_.on_recovery_damage) options_.on_recovery_damage(s);
  };
  // SPEC §3: a torn tail is cut off (JournalWriter::Open has), logged and
  // counted; the count alone left an operator nothing to go on.
  if (rec.torn_bytes > 0) {
    const std::string path =
        journal::SegmentPath(layout_.journal_dir, rec.end.segment);
    report(Status::DataLoss(
               "cut a torn tail off journal segment " + path + " at offset " +
               std::to_string(rec.end.offset) + " (" +
               std::to_string(rec.torn_bytes) +
               " bytes cut): a write interrupted by a crash or power loss, "
               "after the last record that verifies")
               .With("path", path)
               .With("offset", static_cast<int64_t>(rec.end.offset))
               .With("bytes", static_cast<int64_t>(rec.torn_bytes)));
  }
  // A skipped snapshot is newer than the one loaded, so the next snapshot
  // would delete it as unkept: it is renamed aside for inspection instead
  // (docs/recovery.md, step 3), under a name no later open reads.
  const std::string from =
      rec.snapshot
          ? "snapshot " + rec.snapshot->path + " and the journal after it"
          : "the journal alone";
  for (const auto& skipped : rec.skipped_snapshots) {
    ACPSTORE_ASSIGN_OR_RETURN(
        std::string kept,
        snapshot::SetAsideDamaged(fs_, layout_.snapshot_dir, skipped.path,
                                  clock_->NowMs()));
    opened_info_.snapshots_skipped.push_back(
        skipped.path + ": " + skipped.status.ToString() + "; kept as " + kept);
    std::string message = "snapshot " + skipped.path;
    message.append(" is damaged and was skipped (")
        .append(skipped.status.message())
        .append("); the state came from ")
        .append(from)
        .append(". The file is kept as ")
        .append(kept)
        .append(" for inspection: nothing reads it, delete it once inspected");
    report(Status::Corruption(message)
               .With("path", skipped.path)
               .With("kept_as", kept));
  }
  return Status::OK();
}

FileStore::~FileStore() {
  // First: the maintenance task and the snapshot thread use everything.
  maintenance_.reset();
  if (pipeline_ == nullptr) return;  // Open failed: nothing started
  evictor_.store(nullptr);
  snapshotter_->StopBackground();
  // Best effort: recovery replays anyway.
  if (pipeline_->BeginClose()) (void)snapshotter_->SnapshotNow();
  // Drains the journal: no commit callback (nor snapshot request) after.
  (void)pipeline_->Close();
}

// ------------------------------------------------------------------- reads

void FileStore::ReadState(base::FunctionRef<void(const StoreState&)> read) {
  pipeline_->ReadState(read);
}

Status FileStore::WaitForSubmitted() { return pipeline_->Flush().status(); }

void FileStore::Submit(std::unique_ptr<Waiter> waiter, DecideFn decide,
                       bool sweep_leases_first) {
  // Decision 0018: folds outran the snapshot thread past twice the
  // transcripts' share. Backpressure: this writer runs an eviction pass
  // itself, unless one (or a snapshot) is running already.
  if (evict_before_write_.load(std::memory_order_relaxed) &&
      evict_before_write_.exchange(false)) {
    (void)snapshotter_->EvictIfIdle();
  }
  pipeline_->Submit(std::move(waiter), decide, sweep_leases_first);
}

Result<EventPage> FileStore::ListEvents(const Scope& scope,
                                        std::string_view session_id,
                                        EventSeq after, uint32_t limit) {
  ACPSTORE_RETURN_IF_ERROR(record::ValidateListLimit(limit));
  return ReadEvents(&scope, scope.tenant_id, session_id, 0, after, limit,
                    options_.max_page_bytes);
}

Result<EventPage> FileStore::ReadEvents(const Scope* scope,
                                        std::string_view tenant_id,
                                        std::string_view session_id,
                                        uint64_t incarnation, EventSeq after,
                                        uint32_t limit, uint64_t max_bytes) {
  ACPSTORE_ASSIGN_OR_RETURN(
      SharedEventPage shared,
      ReadSharedEvents(scope, tenant_id, session_id, incarnation, after, limit,
                       max_bytes));
  EventPage page{{}, shared.first_seq, shared.last_seq, shared.truncated};
  page.events.reserve(shared.events.size());
  // Each shared event is let go once copied: one the cache did not keep
  // (a large payload, a cold read) is freed then, so a page is held about
  // once, not twice, while it is copied.
  for (std::shared_ptr<const Event>& e : shared.events) {
    page.events.push_back(*e);
    e.reset();
  }
  return page;
}

Result<SharedEventPage> FileStore::ReadSharedEvents(
    const Scope* scope, std::string_view tenant_id, std::string_view session_id,
    uint64_t incarnation, EventSeq after, uint32_t limit, uint64_t max_bytes) {
  SharedEventPage page;
  std::vector<FileEventLog::PlannedRead> plan;
  Status found;
  pipeline_->ReadState([&](const StoreState& st) {
    const SessionEntry* e =
        scope != nullptr ? st.FindSession(*scope, session_id)
                         : st.FindSessionInTenant(tenant_id, session_id);
    if (e == nullptr || (scope == nullptr && e->incarnation != incarnation)) {
      found = scope != nullptr ? SessionNotFound(session_id)
                               : Status::NotFound("the session was deleted")
                                     .With("sessionId", session_id);
      return;
    }
    const EventStreamInfo info = e->events->VisibleInfo();
    page.first_seq = info.first_seq;
    page.last_seq = info.last_seq;
    page.truncated = after + 1 < info.first_seq;
    static_cast<const FileEventLog*>(e->events.get())
        ->PlanRead(after, limit, max_bytes, &plan);
  });
  ACPSTORE_RETURN_IF_ERROR(found);
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
    std::optional<Result<EventPage>> locked;
    pipeline_->ReadState([&](const StoreState& st) {
      locked = scope != nullptr
                   ? QueryListEvents(st, *scope, session_id, after, limit,
                                     max_bytes)
                   : QuerySubscriptionPage(st, tenant_id, session_id,
                                           incarnation, after, limit,
                                           max_bytes);
    });
    if (!locked->ok()) return locked->error();
    return SharedEventPage::FromCopies(std::move(**locked));
  }
  return page;
}

Result<EventPage> FileStore::ReadSubscriptionPage(std::string_view tenant_id,
                                                  std::string_view session_id,
                                                  uint64_t incarnation,
                                                  EventSeq after,
                                                  uint32_t limit,
                                                  uint64_t max_bytes) {
  return ReadEvents(nullptr, tenant_id, session_id, incarnation, after, limit,
                    max_bytes);
}

Result<SharedEventPage> FileStore::ReadSharedSubscriptionPage(
    std::string_view tenant_id, std::string_view session_id,
    uint64_t incarnation, EventSeq after, uint32_t limit, uint64_t max_bytes) {
  return ReadSharedEvents(nullptr, tenant_id, session_id, incarnation, after,
                          limit, max_bytes);
}

// --------------------------------------------------------------- operations

void FileStore::RunMaintenance(Completion<MaintenanceReport> done) {
  // Decision 0018: transcripts still over their share after a pass (a
  // working set too large for it) get another pass each maintenance.
  bool transcripts_over = false;
  if (layout_.transcript_budget > 0) {
    pipeline_->WithTranscripts([&](StoreState& st, uint64_t) {
      transcripts_over =
          st.counters().transcript_bytes > layout_.transcript_budget;
    });
  }
  if (transcripts_over) snapshotter_->RequestEviction();
  bool dropped_for_disk = false;
  Completion<MaintenanceReport> wrapped =
      [this, done = std::move(done)](Result<MaintenanceReport> r) {
        // Dropped events may have emptied old segments.
        if (r.ok() && r->events_dropped > 0) snapshotter_->Request(0, true);
        if (done) done(std::move(r));
      };
  Commit(std::move(wrapped),
         [&](const StoreState& st,
             const DecideContext& ctx) -> Result<Decision<MaintenanceReport>> {
           pipeline_->AssertHeld();  // the pipeline runs deciders under it
           Decision<MaintenanceReport> d;
           // One mutation, ordered so every op applies after the ones before:
           // sweeps touch live actions, disk drops precede session deletes.
           d.mutation = DecideLeaseSweep(st, ctx, &d.result);
           if (options_.retention.max_disk_bytes > 0) {
             DiskUsage usage = pipeline_->DiskUsageLocked();
             usage.other_bytes = snapshotter_->snapshot_bytes();
             record::Mutation disk = DecideDiskRetention(
                 st, pipeline_->ContextLocked(), usage,
                 options_.retention.max_disk_bytes, &d.result);
             if (!disk.empty()) dropped_for_disk = true;
             d.mutation.Append(std::move(disk));
           }
           d.mutation.Append(DecideRetention(st, ctx, &d.result));
           return d;
         });
  // Space comes back once two snapshots cover the drops (the older kept
  // snapshot bounds what may be deleted).
  if (dropped_for_disk) snapshotter_->Request(2, true);
}

StoreStats FileStore::Stats() {
  StoreStats stats;
  pipeline_->FillStats(
      [&](const StoreState& st) { FillStateStats(st, &stats); }, &stats);
  stats.snapshot_bytes = snapshotter_->snapshot_bytes();
  stats.recovery_ms = opened_info_.recovery_ms;
  stats.torn_tail_truncations = opened_info_.torn_tail_bytes > 0 ? 1 : 0;
  stats.memory_cache_bytes = cache_.bytes();
  stats.subscriptions = hub().size();
  stats.data_loss_reads += reader_.data_loss_reads();
  stats.snapshots_failed = snapshotter_->snapshots_failed();
  stats.snapshot_failing = snapshotter_->snapshot_failing();
  return stats;
}

Status FileStore::CheckWritable() { return pipeline_->CheckWritable(); }

Status FileStore::SnapshotNow(bool self_contained) {
  return snapshotter_->SnapshotNow(self_contained);
}

Status FileStore::PrepareAppend(const Scope& scope,
                               std::string_view session_id) {
  std::shared_ptr<const TranscriptRef> ref;
  std::string tenant_id;
  std::string id;
  uint64_t incarnation = 0;
  pipeline_->WithTranscripts([&](StoreState& st, uint64_t) {
    const SessionEntry* e = st.FindSession(scope, session_id);
    // Off, an evicted transcript is kept as it is (decision 0035).
    if (e == nullptr || !e->transcript_evicted || !st.transcripts_on()) return;
    ref = e->transcript_ref;
    tenant_id = e->session.tenant_id;
    id = e->session.id;
    incarnation = e->incarnation;
  });
  if (ref == nullptr) return Status::OK();
  transcript::Transcript t;
  std::shared_ptr<const TranscriptSealed> sealed;
  Status s = LoadTranscript(*ref, &t, &sealed);
  // Changed on disk: the fold finds it so too and rebuilds the transcript
  // from the session's events (StoreState::LoadTranscript), so the append
  // goes ahead. Any other failure (an I/O error) refuses it.
  if (s.code() == StatusCode::kDataLoss) return Status::OK();
  ACPSTORE_RETURN_IF_ERROR(s);
  pipeline_->WithTranscripts([&](StoreState& st, uint64_t) {
    SessionEntry* e = st.MutableSessionInTenant(tenant_id, id);
    // Evicted all along: the bytes read are the transcript. Otherwise
    // someone else loaded it (or it went): nothing to do.
    if (e != nullptr && e->incarnation == incarnation &&
        e->transcript_evicted && e->transcript_ref == ref) {
      st.TranscriptLoaded(e, std::move(t), std::move(sealed));
    }
  });
  return Status::OK();
}

Status FileStore::EvictTranscriptsNow(bool all) {
  return snapshotter_->EvictNow(all);
}

std::vector<Status> FileStore::DamagedTranscripts(uint64_t* total) {
  if (total != nullptr) *total = snapshotter_->damaged_transcripts_total();
  return snapshotter_->damaged_transcripts();
}

Result<size_t> FileStore::ReclaimSegments() {
  return snapshotter_->ReclaimSegments();
}

FileStoreInfo FileStore::Info() {
  FileStoreInfo info = opened_info_;
  info.journal_bytes = pipeline_->journal_bytes();
  info.snapshots_written = snapshotter_->snapshots_written();
  info.segments_deleted = snapshotter_->segments_deleted();
  info.data_loss_reads = reader_.data_loss_reads();
  info.writable = CheckWritable();
  return info;
}

ClientIdKey FileStore::ClientIdKeyForTesting() {
  return pipeline_->client_id_key();
}

void FileStore::WaitForBackgroundForTesting() {
  snapshotter_->WaitForBackground();
}

}  // namespace acpstore::engine
