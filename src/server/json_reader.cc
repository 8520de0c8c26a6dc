// Strict JSON scanning of request bodies. See json_reader.h.

#include "server/json_reader.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/time_format.h"
#include "record/canonical_fast.h"
#include "record/canonical_json.h"
#include "record/field_error.h"
#include "record/utf8.h"

namespace acpstore::server {
namespace {

using record::InvalidField;

bool IsWs(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Values at ScanValue depths 0..kTapeDepth go on a JsonTape: the body (0),
// its members such as `events` (1), each event (2), each event's members
// such as `payload` (3).
constexpr int kTapeDepth = 3;

}  // namespace

// Records spans while ScanJson runs.
class JsonTapeWriter {
 public:
  explicit JsonTapeWriter(JsonTape* tape) : tape_(tape) {
    tape_->spans_.clear();
  }
  size_t Begin(const char* begin) {
    tape_->spans_.push_back({begin, nullptr, false, 0});
    return tape_->spans_.size() - 1;
  }
  void End(size_t index, const char* end, bool canonical, int nesting) {
    JsonTape::Span& span = tape_->spans_[index];
    span.end = end;
    span.canonical = canonical;
    span.nesting = nesting;
  }

 private:
  JsonTape* tape_;
};

const JsonTape::Span* JsonTape::Find(const char* begin) const {
  auto it = std::lower_bound(
      spans_.begin(), spans_.end(), begin,
      [](const Span& s, const char* p) { return std::less<>()(s.begin, p); });
  if (it == spans_.end() || it->begin != begin) return nullptr;
  return &*it;
}

const char* JsonTape::EndOf(const char* begin) const {
  const Span* span = Find(begin);
  return span == nullptr ? nullptr : span->end;
}

namespace {

// Objects with at most this many keys are checked for duplicates pairwise
// (by a tag first, so unequal keys rarely reach memcmp); larger ones are
// sorted.
constexpr size_t kPairwiseKeys = 16;

// A key as written (between its quotes) and a tag of its length and end
// bytes: different tags, different keys.
struct ScannedKey {
  std::string_view text;
  uint32_t tag;

  explicit ScannedKey(std::string_view t)
      : text(t),
        tag(t.empty() ? 0
                      : (static_cast<uint32_t>(t.size()) << 16) ^
                            (static_cast<uint32_t>(
                                 static_cast<unsigned char>(t.front()))
                             << 8) ^
                            static_cast<unsigned char>(t.back())) {}
  bool operator==(const ScannedKey& o) const {
    return tag == o.tag && text == o.text;
  }
  bool operator<(const ScannedKey& o) const { return text < o.text; }
};

// A recursive-descent recogniser. It never allocates per value (the key
// list below grows once per request); recursion is bounded by max_depth,
// so hostile nesting cannot exhaust the stack.
//
// It also judges, per value, whether the text is already canonical
// (JsonValue::canonical): canon_ holds "canonical so far" for the value
// being scanned, and each value ANDs its own verdict into its parent's.
class Scanner {
 public:
  Scanner(std::string_view text, std::string_view field, int max_depth)
      : s_(text), field_(field), max_depth_(max_depth) {}
  // Scanning fresh text: record the top levels on `writer`.
  void RecordOn(JsonTapeWriter* writer) { writer_ = writer; }
  // Walking text ScanJson accepted: jump over what `tape` recorded.
  void JumpWith(const JsonTape* tape) { tape_ = tape; }

  Result<JsonValue> ScanDocument() {
    SkipWs();
    JsonValue v;
    if (!ScanValue(0, &v)) return std::move(status_);
    SkipWs();
    if (pos_ != s_.size()) {
      Error("unexpected text after the JSON value");
      return std::move(status_);
    }
    return v;
  }

  // Scans one value at pos_ (no leading whitespace). Used to walk the
  // members of text that ScanDocument already accepted.
  bool ScanValue(int depth, JsonValue* out) {
    const size_t start = pos_;
    if (pos_ >= s_.size()) return Error("unexpected end of JSON");
    const char c = s_[pos_];
    const bool container_or_string = c == '{' || c == '[' || c == '"';
    if (tape_ != nullptr && container_or_string) {
      if (const JsonTape::Span* span = tape_->Find(s_.data() + pos_)) {
        out->kind = c == '{'   ? JsonKind::kObject
                    : c == '[' ? JsonKind::kArray
                               : JsonKind::kString;
        pos_ = static_cast<size_t>(span->end - s_.data());
        out->raw = s_.substr(start, pos_ - start);
        out->canonical = span->canonical;
        out->nesting = span->nesting;
        canon_ = canon_ && span->canonical;
        deepest_ = std::max(deepest_, depth + span->nesting);
        return true;
      }
    }
    const bool record =
        writer_ != nullptr && container_or_string && depth <= kTapeDepth;
    const size_t span = record ? writer_->Begin(s_.data() + pos_) : 0;
    const bool outer_canon = canon_;
    const int outer_deepest = deepest_;
    canon_ = true;
    deepest_ = depth;
    bool ok = false;
    switch (c) {
      case '{':
        out->kind = JsonKind::kObject;
        ok = ScanObject(depth + 1);
        break;
      case '[':
        out->kind = JsonKind::kArray;
        ok = ScanArray(depth + 1);
        break;
      case '"':
        out->kind = JsonKind::kString;
        ok = ScanString();
        break;
      case 't':
        out->kind = JsonKind::kBool;
        ok = Literal("true");
        break;
      case 'f':
        out->kind = JsonKind::kBool;
        ok = Literal("false");
        break;
      case 'n':
        out->kind = JsonKind::kNull;
        ok = Literal("null");
        break;
      default:
        if (c == '-' || IsDigit(c)) {
          out->kind = JsonKind::kNumber;
          ok = ScanNumber();
        } else {
          ok = Error("unexpected character");
        }
    }
    out->raw = s_.substr(start, pos_ - start);
    out->canonical = ok && canon_;
    out->nesting = deepest_ - depth;
    canon_ = outer_canon && canon_;
    deepest_ = std::max(outer_deepest, deepest_);
    if (record) {
      writer_->End(span, s_.data() + pos_, out->canonical, out->nesting);
    }
    return ok;
  }

  void SkipWs() {
    while (pos_ < s_.size() && IsWs(s_[pos_])) ++pos_;
  }
  bool Consume(char c) {
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  size_t pos() const { return pos_; }

 private:
  bool Error(std::string_view what) {
    if (status_.ok()) {
      status_ =
          InvalidField(field_, "invalid JSON at byte " + std::to_string(pos_) +
                                   ": " + std::string(what));
    }
    return false;
  }

  bool CheckDepth(int depth) {
    if (depth > max_depth_) {
      return Error("nesting deeper than " + std::to_string(max_depth_));
    }
    deepest_ = std::max(deepest_, depth);
    return true;
  }

  // Whitespace between the tokens of a value: canonical text has none.
  void SkipWsInside() {
    const size_t before = pos_;
    SkipWs();
    if (pos_ != before) canon_ = false;
  }

  // Whether the keys of the object being closed, keys_[first, end), are
  // distinct. They are compared as written, which is exact only while
  // canon_ holds (canonical escaping is one spelling per string).
  bool KeysAreDistinct(size_t first) {
    const size_t n = keys_.size() - first;
    if (n < 2) return true;
    const auto begin = keys_.begin() + static_cast<std::ptrdiff_t>(first);
    if (n <= kPairwiseKeys) {
      for (auto i = begin; i != keys_.end(); ++i) {
        for (auto j = i + 1; j != keys_.end(); ++j) {
          if (*i == *j) return false;
        }
      }
      return true;
    }
    std::sort(begin, keys_.end());
    return std::adjacent_find(begin, keys_.end()) == keys_.end();
  }

  bool ScanObject(int depth) {
    if (!CheckDepth(depth)) return false;
    ++pos_;  // '{'
    SkipWsInside();
    if (Consume('}')) return true;
    const size_t first_key = keys_.size();
    for (;;) {
      if (pos_ >= s_.size() || s_[pos_] != '"') {
        return Error("expected a string key");
      }
      const size_t key_begin = pos_ + 1;
      if (!ScanString()) return false;
      if (canon_) {
        keys_.emplace_back(s_.substr(key_begin, pos_ - 1 - key_begin));
      }
      SkipWsInside();
      if (!Consume(':')) return Error("expected ':'");
      SkipWsInside();
      JsonValue v;
      if (!ScanValue(depth, &v)) return false;
      SkipWsInside();
      if (Consume(',')) {
        SkipWsInside();
        continue;
      }
      if (Consume('}')) {
        if (canon_ && !KeysAreDistinct(first_key)) canon_ = false;
        keys_.erase(keys_.begin() + static_cast<std::ptrdiff_t>(first_key),
                    keys_.end());
        return true;
      }
      return Error("expected ',' or '}'");
    }
  }

  bool ScanArray(int depth) {
    if (!CheckDepth(depth)) return false;
    ++pos_;  // '['
    SkipWsInside();
    if (Consume(']')) return true;
    for (;;) {
      JsonValue v;
      if (!ScanValue(depth, &v)) return false;
      SkipWsInside();
      if (Consume(',')) {
        SkipWsInside();
        continue;
      }
      if (Consume(']')) return true;
      return Error("expected ',' or ']'");
    }
  }

  bool ScanString() {
    ++pos_;  // '"'
    // Payload strings are long runs of plain text: skip them 8 bytes at a
    // time and look only at the bytes that end a run.
    while ((pos_ = record::NextJsonSpecialByte(s_, pos_)) < s_.size()) {
      const auto c = static_cast<unsigned char>(s_[pos_]);
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c < 0x20) return Error("control character in a string");
      if (c == '\\') {
        ++pos_;
        if (pos_ >= s_.size()) break;
        const char e = s_[pos_];
        if (e == 'u') {
          for (int i = 1; i <= 4; ++i) {
            if (pos_ + i >= s_.size() ||
                !std::isxdigit(static_cast<unsigned char>(s_[pos_ + i]))) {
              return Error("bad \\u escape");
            }
          }
          if (!IsCanonicalUEscape(s_.substr(pos_ + 1, 4))) canon_ = false;
          pos_ += 4;
        } else if (!IsSimpleEscape(e)) {
          return Error("bad escape");
        } else if (e == '/') {
          canon_ = false;  // canonical text has a plain '/'
        }
      }
      ++pos_;
    }
    return Error("unterminated string");
  }

  // A switch, not a memchr: payloads hold an escape every few dozen bytes
  // (3.6% of the server's CPU on batches went to that memchr).
  static bool IsSimpleEscape(char e) {
    switch (e) {
      case '"':
      case '\\':
      case '/':
      case 'b':
      case 'f':
      case 'n':
      case 'r':
      case 't':
        return true;
      default:
        return false;
    }
  }

  // The escape \u followed by `hex` is how canonical text writes a control
  // character: lowercase \u00xx, for those without a short escape
  // (record::AppendJsonStringBody).
  static bool IsCanonicalUEscape(std::string_view hex) {
    if (hex[0] != '0' || hex[1] != '0' || (hex[2] != '0' && hex[2] != '1')) {
      return false;
    }
    const char low = hex[3];
    int v = 0;
    if (IsDigit(low)) {
      v = low - '0';
    } else if (low >= 'a' && low <= 'f') {
      v = low - 'a' + 10;
    } else {
      return false;  // uppercase hex is not the canonical spelling
    }
    if (hex[2] == '1') v += 16;
    return v != '\b' && v != '\t' && v != '\n' && v != '\f' && v != '\r';
  }

  bool ScanNumber() {
    const size_t begin = pos_;
    Consume('-');
    const size_t digits_begin = pos_;
    if (Consume('0')) {
      // No leading zeros.
    } else if (pos_ < s_.size() && IsDigit(s_[pos_])) {
      while (pos_ < s_.size() && IsDigit(s_[pos_])) ++pos_;
    } else {
      return Error("bad number");
    }
    const size_t integer_digits = pos_ - digits_begin;
    bool integer = true;
    size_t exponent_digits = 0;
    if (Consume('.')) {
      integer = false;
      if (pos_ >= s_.size() || !IsDigit(s_[pos_])) return Error("bad number");
      while (pos_ < s_.size() && IsDigit(s_[pos_])) ++pos_;
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      integer = false;
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      if (pos_ >= s_.size() || !IsDigit(s_[pos_])) return Error("bad number");
      const size_t exponent_begin = pos_;
      while (pos_ < s_.size() && IsDigit(s_[pos_])) ++pos_;
      exponent_digits = pos_ - exponent_begin;
    }
    if (canon_) {
      canon_ = IsCanonicalNumber(s_.substr(begin, pos_ - begin), integer,
                                 integer_digits, exponent_digits);
    }
    return true;
  }

  // Integers are their own canonical form; other numbers are canonical
  // when they are already their shortest round-trip spelling. Long or
  // extreme ones are left to the store, as the payload fast path does.
  static bool IsCanonicalNumber(std::string_view token, bool integer,
                                size_t integer_digits, size_t exponent_digits) {
    if (token.size() > record::kFastMaxNumberBytes) return false;
    if (integer) return integer_digits <= record::kFastMaxIntegerDigits;
    if (exponent_digits > record::kFastMaxExponentDigits) return false;
    std::string canonical;
    return record::AppendCanonicalNumber(token, false, &canonical) &&
           canonical == token;
  }

  bool Literal(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) return Error("bad literal");
    pos_ += word.size();
    return true;
  }

  std::string_view s_;
  std::string_view field_;
  int max_depth_;
  size_t pos_ = 0;
  Status status_;
  JsonTapeWriter* writer_ = nullptr;
  const JsonTape* tape_ = nullptr;
  bool canon_ = true;  // the value being scanned is canonical so far
  int deepest_ = 0;    // the deepest container level reached in it
  // Keys of the objects open now, innermost last, while canonical.
  std::vector<ScannedKey> keys_;
};

// Members an ObjectReader accepts in one object.
constexpr size_t kMaxMembers = 64;

// Re-walks text ScanJson accepted; depth was checked then.
constexpr int kUnbounded = std::numeric_limits<int>::max() / 2;

}  // namespace

std::string_view ToString(JsonKind kind) {
  switch (kind) {
    case JsonKind::kNull:
      return "null";
    case JsonKind::kBool:
      return "a boolean";
    case JsonKind::kNumber:
      return "a number";
    case JsonKind::kString:
      return "a string";
    case JsonKind::kArray:
      return "an array";
    case JsonKind::kObject:
      return "an object";
  }
  return "?";
}

Result<JsonValue> ScanJson(std::string_view text, std::string_view field,
                           int max_depth, JsonTape* tape) {
  if (const size_t bad = record::FindInvalidUtf8(text);
      bad != std::string_view::npos) {
    return InvalidField(field, "invalid UTF-8 at byte " + std::to_string(bad));
  }
  Scanner sc(text, field, max_depth);
  std::optional<JsonTapeWriter> writer;
  if (tape != nullptr) sc.RecordOn(&writer.emplace(tape));
  Result<JsonValue> v = sc.ScanDocument();
  if (v.ok()) v->tape = tape;
  return v;
}

std::vector<JsonValue> ArrayElements(const JsonValue& array) {
  std::vector<JsonValue> out;
  if (array.kind != JsonKind::kArray) return out;
  Scanner sc(array.raw.substr(1), "", kUnbounded);
  sc.JumpWith(array.tape);
  sc.SkipWs();
  if (sc.Consume(']')) return out;
  for (;;) {
    JsonValue v;
    if (!sc.ScanValue(0, &v)) return out;  // unreachable for scanned text
    v.tape = array.tape;
    out.push_back(v);
    sc.SkipWs();
    if (!sc.Consume(',')) return out;
    sc.SkipWs();
  }
}

Result<std::string> DecodeJsonString(std::string_view token,
                                     std::string_view field) {
  if (token.size() < 2) return InvalidField(field, "must be a string");
  return record::UnescapeJsonStringBody(token.substr(1, token.size() - 2),
                                        field);
}

// ---------------------------------------------------------------- reader

ObjectReader::ObjectReader(const JsonValue& object, std::string prefix)
    : prefix_(std::move(prefix)), tape_(object.tape) {
  if (object.kind != JsonKind::kObject) {
    status_ = InvalidField(prefix_.empty() ? "body" : prefix_,
                           "must be a JSON object");
    return;
  }
  Scanner sc(object.raw.substr(1), "", kUnbounded);
  sc.JumpWith(tape_);
  sc.SkipWs();
  if (sc.Consume('}')) return;
  for (;;) {
    // Request objects have a handful of fields; a cap keeps the duplicate
    // check (linear per member) from turning quadratic on hostile input.
    if (members_.size() >= kMaxMembers) {
      Fail(
          InvalidField(prefix_.empty() ? "body" : prefix_,
                       "more than " + std::to_string(kMaxMembers) + " fields"));
      return;
    }
    JsonValue key;
    sc.ScanValue(0, &key);
    Result<std::string> name = DecodeJsonString(key.raw, FieldName("<key>"));
    if (!name.ok()) {
      Fail(name.error());
      return;
    }
    sc.SkipWs();
    sc.Consume(':');
    sc.SkipWs();
    Member m;
    m.key = std::move(*name);
    sc.ScanValue(0, &m.value);
    m.value.tape = tape_;
    if (Find(m.key) != nullptr) {
      Fail(InvalidField(KeyField(m.key), "duplicate key"));
      return;
    }
    members_.push_back(std::move(m));
    sc.SkipWs();
    if (!sc.Consume(',')) return;
    sc.SkipWs();
  }
}

std::string ObjectReader::FieldName(std::string_view name) const {
  return record::JoinField(prefix_, name);
}

// A client-chosen key, bounded for the message.
std::string ObjectReader::KeyField(std::string_view key) const {
  return record::JoinField(prefix_, record::QuoteForMessage(key));
}

const ObjectReader::Member* ObjectReader::Find(std::string_view name) const {
  for (const Member& m : members_) {
    if (m.key == name) return &m;
  }
  return nullptr;
}

bool ObjectReader::Has(std::string_view name) const {
  return Find(name) != nullptr;
}

bool ObjectReader::HasValue(std::string_view name) const {
  const Member* m = Find(name);
  return m != nullptr && m->value.kind != JsonKind::kNull;
}

std::optional<JsonValue> ObjectReader::Get(std::string_view name) {
  auto* m = const_cast<Member*>(Find(name));
  if (m == nullptr) return std::nullopt;
  m->read = true;
  return m->value;
}

void ObjectReader::Fail(Status status) {
  if (status_.ok()) status_ = std::move(status);
}

void ObjectReader::RefuseImmutable(std::string_view name) {
  if (Get(name)) Fail(InvalidField(FieldName(name), "is immutable"));
}

std::optional<JsonValue> ObjectReader::Typed(std::string_view name,
                                             JsonKind kind, bool null_ok) {
  std::optional<JsonValue> v = Get(name);
  if (!v || (null_ok && v->kind == JsonKind::kNull)) return std::nullopt;
  if (v->kind != kind) {
    Fail(InvalidField(FieldName(name),
                      "must be " + std::string(ToString(kind)) + ", not " +
                          std::string(ToString(v->kind))));
    return std::nullopt;
  }
  return v;
}

std::optional<std::string> ObjectReader::OptString(std::string_view name) {
  std::optional<JsonValue> v = Typed(name, JsonKind::kString, true);
  if (!v) return std::nullopt;
  Result<std::string> s = DecodeJsonString(v->raw, FieldName(name));
  if (!s.ok()) {
    Fail(s.error());
    return std::nullopt;
  }
  return std::move(*s);
}

std::string ObjectReader::ReqString(std::string_view name) {
  if (!Has(name) || Find(name)->value.kind == JsonKind::kNull) {
    Get(name);
    Fail(InvalidField(FieldName(name), "is required"));
    return {};
  }
  return OptString(name).value_or(std::string());
}

std::optional<std::optional<std::string>> ObjectReader::Patch(
    std::string_view name,
    std::optional<std::string> (ObjectReader::*read)(std::string_view)) {
  if (!Has(name)) return std::nullopt;
  if (Find(name)->value.kind == JsonKind::kNull) {
    Get(name);
    return std::optional<std::string>();
  }
  std::optional<std::string> s = (this->*read)(name);
  if (!s) return std::nullopt;
  return s;
}

std::optional<std::optional<std::string>> ObjectReader::PatchString(
    std::string_view name) {
  return Patch(name, &ObjectReader::OptString);
}

std::optional<int64_t> ObjectReader::OptInt(std::string_view name, int64_t min,
                                            int64_t max) {
  std::optional<JsonValue> v = Typed(name, JsonKind::kNumber, true);
  if (!v) return std::nullopt;
  int64_t out = 0;
  auto [end, ec] =
      std::from_chars(v->raw.data(), v->raw.data() + v->raw.size(), out);
  if (ec != std::errc() || end != v->raw.data() + v->raw.size() || out < min ||
      out > max) {
    Fail(InvalidField(FieldName(name), "must be an integer in " +
                                           std::to_string(min) + ".." +
                                           std::to_string(max)));
    return std::nullopt;
  }
  return out;
}

std::optional<uint64_t> ObjectReader::OptUint(std::string_view name) {
  std::optional<JsonValue> v = Typed(name, JsonKind::kNumber, true);
  if (!v) return std::nullopt;
  uint64_t out = 0;
  auto [end, ec] =
      std::from_chars(v->raw.data(), v->raw.data() + v->raw.size(), out);
  if (ec != std::errc() || end != v->raw.data() + v->raw.size() ||
      out > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    Fail(InvalidField(FieldName(name), "must be a non-negative integer"));
    return std::nullopt;
  }
  return out;
}

std::optional<bool> ObjectReader::OptBool(std::string_view name) {
  std::optional<JsonValue> v = Typed(name, JsonKind::kBool, true);
  if (!v) return std::nullopt;
  return v->raw == "true";
}

std::optional<TimestampMs> ObjectReader::OptTimestamp(std::string_view name) {
  std::optional<std::string> s = OptString(name);
  if (!s) return std::nullopt;
  std::optional<TimestampMs> t = base::ParseIso8601(*s);
  if (!t) {
    Fail(InvalidField(FieldName(name),
                      "must be an ISO-8601 timestamp like "
                      "2026-05-23T02:56:00.123Z"));
  }
  return t;
}

std::optional<std::string_view> ObjectReader::OptRaw(std::string_view name) {
  std::optional<JsonValue> v = Get(name);
  if (!v) return std::nullopt;
  return v->raw;
}

std::optional<std::string> ObjectReader::OptObjectText(std::string_view name) {
  std::optional<JsonValue> v = Typed(name, JsonKind::kObject, true);
  if (!v) return std::nullopt;
  return std::string(v->raw);
}

std::optional<std::optional<std::string>> ObjectReader::PatchObjectText(
    std::string_view name) {
  return Patch(name, &ObjectReader::OptObjectText);
}

std::optional<std::vector<JsonValue>> ObjectReader::OptArray(
    std::string_view name) {
  std::optional<JsonValue> v = Typed(name, JsonKind::kArray, true);
  if (!v) return std::nullopt;
  return ArrayElements(*v);
}

Status ObjectReader::Finish() {
  if (!status_.ok()) return std::move(status_);
  for (const Member& m : members_) {
    if (!m.read) return InvalidField(KeyField(m.key), "unknown field");
  }
  return Status::OK();
}

}  // namespace acpstore::server
