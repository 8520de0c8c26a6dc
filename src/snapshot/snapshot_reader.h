// SnapshotReader reads one snapshot file front to back, verifying as it
// goes. Format: docs/snapshot_format.md.
//
// Corruption policy: a snapshot is all or nothing. Any damage (a short
// file, bad magic or version, a header, chunk or whole-file checksum
// mismatch, a chunk length past the end of the file or above
// kMaxChunkBytes, an unknown chunk type, a missing or inconsistent footer,
// bytes after the footer, a header number that disagrees with the file
// name) is kCorruption naming the file and the byte offset (details "path"
// and "offset"). Chunks are handed out before the footer is checked, so a
// caller must discard what it built unless the iteration ends with an OK
// status():
//
//   while (reader->Next(&chunk)) Load(chunk);
//   if (!reader->status().ok()) { discard; try an older snapshot; }
//
// Memory: a read-ahead buffer of 64 KiB, or one chunk when a chunk is
// larger; never the whole file.
//
// Thread-safety: none; one thread reads. Lifetime: owns its file handle.

#ifndef ACPSTORE_SNAPSHOT_SNAPSHOT_READER_H_
#define ACPSTORE_SNAPSHOT_SNAPSHOT_READER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "acpstore/result.h"
#include "acpstore/status.h"
#include "io/file_system.h"
#include "snapshot/snapshot_format.h"

namespace acpstore::snapshot {

class SnapshotReader {
 public:
  // Opens `path` and checks its header. When the file name is a snapshot
  // name, the header's number must match it.
  static Result<std::unique_ptr<SnapshotReader>> Open(io::FileSystem& fs,
                                                      const std::string& path);

  // Reads from an already opened file of `file_size` bytes (fuzzers, tests).
  // `expected_number`: the number the header must carry, if known.
  static Result<std::unique_ptr<SnapshotReader>> Open(
      std::unique_ptr<io::RandomAccessFile> file, uint64_t file_size,
      std::optional<uint64_t> expected_number);

  const SnapshotHeader& header() const { return header_; }

  // Sets *chunk to the next data chunk and returns true; the view is valid
  // until the next call. Returns false at the end (status() OK: the footer
  // checked out and the whole snapshot is good) or on damage (status()
  // says where).
  bool Next(std::string_view* chunk);

  const Status& status() const { return status_; }
  // Data chunks returned so far.
  uint64_t chunk_count() const { return chunk_count_; }
  // File offset of the data of the chunk Next returned last (a caller may
  // keep where an item lies and read it again later).
  uint64_t chunk_offset() const { return chunk_offset_; }
  const std::string& path() const { return file_->path(); }

 private:
  SnapshotReader(std::unique_ptr<io::RandomAccessFile> file,
                 uint64_t file_size);

  // Makes the `n` bytes at pos_ available as *out and advances pos_; the
  // view is valid until the next call. The caller has checked that the
  // file holds them.
  Status Read(size_t n, std::string_view* out);
  // Checks the footer chunk's data; `footer_offset` is where it started.
  Status CheckFooter(std::string_view data, uint64_t footer_offset);
  Status Corrupt(uint64_t offset, std::string_view what) const;
  bool Stop(Status status);

  std::unique_ptr<io::RandomAccessFile> file_;
  const uint64_t file_size_;
  SnapshotHeader header_;
  uint64_t pos_ = 0;    // next byte to consume
  uint64_t chunk_offset_ = 0;
  std::string buffer_;  // file bytes [buffer_offset_, +size)
  uint64_t buffer_offset_ = 0;
  uint32_t file_crc_ = 0;  // CRC32C of every byte before pos_
  uint64_t chunk_count_ = 0;
  Status status_;
  bool done_ = false;
};

}  // namespace acpstore::snapshot

#endif  // ACPSTORE_SNAPSHOT_SNAPSHOT_READER_H_
