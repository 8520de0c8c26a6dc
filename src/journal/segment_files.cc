// Segment file names. See segment_files.h.

#include "journal/segment_files.h"

#include <algorithm>
#include <cstdio>

#include "journal/format.h"

namespace acpstore::journal {

std::string SegmentFileName(uint64_t segment) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%016llu.log",
                static_cast<unsigned long long>(segment));
  return buf;
}

std::string SegmentPath(std::string_view dir, uint64_t segment) {
  return io::JoinPath(dir, SegmentFileName(segment));
}

std::optional<uint64_t> ParseSegmentFileName(std::string_view name) {
  if (name.size() != kSegmentDigits + kSegmentSuffix.size() ||
      !name.ends_with(kSegmentSuffix)) {
    return std::nullopt;
  }
  uint64_t n = 0;
  for (size_t i = 0; i < kSegmentDigits; ++i) {
    const char c = name[i];
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<uint64_t>(c - '0');  // 16 digits cannot overflow
  }
  if (n == 0) return std::nullopt;  // numbering starts at 1
  return n;
}

Result<std::vector<uint64_t>> ListSegments(io::FileSystem& fs,
                                           const std::string& dir) {
  ACPSTORE_ASSIGN_OR_RETURN(std::vector<std::string> names, fs.ListDir(dir));
  std::vector<uint64_t> segments;
  for (const std::string& name : names) {
    if (auto n = ParseSegmentFileName(name)) segments.push_back(*n);
  }
  std::sort(segments.begin(), segments.end());
  return segments;
}

}  // namespace acpstore::journal
