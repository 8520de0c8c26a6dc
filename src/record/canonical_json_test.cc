// Tests for CanonicalizePayload: the canonical form, and every rejection
// SPEC §2.7 names (depth, duplicates, number range, UTF-8, size).

#include <gtest/gtest.h>

#include <string>

#include "record/validate.h"

namespace acpstore::record {
namespace {

// The canonical text, or "<code>: <message>" on failure.
std::string Canon(std::string_view in, const Limits& limits = Limits{},
                  std::string_view field = "payload") {
  Result<std::string> r = CanonicalizePayload(in, limits, field);
  if (r.ok()) return *r;
  return std::string(StatusCodeName(r.error().code())) + ": " +
         std::string(r.error().message());
}

bool Rejected(std::string_view in, const Limits& limits = Limits{}) {
  return !CanonicalizePayload(in, limits).ok();
}

std::string Nested(int depth, std::string_view open = "[",
                   std::string_view close = "]") {
  std::string s;
  for (int i = 0; i < depth; ++i) s += open;
  s += "0";
  for (int i = 0; i < depth; ++i) s += close;
  return s;
}

TEST(CanonicalJsonTest, RemovesWhitespaceAndKeepsKeyOrder) {
  EXPECT_EQ(Canon(" { \"b\" : 1 ,\n\t\"a\" : [ 1 , 2 , { } , [ ] ] } "),
            R"({"b":1,"a":[1,2,{},[]]})");
}

TEST(CanonicalJsonTest, AcceptsAnyTopLevelValue) {
  EXPECT_EQ(Canon("\"x\""), "\"x\"");
  EXPECT_EQ(Canon("  7 "), "7");
  EXPECT_EQ(Canon("true"), "true");
  EXPECT_EQ(Canon("false"), "false");
  EXPECT_EQ(Canon("null"), "null");
  EXPECT_EQ(Canon("[]"), "[]");
  EXPECT_EQ(Canon("{}"), "{}");
}

TEST(CanonicalJsonTest, IntegersStayAsWritten) {
  EXPECT_EQ(Canon("0"), "0");
  EXPECT_EQ(Canon("-0"), "-0");
  EXPECT_EQ(Canon("9007199254740993"), "9007199254740993");  // > 2^53
  EXPECT_EQ(Canon("-9223372036854775808"), "-9223372036854775808");
  EXPECT_EQ(Canon("18446744073709551615"), "18446744073709551615");
}

TEST(CanonicalJsonTest, OtherNumbersUseShortestRoundTrip) {
  EXPECT_EQ(Canon("1.5"), "1.5");
  EXPECT_EQ(Canon("1.50"), "1.5");
  EXPECT_EQ(Canon("1.0"), "1");
  EXPECT_EQ(Canon("1e2"), "100");
  EXPECT_EQ(Canon("1E2"), "100");
  EXPECT_EQ(Canon("1e+2"), "100");
  EXPECT_EQ(Canon("0.1"), "0.1");
  EXPECT_EQ(Canon("-0.0"), "-0");
  EXPECT_EQ(Canon("1e21"), "1e+21");
  EXPECT_EQ(Canon("1e-7"), "1e-07");
  EXPECT_EQ(Canon("123456789012345678901234567890"), "1.2345678901234568e+29");
  EXPECT_EQ(Canon("1.7976931348623157e308"), "1.7976931348623157e+308");
  EXPECT_EQ(Canon("5e-324"), "5e-324");
  // Correctly rounded: the nearest double to this text is exactly 0.3.
  EXPECT_EQ(Canon("0.299999999999999988897769753748434595763683319091796875"),
            "0.3");
}

TEST(CanonicalJsonTest, NumbersBeyondDoubleRangeAreRejected) {
  EXPECT_EQ(Canon("1e400"),
            "invalid_argument: payload: number 1e400 does not fit a double");
  EXPECT_EQ(Canon("-1e400"),
            "invalid_argument: payload: number -1e400 does not fit a double");
  EXPECT_TRUE(Rejected("1.8e308"));
  EXPECT_TRUE(Rejected("[1, {\"a\": 0.0001e313}]"));
  EXPECT_TRUE(Rejected(std::string(400, '9')));
  EXPECT_TRUE(Rejected("1e99999999999999"));
}

TEST(CanonicalJsonTest, UnderflowBecomesSignedZero) {
  EXPECT_EQ(Canon("1e-400"), "0");
  EXPECT_EQ(Canon("-1e-400"), "-0");
  EXPECT_EQ(Canon("123e-500"), "0");
}

TEST(CanonicalJsonTest, NanAndInfinityAreNotJson) {
  for (const char* bad : {"NaN", "Infinity", "-Infinity", "[NaN]", "nan", "inf"}) {
    EXPECT_TRUE(Rejected(bad)) << bad;
  }
}

TEST(CanonicalJsonTest, StringsAreEscapedMinimally) {
  EXPECT_EQ(Canon(R"("\u0041\/\u00e9")"), "\"A/\xC3\xA9\"");
  EXPECT_EQ(Canon(R"("\b\f\n\r\t")"), R"("\b\f\n\r\t")");
  EXPECT_EQ(Canon(R"("\u0000\u001f\u0001")"), R"("\u0000\u001f\u0001")");
  EXPECT_EQ(Canon(R"("q\"b\\")"), R"("q\"b\\")");
  EXPECT_EQ(Canon("\"\x7f\""), "\"\x7f\"");  // DEL is legal raw
  EXPECT_EQ(Canon(R"("\u2028")"), "\"\xE2\x80\xA8\"");
  EXPECT_EQ(Canon(R"("\ud83d\ude00")"), "\"\xF0\x9F\x98\x80\"");
  EXPECT_EQ(Canon("\"\xF0\x9F\x98\x80\""), "\"\xF0\x9F\x98\x80\"");
  EXPECT_EQ(Canon(R"({"k\n\u0041":"v"})"), R"({"k\nA":"v"})");
}

TEST(CanonicalJsonTest, LongStringsWithEscapesSurviveParts) {
  std::string body;
  for (int i = 0; i < 5000; ++i) body += "ab\\n\\u00e9";
  std::string expected;
  for (int i = 0; i < 5000; ++i) expected += "ab\\n\xC3\xA9";
  EXPECT_EQ(Canon("\"" + body + "\""), "\"" + expected + "\"");
}

TEST(CanonicalJsonTest, InvalidUtf8IsRejected) {
  const char* bad[] = {
      "\"\xff\"",              // never valid
      "\"\x80\"",              // lone continuation byte
      "\"\xc0\x80\"",          // overlong NUL
      "\"\xc1\xbf\"",          // overlong 2-byte
      "\"\xe0\x80\x80\"",      // overlong 3-byte
      "\"\xf0\x80\x80\x80\"",  // overlong 4-byte
      "\"\xed\xa0\x80\"",      // UTF-8-encoded surrogate U+D800
      "\"\xed\xbf\xbf\"",      // UTF-8-encoded surrogate U+DFFF
      "\"\xf4\x90\x80\x80\"",  // above U+10FFFF
      "\"\xe2\x82\"",          // truncated sequence
      "{\"\xff\":1}",          // in a key
  };
  for (const char* in : bad) {
    Result<std::string> r = CanonicalizePayload(in, Limits{});
    ASSERT_FALSE(r.ok()) << in;
    EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.error().message().find("invalid UTF-8"), std::string::npos)
        << r.error();
  }
}

TEST(CanonicalJsonTest, LoneSurrogateEscapesAreRejected) {
  EXPECT_EQ(Canon(R"("\ud800")"),
            "invalid_argument: payload: invalid \\u surrogate escape at offset 7");
  EXPECT_EQ(Canon(R"("\udc00")"),
            "invalid_argument: payload: invalid \\u surrogate escape at offset 7");
  EXPECT_TRUE(Rejected(R"("\udc00")"));
  EXPECT_TRUE(Rejected(R"("\ud800\u0041")"));
  EXPECT_TRUE(Rejected(R"("\ude00\ud83d")"));
}

TEST(CanonicalJsonTest, DepthLimitIsInclusive) {
  EXPECT_EQ(Canon(Nested(64)), Nested(64));
  EXPECT_EQ(Canon(Nested(65)),
            "invalid_argument: payload: nesting depth exceeds 64");
  EXPECT_TRUE(Rejected(Nested(100000)));
  std::string objects = Nested(64, "{\"a\":", "}");
  EXPECT_EQ(Canon(objects), objects);
  EXPECT_TRUE(Rejected(Nested(65, "{\"a\":", "}")));
}

TEST(CanonicalJsonTest, DepthLimitIsConfigurable) {
  Limits limits;
  limits.max_json_depth = 2;
  EXPECT_EQ(Canon("[[1]]", limits), "[[1]]");
  EXPECT_EQ(Canon("[[[1]]]", limits),
            "invalid_argument: payload: nesting depth exceeds 2");
  EXPECT_EQ(Canon("[[1],[2],{\"a\":[3]}]", limits),
            "invalid_argument: payload: nesting depth exceeds 2");
}

TEST(CanonicalJsonTest, DuplicateKeysAreRejectedAtAnyDepth) {
  EXPECT_EQ(Canon(R"({"a":1,"a":2})"),
            "invalid_argument: payload: duplicate key \"a\"");
  EXPECT_EQ(Canon(R"({"x":{"a":1,"b":2,"a":3}})"),
            "invalid_argument: payload: duplicate key \"a\"");
  EXPECT_TRUE(Rejected(R"([{"k":[{"z":1,"y":2,"z":3}]}])"));
  // Spelled differently, equal after unescaping.
  EXPECT_TRUE(Rejected(R"({"a":1,"\u0061":2})"));
  EXPECT_TRUE(Rejected(R"({"a\nb":1,"a\u000ab":2})"));
}

TEST(CanonicalJsonTest, SameKeyInDifferentObjectsIsFine) {
  EXPECT_EQ(Canon(R"({"x":{"a":1},"y":{"a":1},"a":[{"a":1},{"a":2}]})"),
            R"({"x":{"a":1},"y":{"a":1},"a":[{"a":1},{"a":2}]})");
  EXPECT_EQ(Canon(R"({"a":1,"A":2,"a ":3})"), R"({"a":1,"A":2,"a ":3})");
}

TEST(CanonicalJsonTest, ManyKeysAfterALargeObjectStayLinear) {
  std::string in = "[{";
  for (int i = 0; i < 20000; ++i) {
    if (i) in += ',';
    in += "\"k" + std::to_string(i) + "\":0";
  }
  in += "}";
  for (int i = 0; i < 20000; ++i) in += ",{\"a\":1,\"b\":2}";
  in += "]";
  Result<std::string> r = CanonicalizePayload(in, Limits{});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, in);
}

TEST(CanonicalJsonTest, SizeCapIsOnCanonicalBytesAndInclusive) {
  Limits limits;
  limits.max_payload_bytes = 10;
  EXPECT_EQ(Canon("\"12345678\"", limits), "\"12345678\"");  // exactly 10
  EXPECT_EQ(Canon("   \"12345678\"   ", limits), "\"12345678\"");
  Result<std::string> r = CanonicalizePayload("\"123456789\"", limits);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), StatusCode::kPayloadTooLarge);
  EXPECT_EQ(r.error().message(), "payload: canonical size exceeds 10 bytes");
  ASSERT_NE(r.error().Detail("limit"), nullptr);
  EXPECT_EQ(std::get<int64_t>(r.error().Detail("limit")->value), 10);
}

TEST(CanonicalJsonTest, DefaultSizeCapBoundary) {
  const Limits limits;  // 1 MiB
  const std::string exact = "\"" + std::string(limits.max_payload_bytes - 2, 'x') + "\"";
  Result<std::string> ok = CanonicalizePayload(exact, limits);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->size(), limits.max_payload_bytes);
  const std::string over = "\"" + std::string(limits.max_payload_bytes - 1, 'x') + "\"";
  EXPECT_EQ(CanonicalizePayload(over, limits).status().code(),
            StatusCode::kPayloadTooLarge);
}

TEST(CanonicalJsonTest, SizeCapCountsOutputNotInput) {
  Limits limits;
  limits.max_payload_bytes = 4;
  // Four input bytes, five canonical ones ("1e-07").
  EXPECT_EQ(CanonicalizePayload("1e-7", limits).status().code(),
            StatusCode::kPayloadTooLarge);
  // Ten input bytes, three canonical ones.
  EXPECT_EQ(Canon(" \"\\u0041\" ", limits), "\"A\"");
}

TEST(CanonicalJsonTest, MalformedJsonIsRejected) {
  for (const char* bad :
       {"{", "}", "[1,]", "{\"a\":1,}", "{'a':1}", "{a:1}", "01", "+1", ".5",
        "1.", "-", "tru", "nul", "[1 2]", "{\"a\" 1}", "\"\t\"", "\"abc",
        "/* c */ 1", "[1] // c", "\"\\x41\"", "\"\\u12\""}) {
    Result<std::string> r = CanonicalizePayload(bad, Limits{});
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(CanonicalJsonTest, EmptyAndWhitespaceOnlyAreRejected) {
  EXPECT_EQ(Canon(""), "invalid_argument: payload: empty JSON text");
  EXPECT_EQ(Canon(" \n\t "), "invalid_argument: payload: empty JSON text");
}

TEST(CanonicalJsonTest, TrailingDataIsRejected) {
  EXPECT_EQ(Canon("1 2"),
            "invalid_argument: payload: unexpected data after the JSON value "
            "at offset 2");
  EXPECT_TRUE(Rejected("{} x"));
  EXPECT_TRUE(Rejected("{}{}"));
  EXPECT_TRUE(Rejected(std::string("1\0", 2)));
}

TEST(CanonicalJsonTest, ErrorsNameTheGivenField) {
  Result<std::string> r =
      CanonicalizePayload(Nested(65), Limits{}, "events[2].payload");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "events[2].payload: nesting depth exceeds 64");
  ASSERT_NE(r.error().Detail("field"), nullptr);
  EXPECT_EQ(std::get<std::string>(r.error().Detail("field")->value),
            "events[2].payload");
}

TEST(CanonicalJsonTest, CanonicalOutputIsAFixedPoint) {
  for (const char* in :
       {R"({"b":[1.0,2.50,-0.0,1e300,1e-300,123456789012345678901.5]})",
        R"(["\u0000\u007f\u0080\uffff", "\ud83d\ude00", "\"\\/"])",
        R"([1e21, 1e20, 0.000001, 1e-7, 9223372036854775808, -9223372036854775809])",
        R"({"nested":{"deeper":{"deepest":[true,false,null]}}})",
        "12345678901234567890123", "-1e-400", "5e-324", "4.9406564584124654e-324"}) {
    Result<std::string> once = CanonicalizePayload(in, Limits{});
    ASSERT_TRUE(once.ok()) << in << ": " << once.status();
    Result<std::string> twice = CanonicalizePayload(*once, Limits{});
    ASSERT_TRUE(twice.ok()) << *once;
    EXPECT_EQ(*twice, *once) << in;
  }
}

}  // namespace
}  // namespace acpstore::record
