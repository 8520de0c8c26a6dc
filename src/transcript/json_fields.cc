// Top-level member scanning: see json_fields.h.

#include "transcript/json_fields.h"

#include <bit>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "record/canonical_json.h"
#include "transcript/json_blocks.h"

namespace acpstore::transcript {
namespace {

// Index one past the closing quote of the string opening at s[i] == '"';
// npos when unterminated. Keys and ids are short and plain: the first
// special byte is their closing quote. Text with escapes goes on 64 bytes
// at a time (json_blocks.h) instead of stopping at each escape.
size_t SkipString(std::string_view s, size_t i) {
  i = record::NextJsonSpecialByte(s, i + 1);
  if (i >= s.size()) return std::string_view::npos;
  if (s[i] == '"') return i + 1;
  return SkipStringFrom(s, i);
}

// Index one past the value starting at s[i]; npos when malformed.
size_t SkipValue(std::string_view s, size_t i) {
  if (i >= s.size()) return std::string_view::npos;
  const char c = s[i];
  if (c == '"') return SkipString(s, i);
  if (c == '{' || c == '[') return SkipContainer(s, i);
  // A number, true, false or null: up to the next delimiter.
  while (i < s.size() && s[i] != ',' && s[i] != '}' && s[i] != ']' &&
         s[i] != ' ') {
    ++i;
  }
  return i;
}

size_t SkipSpace(std::string_view s, size_t i) {
  while (i < s.size() &&
         (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t')) {
    ++i;
  }
  return i;
}

// Index of the quote that opens the string whose closing quote is s[end]:
// the nearest quote before it that an even number of backslashes precede
// (inside a JSON string every quote is escaped, so an odd number precede
// it). npos when there is none.
size_t OpeningQuote(std::string_view s, size_t end) {
  size_t i = end;
  while (i > 0) {
    const void* q = memrchr(s.data(), '"', i);
    if (q == nullptr) return std::string_view::npos;
    i = static_cast<size_t>(static_cast<const char*>(q) - s.data());
    size_t j = i;
    while (j > 0 && s[j - 1] == '\\') --j;
    if ((i - j) % 2 == 0) return i;
  }
  return std::string_view::npos;
}

}  // namespace

BackwardScan ScanTopLevelBackward(
    std::string_view s,
    base::FunctionRef<bool(std::string_view key, std::string_view value)>
        visit) {
  if (s.size() < 2 || s.front() != '{' || s.back() != '}') {
    return BackwardScan::kNotScalar;
  }
  if (s.size() == 2) return BackwardScan::kFirst;  // {}
  // `end`: index of the byte after the member being read ('}' or ',').
  size_t end = s.size() - 1;
  while (true) {
    const size_t last = end - 1;  // the value's last byte
    size_t begin = 0;
    const char c = s[last];
    if (c == '"') {
      begin = OpeningQuote(s, last);
      if (begin == std::string_view::npos) return BackwardScan::kNotScalar;
    } else if (c == '}' || c == ']') {
      return BackwardScan::kNotScalar;
    } else {
      // A number, true, false or null: back to the colon before it.
      begin = last;
      while (begin > 0 && s[begin - 1] != ':') {
        const char b = s[begin - 1];
        if (b == '"' || b == ',' || b == '{' || b == '}' || b == '[' ||
            b == ']') {
          return BackwardScan::kNotScalar;
        }
        --begin;
      }
    }
    if (begin < 3 || s[begin - 1] != ':' || s[begin - 2] != '"') {
      return BackwardScan::kNotScalar;
    }
    const size_t key_close = begin - 2;
    const size_t key_open = OpeningQuote(s, key_close);
    if (key_open == std::string_view::npos || key_open == 0) {
      return BackwardScan::kNotScalar;
    }
    if (!visit(s.substr(key_open + 1, key_close - key_open - 1),
               s.substr(begin, end - begin))) {
      return BackwardScan::kStopped;
    }
    if (s[key_open - 1] == '{') {
      return key_open == 1 ? BackwardScan::kFirst : BackwardScan::kNotScalar;
    }
    if (s[key_open - 1] != ',') return BackwardScan::kNotScalar;
    end = key_open - 1;
  }
}

void ScanTopLevel(std::string_view s,
                  base::FunctionRef<bool(std::string_view key,
                                         std::string_view value)> visit) {
  size_t i = SkipSpace(s, 0);
  if (i >= s.size() || s[i] != '{') return;
  i = SkipSpace(s, i + 1);
  if (i < s.size() && s[i] == '}') return;
  while (i < s.size()) {
    if (s[i] != '"') return;
    const size_t key_end = SkipString(s, i);
    if (key_end == std::string_view::npos) return;
    const std::string_view key = s.substr(i + 1, key_end - i - 2);
    i = SkipSpace(s, key_end);
    if (i >= s.size() || s[i] != ':') return;
    i = SkipSpace(s, i + 1);
    const size_t value_end = SkipValue(s, i);
    if (value_end == std::string_view::npos) return;
    if (!visit(key, s.substr(i, value_end - i))) return;
    i = SkipSpace(s, value_end);
    if (i >= s.size() || s[i] != ',') return;
    i = SkipSpace(s, i + 1);
  }
}

bool AppendStringValue(std::string_view raw, std::string* out) {
  if (raw.size() < 2 || raw.front() != '"' || raw.back() != '"') return false;
  const std::string_view body = raw.substr(1, raw.size() - 2);
  const size_t start = out->size();
  // The text is at most as long as its escaped form, so it is written in
  // place into that much room and the rest given back at the end: one
  // allocation (resize() grows the capacity geometrically, so a message
  // gathering many deltas does not reallocate at each), and no call per
  // run between escapes (a tool's output has a newline every line).
  out->resize(start + body.size());
  char* const text = out->data() + start;
  size_t i = 0;  // read from body
  size_t w = 0;  // written to text; w <= i throughout
  while (true) {
#if defined(__SSE2__)
    // 16 bytes copied per step whatever they are, then the written length
    // moved only up to the first backslash among them (w + 16 <= i + 16
    // <= body.size(): the store stays inside the room).
    const __m128i slash = _mm_set1_epi8('\\');
    while (body.size() - i >= 16) {
      const __m128i v =
          _mm_loadu_si128(reinterpret_cast<const __m128i*>(body.data() + i));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(text + w), v);
      const auto hit =
          static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, slash)));
      if (hit != 0) {
        const auto k = static_cast<size_t>(std::countr_zero(hit));
        i += k;
        w += k;
        break;
      }
      i += 16;
      w += 16;
    }
#endif
    while (i < body.size() && body[i] != '\\') text[w++] = body[i++];
    if (i >= body.size()) break;
    // body[i] is a backslash.
    if (i + 1 >= body.size()) {
      out->resize(start);  // malformed: append nothing
      return false;
    }
    char c = 0;
    switch (body[i + 1]) {
      case '"': c = '"'; break;
      case '\\': c = '\\'; break;
      case '/': c = '/'; break;
      case 'b': c = '\b'; break;
      case 'f': c = '\f'; break;
      case 'n': c = '\n'; break;
      case 'r': c = '\r'; break;
      case 't': c = '\t'; break;
      default: {
        // A \u escape (canonical text has them for control characters
        // only): the full decoder takes the rest.
        Result<std::string> rest =
            record::UnescapeJsonStringBody(body.substr(i), "text");
        if (!rest.ok()) {
          out->resize(start);
          return false;
        }
        out->resize(start + w);
        out->append(*rest);
        return true;
      }
    }
    text[w++] = c;
    i += 2;
  }
  out->resize(start + w);
  return true;
}

bool IsScalar(std::string_view raw) {
  return !raw.empty() && raw.front() != '{' && raw.front() != '[';
}

bool CutUtf8(std::string* s, size_t max) {
  if (s->size() <= max) return false;
  size_t n = max;
  // Back up over continuation bytes so a character is never split.
  while (n > 0 && (static_cast<unsigned char>((*s)[n]) & 0xC0) == 0x80) --n;
  s->resize(n);
  // The memory budget counts an entry's kept bytes, not the megabyte of
  // tool output (or title) they were cut from.
  if (s->capacity() > 2 * n + 64) s->shrink_to_fit();
  return true;
}

}  // namespace acpstore::transcript
