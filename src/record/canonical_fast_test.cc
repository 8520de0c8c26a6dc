// Tests for the payload fast path (canonical_fast.h): it takes the common
// inputs, and whatever it accepts the Boost.JSON path accepts with the same
// bytes, so CanonicalizePayload behaves exactly as the parser alone.

#include "record/canonical_fast.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <iterator>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "record/canonical_json.h"
#include "record/json_generator_test_util.h"
#include "record/validate.h"

namespace acpstore::record {
namespace {

// The fast path's output, or "declined".
std::string Fast(std::string_view in, size_t max_bytes = 1 << 20,
                 size_t max_depth = 64) {
  std::string out;
  if (!TryCanonicalizeFast(in, max_bytes, max_depth, &out)) return "declined";
  return out;
}

TEST(CanonicalFastTest, TakesOrdinaryPayloads) {
  EXPECT_EQ(Fast(R"({"tool":"bash","input":{"command":"ls -la"},"ok":true})"),
            R"({"tool":"bash","input":{"command":"ls -la"},"ok":true})");
  EXPECT_EQ(Fast(" { \"b\" : 1 ,\n\t\"a\" : [ 1 , 2 , { } , [ ] ] } "),
            R"({"b":1,"a":[1,2,{},[]]})");
  EXPECT_EQ(Fast(R"("line 1\nline \"2\"\t\\")"), R"("line 1\nline \"2\"\t\\")");
  EXPECT_EQ(Fast("null"), "null");
  EXPECT_EQ(Fast(" false "), "false");
  EXPECT_EQ(Fast("[]"), "[]");
  EXPECT_EQ(Fast("\"caf\xC3\xA9 \xF0\x9F\x98\x80\""), "\"caf\xC3\xA9 \xF0\x9F\x98\x80\"");
}

TEST(CanonicalFastTest, RewritesEscapesMinimally) {
  EXPECT_EQ(Fast(R"("a\/b")"), R"("a/b")");
  EXPECT_EQ(Fast(R"("\u0041\u00e9")"), "\"A\xC3\xA9\"");
  EXPECT_EQ(Fast(R"("\ud83d\ude00")"), "\"\xF0\x9F\x98\x80\"");
  EXPECT_EQ(Fast(R"("\u0022\u005C\u000a\u0001\u007f")"),
            "\"\\\"\\\\\\n\\u0001\x7F\"");
  EXPECT_EQ(Fast(R"({"k\u0065y":1})"), R"({"key":1})");
}

TEST(CanonicalFastTest, CanonicalisesNumbers) {
  EXPECT_EQ(Fast("[0,-0,17,-42,123456789012345678]"),
            "[0,-0,17,-42,123456789012345678]");
  EXPECT_EQ(Fast("[1.0,1e5,1E+2,-1.5e-3,0.1,1e-400]"),
            "[1,1e+05,100,-0.0015,0.1,0]");
}

TEST(CanonicalFastTest, DeclinesWhatItLeavesToTheParser) {
  for (std::string_view in : {
           "", "  ", "{", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "{1:2}", "01",
           "1.", "-", "1e", "+1", ".5", "tru", "nul", "[1] x", "\"abc",
           "\"a\x01\"", "\"\\x\"", "\"\\u12\"", "\"\\u12G4\"",
           "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"",
           "\"\xC3\"", "\"\xED\xA0\x80\"", "\xEF\xBB\xBFnull",
           "{\"a\":1,\"a\":2}", "{\"\\u0061\":1,\"a\":2}",
           "1234567890123456789", "18446744073709551616", "1e99999",
           "1e400", "0.0000000000000000000000000000000000000001",
           "[NaN]", "Infinity", "// c\n1"}) {
    EXPECT_EQ(Fast(in), "declined") << in;
  }
  EXPECT_EQ(Fast("[[[1]]]", 1 << 20, 3), "[[[1]]]");
  EXPECT_EQ(Fast("[[[1]]]", 1 << 20, 2), "declined");
  EXPECT_EQ(Fast("[{}]", 1 << 20, 1), "declined");
  EXPECT_EQ(Fast("\"abcd\"", 6), "\"abcd\"");
  EXPECT_EQ(Fast("\"abcde\"", 6), "declined");
  EXPECT_EQ(Fast("1e21", 5), "1e+21");
  EXPECT_EQ(Fast("1e21", 4), "declined");  // "1e+21" grows past the cap
}

// Long strings with escapes and multi-byte characters on every side of
// 4 KiB (where Boost's parser refills its escape buffer) agree too.
TEST(CanonicalFastTest, AgreesOnLongEscapedStrings) {
  for (size_t prefix = 4080; prefix < 4110; ++prefix) {
    for (std::string_view piece : {"\\n", "\\u00e9", "\\ud83d\\ude00", "\xC3\xA9",
                                   "\\ud800\\ud83d\\ude00"}) {
      const std::string in = "\"" + std::string(prefix, 'x') + std::string(piece) +
                             std::string(20, 'y') + "\"";
      Result<std::string> reference =
          CanonicalizePayloadWithParser(in, Limits{}, "payload");
      std::string fast;
      if (TryCanonicalizeFast(in, 1 << 20, 64, &fast)) {
        ASSERT_TRUE(reference.ok()) << prefix << " " << piece;
        ASSERT_EQ(fast, *reference) << prefix << " " << piece;
      } else {
        // Only the lone surrogate is declined.
        EXPECT_FALSE(reference.ok()) << prefix << " " << piece;
      }
    }
  }
}

TEST(CanonicalFastTest, FindsDuplicatesInLargeObjects) {
  std::string obj = "{";
  for (int i = 0; i < 40; ++i) obj += "\"k" + std::to_string(i) + "\":" + std::to_string(i) + ",";
  std::string unique = obj;
  unique.back() = '}';
  EXPECT_EQ(Fast(unique), unique);
  EXPECT_EQ(Fast(obj + "\"k17\":0}"), "declined");
  // Keys of a closed inner object do not clash with the outer one's.
  EXPECT_EQ(Fast(R"({"a":{"a":1,"b":2},"b":{"a":3}})"),
            R"({"a":{"a":1,"b":2},"b":{"a":3}})");
}

// The property CanonicalizePayload relies on, over many random inputs and
// two sets of limits: the fast path never accepts what the parser refuses,
// never writes other bytes, and takes most valid documents.
TEST(CanonicalFastTest, AgreesWithTheParser) {
  Limits small;
  small.max_payload_bytes = 64;
  small.max_json_depth = 3;
  JsonGenerator gen(20261129);
  size_t parser_accepted = 0;
  size_t fast_accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    const std::string in = gen.Document();
    for (const Limits& limits : {Limits{}, small}) {
      Result<std::string> reference =
          CanonicalizePayloadWithParser(in, limits, "payload");
      std::string fast;
      const bool took = TryCanonicalizeFast(in, limits.max_payload_bytes,
                                            limits.max_json_depth, &fast);
      if (took) {
        ASSERT_TRUE(reference.ok()) << "fast path accepted what the parser "
                                       "refuses: "
                                    << in << "\n"
                                    << reference.error().message();
        ASSERT_EQ(fast, *reference) << in;
        ++fast_accepted;
      }
      if (reference.ok()) ++parser_accepted;
      // And the public entry point is the parser's answer, errors included.
      Result<std::string> full = CanonicalizePayload(in, limits, "payload");
      ASSERT_EQ(full.ok(), reference.ok()) << in;
      if (full.ok()) {
        ASSERT_EQ(*full, *reference);
      } else {
        ASSERT_EQ(full.error().message(), reference.error().message());
      }
    }
  }
  ASSERT_GT(parser_accepted, 5000u);
  // Declines are for rare inputs (long integers, huge exponents); the
  // generator makes some, so "most" rather than "all".
  EXPECT_GT(fast_accepted, parser_accepted * 8 / 10)
      << fast_accepted << " of " << parser_accepted;
}

}  // namespace
}  // namespace acpstore::record
