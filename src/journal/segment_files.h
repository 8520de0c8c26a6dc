// Naming and listing of journal segment files: <dir>/<16 digits>.log
// (docs/journal_format.md).
//
// Thread-safety: pure functions; ListSegments reads the directory.

#ifndef ACPSTORE_JOURNAL_SEGMENT_FILES_H_
#define ACPSTORE_JOURNAL_SEGMENT_FILES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "acpstore/result.h"
#include "io/file_system.h"

namespace acpstore::journal {

// "0000000000000007.log".
std::string SegmentFileName(uint64_t segment);
std::string SegmentPath(std::string_view dir, uint64_t segment);
// The segment number of a file name, or nullopt if it is not a segment
// (temp files, anything else).
std::optional<uint64_t> ParseSegmentFileName(std::string_view name);

// Segment numbers present in `dir`, ascending.
Result<std::vector<uint64_t>> ListSegments(io::FileSystem& fs,
                                           const std::string& dir);

}  // namespace acpstore::journal

#endif  // ACPSTORE_JOURNAL_SEGMENT_FILES_H_
