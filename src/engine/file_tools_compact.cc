// Offline compaction and repair of a data directory. See file_tools.h.

#include <algorithm>
#include <cstddef>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>
#include <utility>
#include <variant>

#include "base/coding.h"
#include "base/format_version.h"
#include "engine/file_recovery.h"
#include "engine/file_snapshot.h"
#include "engine/file_store.h"
#include "engine/file_tools.h"
#include "engine/file_tools_internal.h"
#include "engine/keys.h"
#include "journal/journal_writer.h"
#include "journal/segment_files.h"
#include "record/mutation_codec.h"
#include "snapshot/snapshot_dir.h"

namespace acpstore::engine {
namespace {

void Report(const ToolProgress& progress, std::string_view stage, uint64_t done,
            uint64_t total) {
  if (progress) progress(stage, done, total);
}

Result<CompactReport> CompactInPlace(io::FileSystem& fs,
                                     const std::string& data_dir,
                                     const ToolProgress& progress,
                                     const transcript::Limits& transcripts) {
  CompactReport report;
  ACPSTORE_ASSIGN_OR_RETURN(tools::DiskSize before,
                            tools::MeasureDataDir(fs, data_dir));
  StoreOptions options;
  options.engine = Engine::kFile;
  options.data_dir = data_dir;
  options.maintenance_interval_ms = 0;
  options.transcript_max_bytes = transcripts.max_bytes;
  options.transcript_max_tool_bytes = transcripts.max_tool_bytes;
  options.snapshot_every_bytes = std::numeric_limits<uint64_t>::max();
  ACPSTORE_ASSIGN_OR_RETURN(std::unique_ptr<FileStore> store,
                            FileStore::Open(options, &fs));
  report.snapshots_skipped = store->Info().snapshots_skipped;
  // Two snapshots of the same state: the older kept one then covers the
  // whole journal, so every segment without a retained event may go. Both
  // self-contained (decision 0027): no older snapshot file stays.
  for (int i = 0; i < 2; ++i) {
    Report(progress, "snapshot", i, 2);
    ACPSTORE_RETURN_IF_ERROR(store->SnapshotNow(/*self_contained=*/true));
  }
  Report(progress, "snapshot", 2, 2);
  // Decision 0034: a transcript whose bytes were damaged was left out of
  // the first snapshot and rebuilt from its events for the second.
  uint64_t damaged = 0;
  for (const Status& d : store->DamagedTranscripts(&damaged)) {
    report.lost.push_back(tools::DamagedTranscriptProblem(
        d, "copying it into the compacted snapshot"));
  }
  if (damaged > report.lost.size()) {
    Problem more;
    more.file = FileLayout(data_dir).snapshot_dir;
    more.what = std::to_string(damaged - report.lost.size()) +
                " more transcripts damaged the same way (not listed), "
                "each rebuilt from its session's retained events";
    report.lost.push_back(std::move(more));
  }
  store.reset();
  ACPSTORE_ASSIGN_OR_RETURN(tools::DiskSize after,
                            tools::MeasureDataDir(fs, data_dir));
  ACPSTORE_ASSIGN_OR_RETURN(
      std::vector<snapshot::SnapshotFile> snapshots,
      snapshot::ListSnapshots(fs, FileLayout(data_dir).snapshot_dir));
  report.bytes_before = before.bytes;
  report.segments_before = before.segments;
  report.bytes_after = after.bytes;
  report.segments_after = after.segments;
  report.snapshot_number = snapshots.empty() ? 0 : snapshots.front().number;
  return report;
}

// Rebuilds what can be rebuilt of a damaged directory; see file_tools.h.
class Repairer {
 public:
  Repairer(io::FileSystem& fs, std::string data_dir,
           const ToolProgress& progress, const transcript::Limits& transcripts)
      : fs_(fs),
        layout_(WithTranscripts(FileLayout(std::move(data_dir)), transcripts)),
        progress_(progress),
        old_reader_(fs, layout_.journal_dir, nullptr) {}

  ~Repairer() {
    state_.reset();  // its logs point into both contexts
  }

  Result<CompactReport> Run() {
    ACPSTORE_ASSIGN_OR_RETURN(tools::DiskSize before,
                              tools::MeasureDataDir(fs_, layout_.data_dir));
    report_.repaired = true;
    report_.bytes_before = before.bytes;
    report_.segments_before = before.segments;
    ACPSTORE_RETURN_IF_ERROR(LoadSnapshot());
    ACPSTORE_RETURN_IF_ERROR(SalvageJournal());
    AdvancePastLostEvents();
    const std::string stamp = std::to_string(SystemClock()->NowMs());
    const std::string new_journal = layout_.journal_dir + ".repair-" + stamp;
    const std::string new_snapshots = layout_.snapshot_dir + ".repair-" + stamp;
    ACPSTORE_ASSIGN_OR_RETURN(journal::JournalPosition end,
                              RewriteEvents(new_journal));
    StateImage image;
    CaptureState(*state_, &image);
    ACPSTORE_RETURN_IF_ERROR(
        WriteSnapshot(fs_, new_snapshots, 1, end, SystemClock()->NowMs(), image)
            .status());
    report_.snapshot_number = 1;
    report_.old_journal_dir = layout_.journal_dir + ".damaged-" + stamp;
    report_.old_snapshot_dir = layout_.snapshot_dir + ".damaged-" + stamp;
    // The four renames below are not one step: REPAIR says they have
    // begun, and whatever opens the directory next finishes them
    // (FinishInterruptedRepair) rather than pair the new journal with the
    // old snapshots.
    ACPSTORE_RETURN_IF_ERROR(fs_.SyncDir(layout_.data_dir));
    ACPSTORE_RETURN_IF_ERROR(
        io::WriteFileAtomically(fs_, RepairIntentPath(layout_), stamp + "\n"));
    ACPSTORE_RETURN_IF_ERROR(FinishInterruptedRepair(fs_, layout_));
    // Name only what was kept: a directory that was missing or empty was not.
    for (std::string* kept :
         {&report_.old_journal_dir, &report_.old_snapshot_dir}) {
      ACPSTORE_ASSIGN_OR_RETURN(bool exists, fs_.Exists(*kept));
      if (!exists) kept->clear();
    }
    ACPSTORE_ASSIGN_OR_RETURN(tools::DiskSize after,
                              tools::MeasureDataDir(fs_, layout_.data_dir));
    report_.bytes_after = after.bytes;
    report_.segments_after = after.segments;
    return std::move(report_);
  }

 private:
  void Lost(Problem p) { report_.lost.push_back(std::move(p)); }

  static FileLayout WithTranscripts(FileLayout layout,
                                    const transcript::Limits& transcripts) {
    layout.transcripts = transcripts;
    return layout;
  }

  // The first record a newer release wrote: the repair stops on it.
  Status newer_;

  // The newest snapshot that loads; damaged ones are reported as lost.
  Status LoadSnapshot() {
    ACPSTORE_ASSIGN_OR_RETURN(
        std::vector<snapshot::SnapshotFile> snapshots,
        snapshot::ListSnapshots(fs_, layout_.snapshot_dir));
    for (const auto& f : snapshots) {
      auto context = std::make_unique<FileLogContext>(&old_reader_);
      std::unique_ptr<StoreState> state = NewFileState(context.get(), layout_.transcripts);
      SnapshotLoadNotes notes;
      Result<snapshot::SnapshotHeader> h = engine::LoadSnapshot(
          fs_, f.path, state.get(), context.get(), &notes,
          SnapshotLoadOptions{.salvage = true});
      if (!h.ok()) {
        // Written by a newer release, or unreadable to this user:
        // repairing would destroy it.
        ACPSTORE_RETURN_IF_ERROR(SnapshotNotDamage(h.error(), f.path));
        Problem p = tools::ProblemFrom(h.error(), f.path);
        p.what = "snapshot skipped: " + p.what;
        Lost(std::move(p));
        continue;
      }
      // Decision 0034: a damaged transcript costs only itself.
      for (const Status& d : notes.damaged_transcripts) {
        Lost(tools::DamagedTranscriptProblem(d, "loading snapshot " + f.path));
      }
      old_context_ = std::move(context);
      state_ = std::move(state);
      from_ = {h->covered.segment, h->covered.offset};
      snapshot_loaded_ = true;
      return Status::OK();
    }
    old_context_ = std::make_unique<FileLogContext>(&old_reader_);
    state_ = NewFileState(old_context_.get(), layout_.transcripts);
    return Status::OK();
  }

  // Every record after the snapshot that verifies, decodes and applies.
  Status SalvageJournal() {
    ACPSTORE_ASSIGN_OR_RETURN(std::vector<uint64_t> all,
                              tools::ListSegmentsOrNone(fs_, layout_.journal_dir));
    std::vector<uint64_t> segments;
    for (uint64_t s : all) {
      if (s >= from_.segment) segments.push_back(s);
    }
    if (!snapshot_loaded_ && !segments.empty() && segments.front() > 1) {
      // Retention reclaimed them, and the snapshots that covered them are
      // damaged: what they held cannot be numbered (found by a review).
      Lost({layout_.journal_dir, 0, 0,
            "no snapshot loads and journal segments 1-" +
                std::to_string(segments.front() - 1) +
                " are gone: every record before segment " +
                std::to_string(segments.front()) +
                " is lost, and a session whose events were all before it "
                "numbers its next events from where this journal leaves it "
                "(from 1 when it holds none of them), repeating lost "
                "events' seqs and ids; keep clients of such sessions from "
                "resuming by event id"});
    }
    for (size_t i = 0; i < segments.size(); ++i) {
      const uint64_t s = segments[i];
      const std::string path = journal::SegmentPath(layout_.journal_dir, s);
      ACPSTORE_ASSIGN_OR_RETURN(
          tools::SegmentScan scan,
          tools::ScanSegment(
              fs_, layout_.journal_dir, s, i + 1 == segments.size(),
              s == from_.segment ? from_.offset : 0,
              [&](const tools::ScannedRecord& r) { Salvage(path, r); }));
      for (auto& p : scan.damage) Lost(std::move(p));
      if (scan.torn_tail) Lost(*scan.torn_tail);
      if (!newer_.ok()) return newer_;
      Report(progress_, "journal", i + 1, segments.size());
    }
    return Status::OK();
  }

  void Salvage(const std::string& path, const tools::ScannedRecord& r) {
    auto lost = [&](std::string what) {
      Lost({path, r.location.offset, r.location.size, std::move(what)});
    };
    if (r.type != journal::RecordType::kMutation) {
      return lost("unknown record type");
    }
    record::Mutation m;
    std::string_view in = r.payload;
    std::vector<record::EventSpan> spans;
    Status s = record::DecodeMutation(&in, &m, &spans);
    if (IsNewerFormat(s)) {
      if (newer_.ok()) newer_ = s;
      return;
    }
    if (!s.ok()) return lost(std::string(s.message()));
    old_context_->BeginDurable(r.location, spans);
    // One op at a time, so that an append that no longer continues its
    // stream can first restart the stream after the events lost before it.
    size_t failed = m.ops.size();
    for (size_t i = 0; i < m.ops.size() && s.ok(); ++i) {
      const uint64_t appended = state_->counters().events_appended;
      if (const auto* a = std::get_if<record::AppendEventsOp>(&m.ops[i])) {
        RestartAfterLostEvents(path, r, *a);
      }
      const auto* deleted = std::get_if<record::DeleteSessionOp>(&m.ops[i]);
      const std::string deleted_key =
          deleted == nullptr
              ? std::string()
              : TenantKey(deleted->tenant_id, deleted->session_id);
      // Apply moves the op's events: counted first, in case it fails.
      const OpEvents events = EventsOf(m.ops[i]);
      record::Mutation one;
      one.ops.push_back(std::move(m.ops[i]));
      s = state_->Apply(std::move(one));
      if (!s.ok()) {
        failed = i;
        // Those it appended before the failing event stay.
        CountUnapplied(events, state_->counters().events_appended - appended);
      } else if (deleted != nullptr) {
        lost_through_.erase(deleted_key);  // a new one numbers from 1
      }
    }
    for (size_t i = failed + 1; i < m.ops.size(); ++i) {
      CountUnapplied(EventsOf(m.ops[i]), 0);
    }
    const bool matched = old_context_->End();
    if (!s.ok() || !matched) {
      // Ops before the failing one stay applied: a half-applied record is
      // still closer to what was acknowledged than none of it.
      return lost("does not apply (kept the ops before the failing one): " +
                  std::string(s.message()));
    }
    ++report_.records_salvaged;
  }

  // The session and seqs of the events an op appends (none for other ops).
  struct OpEvents {
    std::string tenant_id;
    std::string session_id;
    std::vector<EventSeq> seqs;
  };
  static OpEvents EventsOf(const record::MutationOp& op) {
    OpEvents out;
    if (const auto* a = std::get_if<record::AppendEventsOp>(&op)) {
      out.tenant_id = a->tenant_id;
      out.session_id = a->session_id;
      for (const Event& ev : a->events) out.seqs.push_back(ev.seq);
    }
    return out;
  }

  // Events of a record that decoded but did not apply (all but the first
  // `applied`): lost, and counted here so that the gap they leave in their
  // stream is not counted again.
  void CountUnapplied(const OpEvents& events, uint64_t applied) {
    if (applied >= events.seqs.size()) return;
    LostThrough& lost =
        lost_through_[TenantKey(events.tenant_id, events.session_id)];
    lost.tenant_id = events.tenant_id;
    lost.session_id = events.session_id;
    for (size_t i = applied; i < events.seqs.size(); ++i) {
      ++report_.events_lost;
      lost.through = std::max(lost.through, events.seqs[i]);
    }
  }

  // A stream whose lost events no readable append followed must still not
  // number them again: their ids were acknowledged, and an event id names
  // one event for good (docs/http_api.md, "Events"). This happens when the
  // record that created a session is damaged: its appends then find no
  // session and are lost, and a later record of the session (a status
  // change, a pause) creates it again with an empty stream, which would
  // have handed out seq 1 again (found by a review). Each such stream is
  // advanced past its lost events, as RestartAfterLostEvents does when an
  // append follows them. (Events in records too damaged to decode are not
  // known by seq; a stream whose newest events were only there can still
  // number them again. docs/recovery.md says so.)
  void AdvancePastLostEvents() {
    for (const auto& [key, lost] : lost_through_) {
      // No session: it is lost too.
      const std::optional<EventStreamInfo> was =
          AdvanceStream(lost.tenant_id, lost.session_id, lost.through);
      if (!was) continue;
      Problem p;
      p.file = layout_.journal_dir;
      p.what = "session " + lost.session_id + " (tenant " + lost.tenant_id +
               "): its events through " + std::to_string(lost.through) +
               " are lost and no later event of it was readable, so its "
               "stream continues at event " +
               std::to_string(lost.through + 1) +
               " (those numbers are not given again)" +
               DroppedRetained(was->retained);
      report_.events_lost += was->retained;
      Lost(std::move(p));
    }
  }

  // Moves the stream of session `id` of `tenant` past `through` unless it
  // is there already (AdvanceSeqOp: its events before are dropped, its
  // transcript marked incomplete). Its state before the move; nullopt when
  // nothing moved (no such session, already past, or the op failed).
  std::optional<EventStreamInfo> AdvanceStream(const std::string& tenant,
                                               const std::string& id,
                                               EventSeq through) {
    const SessionEntry* e = state_->FindSessionInTenant(tenant, id);
    if (e == nullptr) return std::nullopt;
    const EventStreamInfo info = e->events->Info();
    if (info.last_seq >= through) return std::nullopt;
    record::Mutation advance;
    advance.AdvanceSeq(tenant, id, through);
    if (!state_->Apply(std::move(advance)).ok()) return std::nullopt;
    return info;
  }

  // The report's words for the `retained` events a move dropped.
  static std::string DroppedRetained(uint64_t retained) {
    if (retained == 0) return "";
    return " and drops the " + std::to_string(retained) +
           (retained == 1 ? " retained event" : " retained events") +
           " before (a stream keeps only the events after its last "
           "unreadable one)";
  }

  // An append whose first seq is past the stream's high-water mark + 1
  // follows events that were in records lost above (damaged, or not
  // applying). The documented rule (docs/recovery.md, compact --repair): a
  // stream keeps only the events after its last unreadable one, so it
  // stays gap-free. So the stream is first advanced past the missing
  // events, the way a migration raises a mark (AdvanceSeqOp: every event
  // before is dropped, first_seq moves up, the transcript is marked
  // incomplete), and the append then continues it. Before, the append
  // failed ("does not continue the stream") and this and every later
  // event of the stream were dropped while the report said 0 events lost
  // (found by a probe). The missing and the dropped events are counted.
  void RestartAfterLostEvents(const std::string& path,
                              const tools::ScannedRecord& r,
                              const record::AppendEventsOp& a) {
    if (a.events.empty()) return;
    const EventSeq first = a.events.front().seq;
    // No session: the append fails, and is counted then.
    const std::optional<EventStreamInfo> was =
        AdvanceStream(a.tenant_id, a.session_id, first - 1);
    if (!was) return;
    const EventStreamInfo& info = *was;
    LostThrough& lost = lost_through_[TenantKey(a.tenant_id, a.session_id)];
    const EventSeq counted = std::max(info.last_seq, lost.through);
    const uint64_t missing = first - 1 > counted ? first - 1 - counted : 0;
    report_.events_lost += missing + info.retained;
    lost.tenant_id = a.tenant_id;
    lost.session_id = a.session_id;
    lost.through = first - 1;
    const EventSeq gap_from = info.last_seq + 1;
    std::string what =
        "session " + a.session_id + " (tenant " + a.tenant_id + "): " +
        (gap_from == first - 1
             ? "event " + std::to_string(gap_from) +
                   " lost (its record is damaged or does not apply)"
             : "events " + std::to_string(gap_from) + "-" +
                   std::to_string(first - 1) +
                   " lost (their records are damaged or do not apply)") +
        ", so its stream restarts at event " + std::to_string(first) +
        DroppedRetained(info.retained);
    Lost({path, r.location.offset, r.location.size, std::move(what)});
  }

  // Copies every readable retained event into a new journal and points the
  // state's event logs at the copies. A stream keeps only the events after
  // its last unreadable one, so it stays gap-free.
  Result<journal::JournalPosition> RewriteEvents(const std::string& dir) {
    journal::JournalWriterOptions wopts;
    ACPSTORE_ASSIGN_OR_RETURN(std::unique_ptr<journal::JournalWriter> writer,
                              journal::JournalWriter::Open(
                                  fs_, dir, wopts, journal::JournalPosition{}));
    new_reader_ = std::make_unique<FileEventReader>(fs_, dir, nullptr);
    new_context_ = std::make_unique<FileLogContext>(new_reader_.get());
    std::vector<std::pair<std::string, std::string>> sessions;
    state_->ForEachSession([&](const SessionEntry& e) {
      sessions.emplace_back(e.session.tenant_id, e.session.id);
    });
    uint64_t done = 0;
    for (const auto& [tenant, id] : sessions) {
      ACPSTORE_RETURN_IF_ERROR(RewriteSession(writer.get(), tenant, id));
      Report(progress_, "events", ++done, sessions.size());
    }
    ACPSTORE_RETURN_IF_ERROR(writer->Sync());
    const journal::JournalPosition end = writer->end();
    ACPSTORE_RETURN_IF_ERROR(writer->Close());
    return end;
  }

  Status RewriteSession(journal::JournalWriter* writer,
                        const std::string& tenant, const std::string& id) {
    const SessionEntry* e = state_->FindSessionInTenant(tenant, id);
    const EventStreamInfo info = e->events->VisibleInfo();
    std::vector<Event> kept;
    for (EventSeq seq = info.first_seq; seq <= info.last_seq; ++seq) {
      Result<Event> ev = e->events->Get(seq);
      if (ev.ok()) {
        kept.push_back(std::move(*ev));
        continue;
      }
      Problem p = tools::ProblemFrom(ev.error(), layout_.journal_dir);
      p.what = "event " + std::to_string(seq) + " of session " + id +
               " unreadable (with " + std::to_string(kept.size()) +
               " before it): " + p.what;
      Lost(std::move(p));
      report_.events_lost += kept.size() + 1;
      kept.clear();
    }
    std::deque<IndexEntry> entries;
    constexpr size_t kBatchBytes = 4 << 20;
    for (size_t at = 0; at < kept.size();) {
      record::Mutation m;
      std::vector<Event> batch;
      size_t bytes = 0;
      while (at < kept.size() && (batch.empty() || bytes < kBatchBytes)) {
        bytes += kept[at].payload.size();
        batch.push_back(std::move(kept[at++]));
      }
      std::vector<uint32_t> sizes;
      sizes.reserve(batch.size());
      for (const Event& ev : batch) sizes.push_back(ev.payload.size());
      m.AppendEvents(tenant, id, std::move(batch));
      std::string rec;
      std::vector<record::EventSpan> spans;
      const size_t header = journal::BeginRecord(&rec);
      record::EncodeMutation(m, &rec, &spans);
      journal::FinishRecord(&rec, header, journal::RecordType::kMutation);
      std::string_view view(rec);
      std::vector<journal::RecordLocation> locations;
      ACPSTORE_RETURN_IF_ERROR(writer->Append({&view, 1}, &locations));
      const journal::RecordLocation& loc = locations.front();
      for (size_t i = 0; i < spans.size(); ++i) {
        entries.push_back(IndexEntry{
            EventLocation{
                static_cast<uint32_t>(loc.segment),
                static_cast<uint32_t>(loc.offset + journal::kHeaderSize +
                                      spans[i].offset),
                spans[i].length},
            sizes[i]});
      }
    }
    report_.events_kept += entries.size();
    const EventSeq first = info.last_seq + 1 - entries.size();
    // Same state, same key: the tags carry over as they are.
    std::vector<std::pair<EventSeq, uint32_t>> ids;
    e->client_ids.ForEach(
        first, [&](uint32_t tag, EventSeq seq) { ids.emplace_back(seq, tag); });
    std::sort(ids.begin(), ids.end());
    ClientIdIndex client_ids;
    for (const auto& [seq, tag] : ids) client_ids.Insert(tag, seq, first);
    auto log = std::make_unique<FileEventLog>(
        new_context_.get(), first, info.last_seq, std::move(entries));
    return state_->RestoreEvents(tenant, id, std::move(log),
                                 std::move(client_ids));
  }

  io::FileSystem& fs_;
  const FileLayout layout_;
  const ToolProgress& progress_;
  FileEventReader old_reader_;
  std::unique_ptr<FileEventReader> new_reader_;
  std::unique_ptr<FileLogContext> old_context_;
  std::unique_ptr<FileLogContext> new_context_;
  std::unique_ptr<StoreState> state_;
  journal::JournalPosition from_;
  bool snapshot_loaded_ = false;
  CompactReport report_;
  // Per session (TenantKey): the highest seq already counted in
  // report_.events_lost by Salvage, so that no lost event counts twice,
  // and that its stream must continue after (AdvancePastLostEvents).
  struct LostThrough {
    std::string tenant_id;
    std::string session_id;
    EventSeq through = 0;
  };
  std::map<std::string, LostThrough> lost_through_;
};

}  // namespace

Result<CompactReport> Compact(const std::string& data_dir, bool repair,
                              const ToolProgress& progress,
                              io::FileSystem* fs_or_null,
                              const transcript::Limits& transcripts) {
  io::FileSystem& fs =
      fs_or_null != nullptr ? *fs_or_null : io::PosixFileSystem();
  ACPSTORE_RETURN_IF_ERROR(MustHoldStore(fs, FileLayout(data_dir)));
  if (!repair) return CompactInPlace(fs, data_dir, progress, transcripts);
  FileLayout layout(data_dir);
  ACPSTORE_ASSIGN_OR_RETURN(std::unique_ptr<io::FileLock> lock,
                            LockDataDir(fs, layout));
  // An earlier repair that stopped while swapping its directories in is
  // finished first: this one then repairs what it left.
  ACPSTORE_RETURN_IF_ERROR(FinishInterruptedRepair(fs, layout));
  Repairer repairer(fs, data_dir, progress, transcripts);
  return repairer.Run();
}

}  // namespace acpstore::engine
