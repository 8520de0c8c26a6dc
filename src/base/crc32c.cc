// CRC32C: a table-driven software path (slicing-by-8) and an SSE4.2 path
// selected once at runtime. See crc32c.h.

#include "base/crc32c.h"

#include <array>
#include <bit>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace acpstore::base::crc32c {
namespace {

static_assert(
    std::endian::native == std::endian::little,
    "the slicing-by-8 loop reads 8 input bytes as a little-endian word");

constexpr uint32_t kPolynomial = 0x82F63B78u;  // reflected Castagnoli

using Tables = std::array<std::array<uint32_t, 256>, 8>;

// tables[0] is the classic byte-at-a-time table; tables[k][b] is the CRC of
// byte b followed by k zero bytes, which lets the loop fold 8 bytes at once.
constexpr Tables MakeTables() {
  Tables t{};
  for (uint32_t b = 0; b < 256; ++b) {
    uint32_t crc = b;
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc >> 1) ^ ((crc & 1) ? kPolynomial : 0);
    }
    t[0][b] = crc;
  }
  for (size_t k = 1; k < 8; ++k) {
    for (uint32_t b = 0; b < 256; ++b) {
      uint32_t prev = t[k - 1][b];
      t[k][b] = (prev >> 8) ^ t[0][prev & 0xff];
    }
  }
  return t;
}

constexpr Tables kTables = MakeTables();

using ExtendFn = uint32_t (*)(uint32_t, const char*, size_t);

ExtendFn Choose() {
  return HardwareAvailable() ? &ExtendHardware : &ExtendSoftware;
}

}  // namespace

uint32_t ExtendSoftware(uint32_t crc, const char* data, size_t n) {
  const auto* p = reinterpret_cast<const uint8_t*>(data);
  uint32_t l = ~crc;
  while (n >= 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    word ^= l;
    l = kTables[7][word & 0xff] ^ kTables[6][(word >> 8) & 0xff] ^
        kTables[5][(word >> 16) & 0xff] ^ kTables[4][(word >> 24) & 0xff] ^
        kTables[3][(word >> 32) & 0xff] ^ kTables[2][(word >> 40) & 0xff] ^
        kTables[1][(word >> 48) & 0xff] ^ kTables[0][word >> 56];
    p += 8;
    n -= 8;
  }
  while (n > 0) {
    l = kTables[0][(l ^ *p) & 0xff] ^ (l >> 8);
    ++p;
    --n;
  }
  return ~l;
}

#if defined(__x86_64__)

bool HardwareAvailable() {
  static const bool kAvailable = __builtin_cpu_supports("sse4.2");
  return kAvailable;
}

namespace {

// The crc32 instruction takes 3 cycles but can start one per cycle, so one
// dependent chain runs at a third of the unit's speed. Long inputs are cut
// into three adjacent stripes of kStripeBytes, each folded by its own chain,
// and the three registers are then joined (CRC32C was ~7% of the server's
// CPU on batched appends: every payload byte is checksummed twice, in its
// event frame and in its journal record; issue 14).
//
// Joining: with no pre/post inversion the register update is linear, so
// folding A||B from register r gives Zeros(Fold(r, A)) ^ Fold(0, B), where
// Zeros(x) is x folded over kStripeBytes zero bytes. Zeros is linear in x,
// so it is four table lookups, one per byte of x.
constexpr size_t kStripeBytes = 256;

using ZerosTable = std::array<std::array<uint32_t, 256>, 4>;

__attribute__((target("sse4.2"))) uint32_t FoldZeros(uint32_t reg) {
  uint64_t l = reg;
  for (size_t i = 0; i < kStripeBytes / 8; ++i) l = _mm_crc32_u64(l, 0);
  return static_cast<uint32_t>(l);
}

const ZerosTable& Zeros() {
  static const ZerosTable kTable = [] {
    ZerosTable t{};
    for (uint32_t k = 0; k < 4; ++k) {
      for (uint32_t b = 0; b < 256; ++b) t[k][b] = FoldZeros(b << (8 * k));
    }
    return t;
  }();
  return kTable;
}

uint32_t ShiftPastStripe(const ZerosTable& t, uint32_t reg) {
  return t[0][reg & 0xff] ^ t[1][(reg >> 8) & 0xff] ^ t[2][(reg >> 16) & 0xff] ^
         t[3][reg >> 24];
}

}  // namespace

__attribute__((target("sse4.2"))) uint32_t ExtendHardware(uint32_t crc,
                                                          const char* data,
                                                          size_t n) {
  const auto* p = reinterpret_cast<const uint8_t*>(data);
  uint64_t l = static_cast<uint32_t>(~crc);
  if (n >= 3 * kStripeBytes) {
    const ZerosTable& zeros = Zeros();
    do {
      uint64_t a = l;
      uint64_t b = 0;
      uint64_t c = 0;
      for (size_t i = 0; i < kStripeBytes; i += 8) {
        uint64_t wa;
        uint64_t wb;
        uint64_t wc;
        std::memcpy(&wa, p + i, 8);
        std::memcpy(&wb, p + kStripeBytes + i, 8);
        std::memcpy(&wc, p + 2 * kStripeBytes + i, 8);
        a = _mm_crc32_u64(a, wa);
        b = _mm_crc32_u64(b, wb);
        c = _mm_crc32_u64(c, wc);
      }
      uint32_t r = ShiftPastStripe(zeros, static_cast<uint32_t>(a)) ^
                   static_cast<uint32_t>(b);
      r = ShiftPastStripe(zeros, r) ^ static_cast<uint32_t>(c);
      l = r;
      p += 3 * kStripeBytes;
      n -= 3 * kStripeBytes;
    } while (n >= 3 * kStripeBytes);
  }
  while (n >= 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    l = _mm_crc32_u64(l, word);
    p += 8;
    n -= 8;
  }
  auto l32 = static_cast<uint32_t>(l);
  while (n > 0) {
    l32 = _mm_crc32_u8(l32, *p);
    ++p;
    --n;
  }
  return ~l32;
}

#else  // !__x86_64__

bool HardwareAvailable() { return false; }

uint32_t ExtendHardware(uint32_t crc, const char* data, size_t n) {
  return ExtendSoftware(crc, data, n);
}

#endif

uint32_t Extend(uint32_t crc, const char* data, size_t n) {
  static const ExtendFn kExtend = Choose();
  return kExtend(crc, data, n);
}

}  // namespace acpstore::base::crc32c
