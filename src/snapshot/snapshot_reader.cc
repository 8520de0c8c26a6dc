// SnapshotReader: streaming, verify-as-you-go. See the header for the
// corruption policy.

#include "snapshot/snapshot_reader.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "base/coding.h"
#include "base/crc32c.h"
#include "base/format_version.h"

namespace acpstore::snapshot {
namespace {

namespace crc32c = base::crc32c;

constexpr size_t kReadAheadBytes = 64 << 10;

}  // namespace

Result<std::unique_ptr<SnapshotReader>> SnapshotReader::Open(
    io::FileSystem& fs, const std::string& path) {
  ACPSTORE_ASSIGN_OR_RETURN(uint64_t size, fs.FileSize(path));
  ACPSTORE_ASSIGN_OR_RETURN(std::unique_ptr<io::RandomAccessFile> file,
                            fs.OpenReadable(path));
  std::string_view name = path;
  if (const size_t slash = name.rfind('/'); slash != std::string_view::npos) {
    name.remove_prefix(slash + 1);
  }
  return Open(std::move(file), size, ParseSnapshotFileName(name));
}

Result<std::unique_ptr<SnapshotReader>> SnapshotReader::Open(
    std::unique_ptr<io::RandomAccessFile> file, uint64_t file_size,
    std::optional<uint64_t> expected_number) {
  std::unique_ptr<SnapshotReader> r(
      new SnapshotReader(std::move(file), file_size));
  if (file_size < kHeaderSize) {
    return r->Corrupt(0, "file too short for a header (" +
                             std::to_string(file_size) + " bytes)");
  }
  std::string_view bytes;
  ACPSTORE_RETURN_IF_ERROR(r->Read(kHeaderSize, &bytes));
  if (std::optional<std::string> bad = DecodeHeader(bytes, &r->header_)) {
    if (r->header_.format_version > kFormatVersion) {
      // Valid magic and checksum: a newer release's snapshot, not damage.
      return NewerFormat("snapshot " + r->path(), r->header_.format_version,
                         kFormatVersion)
          .With("path", r->path());
    }
    return r->Corrupt(0, *bad);
  }
  if (expected_number && r->header_.number != *expected_number) {
    return r->Corrupt(
        12, "header names snapshot " + std::to_string(r->header_.number) +
                ", the file name " + std::to_string(*expected_number));
  }
  r->file_crc_ = crc32c::Value(bytes);
  return r;
}

SnapshotReader::SnapshotReader(std::unique_ptr<io::RandomAccessFile> file,
                               uint64_t file_size)
    : file_(std::move(file)), file_size_(file_size) {}

bool SnapshotReader::Next(std::string_view* chunk) {
  if (done_) return false;
  const uint64_t at = pos_;
  const uint64_t left = file_size_ - pos_;
  if (left < kChunkHeaderSize) {
    return Stop(Corrupt(at, left == 0 ? "file ends without a footer"
                                      : "truncated chunk header"));
  }
  std::string_view h;
  Status s = Read(kChunkHeaderSize, &h);
  if (!s.ok()) return Stop(std::move(s));
  const uint32_t stored_crc = base::DecodeFixed32(h.data());
  const uint32_t length = base::DecodeFixed32(h.data() + 4);
  const auto type = static_cast<ChunkType>(static_cast<uint8_t>(h[8]));
  // `h` dies with the next Read: take its checksums now.
  uint32_t crc = crc32c::Value(h.data() + 4, kChunkHeaderSize - 4);
  const uint32_t file_crc = crc32c::Extend(file_crc_, h.data(), h.size());

  if (length > kMaxChunkBytes) {
    return Stop(Corrupt(
        at, "chunk length " + std::to_string(length) + " exceeds the maximum"));
  }
  if (length > file_size_ - pos_) {
    return Stop(Corrupt(at, "chunk of " + std::to_string(length) +
                                " bytes runs past the end of the file"));
  }
  std::string_view data;
  const uint64_t data_at = pos_;
  s = Read(length, &data);
  if (!s.ok()) return Stop(std::move(s));
  crc = crc32c::Extend(crc, data.data(), data.size());
  if (crc32c::Mask(crc) != stored_crc) {
    return Stop(Corrupt(at, "chunk checksum mismatch"));
  }
  switch (type) {
    case ChunkType::kData:
      file_crc_ = crc32c::Extend(file_crc, data.data(), data.size());
      ++chunk_count_;
      chunk_offset_ = data_at;
      *chunk = data;
      return true;
    case ChunkType::kFooter:
      return Stop(CheckFooter(data, at));
    case ChunkType::kInvalid:
      break;
  }
  return Stop(Corrupt(
      at, "unknown chunk type " + std::to_string(static_cast<unsigned>(type))));
}

Status SnapshotReader::CheckFooter(std::string_view data,
                                   uint64_t footer_offset) {
  if (data.size() != kFooterSize) {
    return Corrupt(footer_offset,
                   "footer of " + std::to_string(data.size()) + " bytes");
  }
  const uint64_t chunks = base::DecodeFixed64(data.data());
  const uint64_t offset = base::DecodeFixed64(data.data() + 8);
  const uint32_t file_crc = base::DecodeFixed32(data.data() + 16);
  if (chunks != chunk_count_) {
    return Corrupt(footer_offset, "footer counts " + std::to_string(chunks) +
                                      " chunks, the file holds " +
                                      std::to_string(chunk_count_));
  }
  if (offset != footer_offset) {
    return Corrupt(footer_offset,
                   "footer says it starts at offset " + std::to_string(offset));
  }
  if (file_crc != crc32c::Mask(file_crc_)) {
    return Corrupt(footer_offset, "whole-file checksum mismatch");
  }
  if (pos_ != file_size_) {
    return Corrupt(
        pos_, std::to_string(file_size_ - pos_) + " bytes after the footer");
  }
  return Status::OK();
}

Status SnapshotReader::Read(size_t n, std::string_view* out) {
  if (pos_ < buffer_offset_ || pos_ + n > buffer_offset_ + buffer_.size()) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(
        std::max<size_t>(n, kReadAheadBytes), file_size_ - pos_));
    buffer_.resize(want);
    Result<std::string_view> got = file_->ReadAt(pos_, want, buffer_.data());
    if (!got) return std::move(got).error();
    if (got->size() < n) return Corrupt(pos_, "file shrank while being read");
    if (got->data() != buffer_.data()) {
      std::memmove(buffer_.data(), got->data(), got->size());
    }
    buffer_.resize(got->size());
    buffer_offset_ = pos_;
  }
  *out = std::string_view(buffer_.data() + (pos_ - buffer_offset_), n);
  pos_ += n;
  return Status::OK();
}

Status SnapshotReader::Corrupt(uint64_t offset, std::string_view what) const {
  return Status::Corruption("snapshot " + file_->path() + ": " +
                            std::string(what) + " at offset " +
                            std::to_string(offset))
      .With("path", file_->path())
      .With("offset", static_cast<int64_t>(offset));
}

bool SnapshotReader::Stop(Status status) {
  status_ = std::move(status);
  done_ = true;
  std::string().swap(buffer_);  // a finished reader holds no buffer
  return false;
}

}  // namespace acpstore::snapshot
