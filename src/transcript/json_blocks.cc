// 64-byte blocks of JSON: see json_blocks.h.

#include "transcript/json_blocks.h"

#include <bit>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace acpstore::transcript {
namespace {

// The block at s[pos..]: a pointer into `s`, or, for the last partial
// block, into `pad` holding its bytes followed by spaces (a space is
// none of the bytes the masks mark, so the padding adds no bit).
const char* BlockAt(std::string_view s, size_t pos, char (&pad)[kJsonBlock]) {
  const size_t n = s.size() - pos;
  if (n >= kJsonBlock) return s.data() + pos;
  std::memset(pad, ' ', kJsonBlock);
  std::memcpy(pad, s.data() + pos, n);
  return pad;
}

}  // namespace

BlockBits ClassifyBlockBytewise(const char* p) {
  BlockBits b;
  for (size_t k = 0; k < kJsonBlock; ++k) {
    const uint64_t bit = uint64_t{1} << k;
    switch (p[k]) {
      case '"':
        b.quote |= bit;
        break;
      case '\\':
        b.backslash |= bit;
        break;
      case '{':
      case '[':
        b.open |= bit;
        break;
      case '}':
      case ']':
        b.close |= bit;
        break;
      default:
        break;
    }
  }
  return b;
}

namespace {

// Inlined into the loops below: called once per 64 bytes, its call was a
// tenth of the fold's cost.
[[gnu::always_inline]] inline BlockBits Classify(const char* p) {
#if defined(__SSE2__)
  // '[' and '{' differ only in bit 0x20 (0x5B, 0x7B), as do ']' and '}'
  // (0x5D, 0x7D), and no other byte becomes 0x7B or 0x7D when that bit is
  // set: one compare finds either opening bracket, one either closing.
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i slash = _mm_set1_epi8('\\');
  const __m128i open = _mm_set1_epi8('{');
  const __m128i close = _mm_set1_epi8('}');
  const __m128i lower = _mm_set1_epi8(0x20);
  BlockBits b;
  for (size_t part = 0; part < 4; ++part) {
    const __m128i v =
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * part));
    const __m128i folded = _mm_or_si128(v, lower);
    const size_t shift = 16 * part;
    auto bits = [](__m128i eq) {
      return static_cast<uint64_t>(
          static_cast<uint16_t>(_mm_movemask_epi8(eq)));
    };
    b.quote |= bits(_mm_cmpeq_epi8(v, quote)) << shift;
    b.backslash |= bits(_mm_cmpeq_epi8(v, slash)) << shift;
    b.open |= bits(_mm_cmpeq_epi8(folded, open)) << shift;
    b.close |= bits(_mm_cmpeq_epi8(folded, close)) << shift;
  }
  return b;
#else
  return ClassifyBlockBytewise(p);
#endif
}

}  // namespace

BlockBits ClassifyBlock(const char* p) { return Classify(p); }

uint64_t EscapedBits(uint64_t backslash, bool* carry) {
  uint64_t escaped = *carry ? 1 : 0;
  bool next = false;
  // In order, so that a backslash's own escape bit is known when it is
  // reached. Text rarely has more than a few escapes per block.
  for (uint64_t rest = backslash; rest != 0; rest &= rest - 1) {
    const int k = std::countr_zero(rest);
    if ((escaped >> k) & 1) continue;  // an escaped backslash: literal
    if (k == 63) {
      next = true;
    } else {
      escaped |= uint64_t{2} << k;
    }
  }
  *carry = next;
  return escaped;
}

uint64_t PrefixXor(uint64_t x) {
  x ^= x << 1;
  x ^= x << 2;
  x ^= x << 4;
  x ^= x << 8;
  x ^= x << 16;
  x ^= x << 32;
  return x;
}

size_t SkipContainer(std::string_view s, size_t i) {
  char pad[kJsonBlock];
  uint64_t inside = 0;  // all ones when the block starts inside a string
  bool escaped_first = false;
  size_t depth = 0;
  for (size_t pos = i; pos < s.size(); pos += kJsonBlock) {
    const BlockBits b = Classify(BlockAt(s, pos, pad));
    const uint64_t escaped = EscapedBits(b.backslash, &escaped_first);
    const uint64_t strings = PrefixXor(b.quote & ~escaped) ^ inside;
    inside = static_cast<uint64_t>(static_cast<int64_t>(strings) >> 63);
    for (uint64_t m = (b.open | b.close) & ~strings; m != 0; m &= m - 1) {
      const int k = std::countr_zero(m);
      if ((b.open >> k) & 1) {
        ++depth;
      } else {
        if (depth == 0) return std::string_view::npos;  // not a container
        if (--depth == 0) return pos + static_cast<size_t>(k) + 1;
      }
    }
  }
  return std::string_view::npos;
}

size_t SkipStringFrom(std::string_view s, size_t i) {
  char pad[kJsonBlock];
  bool escaped_first = false;
  for (size_t pos = i; pos < s.size(); pos += kJsonBlock) {
    const BlockBits b = Classify(BlockAt(s, pos, pad));
    const uint64_t closing = b.quote & ~EscapedBits(b.backslash, &escaped_first);
    if (closing != 0) {
      return pos + static_cast<size_t>(std::countr_zero(closing)) + 1;
    }
  }
  return std::string_view::npos;
}

}  // namespace acpstore::transcript
