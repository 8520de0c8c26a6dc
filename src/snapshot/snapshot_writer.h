// SnapshotWriter writes one snapshot file: header, the caller's chunks,
// footer. Format: docs/snapshot_format.md.
//
// Durability contract: the chunks go to a temp file in the snapshot
// directory ("<name>.snap.tmp-<random>", created O_EXCL, mode 0600). Only
// Finish() makes the snapshot visible: fsync the file → rename it to
// "<number>.snap" → fsync the directory. A crash at any point before the
// rename leaves the old snapshots as they were plus, at worst, a temp file
// (RemoveTempFiles in snapshot_dir.h clears those). If Finish fails after
// the rename (the directory fsync), the new file is complete and valid, but
// whether it survives a power loss is unknown; older snapshots are intact
// either way.
//
// After any failure the writer is dead: the temp file is removed and every
// later call returns the first error. Abandon() (or destroying an
// unfinished writer) removes the temp file.
//
// Thread-safety: none; one thread drives a writer. Lifetime: the
// FileSystem is borrowed and must outlive the writer.

#ifndef ACPSTORE_SNAPSHOT_SNAPSHOT_WRITER_H_
#define ACPSTORE_SNAPSHOT_SNAPSHOT_WRITER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "acpstore/result.h"
#include "acpstore/status.h"
#include "io/file_system.h"
#include "snapshot/snapshot_format.h"

namespace acpstore::snapshot {

class SnapshotWriter {
 public:
  // Creates `dir` if needed (0700) and the temp file, and writes the header.
  static Result<std::unique_ptr<SnapshotWriter>> Create(
      io::FileSystem& fs, const std::string& dir, const SnapshotHeader& header);

  ~SnapshotWriter();
  SnapshotWriter(const SnapshotWriter&) = delete;
  SnapshotWriter& operator=(const SnapshotWriter&) = delete;

  // Appends one data chunk (at most kMaxChunkBytes, else kInvalidArgument).
  // Buffered: bytes reach the file in batches, so errors may surface later.
  Status Add(std::string_view chunk);

  // Writes the footer and publishes the file (see the durability contract).
  Status Finish();

  // Drops the unfinished snapshot and its temp file. No-op after Finish.
  void Abandon();

  // "<dir>/<number>.snap", where Finish puts the file.
  const std::string& path() const { return path_; }
  const std::string& temp_path() const { return temp_path_; }
  uint64_t chunk_count() const { return chunk_count_; }
  // Bytes written so far, header and framing included.
  uint64_t bytes() const { return bytes_; }

 private:
  SnapshotWriter(io::FileSystem& fs, std::string dir, std::string path,
                 std::string temp_path, std::unique_ptr<io::WritableFile> file);

  Status Flush();
  // Records the first error, removes the temp file, returns the error.
  Status Fail(Status status);

  io::FileSystem& fs_;
  const std::string dir_;
  const std::string path_;
  const std::string temp_path_;
  std::unique_ptr<io::WritableFile> file_;  // null once closed
  std::string buffer_;                      // framed bytes not yet appended
  uint32_t file_crc_ = 0;                   // CRC32C of every byte so far
  uint64_t chunk_count_ = 0;
  uint64_t bytes_ = 0;
  Status failed_;
  bool done_ = false;  // finished or abandoned
};

}  // namespace acpstore::snapshot

#endif  // ACPSTORE_SNAPSHOT_SNAPSHOT_WRITER_H_
