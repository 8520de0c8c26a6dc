// CRC32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of every
// journal record and snapshot. Uses the SSE4.2 crc32 instruction when the CPU
// has it (checked once at runtime) and a slicing-by-8 table otherwise; both
// give identical results.
//
// Thread-safety: pure functions.

#ifndef ACPSTORE_BASE_CRC32C_H_
#define ACPSTORE_BASE_CRC32C_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace acpstore::base::crc32c {

// The CRC32C of concat(A, data[0,n)) where `crc` is the CRC32C of A.
uint32_t Extend(uint32_t crc, const char* data, size_t n);

// The CRC32C of data[0,n).
inline uint32_t Value(const char* data, size_t n) { return Extend(0, data, n); }
inline uint32_t Value(std::string_view data) {
  return Extend(0, data.data(), data.size());
}

// A CRC computed over bytes that themselves contain embedded CRCs is weak
// (the CRC of a string with its own CRC appended is a constant), so every
// stored CRC is masked: rotated and offset, as leveldb does.
inline constexpr uint32_t kMaskDelta = 0xa282ead8u;

inline constexpr uint32_t Mask(uint32_t crc) {
  return ((crc >> 15) | (crc << 17)) + kMaskDelta;
}

inline constexpr uint32_t Unmask(uint32_t masked_crc) {
  uint32_t rot = masked_crc - kMaskDelta;
  return (rot >> 17) | (rot << 15);
}

// The two implementations behind Extend, exposed so tests can compare them.
uint32_t ExtendSoftware(uint32_t crc, const char* data, size_t n);
// True when ExtendHardware may be called on this CPU.
bool HardwareAvailable();
// Precondition: HardwareAvailable().
uint32_t ExtendHardware(uint32_t crc, const char* data, size_t n);

}  // namespace acpstore::base::crc32c

#endif  // ACPSTORE_BASE_CRC32C_H_
