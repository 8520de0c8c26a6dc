// Counters of the journal writer, for /v1/stats, metrics and tests.
//
// Thread-safety: a value type; GroupCommitter::stats() returns a copy.

#ifndef ACPSTORE_JOURNAL_JOURNAL_STATS_H_
#define ACPSTORE_JOURNAL_JOURNAL_STATS_H_

#include <array>
#include <cstdint>

namespace acpstore::journal {

struct JournalStats {
  uint64_t records = 0;  // data records written
  uint64_t bytes = 0;    // framed bytes written (excluding segment headers)
  uint64_t batches = 0;  // group commits: one write each
  uint64_t fsyncs = 0;   // successful fdatasyncs of segment files
  uint64_t segments_created = 0;
  uint64_t rejected_no_space = 0;  // records failed with kInsufficientStorage
  uint64_t max_batch_records = 0;

  // batch_records_log2[i]: batches of [2^i, 2^(i+1)) records; the last
  // bucket holds everything larger.
  std::array<uint64_t, 16> batch_records_log2{};
  // fsync_micros_log2[i]: fdatasyncs that took [2^i, 2^(i+1)) µs (bucket 0
  // also holds < 1 µs); the last bucket holds everything slower.
  std::array<uint64_t, 24> fsync_micros_log2{};
  uint64_t fsync_micros_total = 0;
  uint64_t fsync_micros_max = 0;
};

// Index of the log2 bucket for `value` in an array of `buckets` entries.
inline size_t Log2Bucket(uint64_t value, size_t buckets) {
  size_t b = 0;
  while (value > 1 && b + 1 < buckets) {
    value >>= 1;
    ++b;
  }
  return b;
}

}  // namespace acpstore::journal

#endif  // ACPSTORE_JOURNAL_JOURNAL_STATS_H_
