// Record framing. See format.h and docs/journal_format.md.

#include "journal/format.h"

#include <cassert>

#include "base/coding.h"
#include "base/crc32c.h"
#include "base/format_version.h"

namespace acpstore::journal {

namespace crc32c = base::crc32c;

namespace {

void FillHeader(char* header, RecordType type, std::string_view payload) {
  base::EncodeFixed32(header + kLengthOffset,
                      static_cast<uint32_t>(payload.size()));
  header[kTypeOffset] = static_cast<char>(type);
  base::EncodeFixed32(header + kPayloadCrcOffset,
                      crc32c::Mask(crc32c::Value(payload)));
  base::EncodeFixed32(header + kHeaderCrcOffset,
                      crc32c::Mask(crc32c::Value(header + kLengthOffset,
                                                 kHeaderSize - kLengthOffset)));
}

}  // namespace

void AppendRecord(std::string* dst, RecordType type, std::string_view payload) {
  const size_t at = BeginRecord(dst);
  dst->append(payload);
  FinishRecord(dst, at, type);
}

size_t BeginRecord(std::string* dst) {
  const size_t at = dst->size();
  dst->append(kHeaderSize, '\0');
  return at;
}

void FinishRecord(std::string* dst, size_t header_offset, RecordType type) {
  assert(type != RecordType::kInvalid);
  const std::string_view payload =
      std::string_view{*dst}.substr(header_offset + kHeaderSize);
  assert(payload.size() <= kMaxPayloadBytes);
  FillHeader(dst->data() + header_offset, type, payload);
}

bool DecodeHeader(std::string_view bytes, RecordHeader* header) {
  if (bytes.size() < kHeaderSize) return false;
  const char* p = bytes.data();
  const uint32_t stored = base::DecodeFixed32(p + kHeaderCrcOffset);
  const uint32_t actual = crc32c::Mask(
      crc32c::Value(p + kLengthOffset, kHeaderSize - kLengthOffset));
  if (stored != actual) return false;
  header->length = base::DecodeFixed32(p + kLengthOffset);
  header->type = static_cast<RecordType>(static_cast<uint8_t>(p[kTypeOffset]));
  header->payload_crc = base::DecodeFixed32(p + kPayloadCrcOffset);
  return header->type != RecordType::kInvalid &&
         header->length <= kMaxPayloadBytes;
}

bool PayloadMatches(const RecordHeader& header, std::string_view payload) {
  return payload.size() == header.length &&
         crc32c::Mask(crc32c::Value(payload)) == header.payload_crc;
}

std::string SegmentHeaderRecord(uint64_t segment) {
  std::string payload(kSegmentMagic);
  base::PutFixed32(&payload, kFormatVersion);
  base::PutFixed64(&payload, segment);
  std::string record;
  AppendRecord(&record, RecordType::kSegmentHeader, payload);
  return record;
}

Status CheckSegmentHeader(std::string_view payload, uint64_t segment,
                          std::string_view path) {
  auto bad = [&](std::string_view why) {
    return Status::Corruption(std::string("journal segment ") +
                              std::string(path) + ": " + std::string(why))
        .With("path", path)
        .With("offset", int64_t{0});
  };
  if (payload.size() != kSegmentHeaderPayloadSize ||
      payload.substr(0, kSegmentMagic.size()) != kSegmentMagic) {
    return bad("not a journal segment (bad magic)");
  }
  payload.remove_prefix(kSegmentMagic.size());
  uint32_t version = 0;
  uint64_t number = 0;
  base::GetFixed32(&payload, &version);
  base::GetFixed64(&payload, &number);
  if (version > kFormatVersion) {
    // Written by a newer release: refuse, never treat as damage.
    return NewerFormat("journal segment " + std::string(path), version,
                       kFormatVersion)
        .With("path", path);
  }
  if (version == 0) return bad("format version 0");
  if (number != segment) {
    return bad("header names segment " + std::to_string(number) +
               ", file name says " + std::to_string(segment));
  }
  return Status::OK();
}

}  // namespace acpstore::journal
