// SurrogateScrubber: see surrogate_scrubber.h.
//
// Thread-safety: one instance per stream.

#include "aegis/surrogate_scrubber.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>

namespace acpstore::aegis {
namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The code unit of `\uXXXX` at p (6 bytes available), or -1.
int32_t EscapedUnit(const char* p) {
  if (p[0] != '\\' || p[1] != 'u') return -1;
  int32_t v = 0;
  for (int i = 2; i < 6; ++i) {
    const int d = HexDigit(p[i]);
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

bool IsHigh(int32_t u) { return u >= 0xD800 && u <= 0xDBFF; }
bool IsLow(int32_t u) { return u >= 0xDC00 && u <= 0xDFFF; }

// The six bytes of `\ufffd`; not a C string (no terminator is copied).
constexpr std::array<char, 6> kReplacement = {'\\', 'u', 'f', 'f', 'f', 'd'};

}  // namespace

size_t SurrogateScrubber::Scrub(char* data, size_t size, bool last,
                                std::vector<size_t>* repaired_ends) {
  size_t i = 0;
  while (i < size) {
    if (!in_string_) {
      // Outside strings only the quote matters; skip ahead to it.
      const void* q = std::memchr(data + i, '"', size - i);
      if (q == nullptr) return size;
      i = static_cast<size_t>(static_cast<const char*>(q) - data) + 1;
      in_string_ = true;
      continue;
    }
    // Inside a string only its closing quote and escapes matter: two
    // memchr scans (vectorised in libc) instead of a loop over every byte
    // of the payload text that is most of a file.
    const char* p = data + i;
    const auto* quote =
        static_cast<const char*>(std::memchr(p, '"', size - i));
    const size_t span = quote != nullptr ? static_cast<size_t>(quote - p)
                                         : size - i;
    const auto* escape = static_cast<const char*>(std::memchr(p, '\\', span));
    if (escape == nullptr) {
      if (quote == nullptr) return size;
      i += span + 1;
      in_string_ = false;
      continue;
    }
    i = static_cast<size_t>(escape - data);
    // An escape: it needs 2 bytes, or 6 for \u, or 12 for a pair.
    const size_t left = size - i;
    if (left < 2) return last ? size : i;
    if (data[i + 1] != 'u') {
      i += 2;
      continue;
    }
    if (left < 6) return last ? size : i;
    const int32_t unit = EscapedUnit(data + i);
    if (IsHigh(unit)) {
      if (left < 12 && !last) return i;
      if (left >= 12 && IsLow(EscapedUnit(data + i + 6))) {
        i += 12;  // a valid pair
        continue;
      }
    } else if (!IsLow(unit)) {
      i += 6;  // not a surrogate (or not hex: the parser's to refuse)
      continue;
    }
    std::copy(kReplacement.begin(), kReplacement.end(), data + i);
    i += 6;
    repaired_ends->push_back(i);
  }
  return size;
}

}  // namespace acpstore::aegis
