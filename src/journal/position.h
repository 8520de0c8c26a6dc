// Where things are in the journal: a byte position (segment, offset) and a
// record's location. The engine's event index stores RecordLocations and
// snapshots store the JournalPosition they cover.
//
// Thread-safety: value types.

#ifndef ACPSTORE_JOURNAL_POSITION_H_
#define ACPSTORE_JOURNAL_POSITION_H_

#include <compare>
#include <cstdint>

namespace acpstore::journal {

// A byte position in the journal. {0, 0} is "before everything".
struct JournalPosition {
  uint64_t segment = 0;
  uint64_t offset = 0;

  // The NOLINT: clang-tidy 14 misreads the comparison with 0 that a
  // defaulted <=> implies.
  friend auto operator<=>(const JournalPosition&,
                          const JournalPosition&) = default;  // NOLINT(modernize-use-nullptr)
};

// One framed record: it starts at `offset` in segment `segment` and spans
// `size` bytes (header + payload).
struct RecordLocation {
  uint64_t segment = 0;
  uint64_t offset = 0;
  uint32_t size = 0;

  JournalPosition start() const { return {segment, offset}; }
  JournalPosition end() const { return {segment, offset + size}; }
  friend bool operator==(const RecordLocation&,
                         const RecordLocation&) = default;
};

}  // namespace acpstore::journal

#endif  // ACPSTORE_JOURNAL_POSITION_H_
