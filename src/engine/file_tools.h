// Offline tools over a file-engine data directory, for the CLI's
// `inspect`, `verify` and `compact [--repair]` (SPEC §7). Each takes the
// directory's lock first and refuses (kUnavailable, naming the lock file)
// while a server holds it: Inspect and Verify, which write nothing, the
// shared lock (LockDataDirShared: they run beside each other and
// export-aegis, and neither creates nor rewrites LOCK), Compact the
// exclusive one. Each returns a report struct; printing is the CLI's
// business. Long work calls `progress` (may be null).
//
//   Inspect  recovers the state read-only (nothing is written, not even a
//            torn tail cut, nor a stopped repair's swap finished: the
//            report describes the directories that swap would move in),
//            counts what is there and reads every retained event.
//   Verify   reads every byte of every journal segment and snapshot and
//            checks every checksum (records, each event sub-record,
//            snapshot chunks), continuing past damage to list all of it.
//            A torn tail of the newest segment is reported, not a problem,
//            and so are damaged snapshots an open kept aside.
//   Compact  opens the store (recovery as usual), writes two fresh
//            snapshots of the same state (the older kept one bounds what
//            may be reclaimed) and deletes the segments no retained event
//            needs. A
//            transcript whose bytes on disk are damaged is rebuilt from
//            its session's retained events and listed (decision 0034).
//            With repair: for a directory that no longer opens. Salvages
//            the newest loadable snapshot and every journal record after
//            it that verifies and applies, skipping damaged ranges; copies
//            every readable retained event into a new journal, writes a
//            snapshot over it, and swaps the new directories in. The old
//            journal/ and snapshot/ are kept, renamed *.damaged-<time>, and
//            everything lost is listed.
//
// Thread-safety: functions; they never share state with a running store
// (the lock sees to that).

#ifndef ACPSTORE_ENGINE_FILE_TOOLS_H_
#define ACPSTORE_ENGINE_FILE_TOOLS_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "acpstore/clock.h"
#include "acpstore/result.h"
#include "engine/file_recovery.h"
#include "io/file_system.h"
#include "transcript/transcript.h"

namespace acpstore::engine {

// stage ("journal", "snapshots", "events", ...), units done, units total.
using ToolProgress =
    std::function<void(std::string_view stage, uint64_t done, uint64_t total)>;

struct SegmentSummary {
  uint64_t number = 0;
  std::string path;
  uint64_t bytes = 0;
};

struct SnapshotSummary {
  uint64_t number = 0;
  std::string path;
  uint64_t bytes = 0;
  uint64_t covered_segment = 0;
  uint64_t covered_offset = 0;
  TimestampMs created_at = 0;
  bool loaded = false;  // the one recovery used
  // Decision 0027: bytes of sealed transcript parts it refers to in older
  // snapshot files, and which files.
  uint64_t referred_bytes = 0;
  std::vector<uint64_t> refers_to;
};

struct InspectReport {
  std::string data_dir;
  // <data_dir>/REPAIR when a compact --repair stopped before it swapped its
  // directories in, else empty. Recovery finishes that swap first, so the
  // report describes the store after it, read where the directories lie
  // now (nothing is moved), and `recovery` fails where the swap would.
  std::string repair_intent;
  // What that open moves where first (PlanInterruptedRepair's plan).
  std::vector<InterruptedRepair::Move> repair_moves;
  // OK, or why recovery failed (the counts below are then zero).
  Status recovery;
  uint64_t sessions = 0;
  uint64_t sessions_by_status[8] = {};  // indexed by SessionStatus
  uint64_t events_retained = 0;
  uint64_t event_payload_bytes = 0;
  uint64_t actions = 0;
  uint64_t pauses = 0;
  std::optional<TimestampMs> oldest_session_created_at;
  std::optional<TimestampMs> newest_session_updated_at;
  std::optional<TimestampMs> oldest_event_ingested_at;
  std::optional<TimestampMs> newest_event_ingested_at;
  uint64_t journal_bytes = 0;
  uint64_t snapshot_bytes = 0;
  std::vector<SegmentSummary> segments;        // ascending
  std::vector<SnapshotSummary> snapshots;      // newest first
  // Decision 0030: the parts files beside them (lowest number first).
  std::vector<SegmentSummary> parts_files;
  uint64_t parts_bytes = 0;
  std::vector<std::string> snapshots_skipped;  // "path: why"
  // Damaged snapshots an open skipped and kept for inspection
  // (snapshot::SetAsideDamaged): path and bytes; not read, not in
  // snapshot_bytes.
  std::vector<SegmentSummary> set_aside;
  uint64_t records_replayed = 0;   // journal records after the snapshot
  uint64_t torn_tail_bytes = 0;    // would be cut at the next open
  // Every retained event is read as a server reads it (its sub-record's
  // checksum verified): those that failed, and the first
  // kUnreadableListed of them. The oldest and newest event times are of
  // those that read.
  uint64_t unreadable_events = 0;
  struct UnreadableEvent {
    std::string tenant_id;
    std::string session_id;
    uint64_t seq = 0;
    std::string error;
  };
  static constexpr size_t kUnreadableListed = 10;
  std::vector<UnreadableEvent> unreadable;
};

struct Problem {
  std::string file;
  uint64_t offset = 0;
  uint64_t length = 0;  // damaged bytes, when known (0: one record)
  std::string what;
};

struct VerifyReport {
  uint64_t segments = 0;
  uint64_t records = 0;  // data records that verified
  uint64_t events = 0;   // event sub-records that verified
  uint64_t snapshots = 0;
  // Bytes read: every segment and snapshot file, and of each parts file
  // the parts the loaded snapshots refer to (decision 0030), each once.
  uint64_t bytes = 0;
  std::optional<Problem> torn_tail;  // of the newest segment; not damage
  // Damaged snapshots an open skipped and kept for inspection
  // (snapshot::SetAsideDamaged). Not read and not damage: no open reads
  // them again.
  std::vector<std::string> set_aside;
  std::vector<Problem> problems;     // damage: verify exits 1
  bool ok() const { return problems.empty(); }
};

struct CompactReport {
  uint64_t bytes_before = 0;  // journal + snapshots (and parts files)
  uint64_t bytes_after = 0;
  uint64_t segments_before = 0;
  uint64_t segments_after = 0;
  uint64_t snapshot_number = 0;
  // Every damaged range, record or event lost (repair), and every
  // transcript rebuilt from its session's retained events because its
  // bytes were damaged (both, decision 0034).
  std::vector<Problem> lost;
  // "path: why; kept as <path>" for each damaged snapshot the store's
  // open fell back past (its state came from an older snapshot and the
  // journal after it, so nothing is lost) and set aside for inspection
  // (FileStoreInfo::snapshots_skipped). Compaction's own snapshots replace
  // it.
  std::vector<std::string> snapshots_skipped;
  // Repair only.
  bool repaired = false;
  uint64_t records_salvaged = 0;
  uint64_t events_kept = 0;
  // Every event it can number and does not keep (docs/recovery.md): the
  // events of a damaged range no later record of their stream numbers are
  // not in it (the range is in `lost`).
  uint64_t events_lost = 0;
  // Where the old journal/ and snapshot/ were kept (renamed
  // *.damaged-<time>); empty for one that was missing or empty, so not
  // kept. Kept whether or not anything in them was damaged (`lost`).
  std::string old_journal_dir;
  std::string old_snapshot_dir;
};

Result<InspectReport> Inspect(const std::string& data_dir,
                              const ToolProgress& progress = nullptr,
                              io::FileSystem* fs = nullptr);
Result<VerifyReport> Verify(const std::string& data_dir,
                            const ToolProgress& progress = nullptr,
                            io::FileSystem* fs = nullptr);
// `transcripts`: the limits the server folds transcripts under
// (--transcript-max-bytes, --transcript-max-tool-bytes; max_bytes 0 =
// off), for what compact folds itself (the journal after the snapshot, a
// rebuild): other limits would cut those entries differently for good.
Result<CompactReport> Compact(const std::string& data_dir, bool repair,
                              const ToolProgress& progress = nullptr,
                              io::FileSystem* fs = nullptr,
                              const transcript::Limits& transcripts = {});

}  // namespace acpstore::engine

#endif  // ACPSTORE_ENGINE_FILE_TOOLS_H_
