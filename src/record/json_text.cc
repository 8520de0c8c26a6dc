// Canonical JSON scalars: string escaping and number formatting, shared
// by the payload writer and metadata maps (canonical_json.h).
// Thread-safety: pure functions.

#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <system_error>

#include "record/canonical_json.h"
#include "record/field_error.h"
#include "record/utf8.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace acpstore::record {
namespace {

// Longest quote of user input (a key, a number) inside an error message.
constexpr size_t kQuoteBytes = 64;

// True when the decimal number `token` (JSON grammar) has magnitude >= 1,
// which tells overflow from underflow once std::from_chars has reported
// result_out_of_range for both.
bool MagnitudeAtLeastOne(std::string_view token) {
  size_t i = 0;
  if (i < token.size() && token[i] == '-') ++i;
  int64_t lead_exponent = 0;  // decimal exponent of the first nonzero digit
  bool found = false;
  int64_t int_digits = 0;
  for (; i < token.size() && token[i] >= '0' && token[i] <= '9'; ++i) {
    if (!found && token[i] != '0') {
      found = true;
      lead_exponent = -int_digits;  // fixed up below once length is known
    }
    ++int_digits;
  }
  if (found) lead_exponent += int_digits - 1;
  if (i < token.size() && token[i] == '.') {
    ++i;
    for (int64_t frac = 1; i < token.size() && token[i] >= '0' && token[i] <= '9';
         ++i, ++frac) {
      if (!found && token[i] != '0') {
        found = true;
        lead_exponent = -frac;
      }
    }
  }
  if (!found) return false;  // zero never overflows
  int64_t exponent = 0;
  if (i < token.size() && (token[i] == 'e' || token[i] == 'E')) {
    ++i;
    bool negative = false;
    if (i < token.size() && (token[i] == '+' || token[i] == '-')) {
      negative = token[i] == '-';
      ++i;
    }
    for (; i < token.size(); ++i) {
      // Saturate: any exponent this large decides the answer on its own.
      if (exponent < 1000000000) exponent = exponent * 10 + (token[i] - '0');
    }
    if (negative) exponent = -exponent;
  }
  return lead_exponent + exponent >= 0;
}

// The four hex digits of a \u escape at s[at..at+4); false when they are
// missing or not hex (text no parser accepted).
bool Hex4At(std::string_view s, size_t at, uint32_t* v) {
  if (at + 4 > s.size()) return false;
  *v = 0;
  auto [end, ec] = std::from_chars(s.data() + at, s.data() + at + 4, *v, 16);
  return ec == std::errc() && end == s.data() + at + 4;
}

}  // namespace

void AppendJsonStringBody(std::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  size_t run = 0;  // start of the pending run of bytes copied verbatim
  for (size_t i = NextJsonSpecialByte(s, 0); i < s.size();
       i = NextJsonSpecialByte(s, i + 1)) {
    const auto c = static_cast<unsigned char>(s[i]);
    out->append(s.data() + run, i - run);
    run = i + 1;
    out->push_back('\\');
    switch (c) {
      case '"': out->push_back('"'); break;
      case '\\': out->push_back('\\'); break;
      case '\b': out->push_back('b'); break;
      case '\f': out->push_back('f'); break;
      case '\n': out->push_back('n'); break;
      case '\r': out->push_back('r'); break;
      case '\t': out->push_back('t'); break;
      default:
        out->append("u00");
        out->push_back(kHex[c >> 4]);
        out->push_back(kHex[c & 0xF]);
    }
  }
  out->append(s.data() + run, s.size() - run);
}

std::string QuoteForMessage(std::string_view token) {
  std::string out(TruncateUtf8(token, kQuoteBytes));
  if (out.size() < token.size()) out.append("...");
  return out;
}

void AppendJsonString(std::string_view s, std::string* out) {
  out->push_back('"');
  AppendJsonStringBody(s, out);
  out->push_back('"');
}

bool AppendCanonicalNumber(std::string_view token, bool integer_token,
                           std::string* out) {
  if (integer_token) {
    // The JSON grammar already forbids "+" and leading zeros, so an
    // integer token is its own canonical form ("-0" included).
    out->append(token);
    return true;
  }
  // std::from_chars is correctly rounded; Boost 1.81's own double parse
  // is not always, which would make canonical output depend on it.
  double d = 0;
  const char* end = token.data() + token.size();
  const auto [ptr, ec] = std::from_chars(token.data(), end, d);
  if (ec == std::errc::result_out_of_range) {
    if (MagnitudeAtLeastOne(token)) return false;
    d = token.starts_with('-') ? -0.0 : 0.0;
  } else if (ec != std::errc() || ptr != end) {
    return false;
  }
  if (!std::isfinite(d)) return false;
  char buf[32];
  const auto res = std::to_chars(buf, buf + sizeof(buf), d);
  out->append(buf, res.ptr);
  return true;
}

std::string MemberField(std::string_view field, std::string_view key) {
  std::string out(field);
  out.push_back('.');
  out.append(QuoteForMessage(key));
  return out;
}

// Checks 16 bytes per step with SSE2 (part of x86-64 itself), then 8 per
// step: a byte b is special when b < 0x20, b == 0x22 or b == 0x5C. Each
// step finds the exact first hit from its bit mask, with no byte-by-byte
// rescan: strings in agent payloads are short runs between escapes, so a
// hit is the common case (issue 14: this function was 14% of the server's
// CPU on batches of 100).
size_t NextJsonSpecialByte(std::string_view s, size_t i) {
  const char* const p = s.data();
  const size_t n = s.size();
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i slash = _mm_set1_epi8('\\');
  const __m128i below = _mm_set1_epi8(0x1F);
  while (n - i >= 16) {
    const __m128i v =
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    // b <= 0x1F exactly when max(b, 0x1F) == 0x1F (unsigned).
    const __m128i hit = _mm_or_si128(
        _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, slash)),
        _mm_cmpeq_epi8(_mm_max_epu8(v, below), below));
    const auto mask = static_cast<unsigned>(_mm_movemask_epi8(hit));
    if (mask != 0) return i + static_cast<size_t>(std::countr_zero(mask));
    i += 16;
  }
#endif
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  while (n - i >= 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    const uint64_t quote_x = w ^ (kOnes * '"');
    const uint64_t slash_x = w ^ (kOnes * '\\');
    // Bytes with the high bit set (UTF-8) are never below 0x20. The
    // "has a zero byte" test is exact for the lowest hit (a borrow only
    // marks bytes above a true one), and memcpy reads little-endian on
    // every target we build for, so the lowest set bit is the first byte.
    const uint64_t control = (w - kOnes * 0x20) & ~w;
    const uint64_t hit = (((quote_x - kOnes) & ~quote_x) |
                          ((slash_x - kOnes) & ~slash_x) | control) &
                         kHigh;
    if (hit != 0) {
      if constexpr (std::endian::native == std::endian::little) {
        return i + static_cast<size_t>(std::countr_zero(hit)) / 8;
      }
      break;
    }
    i += 8;
  }
  for (; i < n; ++i) {
    const auto c = static_cast<unsigned char>(p[i]);
    if (c < 0x20 || c == '"' || c == '\\') return i;
  }
  return i;
}

Result<std::string> UnescapeJsonStringBody(std::string_view s,
                                           std::string_view field) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    // The text between escapes is copied whole: byte by byte it was 11% of
    // the server's CPU on batches once transcripts decoded every tool
    // output (issue 14).
    if (s[i] != '\\') {
      const void* escape = std::memchr(s.data() + i, '\\', s.size() - i);
      const size_t end =
          escape == nullptr
              ? s.size()
              : static_cast<size_t>(static_cast<const char*>(escape) -
                                    s.data());
      out.append(s.data() + i, end - i);
      i = end - 1;  // the loop steps onto the escape (or the end)
      continue;
    }
    if (++i == s.size()) return InvalidField(field, "unfinished escape");
    switch (const char e = s[i]) {
      case '"':
      case '\\':
      case '/':
        out.push_back(e);
        break;
      case 'b':
        out.push_back('\b');
        break;
      case 'f':
        out.push_back('\f');
        break;
      case 'n':
        out.push_back('\n');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 't':
        out.push_back('\t');
        break;
      case 'u': {
        uint32_t cp = 0;
        if (!Hex4At(s, i + 1, &cp)) {
          return InvalidField(field, "bad \\u escape");
        }
        i += 4;
        if (cp >= 0xDC00 && cp <= 0xDFFF) {
          return InvalidField(field, "lone low surrogate escape");
        }
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          uint32_t lo = 0;
          if (i + 2 >= s.size() || s[i + 1] != '\\' || s[i + 2] != 'u' ||
              !Hex4At(s, i + 3, &lo) || lo < 0xDC00 || lo > 0xDFFF) {
            return InvalidField(field, "lone high surrogate escape");
          }
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          i += 6;
        }
        AppendUtf8(cp, &out);
        break;
      }
      default:
        return InvalidField(field, "bad escape");
    }
  }
  return out;
}

}  // namespace acpstore::record
