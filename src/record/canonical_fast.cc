// The accept-only fast path of payload canonicalisation. See
// canonical_fast.h for the contract; canonical_json.h for the form.

#include "record/canonical_fast.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "record/canonical_json.h"
#include "record/utf8.h"

namespace acpstore::record {
namespace {

// Objects with at most this many keys are checked for duplicates pairwise;
// larger ones are sorted.
constexpr size_t kPairwiseKeys = 8;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

class FastCanonicalizer {
 public:
  FastCanonicalizer(std::string_view in, size_t max_bytes, size_t max_depth,
                    std::string* out)
      : in_(in), max_bytes_(max_bytes), max_depth_(max_depth), out_(*out) {}

  bool Run();

 private:
  // An object's key as its escaped bytes in out_ (without quotes), as the
  // full parser records them: escaping is injective, so equal spans are
  // equal keys.
  struct KeySpan {
    size_t begin;
    size_t size;
  };
  struct Level {
    bool is_object;
    size_t first_key;  // this object's keys are keys_[first_key, end)
  };

  // What the parser expects next.
  enum class Next { kValue, kKey, kAfterValue };

  void SkipWhitespace() {
    while (pos_ < in_.size()) {
      const char c = in_[pos_];
      if (c != ' ' && c != '\n' && c != '\r' && c != '\t') return;
      ++pos_;
    }
  }
  bool AtEnd() const { return pos_ >= in_.size(); }
  char Peek() const { return in_[pos_]; }

  bool Value(Next* next);
  bool Key();
  bool AfterValue(Next* next);
  bool Open(bool is_object, Next* next);
  bool String();
  bool Escape();
  bool Number();
  bool Literal(std::string_view word);
  bool KeysAreDistinct(size_t first);
  std::string_view KeyText(const KeySpan& k) const {
    return static_cast<std::string_view>(out_).substr(k.begin, k.size);
  }

  const std::string_view in_;
  const size_t max_bytes_;
  const size_t max_depth_;
  std::string& out_;
  size_t pos_ = 0;
  std::vector<Level> stack_;
  std::vector<KeySpan> keys_;
};

bool FastCanonicalizer::Run() {
  // Everything outside strings must be ASCII to parse at all, so one check
  // of the whole input covers every string, and escapes below only ever
  // add valid UTF-8.
  if (FindInvalidUtf8(in_) != std::string_view::npos) return false;
  out_.clear();
  out_.reserve(std::min(in_.size(), max_bytes_) + 1);
  Next next = Next::kValue;
  for (;;) {
    SkipWhitespace();
    if (next == Next::kAfterValue && stack_.empty()) {
      return AtEnd() && out_.size() <= max_bytes_;  // one value, then nothing
    }
    if (AtEnd()) return false;
    bool ok = false;
    switch (next) {
      case Next::kValue:
        ok = Value(&next);
        break;
      case Next::kKey:
        ok = Key();
        next = Next::kValue;
        break;
      case Next::kAfterValue:
        ok = AfterValue(&next);
        break;
    }
    if (!ok || out_.size() > max_bytes_) return false;
  }
}

// Parses one value, or opens a container; sets what comes next.
bool FastCanonicalizer::Value(Next* next) {
  const char c = Peek();
  switch (c) {
    case '{':
      return Open(true, next);
    case '[':
      return Open(false, next);
    case '"':
      *next = Next::kAfterValue;
      return String();
    case 't':
      *next = Next::kAfterValue;
      return Literal("true");
    case 'f':
      *next = Next::kAfterValue;
      return Literal("false");
    case 'n':
      *next = Next::kAfterValue;
      return Literal("null");
    default:
      *next = Next::kAfterValue;
      return (c == '-' || IsDigit(c)) && Number();
  }
}

bool FastCanonicalizer::Open(bool is_object, Next* next) {
  if (stack_.size() >= max_depth_) return false;
  ++pos_;
  SkipWhitespace();
  if (AtEnd()) return false;
  const char close = is_object ? '}' : ']';
  if (Peek() == close) {  // empty container
    ++pos_;
    out_.push_back(is_object ? '{' : '[');
    out_.push_back(close);
    *next = Next::kAfterValue;
    return true;
  }
  out_.push_back(is_object ? '{' : '[');
  stack_.push_back(Level{is_object, keys_.size()});
  *next = is_object ? Next::kKey : Next::kValue;
  return true;
}

// A key and its colon.
bool FastCanonicalizer::Key() {
  if (Peek() != '"') return false;
  const size_t begin = out_.size() + 1;  // after the opening quote
  if (!String()) return false;
  keys_.push_back(KeySpan{begin, out_.size() - 1 - begin});
  SkipWhitespace();
  if (AtEnd() || Peek() != ':') return false;
  ++pos_;
  out_.push_back(':');
  return true;
}

// Inside a container, after a value: a comma or the closing bracket.
bool FastCanonicalizer::AfterValue(Next* next) {
  const Level top = stack_.back();
  const char c = in_[pos_++];
  if (c == ',') {
    out_.push_back(',');
    *next = top.is_object ? Next::kKey : Next::kValue;
    return true;
  }
  if (c != (top.is_object ? '}' : ']')) return false;
  if (top.is_object) {
    if (!KeysAreDistinct(top.first_key)) return false;
    keys_.resize(top.first_key);
  }
  out_.push_back(c);
  stack_.pop_back();
  *next = Next::kAfterValue;
  return true;
}

bool FastCanonicalizer::KeysAreDistinct(size_t first) {
  const size_t n = keys_.size() - first;
  if (n < 2) return true;
  if (n <= kPairwiseKeys) {
    for (size_t i = first; i < keys_.size(); ++i) {
      for (size_t j = i + 1; j < keys_.size(); ++j) {
        if (KeyText(keys_[i]) == KeyText(keys_[j])) return false;
      }
    }
    return true;
  }
  auto begin = keys_.begin() + static_cast<std::ptrdiff_t>(first);
  std::sort(begin, keys_.end(), [this](const KeySpan& a, const KeySpan& b) {
    return KeyText(a) < KeyText(b);
  });
  return std::adjacent_find(begin, keys_.end(),
                            [this](const KeySpan& a, const KeySpan& b) {
                              return KeyText(a) == KeyText(b);
                            }) == keys_.end();
}

// A string at pos_ (its opening quote), written with canonical escaping.
bool FastCanonicalizer::String() {
  ++pos_;
  out_.push_back('"');
  for (;;) {
    const size_t stop = NextJsonSpecialByte(in_, pos_);
    if (stop >= in_.size()) return false;  // unterminated
    // Plain bytes are their own canonical form.
    out_.append(in_.data() + pos_, stop - pos_);
    pos_ = stop;
    const char c = in_[pos_++];
    if (c == '"') {
      out_.push_back('"');
      return true;
    }
    if (c != '\\' || !Escape()) return false;  // a raw control byte, or bad
    if (out_.size() > max_bytes_) return false;
  }
}

// The escape after a backslash, written as the full parser would: its
// decoded bytes, re-escaped minimally.
bool FastCanonicalizer::Escape() {
  if (AtEnd()) return false;
  const char c = in_[pos_++];
  switch (c) {
    case '"':
      out_.append("\\\"");
      return true;
    case '\\':
      out_.append("\\\\");
      return true;
    case '/':
      out_.push_back('/');
      return true;
    case 'b':
      out_.append("\\b");
      return true;
    case 'f':
      out_.append("\\f");
      return true;
    case 'n':
      out_.append("\\n");
      return true;
    case 'r':
      out_.append("\\r");
      return true;
    case 't':
      out_.append("\\t");
      return true;
    case 'u':
      break;
    default:
      return false;
  }
  auto hex4 = [this](uint32_t* v) {
    if (in_.size() - pos_ < 4) return false;
    *v = 0;
    for (int i = 0; i < 4; ++i) {
      const int h = HexValue(in_[pos_ + static_cast<size_t>(i)]);
      if (h < 0) return false;
      *v = *v * 16 + static_cast<uint32_t>(h);
    }
    pos_ += 4;
    return true;
  };
  uint32_t cp = 0;
  if (!hex4(&cp)) return false;
  if (cp >= 0xDC00 && cp <= 0xDFFF) return false;  // lone trailing surrogate
  if (cp >= 0xD800 && cp <= 0xDBFF) {
    uint32_t low = 0;
    if (in_.size() - pos_ < 2 || in_[pos_] != '\\' || in_[pos_ + 1] != 'u') {
      return false;
    }
    pos_ += 2;
    if (!hex4(&low) || low < 0xDC00 || low > 0xDFFF) return false;
    cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
  }
  std::string decoded;
  AppendUtf8(cp, &decoded);
  AppendJsonStringBody(decoded, &out_);
  return true;
}

bool FastCanonicalizer::Number() {
  const size_t begin = pos_;
  if (Peek() == '-') ++pos_;
  if (AtEnd()) return false;
  const size_t digits_begin = pos_;
  if (in_[pos_] == '0') {
    ++pos_;
  } else if (IsDigit(in_[pos_])) {
    while (!AtEnd() && IsDigit(Peek())) ++pos_;
  } else {
    return false;
  }
  const size_t integer_digits = pos_ - digits_begin;
  bool integer = true;
  if (!AtEnd() && Peek() == '.') {
    integer = false;
    ++pos_;
    const size_t frac_begin = pos_;
    while (!AtEnd() && IsDigit(Peek())) ++pos_;
    if (pos_ == frac_begin) return false;
  }
  if (!AtEnd() && (Peek() == 'e' || Peek() == 'E')) {
    integer = false;
    ++pos_;
    if (!AtEnd() && (Peek() == '+' || Peek() == '-')) ++pos_;
    const size_t exp_begin = pos_;
    while (!AtEnd() && IsDigit(Peek())) ++pos_;
    if (pos_ == exp_begin || pos_ - exp_begin > kFastMaxExponentDigits) {
      return false;
    }
  }
  const std::string_view token = in_.substr(begin, pos_ - begin);
  if (token.size() > kFastMaxNumberBytes) return false;
  if (integer && integer_digits > kFastMaxIntegerDigits) return false;
  return AppendCanonicalNumber(token, integer, &out_);
}

bool FastCanonicalizer::Literal(std::string_view word) {
  if (in_.substr(pos_, word.size()) != word) return false;
  pos_ += word.size();
  out_.append(word);
  return true;
}

}  // namespace

bool TryCanonicalizeFast(std::string_view json, size_t max_bytes,
                         size_t max_depth, std::string* out) {
  return FastCanonicalizer(json, max_bytes, max_depth, out).Run();
}

}  // namespace acpstore::record
