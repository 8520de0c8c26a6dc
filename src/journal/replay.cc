// Whole-journal replay for recovery. See replay.h.

#include "journal/replay.h"

#include <algorithm>

#include "journal/segment_files.h"

namespace acpstore::journal {

Result<ReplayResult> ReplayJournal(io::FileSystem& fs, const std::string& dir,
                                   JournalPosition from,
                                   const RecordVisitor& visit) {
  ReplayResult result;
  result.end = from;
  // The segment a snapshot covers up to is never reclaimed (only those
  // below the older kept snapshot's are): without it, or without the
  // journal, the records acknowledged after the snapshot are gone, and
  // opening would serve the snapshot's state as if it were all.
  auto covered_missing = [&] {
    return Status::Corruption("journal segment " +
                              SegmentPath(dir, from.segment) +
                              " is missing; recovery starts there")
        .With("path", SegmentPath(dir, from.segment));
  };
  ACPSTORE_ASSIGN_OR_RETURN(bool exists, fs.Exists(dir));
  if (!exists) {
    if (from.segment != 0) return covered_missing();
    return result;  // no journal yet
  }
  ACPSTORE_ASSIGN_OR_RETURN(std::vector<uint64_t> all, ListSegments(fs, dir));
  // Segments before `from` are covered by the snapshot (and may be gone).
  std::vector<uint64_t> segments;
  std::copy_if(all.begin(), all.end(), std::back_inserter(segments),
               [&](uint64_t s) { return s >= from.segment; });
  if (segments.empty()) {
    if (from.segment != 0) return covered_missing();
    return result;
  }

  if (from.segment != 0 && segments.front() != from.segment) {
    return covered_missing();
  }
  for (size_t i = 1; i < segments.size(); ++i) {
    if (segments[i] != segments[i - 1] + 1) {
      const std::string missing = SegmentPath(dir, segments[i - 1] + 1);
      return Status::Corruption("journal segment " + missing +
                                " is missing between its neighbours")
          .With("path", missing);
    }
  }

  for (size_t i = 0; i < segments.size(); ++i) {
    const uint64_t segment = segments[i];
    const bool last = i + 1 == segments.size();
    const uint64_t start = segment == from.segment ? from.offset : 0;
    ACPSTORE_ASSIGN_OR_RETURN(
        std::unique_ptr<JournalReader> reader,
        JournalReader::Open(fs, dir, segment, last, start));
    JournalRecord record;
    for (;;) {
      ACPSTORE_ASSIGN_OR_RETURN(bool more, reader->Next(&record));
      if (!more) break;
      ACPSTORE_RETURN_IF_ERROR(visit(record));
      ++result.records;
    }
    ++result.segments;
    result.end = {segment, reader->end_offset()};
    result.torn_bytes = reader->torn_bytes();
  }
  return result;
}

}  // namespace acpstore::journal
