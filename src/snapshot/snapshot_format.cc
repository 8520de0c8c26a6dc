// Snapshot header, chunk framing and file names. See snapshot_format.h and
// docs/snapshot_format.md.

#include "snapshot/snapshot_format.h"

#include "base/coding.h"
#include "base/crc32c.h"

namespace acpstore::snapshot {

namespace crc32c = base::crc32c;

std::string EncodeHeader(const SnapshotHeader& header) {
  std::string out(kMagic);
  base::PutFixed32(&out, kFormatVersion);
  base::PutFixed64(&out, header.number);
  base::PutFixed64(&out, header.covered.segment);
  base::PutFixed64(&out, header.covered.offset);
  base::PutFixed64(&out, static_cast<uint64_t>(header.created_at));
  base::PutFixed32(&out, crc32c::Mask(crc32c::Value(out)));
  return out;
}

std::optional<std::string> DecodeHeader(std::string_view bytes,
                                        SnapshotHeader* header) {
  if (bytes.size() < kHeaderSize) return "file too short for a header";
  if (bytes.substr(0, kMagic.size()) != kMagic) return "bad magic";
  const char* p = bytes.data();
  if (base::DecodeFixed32(p + kHeaderCrcOffset) !=
      crc32c::Mask(crc32c::Value(p, kHeaderCrcOffset))) {
    return "header checksum mismatch";
  }
  const uint32_t version = base::DecodeFixed32(p + 8);
  header->format_version = version;
  // The caller turns this one into NewerFormat (base/format_version.h).
  if (version > kFormatVersion) return "written by a newer release";
  if (version == 0) return "format version 0";
  header->number = base::DecodeFixed64(p + 12);
  header->covered.segment = base::DecodeFixed64(p + 20);
  header->covered.offset = base::DecodeFixed64(p + 28);
  header->created_at = static_cast<int64_t>(base::DecodeFixed64(p + 36));
  return std::nullopt;
}

void AppendChunk(std::string* dst, ChunkType type, std::string_view data) {
  const size_t at = dst->size();
  dst->append(4, '\0');  // checksum, filled in below
  base::PutFixed32(dst, static_cast<uint32_t>(data.size()));
  dst->push_back(static_cast<char>(type));
  dst->append(data);
  base::EncodeFixed32(
      dst->data() + at,
      crc32c::Mask(crc32c::Value(dst->data() + at + 4, dst->size() - at - 4)));
}

namespace {
std::string NumberedName(uint64_t number, std::string_view suffix) {
  std::string digits = std::to_string(number);
  return std::string(kNumberDigits - digits.size(), '0') + digits +
         std::string(suffix);
}

std::optional<uint64_t> ParseNumberedName(std::string_view name,
                                          std::string_view suffix) {
  if (name.size() != kNumberDigits + suffix.size() ||
      name.substr(kNumberDigits) != suffix) {
    return std::nullopt;
  }
  uint64_t n = 0;
  for (char c : name.substr(0, kNumberDigits)) {
    if (c < '0' || c > '9') return std::nullopt;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (n > (UINT64_MAX - digit) / 10) return std::nullopt;  // > 2^64-1
    n = n * 10 + digit;
  }
  return n;
}
}  // namespace

std::string SnapshotFileName(uint64_t number) {
  return NumberedName(number, kSuffix);
}

std::optional<uint64_t> ParseSnapshotFileName(std::string_view name) {
  return ParseNumberedName(name, kSuffix);
}

std::string PartsFileName(uint64_t number) {
  return NumberedName(number, kPartsSuffix);
}

std::optional<uint64_t> ParsePartsFileName(std::string_view name) {
  return ParseNumberedName(name, kPartsSuffix);
}

bool IsTempFileName(std::string_view name) {
  return name.size() > kNumberDigits + kTempInfix.size() &&
         name.substr(kNumberDigits, kTempInfix.size()) == kTempInfix &&
         ParseSnapshotFileName(std::string(name.substr(0, kNumberDigits)) +
                               std::string(kSuffix))
             .has_value();
}

}  // namespace acpstore::snapshot
