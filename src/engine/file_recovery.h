// Recovery of the file engine's state from its data directory: the newest
// snapshot that loads cleanly (damaged ones are skipped and reported), then
// every journal record after the position it covers, decoded and applied
// with the events' journal locations. The steps and the corruption policy
// are listed in docs/recovery.md.
//
// Used by FileStore::Open, and again by a running store whose speculative
// state diverged from the disk (a failed group commit): then `limit` stops
// the replay at the end of the last acknowledged record, because what lies
// beyond was never acknowledged and its bytes may be garbage.
//
// Thread-safety: none needed; reads files only, never writes. The caller
// makes sure nobody writes snapshots meanwhile or accepts a concurrent
// snapshot being published (either one is consistent).

#ifndef ACPSTORE_ENGINE_FILE_RECOVERY_H_
#define ACPSTORE_ENGINE_FILE_RECOVERY_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "acpstore/result.h"
#include "engine/file_event_log.h"
#include "engine/file_event_reader.h"
#include "engine/state.h"
#include "transcript/transcript.h"
#include "io/file_system.h"
#include "journal/position.h"
#include "snapshot/snapshot_dir.h"

namespace acpstore::engine {

// Where things live in a data directory.
struct FileLayout {
  explicit FileLayout(std::string data_dir);
  std::string data_dir;
  std::string lock_path;     // <data_dir>/LOCK
  std::string journal_dir;   // <data_dir>/journal
  std::string snapshot_dir;  // <data_dir>/snapshot
  // Not a path: how states recovered here fold transcripts (SPEC §13).
  // The store sets it from StoreOptions; the offline tools keep the
  // defaults. max_bytes 0 = transcripts off.
  transcript::Limits transcripts;
  // Not a path either: the memory share of transcripts (decision 0018; 0 =
  // all resident: the offline tools), and what to call when folds take
  // the resident ones past it (StoreState::set_transcript_budget).
  uint64_t transcript_budget = 0;
  std::function<void(bool twice)> transcripts_over;
  // A store opened with transcripts off keeps the transcripts its snapshot
  // holds, unread, as references to their items (decision 0035), so that
  // its snapshots carry them on and turning transcripts on again finds
  // them. Offline checks leave it false.
  bool keep_transcripts_off = false;
};

// `compact --repair` swaps in its new journal/ and snapshot/ with four
// renames; <data_dir>/REPAIR (holding the suffix of the new directories,
// "<dir>.repair-<stamp>") says it has begun to. Finishes what an
// interrupted one left (each directory still at its .repair- name is
// moved in, the live one moved to "<dir>.damaged-<stamp>", or removed
// when it is empty), then removes REPAIR. No REPAIR: nothing to do. Call with the lock held, before
// anything creates journal/ or snapshot/.
Status FinishInterruptedRepair(io::FileSystem& fs, const FileLayout& layout);
// The path of that file.
std::string RepairIntentPath(const FileLayout& layout);

// What FinishInterruptedRepair would do, decided without doing it, so that
// a tool that only reads (inspect) can describe the directories an open
// will use: the one function decides for both.
struct InterruptedRepair {
  std::string intent;  // RepairIntentPath
  struct Move {
    std::string from;  // <dir>.repair-<stamp>
    std::string to;    // <dir> (journal_dir or snapshot_dir)
    // What becomes of the live <dir>: moved to kept_as, removed (it is
    // empty), or nothing (it is missing: moved aside already).
    enum class Live { kKept, kEmptyRemoved, kMissing } live = Live::kMissing;
    std::string kept_as;  // <dir>.damaged-<stamp>
  };
  // The directories still at their .repair- name, journal first; one moved
  // in already is not listed.
  std::vector<Move> moves;
};
// nullopt without REPAIR. kCorruption where FinishInterruptedRepair
// refuses: REPAIR names no directories, or a live directory, its
// replacement and the name it would be kept under all exist.
Result<std::optional<InterruptedRepair>> PlanInterruptedRepair(
    io::FileSystem& fs, const FileLayout& layout);

// For the offline tools, which must not create a store where there is
// none: OK when `layout.data_dir` holds one (its journal/, snapshot/ or an
// interrupted repair's REPAIR exists); kNotFound naming the directory when
// it does not exist, or when nothing was ever stored there (an empty
// directory made for a first start, e.g. by systemd's StateDirectory=).
Status MustHoldStore(io::FileSystem& fs, const FileLayout& layout);

// Takes the data directory's lock without waiting. kUnavailable "data
// directory D is in use by another process (lock file D/LOCK)" when another
// holder has it.
Result<std::unique_ptr<io::FileLock>> LockDataDir(io::FileSystem& fs,
                                                  const FileLayout& layout);
// For a tool that only reads (inspect, verify, export-aegis): the shared
// lock (io::FileSystem::LockShared), which a server's exclusive one
// excludes, but another reader's does not. Nothing is created or written.
// nullptr when there is no lock file (no process holds the directory:
// each holder creates it first, and creating one would be a write);
// kUnavailable as LockDataDir's when an exclusive holder has it.
Result<std::unique_ptr<io::FileLock>> LockDataDirShared(
    io::FileSystem& fs, const FileLayout& layout);

struct RecoveredState {
  // The context outlives the state: its logs point into it.
  std::unique_ptr<FileLogContext> context;
  std::unique_ptr<StoreState> state;
  // Just past the last valid record (or the snapshot's position): where the
  // journal continues, once a torn tail is cut off.
  journal::JournalPosition end;
  uint64_t torn_bytes = 0;  // torn tail found after `end`
  uint64_t records_replayed = 0;
  uint64_t segments_read = 0;
  // The snapshot loaded, if any, and the newer ones that failed to load.
  std::optional<snapshot::SnapshotFile> snapshot;
  snapshot::SnapshotHeader snapshot_header;
  // Decision 0027: the older snapshot files `snapshot` refers to sealed
  // transcript parts in (number -> bytes referred to).
  std::map<uint64_t, uint64_t> snapshot_referred;
  std::vector<snapshot::SkippedSnapshot> skipped_snapshots;
};

// Whether a snapshot that failed to load is damaged (a failed check, a
// missing file it names), so recovery may fall back past it and repair
// may salvage around it. Anything else (a permission error, EIO, a newer
// release's format) is not evidence about the data: opening, verifying
// and repairing stop on it instead, so that no tool replaces a snapshot
// it merely could not read (found by a probe: after `compact` ran as
// root, `compact --repair` as the service user swapped in an empty store).
// The returned status says why and how to fix it.
Status SnapshotNotDamage(const Status& load_error, const std::string& path);

// kCorruption naming the file and offset when a journal record recovery
// must read is damaged (not a torn tail) or does not apply to the state.
Result<RecoveredState> RecoverState(
    io::FileSystem& fs, const FileLayout& layout, FileEventReader* reader,
    std::optional<journal::JournalPosition> limit = std::nullopt);

// The StoreState factory of the file engine: FileEventLogs over `context`.
std::unique_ptr<StoreState> NewFileState(FileLogContext* context,
                                         const transcript::Limits& transcripts);
// The same with the layout's transcript limits and budget.
std::unique_ptr<StoreState> NewFileState(FileLogContext* context,
                                         const FileLayout& layout);

}  // namespace acpstore::engine

#endif  // ACPSTORE_ENGINE_FILE_RECOVERY_H_
