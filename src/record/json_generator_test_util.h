// Test helper: random JSON-like text for the differential tests of the
// payload fast path (canonical_fast_test.cc) and of the request scanner's
// canonical verdict (server/json_reader_test.cc).

#ifndef ACPSTORE_RECORD_JSON_GENERATOR_TEST_UTIL_H_
#define ACPSTORE_RECORD_JSON_GENERATOR_TEST_UTIL_H_

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <random>
#include <string>
#include <string_view>

namespace acpstore::record {

// Random JSON-like text: mostly valid documents built from tricky pieces,
// some mutated byte by byte.
class JsonGenerator {
 public:
  // `spaces`: whitespace between tokens at random; without it, documents
  // are compact (and so often already canonical).
  explicit JsonGenerator(uint32_t seed, bool spaces = true)
      : rng_(seed), spaces_(spaces) {}

  std::string Document() {
    std::string s;
    Value(&s, 0);
    if (Pick(4) == 0) Mutate(&s);
    return s;
  }
  size_t Pick(size_t n) { return rng_() % n; }
  // An object of up to max_members - 1 members whose values are
  // Document()s, keys "k<n>" (some with an escaped quote), for the
  // transcript's member scans: keys repeat unless `distinct_keys`.
  std::string Object(size_t max_members, bool distinct_keys) {
    std::string doc = "{";
    const size_t members = Pick(max_members);
    for (size_t m = 0; m < members; ++m) {
      if (m > 0) doc += ',';
      doc += "\"k" + std::to_string(distinct_keys ? m : Pick(8)) +
             (Pick(3) == 0 ? "\\\"" : "") + "\":" + Document();
    }
    doc += "}";
    return doc;
  }

 private:
  void Space(std::string* s) {
    if (!spaces_) return;
    static constexpr std::string_view kSpace[] = {"", "", "", " ", "\n\t", "\r"};
    *s += kSpace[Pick(std::size(kSpace))];
  }
  void Value(std::string* s, int depth) {
    Space(s);
    const size_t kind = depth >= 5 ? 3 + Pick(4) : Pick(7);
    if (kind == 0 || kind == 1) {
      const bool object = kind == 0;
      *s += object ? '{' : '[';
      const size_t n = Pick(object ? 12 : 5);
      for (size_t i = 0; i < n; ++i) {
        if (i > 0) *s += ',';
        if (object) {
          Space(s);
          // A small alphabet of keys makes duplicates common.
          String(s, 2);
          Space(s);
          *s += ':';
        }
        Value(s, depth + 1);
      }
      Space(s);
      *s += object ? '}' : ']';
    } else if (kind == 2 || kind == 3) {
      String(s, 12);
    } else if (kind == 4) {
      static constexpr std::string_view kNumbers[] = {
          "0", "-0", "7", "-42", "1.0", "1e5", "1E+2", "-1.5e-3", "0.1",
          "5e-324", "2.2250738585072014e-308", "1.7976931348623157e308",
          "123456789012345678", "1234567890123456789", "-9223372036854775808",
          "18446744073709551615", "18446744073709551616", "1e400", "-1e-400",
          "1e0001", "1e99999", "0.30000000000000004", "100e-2"};
      *s += kNumbers[Pick(std::size(kNumbers))];
    } else {
      static constexpr std::string_view kLiterals[] = {"true", "false", "null"};
      *s += kLiterals[Pick(std::size(kLiterals))];
    }
    Space(s);
  }
  void String(std::string* s, size_t max_pieces) {
    static constexpr std::string_view kPieces[] = {
        "a", "b", "plain text ", "\\n", "\\\"", "\\\\", "\\/", "\\t",
        "\\u0041", "\\u00e9", "\\u0000", "\\u001F", "\\u007f", "\\u2028",
        "\\ud83d\\ude00", "\\uD83D\\uDE00", "\xC3\xA9", "\xF0\x9F\x98\x80",
        "\x7F", "\xC2\x85", "\\ud800", "\\udc00", "\x01", "\xC3", "\\q"};
    *s += '"';
    const size_t n = Pick(max_pieces + 1);
    for (size_t i = 0; i < n; ++i) {
      // Mostly valid pieces; the last five are errors.
      const size_t limit = Pick(10) == 0 ? std::size(kPieces)
                                         : std::size(kPieces) - 5;
      *s += kPieces[Pick(limit)];
    }
    *s += '"';
  }
  void Mutate(std::string* s) {
    if (s->empty()) return;
    const size_t at = Pick(s->size());
    switch (Pick(3)) {
      case 0:
        s->erase(at, 1);
        break;
      case 1:
        s->insert(at, 1, "{}[],:\"\\ 0-e"[Pick(12)]);
        break;
      default:
        (*s)[at] = static_cast<char>(rng_());
    }
  }

  std::mt19937 rng_;
  bool spaces_;
};

}  // namespace acpstore::record

#endif  // ACPSTORE_RECORD_JSON_GENERATOR_TEST_UTIL_H_
