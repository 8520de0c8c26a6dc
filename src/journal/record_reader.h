// RecordReader fetches single records by location with pread: the read
// path for event payloads, which live only on disk. Every read verifies
// both checksums; a mismatch is kDataLoss naming the file and offset (the
// bytes were durable once, so damage there is lost data, not a torn tail).
//
// Thread-safety: thread-safe. Segment handles are opened on first use and
// shared; a mutex guards only the handle table, never a read.
// Lifetime: `fs` is borrowed and must outlive the reader.

#ifndef ACPSTORE_JOURNAL_RECORD_READER_H_
#define ACPSTORE_JOURNAL_RECORD_READER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "acpstore/result.h"
#include "base/mutex.h"
#include "io/file_system.h"
#include "journal/format.h"
#include "journal/position.h"

namespace acpstore::journal {

struct OwnedRecord {
  RecordType type = RecordType::kInvalid;
  std::string payload;
};

// Reads and verifies the record at `offset` of `file`. `size_hint`, when
// nonzero, is the record's full size (RecordLocation::size): one pread
// instead of two, and a mismatch with the header is kDataLoss.
Result<OwnedRecord> ReadRecordAt(const io::RandomAccessFile& file,
                                 uint64_t offset, uint32_t size_hint = 0);

class RecordReader {
 public:
  RecordReader(io::FileSystem& fs, std::string dir);

  Result<OwnedRecord> ReadRecordAt(uint64_t segment, uint64_t offset,
                                   uint32_t size_hint = 0);
  Result<OwnedRecord> ReadRecordAt(const RecordLocation& location) {
    return ReadRecordAt(location.segment, location.offset, location.size);
  }

  // Closes the cached handle of a segment about to be deleted.
  void Forget(uint64_t segment);

 private:
  Result<std::shared_ptr<io::RandomAccessFile>> File(uint64_t segment);

  io::FileSystem& fs_;
  const std::string dir_;
  base::Mutex mu_;
  std::map<uint64_t, std::shared_ptr<io::RandomAccessFile>> files_
      GUARDED_BY(mu_);
};

}  // namespace acpstore::journal

#endif  // ACPSTORE_JOURNAL_RECORD_READER_H_
