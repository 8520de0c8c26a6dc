// JournalReader iterates the records of one segment file from an offset,
// verifying both checksums of every record. Format: docs/journal_format.md.
//
// Corruption policy. When the record at offset X does not verify (header
// checksum, impossible length, record cut short by end of file, payload
// checksum), the reader scans forward for any verifying record after X:
//  * the segment is the journal's last and nothing after X verifies: a torn
//    tail, i.e. a write interrupted by a crash. Next() reports a clean end;
//    end_offset() is X and torn_bytes() says how much recovery must cut.
//  * a verifying record follows X, or the segment is not the last (sealed
//    segments were fsync'ed before the next one was created, so they cannot
//    have a torn tail): kCorruption naming the file and offset X.
// A bit flip inside the very last record is indistinguishable from a torn
// write and is treated as one; anything earlier is reported, never skipped.
//
// Thread-safety: none; one thread at a time. Lifetime: owns its file.

#ifndef ACPSTORE_JOURNAL_JOURNAL_READER_H_
#define ACPSTORE_JOURNAL_JOURNAL_READER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "acpstore/result.h"
#include "acpstore/status.h"
#include "io/file_system.h"
#include "journal/format.h"
#include "journal/position.h"

namespace acpstore::journal {

// The corruption policy above as one decision, for bytes at offset X of a
// segment that are no record that verifies (the segment header record
// included: a crash while the newest segment was being started leaves part
// of its header). `verifying_record_follows`: some record after X verifies
// (only looked for in the newest segment). JournalReader (recovery) and the
// offline tools' salvaging scan (`verify`, `compact --repair`) both decide
// with it, so that `verify` calls a torn tail exactly what an open cuts.
// A record that verifies but is wrong where it is (a segment header that is
// not one, names another segment, or sits past offset 0) is corruption
// whatever this says.
enum class Damage { kTornTail, kCorruption };
Damage ClassifyDamage(bool last_segment, bool verifying_record_follows);

struct JournalRecord {
  RecordLocation location;
  RecordType type = RecordType::kInvalid;
  std::string_view payload;  // valid until the reader's next call
};

class JournalReader {
 public:
  // Reads `file` (`file_size` bytes) as segment number `segment`.
  // `last_segment`: it is the journal's newest segment, the only one whose
  // tail may be torn. `start_offset`: 0 for the first record, otherwise a
  // record boundary (>= kFirstRecordOffset) from an earlier read; the
  // segment header is verified either way.
  JournalReader(std::unique_ptr<io::RandomAccessFile> file, uint64_t file_size,
                uint64_t segment, bool last_segment, uint64_t start_offset = 0);

  // Opens SegmentPath(dir, segment).
  static Result<std::unique_ptr<JournalReader>> Open(io::FileSystem& fs,
                                                     const std::string& dir,
                                                     uint64_t segment,
                                                     bool last_segment,
                                                     uint64_t start_offset = 0);

  // true: `*record` holds the next data record. false: the segment ended
  // (cleanly, or at a torn tail: see torn_bytes()). Errors: kCorruption
  // (details "path", "offset"), kIoError. After false or an error, every
  // later call returns the same.
  Result<bool> Next(JournalRecord* record);

  // Just past the last record returned (or the start offset): where the
  // segment ends once a torn tail is cut off.
  uint64_t end_offset() const { return pos_; }
  // Bytes after end_offset() that are a torn tail; valid after Next()
  // returned false.
  uint64_t torn_bytes() const { return torn_bytes_; }
  uint64_t segment() const { return segment_; }
  const std::string& path() const { return file_->path(); }

 private:
  enum class Parse { kOk, kBad };

  Status ReadSegmentHeader();
  // Parses the record at `offset` into `record`; kBad if it does not verify.
  Result<Parse> ParseAt(uint64_t offset, JournalRecord* record);
  // Applies the corruption policy to a bad record at `offset`: OK for a
  // torn tail (sets torn_bytes_), else kCorruption.
  Status HandleDamage(uint64_t offset, std::string_view why);
  // Bytes [offset, offset + n) of the file; n <= file_size_ - offset.
  Result<std::string_view> Bytes(uint64_t offset, size_t n);
  Status CorruptionAt(uint64_t offset, std::string_view why) const;

  const std::unique_ptr<io::RandomAccessFile> file_;
  const uint64_t file_size_;
  const uint64_t segment_;
  const bool last_segment_;
  const uint64_t start_offset_;

  bool header_checked_ = false;
  uint64_t pos_;
  uint64_t torn_bytes_ = 0;
  bool done_ = false;
  Status error_;  // sticky once set

  // A window of the file: bytes [buf_start_, buf_start_ + buf_.size()).
  std::string buf_;
  uint64_t buf_start_ = 0;
};

}  // namespace acpstore::journal

#endif  // ACPSTORE_JOURNAL_JOURNAL_READER_H_
