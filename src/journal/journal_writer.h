// JournalWriter appends batches of framed records to the journal's newest
// segment and rolls to a new segment when one would grow past
// segment_bytes. Format: docs/journal_format.md.
//
// Durability contract:
//  * Append() writes a batch with one writev; the bytes are durable only
//    after Sync() succeeds.
//  * A segment is sealed by fdatasync before the next one is created, and a
//    new segment's header and directory entry are fsync'ed before any record
//    goes into it, in every sync mode. So only the newest segment can ever
//    have a torn tail.
//  * ENOSPC while writing: the batch's bytes are cut off again (truncate to
//    the last good offset), Append returns kInsufficientStorage, and the
//    writer stays usable, so writes succeed again once space returns.
//  * Any other failure, and every failed fsync, leaves the file's contents
//    unknown: the writer turns failed for good and every later call returns
//    kUnavailable. Only a reopen (and recovery) clears it.
//
// Thread-safety: none; GroupCommitter's thread is the only caller.
// Lifetime: `fs` is borrowed and must outlive the writer.

#ifndef ACPSTORE_JOURNAL_JOURNAL_WRITER_H_
#define ACPSTORE_JOURNAL_JOURNAL_WRITER_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "acpstore/result.h"
#include "acpstore/status.h"
#include "io/file_system.h"
#include "journal/journal_stats.h"
#include "journal/position.h"

namespace acpstore::journal {

struct JournalWriterOptions {
  // A segment is closed and a new one started before a batch that would
  // take it past this size (a single batch may exceed it). Default 64 MiB.
  uint64_t segment_bytes = 64ULL << 20;
};

class JournalWriter {
 public:
  // Continues the journal in `dir` (created 0700 if missing) at `end`, the
  // ReplayResult::end of recovery: a longer last segment is cut back to
  // end.offset (the torn tail) and synced. If segment end.segment does not
  // exist (no journal yet, or every segment was deleted after a snapshot),
  // a new segment max(end.segment, newest existing) + 1 is started.
  static Result<std::unique_ptr<JournalWriter>> Open(
      io::FileSystem& fs, std::string dir, JournalWriterOptions options,
      JournalPosition end);

  ~JournalWriter();
  JournalWriter(const JournalWriter&) = delete;
  JournalWriter& operator=(const JournalWriter&) = delete;

  // Appends `records` (each one framed record, see format.h) with one
  // write, rolling to a new segment first if needed. On success
  // `locations` holds one entry per record. Not durable until Sync().
  Status Append(std::span<const std::string_view> records,
                std::vector<RecordLocation>* locations);

  // fdatasync of the current segment, if anything is unsynced.
  Status Sync();

  // Syncs and closes the segment. Later calls fail with kUnavailable.
  Status Close();

  // Position after the last byte written / synced.
  JournalPosition end() const { return {segment_, size_}; }
  JournalPosition synced_end() const { return {segment_, synced_size_}; }
  bool has_unsynced() const { return synced_size_ < size_; }

  // OK, or why the writer refuses to write (kUnavailable).
  const Status& failure() const { return failure_; }
  const JournalStats& stats() const { return stats_; }

 private:
  JournalWriter(io::FileSystem& fs, std::string dir,
                JournalWriterOptions options);

  // Starts segment `segment` (header, fdatasync, directory fsync) and makes
  // it current; the previous one must be sealed already.
  Status StartSegment(uint64_t segment);
  // Seals the current segment and starts the next.
  Status Roll();
  Status SyncFile();
  // Records `cause` as the permanent failure and returns it as kUnavailable.
  Status Fail(const Status& cause);

  io::FileSystem& fs_;
  const std::string dir_;
  const JournalWriterOptions options_;

  std::unique_ptr<io::WritableFile> file_;  // the current segment
  uint64_t segment_ = 0;
  uint64_t size_ = 0;         // bytes in the current segment
  uint64_t synced_size_ = 0;  // of which durable
  Status failure_;
  JournalStats stats_;
};

}  // namespace acpstore::journal

#endif  // ACPSTORE_JOURNAL_JOURNAL_WRITER_H_
