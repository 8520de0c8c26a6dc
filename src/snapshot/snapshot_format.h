// The snapshot file's on-disk constants, header and chunk framing. The byte
// grammar and a worked example are in docs/snapshot_format.md; change both
// together. Numbers written to disk are never renumbered or reused.
//
// A snapshot is opaque bytes here: the engine decides what each chunk
// holds. This module knows files and checksums, never records.
//
// Thread-safety: pure functions and constants.

#ifndef ACPSTORE_SNAPSHOT_SNAPSHOT_FORMAT_H_
#define ACPSTORE_SNAPSHOT_SNAPSHOT_FORMAT_H_

#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "acpstore/clock.h"
#include "acpstore/status.h"

namespace acpstore::snapshot {

// A journal byte position (segment, offset), as the journal defines it.
// Kept as plain numbers so this module does not depend on the journal.
struct SnapshotPosition {
  uint64_t segment = 0;
  uint64_t offset = 0;

  friend auto operator<=>(const SnapshotPosition&,
                          const SnapshotPosition&) = default;
};

// What the header says about a snapshot.
struct SnapshotHeader {
  // Names the file; chosen by the engine, increasing, never reused.
  uint64_t number = 0;
  // The journal position the snapshot covers: recovery replays the journal
  // from here.
  SnapshotPosition covered;
  TimestampMs created_at = 0;
  // As read (DecodeHeader sets it before checking it); written as
  // kFormatVersion.
  uint32_t format_version = 0;
};

// File header, little-endian, kHeaderSize bytes:
//   0  8 bytes  magic "ACPSNAP1"
//   8  fixed32  format version (kFormatVersion)
//  12  fixed64  snapshot number (must match the file name)
//  20  fixed64  covered journal segment
//  28  fixed64  covered journal offset
//  36  fixed64  created_at, ms since the epoch (int64 two's complement)
//  44  fixed32  Mask(CRC32C(bytes 0..44))
inline constexpr std::string_view kMagic = "ACPSNAP1";
inline constexpr uint32_t kFormatVersion = 1;
inline constexpr size_t kHeaderSize = 48;
inline constexpr size_t kHeaderCrcOffset = 44;

// Chunk, little-endian:
//   0  fixed32  Mask(CRC32C(bytes 4 .. 9+length)): length, type and data
//   4  fixed32  length of data
//   8  uint8    ChunkType
//   9  data
inline constexpr size_t kChunkHeaderSize = 9;

// No chunk holds more: a larger length is garbage, and the reader never
// allocates more than this for one chunk. The engine splits what it writes.
inline constexpr uint32_t kMaxChunkBytes = 64u << 20;

enum class ChunkType : uint8_t {
  kInvalid = 0,  // never written
  kData = 1,     // the engine's bytes
  kFooter = 2,   // last chunk of the file
};

// Footer chunk data, kFooterSize bytes:
//   0  fixed64  number of data chunks
//   8  fixed64  byte offset of the footer chunk (= bytes it checksums)
//  16  fixed32  Mask(CRC32C(every byte of the file before the footer chunk))
// Nothing may follow the footer chunk.
inline constexpr size_t kFooterSize = 20;

// Files are "<20 decimal digits, zero-padded snapshot number>.snap"; a
// writer's temp file is that name + ".tmp-<32 hex digits>". A parts file
// (decision 0030: sealed transcript parts a snapshot refers to, published
// with it) is "<20 digits>.parts"; its number comes from the snapshots'
// counter, so a number names one file of either kind.
inline constexpr std::string_view kSuffix = ".snap";
inline constexpr std::string_view kPartsSuffix = ".parts";
inline constexpr std::string_view kTempInfix = ".snap.tmp-";
inline constexpr size_t kNumberDigits = 20;

// The kHeaderSize bytes of `header`.
std::string EncodeHeader(const SnapshotHeader& header);

// Parses and checks header bytes (magic, version, checksum). On failure
// returns a short reason (the caller adds path and offset).
std::optional<std::string> DecodeHeader(std::string_view bytes,
                                        SnapshotHeader* header);

// Appends one framed chunk.
void AppendChunk(std::string* dst, ChunkType type, std::string_view data);

// "00000000000000000042.snap".
std::string SnapshotFileName(uint64_t number);
// The number of a snapshot file name, or nullopt (temp files, others).
std::optional<uint64_t> ParseSnapshotFileName(std::string_view name);
// True for a writer's temp file name.
bool IsTempFileName(std::string_view name);
// "00000000000000000042.parts", and its number (nullopt for other names).
std::string PartsFileName(uint64_t number);
std::optional<uint64_t> ParsePartsFileName(std::string_view name);

}  // namespace acpstore::snapshot

#endif  // ACPSTORE_SNAPSHOT_SNAPSHOT_FORMAT_H_
