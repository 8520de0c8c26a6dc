// Little-endian fixed-width and varint encoding, the byte grammar of the
// journal, snapshots and mutations (docs/journal_format.md).
//
// Encoders append to a std::string. Decoders consume from the front of a
// std::string_view and return false, leaving the input unchanged, when the
// bytes run out or a varint is malformed; they never read past the view.
//
// Thread-safety: pure functions.

#ifndef ACPSTORE_BASE_CODING_H_
#define ACPSTORE_BASE_CODING_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace acpstore::base {

inline constexpr size_t kMaxVarint32Bytes = 5;
inline constexpr size_t kMaxVarint64Bytes = 10;

// Raw little-endian stores and loads. `dst`/`src` must hold 4 or 8 bytes.
inline void EncodeFixed32(char* dst, uint32_t value) {
  for (int i = 0; i < 4; ++i) dst[i] = static_cast<char>(value >> (8 * i));
}
inline void EncodeFixed64(char* dst, uint64_t value) {
  for (int i = 0; i < 8; ++i) dst[i] = static_cast<char>(value >> (8 * i));
}
inline uint32_t DecodeFixed32(const char* src) {
  const auto* p = reinterpret_cast<const uint8_t*>(src);
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) |
         (static_cast<uint32_t>(p[3]) << 24);
}
inline uint64_t DecodeFixed64(const char* src) {
  return static_cast<uint64_t>(DecodeFixed32(src)) |
         (static_cast<uint64_t>(DecodeFixed32(src + 4)) << 32);
}

void PutFixed32(std::string* dst, uint32_t value);
void PutFixed64(std::string* dst, uint64_t value);
void PutVarint32(std::string* dst, uint32_t value);
void PutVarint64(std::string* dst, uint64_t value);
// varint32 length, then the bytes. `value` must be shorter than 4 GiB.
void PutLengthPrefixed(std::string* dst, std::string_view value);

// Bytes PutVarint64 would write for `value` (1..10).
size_t VarintLength(uint64_t value);

bool GetFixed32(std::string_view* input, uint32_t* value);
bool GetFixed64(std::string_view* input, uint64_t* value);
// Refuse overlong encodings that overflow the type (a 5th byte above 0x0f for
// varint32, a 10th byte above 0x01 for varint64), so every value has at most
// one accepted encoding of each length.
bool GetVarint32(std::string_view* input, uint32_t* value);
bool GetVarint64(std::string_view* input, uint64_t* value);
// `value` views into the input's buffer.
bool GetLengthPrefixed(std::string_view* input, std::string_view* value);

}  // namespace acpstore::base

#endif  // ACPSTORE_BASE_CODING_H_
