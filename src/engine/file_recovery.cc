// File engine recovery: snapshot, then journal replay. See file_recovery.h.

#include "engine/file_recovery.h"

#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "base/format_version.h"
#include "engine/file_snapshot.h"
#include "journal/format.h"
#include "journal/replay.h"
#include "journal/segment_files.h"
#include "record/mutation.h"
#include "record/mutation_codec.h"

namespace acpstore::engine {
namespace {

Status RecordCorruption(const std::string& journal_dir,
                        const journal::RecordLocation& at,
                        std::string_view why) {
  const std::string path = journal::SegmentPath(journal_dir, at.segment);
  return Status::Corruption("journal record in " + path + " at offset " +
                            std::to_string(at.offset) + ": " + std::string(why))
      .With("path", path)
      .With("offset", static_cast<int64_t>(at.offset));
}

// Replays one journal record into `state`.
Status ApplyRecord(const std::string& journal_dir,
                   const journal::JournalRecord& record, StoreState* state,
                   FileLogContext* context) {
  if (record.type != journal::RecordType::kMutation) {
    return RecordCorruption(
        journal_dir, record.location,
        "unknown record type " + std::to_string(static_cast<int>(record.type)));
  }
  record::Mutation m;
  std::string_view input = record.payload;
  // The decoder reports where each event sub-record sits in these bytes,
  // which is what the index needs (and what EncodeMutation reported when
  // the record was written).
  std::vector<record::EventSpan> spans;
  Status s = record::DecodeMutation(&input, &m, &spans);
  if (!s.ok() && IsNewerFormat(s)) {
    // Keep the versions (details) for the operator: not damage.
    const std::string path =
        journal::SegmentPath(journal_dir, record.location.segment);
    return WithPrefix(s, "journal record in " + path + " at offset " +
                             std::to_string(record.location.offset) + ": ");
  }
  if (!s.ok()) {
    return RecordCorruption(journal_dir, record.location, s.message());
  }
  context->BeginDurable(record.location, spans);
  s = state->Apply(std::move(m));
  const bool spans_matched = context->End();
  if (!s.ok()) {
    return RecordCorruption(
        journal_dir, record.location,
        "does not apply to the recovered state: " + std::string(s.message()));
  }
  if (!spans_matched) {
    return RecordCorruption(journal_dir, record.location,
                            "its events do not match their spans");
  }
  return Status::OK();
}

}  // namespace

FileLayout::FileLayout(std::string dir)
    : data_dir(std::move(dir)),
      lock_path(io::JoinPath(data_dir, "LOCK")),
      journal_dir(io::JoinPath(data_dir, "journal")),
      snapshot_dir(io::JoinPath(data_dir, "snapshot")) {}

std::string RepairIntentPath(const FileLayout& layout) {
  return io::JoinPath(layout.data_dir, "REPAIR");
}

Result<std::optional<InterruptedRepair>> PlanInterruptedRepair(
    io::FileSystem& fs, const FileLayout& layout) {
  InterruptedRepair plan;
  plan.intent = RepairIntentPath(layout);
  ACPSTORE_ASSIGN_OR_RETURN(bool pending, fs.Exists(plan.intent));
  if (!pending) return std::optional<InterruptedRepair>();
  ACPSTORE_ASSIGN_OR_RETURN(std::string stamp,
                            io::ReadFileToString(fs, plan.intent));
  while (!stamp.empty() && stamp.back() == '\n') stamp.pop_back();
  if (stamp.empty() || stamp.find('/') != std::string::npos) {
    return Status::Corruption("repair intent " + plan.intent +
                              " does not name the repair's directories")
        .With("path", plan.intent);
  }
  for (const std::string& live : {layout.journal_dir, layout.snapshot_dir}) {
    InterruptedRepair::Move move;
    move.from = live;
    move.from.append(".repair-").append(stamp);
    move.to = live;
    move.kept_as = live;
    move.kept_as.append(".damaged-").append(stamp);
    ACPSTORE_ASSIGN_OR_RETURN(bool staged, fs.Exists(move.from));
    if (!staged) continue;  // moved in already
    ACPSTORE_ASSIGN_OR_RETURN(bool exists, fs.Exists(live));
    if (exists) {
      // An empty one holds nothing to keep (the snapshot/ of a store that
      // never wrote a snapshot): an empty "kept" directory would only
      // suggest there was something.
      ACPSTORE_ASSIGN_OR_RETURN(std::vector<std::string> names,
                                fs.ListDir(live));
      move.live = names.empty() ? InterruptedRepair::Move::Live::kEmptyRemoved
                                : InterruptedRepair::Move::Live::kKept;
    }
    if (move.live == InterruptedRepair::Move::Live::kKept) {
      ACPSTORE_ASSIGN_OR_RETURN(bool kept_exists, fs.Exists(move.kept_as));
      if (kept_exists) {
        std::string message = "cannot finish the interrupted repair: ";
        message.append(live).append(", ").append(move.from);
        message.append(" and ").append(move.kept_as).append(" all exist");
        return Status::Corruption(message).With("path", live);
      }
    }
    plan.moves.push_back(std::move(move));
  }
  return std::optional<InterruptedRepair>(std::move(plan));
}

Status FinishInterruptedRepair(io::FileSystem& fs, const FileLayout& layout) {
  ACPSTORE_ASSIGN_OR_RETURN(std::optional<InterruptedRepair> plan,
                            PlanInterruptedRepair(fs, layout));
  if (!plan) return Status::OK();
  for (const InterruptedRepair::Move& move : plan->moves) {
    switch (move.live) {
      case InterruptedRepair::Move::Live::kKept:
        ACPSTORE_RETURN_IF_ERROR(fs.Rename(move.to, move.kept_as));
        break;
      case InterruptedRepair::Move::Live::kEmptyRemoved:
        ACPSTORE_RETURN_IF_ERROR(fs.Remove(move.to));
        break;
      case InterruptedRepair::Move::Live::kMissing:
        break;
    }
    ACPSTORE_RETURN_IF_ERROR(fs.Rename(move.from, move.to));
  }
  ACPSTORE_RETURN_IF_ERROR(fs.SyncDir(layout.data_dir));
  ACPSTORE_RETURN_IF_ERROR(fs.Remove(plan->intent));
  return fs.SyncDir(layout.data_dir);
}

Status MustHoldStore(io::FileSystem& fs, const FileLayout& layout) {
  ACPSTORE_ASSIGN_OR_RETURN(bool exists, fs.Exists(layout.data_dir));
  if (!exists) {
    return Status::NotFound("no data directory at " + layout.data_dir)
        .With("path", layout.data_dir);
  }
  for (const std::string& path : {layout.journal_dir, layout.snapshot_dir,
                                  RepairIntentPath(layout)}) {
    ACPSTORE_ASSIGN_OR_RETURN(bool found, fs.Exists(path));
    if (found) return Status::OK();
  }
  // A regular file: `serve` cannot make a store there either, so the hint
  // below would mislead.
  Result<std::vector<std::string>> listed = fs.ListDir(layout.data_dir);
  if (!listed.ok() && io::IsNotADirectoryError(listed.error())) {
    return Status::NotFound(layout.data_dir +
                            " is not a directory: a data directory must be "
                            "one (give --data-dir a directory)")
        .With("path", layout.data_dir);
  }
  return Status::NotFound("no store in " + layout.data_dir +
                          " (it has no journal/ or snapshot/): `acpstore "
                          "serve --data-dir " + layout.data_dir +
                          "` creates one")
      .With("path", layout.data_dir);
}

namespace {

// A lock refused because another process holds it: the directory is in
// use. Other failures pass through.
Result<std::unique_ptr<io::FileLock>> InUse(
    const FileLayout& layout, Result<std::unique_ptr<io::FileLock>> lock) {
  if (lock.ok() || lock.error().code() != StatusCode::kUnavailable) return lock;
  Status s = Status::Unavailable("data directory " + layout.data_dir +
                                 " is in use by another process (lock file " +
                                 layout.lock_path + ")");
  s.With("path", layout.lock_path);
  for (const StatusDetail& d : lock.error().details()) {
    if (d.key == "path") continue;
    std::visit([&](const auto& v) { s.With(d.key, v); }, d.value);
  }
  return s;
}

}  // namespace

Result<std::unique_ptr<io::FileLock>> LockDataDir(io::FileSystem& fs,
                                                  const FileLayout& layout) {
  return InUse(layout, fs.Lock(layout.lock_path));
}

Result<std::unique_ptr<io::FileLock>> LockDataDirShared(
    io::FileSystem& fs, const FileLayout& layout) {
  Result<std::unique_ptr<io::FileLock>> lock =
      InUse(layout, fs.LockShared(layout.lock_path));
  if (!lock.ok() && io::IsNotFoundError(lock.error())) {
    return std::unique_ptr<io::FileLock>();
  }
  return lock;
}

std::unique_ptr<StoreState> NewFileState(FileLogContext* context,
                                         const transcript::Limits& transcripts) {
  auto state = std::make_unique<StoreState>([context](const Session&) {
    return std::unique_ptr<EventLog>(std::make_unique<FileEventLog>(context));
  });
  state->set_transcript_limits(transcripts);
  return state;
}

std::unique_ptr<StoreState> NewFileState(FileLogContext* context,
                                         const FileLayout& layout) {
  std::unique_ptr<StoreState> state = NewFileState(context, layout.transcripts);
  state->set_transcript_budget(layout.transcript_budget,
                               layout.transcripts_over);
  return state;
}

Status SnapshotNotDamage(const Status& load_error, const std::string& path) {
  if (IsNewerFormat(load_error)) return load_error;
  const StatusCode code = load_error.code();
  if (code == StatusCode::kCorruption || code == StatusCode::kDataLoss ||
      io::IsNotFoundError(load_error)) {
    return Status::OK();
  }
  return Status(code, "cannot read snapshot " + path + " (" +
                          std::string(load_error.message()) +
                          "); it is not damaged, and nothing was changed. "
                          "Every file of the data directory must be readable "
                          "by the user running acpstore (was a tool run as "
                          "another user?)")
      .With("path", path);
}

Result<RecoveredState> RecoverState(
    io::FileSystem& fs, const FileLayout& layout, FileEventReader* reader,
    std::optional<journal::JournalPosition> limit) {
  RecoveredState out;
  ACPSTORE_ASSIGN_OR_RETURN(std::vector<snapshot::SnapshotFile> snapshots,
                            snapshot::ListSnapshots(fs, layout.snapshot_dir));
  journal::JournalPosition from;
  for (const snapshot::SnapshotFile& file : snapshots) {
    auto context = std::make_unique<FileLogContext>(reader);
    std::unique_ptr<StoreState> state = NewFileState(context.get(), layout);
    // With transcripts on the server has a budget (FileStore), so no part
    // is read here: damage is met by reads and folds. With them off the
    // parts read back are dropped, damaged or not.
    SnapshotLoadNotes notes;
    Result<snapshot::SnapshotHeader> header =
        LoadSnapshot(fs, file.path, state.get(), context.get(), &notes,
                     SnapshotLoadOptions{
                         .keep_transcripts_off = layout.keep_transcripts_off});
    if (!header.ok()) {
      // A newer release's snapshot, or one this process cannot read, is
      // not damage: falling back to an older one (or none) would replay a
      // journal it has already cut.
      ACPSTORE_RETURN_IF_ERROR(SnapshotNotDamage(header.error(), file.path));
      out.skipped_snapshots.push_back({file.path, header.error()});
      continue;
    }
    // Destroy a half-built predecessor's state before its context.
    out.state.reset();
    out.context = std::move(context);
    out.state = std::move(state);
    out.snapshot = file;
    out.snapshot_header = *header;
    out.snapshot_referred = std::move(notes.referred);
    from = {header->covered.segment, header->covered.offset};
    break;
  }
  if (out.state == nullptr) {
    // No snapshot loaded (none left, or every one damaged): the journal
    // alone must then hold everything, from its first segment. Segments
    // are reclaimed only once a kept snapshot covers them, and what only
    // they held (a session without retained events, actions, pauses)
    // lived on in the snapshots alone: opening without it would lose it
    // silently, so this is corruption (compact --repair salvages the
    // rest and lists what is lost).
    ACPSTORE_ASSIGN_OR_RETURN(std::vector<uint64_t> segments,
                              journal::ListSegments(fs, layout.journal_dir));
    if (!segments.empty() && segments.front() > 1) {
      std::string why = snapshots.empty()
                            ? "there is no snapshot"
                            : "no snapshot loads (" +
                                  std::to_string(snapshots.size()) +
                                  " damaged)";
      return Status::Corruption(
                 why + " and the journal starts at segment " +
                 journal::SegmentPath(layout.journal_dir, segments.front()) +
                 ": the records before it were reclaimed once a snapshot held "
                 "them, so the journal alone cannot rebuild the store; "
                 "`acpstore compact --repair` salvages what remains")
          .With("path", layout.snapshot_dir);
    }
    out.context = std::make_unique<FileLogContext>(reader);
    out.state = NewFileState(out.context.get(), layout);
  }

  bool stopped = false;
  StoreState* state = out.state.get();
  FileLogContext* context = out.context.get();
  Result<journal::ReplayResult> replayed = journal::ReplayJournal(
      fs, layout.journal_dir, from,
      [&](const journal::JournalRecord& record) -> Status {
        if (limit && record.location.start() >= *limit) {
          stopped = true;
          return Status::Internal("replay limit reached");
        }
        return ApplyRecord(layout.journal_dir, record, state, context);
      });
  if (!replayed.ok()) {
    if (!stopped) return std::move(replayed).error();
    out.end = *limit;
    return out;
  }
  // Decision 0035: transcripts kept while they were off catch up with
  // what was appended meanwhile.
  ACPSTORE_RETURN_IF_ERROR(state->CatchUpTranscripts());
  out.end = replayed->end;
  out.torn_bytes = replayed->torn_bytes;
  out.records_replayed = replayed->records;
  out.segments_read = replayed->segments;
  return out;
}

}  // namespace acpstore::engine
