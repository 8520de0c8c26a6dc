// Internal helpers of the offline tools (file_tools*.cc): a salvaging
// segment scanner that, unlike JournalReader, continues past damage, and
// small file-system utilities.
//
// Thread-safety: functions. Not for use outside file_tools*.cc.

#ifndef ACPSTORE_ENGINE_FILE_TOOLS_INTERNAL_H_
#define ACPSTORE_ENGINE_FILE_TOOLS_INTERNAL_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/file_tools.h"
#include "io/file_system.h"
#include "journal/format.h"
#include "journal/position.h"

namespace acpstore::engine::tools {

struct ScannedRecord {
  journal::RecordLocation location;
  journal::RecordType type = journal::RecordType::kInvalid;
  std::string_view payload;  // valid during the visit
};

struct SegmentScan {
  std::string path;
  uint64_t bytes = 0;
  std::vector<Problem> damage;       // not counting a torn tail
  std::optional<Problem> torn_tail;  // newest segment only
};

// Reads segment `segment` of `dir` whole and visits every record at or
// after `start_offset` whose header and payload checksums verify. Damage is
// skipped by scanning forward for the next verifying record; bytes with no
// verifying record after them are a torn tail when `last`, else damage.
Result<SegmentScan> ScanSegment(
    io::FileSystem& fs, const std::string& dir, uint64_t segment, bool last,
    uint64_t start_offset,
    const std::function<void(const ScannedRecord&)>& visit);

// Journal + snapshot bytes and segment count of a data directory.
struct DiskSize {
  uint64_t bytes = 0;
  uint64_t segments = 0;
};
// The journal's segments; none when journal/ itself is gone, which the
// tools report as the segments it lacks (verify), or salvage around
// (compact --repair) instead of stopping at opendir.
Result<std::vector<uint64_t>> ListSegmentsOrNone(io::FileSystem& fs,
                                                 const std::string& journal_dir);

Result<DiskSize> MeasureDataDir(io::FileSystem& fs,
                                const std::string& data_dir);

// A Problem from a failed Status: "path"/"offset" details when present.
Problem ProblemFrom(const Status& s, const std::string& default_file);

// A Problem from a damaged transcript (decision 0034: a kDataLoss status
// with the details "tenant", "session" and "path"), met while `doing`:
// names the damaged file, the session and what becomes of its transcript.
Problem DamagedTranscriptProblem(const Status& s, std::string_view doing);

}  // namespace acpstore::engine::tools

#endif  // ACPSTORE_ENGINE_FILE_TOOLS_INTERNAL_H_
