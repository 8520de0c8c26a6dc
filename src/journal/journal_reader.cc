// JournalReader: record iteration and the torn-tail/corruption policy. See
// journal_reader.h and docs/journal_format.md ("Damage and recovery").

#include "journal/journal_reader.h"

#include <algorithm>
#include <optional>

#include "journal/segment_files.h"

namespace acpstore::journal {
namespace {

// Reads ahead this much so iterating small records costs few preads.
constexpr size_t kReadChunk = 256 << 10;

}  // namespace

Damage ClassifyDamage(bool last_segment, bool verifying_record_follows) {
  // Sealed segments were fsync'ed before the next one was created, so they
  // cannot be torn; a torn write leaves nothing verifiable behind it, so
  // anything that still verifies after the damage is acknowledged data.
  return last_segment && !verifying_record_follows ? Damage::kTornTail
                                                   : Damage::kCorruption;
}

JournalReader::JournalReader(std::unique_ptr<io::RandomAccessFile> file,
                             uint64_t file_size, uint64_t segment,
                             bool last_segment, uint64_t start_offset)
    : file_(std::move(file)),
      file_size_(file_size),
      segment_(segment),
      last_segment_(last_segment),
      start_offset_(start_offset),
      pos_(start_offset) {}

Result<std::unique_ptr<JournalReader>> JournalReader::Open(
    io::FileSystem& fs, const std::string& dir, uint64_t segment,
    bool last_segment, uint64_t start_offset) {
  const std::string path = SegmentPath(dir, segment);
  ACPSTORE_ASSIGN_OR_RETURN(uint64_t size, fs.FileSize(path));
  ACPSTORE_ASSIGN_OR_RETURN(std::unique_ptr<io::RandomAccessFile> file,
                            fs.OpenReadable(path));
  return std::make_unique<JournalReader>(std::move(file), size, segment,
                                         last_segment, start_offset);
}

Result<std::string_view> JournalReader::Bytes(uint64_t offset, size_t n) {
  if (offset >= buf_start_ && offset + n <= buf_start_ + buf_.size()) {
    return std::string_view{buf_}.substr(offset - buf_start_, n);
  }
  const size_t want = static_cast<size_t>(
      std::min<uint64_t>(std::max(n, kReadChunk), file_size_ - offset));
  buf_.resize(want);
  Result<std::string_view> got = file_->ReadAt(offset, want, buf_.data());
  if (!got) {
    buf_.clear();
    return std::move(got).error();
  }
  buf_.resize(got->size());
  buf_start_ = offset;
  if (buf_.size() < n) {
    return Status::IoError("journal segment " + path() +
                           " shrank while being read")
        .With("path", path());
  }
  return std::string_view{buf_}.substr(0, n);
}

Status JournalReader::CorruptionAt(uint64_t offset,
                                   std::string_view why) const {
  return Status::Corruption("journal segment " + path() + ": " +
                            std::string(why) + " at offset " +
                            std::to_string(offset))
      .With("path", path())
      .With("offset", static_cast<int64_t>(offset));
}

Result<JournalReader::Parse> JournalReader::ParseAt(uint64_t offset,
                                                    JournalRecord* record) {
  if (file_size_ - offset < kHeaderSize) return Parse::kBad;
  ACPSTORE_ASSIGN_OR_RETURN(std::string_view header_bytes,
                            Bytes(offset, kHeaderSize));
  RecordHeader header;
  if (!DecodeHeader(header_bytes, &header)) return Parse::kBad;
  const uint64_t size = kHeaderSize + uint64_t{header.length};
  if (file_size_ - offset < size) return Parse::kBad;
  ACPSTORE_ASSIGN_OR_RETURN(std::string_view bytes, Bytes(offset, size));
  const std::string_view payload = bytes.substr(kHeaderSize);
  if (!PayloadMatches(header, payload)) return Parse::kBad;
  record->location = {segment_, offset, static_cast<uint32_t>(size)};
  record->type = header.type;
  record->payload = payload;
  return Parse::kOk;
}

Status JournalReader::HandleDamage(uint64_t offset, std::string_view why) {
  std::optional<uint64_t> valid_at;
  if (last_segment_) {
    JournalRecord probe;
    for (uint64_t at = offset + 1; at + kHeaderSize <= file_size_; ++at) {
      ACPSTORE_ASSIGN_OR_RETURN(Parse parsed, ParseAt(at, &probe));
      if (parsed == Parse::kOk) {
        valid_at = at;
        break;
      }
    }
  }
  if (ClassifyDamage(last_segment_, valid_at.has_value()) ==
      Damage::kCorruption) {
    return CorruptionAt(
        offset, std::string(why) +
                    (valid_at ? " followed by a valid record at offset " +
                                    std::to_string(*valid_at)
                              : std::string(" in a sealed segment")));
  }
  if (offset < start_offset_) {
    return CorruptionAt(offset, std::string(why) + " before start offset " +
                                    std::to_string(start_offset_));
  }
  pos_ = offset;
  torn_bytes_ = file_size_ - offset;
  return Status::OK();
}

Status JournalReader::ReadSegmentHeader() {
  JournalRecord header;
  ACPSTORE_ASSIGN_OR_RETURN(Parse parsed, ParseAt(0, &header));
  if (parsed == Parse::kBad) {
    // A crash right after creating the newest segment leaves it empty.
    if (file_size_ == 0 && start_offset_ == 0 && last_segment_) {
      return Status::OK();
    }
    ACPSTORE_RETURN_IF_ERROR(HandleDamage(0, "unreadable segment header"));
    done_ = true;  // the whole file is a torn tail
    return Status::OK();
  }
  if (header.type != RecordType::kSegmentHeader) {
    return CorruptionAt(0, "first record is not a segment header");
  }
  ACPSTORE_RETURN_IF_ERROR(
      CheckSegmentHeader(header.payload, segment_, path()));
  if (start_offset_ == 0) {
    pos_ = header.location.end().offset;
  } else if (start_offset_ < header.location.end().offset) {
    return Status::InvalidArgument(
        "journal start offset " + std::to_string(start_offset_) +
        " is inside the segment header of " + path());
  } else if (start_offset_ > file_size_) {
    return CorruptionAt(file_size_, "segment ends before start offset " +
                                        std::to_string(start_offset_));
  }
  return Status::OK();
}

Result<bool> JournalReader::Next(JournalRecord* record) {
  if (!error_.ok()) return error_;
  if (!header_checked_) {
    header_checked_ = true;
    error_ = ReadSegmentHeader();
    if (!error_.ok()) return error_;
    if (file_size_ == 0) done_ = true;
  }
  if (done_ || pos_ == file_size_) {
    done_ = true;
    return false;
  }
  Result<Parse> parsed = ParseAt(pos_, record);
  if (!parsed) {
    error_ = std::move(parsed).error();
    return error_;
  }
  if (*parsed == Parse::kOk) {
    if (record->type == RecordType::kSegmentHeader) {
      error_ = CorruptionAt(pos_, "segment header in the middle of a segment");
      return error_;
    }
    pos_ = record->location.end().offset;
    return true;
  }
  error_ = HandleDamage(pos_, "record does not verify");
  if (!error_.ok()) return error_;
  done_ = true;
  return false;
}

}  // namespace acpstore::journal
