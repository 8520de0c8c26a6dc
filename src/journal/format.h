// The journal's on-disk constants and record framing. The byte grammar, the
// record type table and a worked example are in docs/journal_format.md;
// change both together. Numbers written to disk are never renumbered and
// retired type numbers are never reused.
//
// Thread-safety: pure functions and constants.

#ifndef ACPSTORE_JOURNAL_FORMAT_H_
#define ACPSTORE_JOURNAL_FORMAT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "acpstore/status.h"

namespace acpstore::journal {

// Record header, little-endian:
//   0  fixed32 header_crc   Mask(CRC32C(bytes 4..12 of the header))
//   4  fixed32 length       payload bytes
//   8  uint8   type         RecordType
//   9  fixed32 payload_crc  Mask(CRC32C(payload))
//  13  payload
inline constexpr size_t kHeaderSize = 13;
inline constexpr size_t kHeaderCrcOffset = 0;
inline constexpr size_t kLengthOffset = 4;
inline constexpr size_t kTypeOffset = 8;
inline constexpr size_t kPayloadCrcOffset = 9;

// No record payload is larger: a length above it is garbage. 1 GiB leaves
// room for a maximal event batch (1,000 events of 1 MiB) plus overhead.
inline constexpr uint32_t kMaxPayloadBytes = 1u << 30;

// Record types. Append new numbers; never renumber or reuse one.
enum class RecordType : uint8_t {
  // Never written: an all-zero header (a zero-filled tail left by a crash)
  // must not parse as a record.
  kInvalid = 0,
  // First record of every segment; payload: magic, version, segment number.
  kSegmentHeader = 1,
  // One store mutation or atomic batch, encoded by src/record. Opaque here.
  kMutation = 2,
};

// Segment header payload:
//   0  8 bytes   magic "ACPSJRNL"
//   8  fixed32   format version (kFormatVersion)
//  12  fixed64   segment number (must match the file name)
inline constexpr std::string_view kSegmentMagic = "ACPSJRNL";
inline constexpr uint32_t kFormatVersion = 1;
inline constexpr size_t kSegmentHeaderPayloadSize = 20;
// Offset of the first data record in every segment.
inline constexpr uint64_t kFirstRecordOffset =
    kHeaderSize + kSegmentHeaderPayloadSize;

// Segment files are "<16 decimal digits, zero-padded>.log", numbered from 1
// and never reused.
inline constexpr std::string_view kSegmentSuffix = ".log";
inline constexpr size_t kSegmentDigits = 16;

// Appends one framed record to `dst`.
void AppendRecord(std::string* dst, RecordType type, std::string_view payload);

// Zero-copy framing: BeginRecord reserves a header and returns its offset;
// the caller appends the payload to `dst`; FinishRecord fills the header in,
// taking every byte after it as the payload.
size_t BeginRecord(std::string* dst);
void FinishRecord(std::string* dst, size_t header_offset, RecordType type);

struct RecordHeader {
  uint32_t length = 0;
  RecordType type = RecordType::kInvalid;
  uint32_t payload_crc = 0;  // masked, as stored
};

// Parses kHeaderSize bytes. False if the header checksum does not match,
// the type is kInvalid or the length exceeds kMaxPayloadBytes.
bool DecodeHeader(std::string_view header_bytes, RecordHeader* header);

// True if `payload` is the one the header describes.
bool PayloadMatches(const RecordHeader& header, std::string_view payload);

// The complete framed segment header record for segment `segment`.
std::string SegmentHeaderRecord(uint64_t segment);

// Checks a kSegmentHeader payload: magic, supported version, and that it
// names `segment`. kCorruption naming `path` otherwise.
Status CheckSegmentHeader(std::string_view payload, uint64_t segment,
                          std::string_view path);

}  // namespace acpstore::journal

#endif  // ACPSTORE_JOURNAL_FORMAT_H_
