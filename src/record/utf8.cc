// Strict UTF-8 validation (RFC 3629 table 3-7 ranges).
// Thread-safety: pure functions.

#include "record/utf8.h"

#include <cstdint>
#include <cstring>

namespace acpstore::record {
namespace {

bool Cont(uint8_t b) { return (b & 0xC0) == 0x80; }

// Payloads are mostly ASCII: skipping 8 such bytes per step keeps the
// validation of a 2.5 KB payload off the append path's profile.
constexpr uint64_t kHighBits = 0x8080808080808080ULL;

size_t SkipAscii(const uint8_t* p, size_t i, size_t n) {
  while (n - i >= 8) {
    uint64_t word;
    std::memcpy(&word, p + i, 8);
    if ((word & kHighBits) != 0) break;
    i += 8;
  }
  return i;
}

}  // namespace

size_t FindInvalidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    i = SkipAscii(p, i, n);
    if (i == n) break;
    const uint8_t b = p[i];
    if (b < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    // The second byte's allowed range excludes overlongs (E0, F0),
    // surrogates (ED) and code points above U+10FFFF (F4).
    uint8_t lo = 0x80, hi = 0xBF;
    if (b >= 0xC2 && b <= 0xDF) {
      len = 2;
    } else if (b >= 0xE0 && b <= 0xEF) {
      len = 3;
      if (b == 0xE0) lo = 0xA0;
      if (b == 0xED) hi = 0x9F;
    } else if (b >= 0xF0 && b <= 0xF4) {
      len = 4;
      if (b == 0xF0) lo = 0x90;
      if (b == 0xF4) hi = 0x8F;
    } else {
      return i;  // stray continuation, C0/C1 overlong lead, or F5..FF
    }
    if (n - i < len || p[i + 1] < lo || p[i + 1] > hi) return i;
    for (size_t k = 2; k < len; ++k) {
      if (!Cont(p[i + k])) return i;
    }
    i += len;
  }
  return std::string_view::npos;
}

bool HasControlChar(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    const auto b = static_cast<uint8_t>(s[i]);
    if (b < 0x20 || b == 0x7F) return true;
    // C1 controls are U+0080-U+009F, encoded C2 80 .. C2 9F.
    if (b == 0xC2 && i + 1 < s.size() &&
        static_cast<uint8_t>(s[i + 1]) <= 0x9F) {
      return true;
    }
  }
  return false;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

size_t Utf16Length(std::string_view s) {
  size_t units = 0;
  for (char c : s) {
    const auto b = static_cast<uint8_t>(c);
    // A lead byte starts one character; a 4-byte lead needs a pair.
    if (!Cont(b)) units += b >= 0xF0 ? 2 : 1;
  }
  return units;
}

std::string_view TruncateUtf16(std::string_view s, size_t max_units) {
  size_t units = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const auto b = static_cast<uint8_t>(s[i]);
    if (Cont(b)) continue;
    units += b >= 0xF0 ? 2 : 1;
    if (units > max_units) return s.substr(0, i);
  }
  return s;
}

std::string_view TruncateUtf8(std::string_view s, size_t max_bytes) {
  if (s.size() <= max_bytes) return s;
  size_t end = max_bytes;
  while (end > 0 && Cont(static_cast<uint8_t>(s[end]))) --end;
  return s.substr(0, end);
}

}  // namespace acpstore::record
