// Tests of little-endian fixed and varint coding, including malformed input.

#include "base/coding.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace acpstore::base {
namespace {

TEST(CodingTest, FixedIsLittleEndian) {
  std::string s;
  PutFixed32(&s, 0x04030201u);
  PutFixed64(&s, 0x0c0b0a0908070605ull);
  ASSERT_EQ(
      s, std::string("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c", 12));
  std::string_view in = s;
  uint32_t a;
  uint64_t b;
  ASSERT_TRUE(GetFixed32(&in, &a));
  ASSERT_TRUE(GetFixed64(&in, &b));
  EXPECT_EQ(a, 0x04030201u);
  EXPECT_EQ(b, 0x0c0b0a0908070605ull);
  EXPECT_TRUE(in.empty());
}

TEST(CodingTest, FixedRefusesShortInputAndLeavesItUnchanged) {
  std::string_view in("\x01\x02\x03", 3);
  uint32_t v;
  EXPECT_FALSE(GetFixed32(&in, &v));
  EXPECT_EQ(in.size(), 3u);
  uint64_t w;
  std::string_view in8("1234567", 7);
  EXPECT_FALSE(GetFixed64(&in8, &w));
}

TEST(CodingTest, Varint64RoundTripsBoundaries) {
  std::vector<uint64_t> values = {
      0,          1,
      127,        128,
      255,        16383,
      16384,      (1ull << 32) - 1,
      1ull << 32, std::numeric_limits<uint64_t>::max()};
  for (int shift = 0; shift < 64; ++shift) values.push_back(1ull << shift);
  std::string s;
  for (uint64_t v : values) PutVarint64(&s, v);
  std::string_view in = s;
  for (uint64_t v : values) {
    const size_t before = in.size();
    uint64_t got;
    ASSERT_TRUE(GetVarint64(&in, &got));
    EXPECT_EQ(got, v);
    EXPECT_EQ(before - in.size(), VarintLength(v));
  }
  EXPECT_TRUE(in.empty());
}

TEST(CodingTest, Varint32RoundTripsAndRefusesOverflow) {
  std::string s;
  PutVarint32(&s, std::numeric_limits<uint32_t>::max());
  EXPECT_EQ(s.size(), 5u);
  std::string_view in = s;
  uint32_t v;
  ASSERT_TRUE(GetVarint32(&in, &v));
  EXPECT_EQ(v, std::numeric_limits<uint32_t>::max());

  std::string too_big;
  PutVarint64(&too_big, 1ull << 32);
  std::string_view bad = too_big;
  EXPECT_FALSE(GetVarint32(&bad, &v));
  EXPECT_EQ(bad.size(), too_big.size());
}

TEST(CodingTest, VarintRefusesTruncatedAndOverlongInput) {
  uint64_t v;
  std::string_view truncated("\x80\x80", 2);
  EXPECT_FALSE(GetVarint64(&truncated, &v));
  std::string eleven(10, '\x80');
  eleven.push_back('\x01');
  std::string_view overlong = eleven;
  EXPECT_FALSE(GetVarint64(&overlong, &v));
  // Tenth byte may only carry bit 63.
  std::string ten(9, '\xff');
  ten.push_back('\x02');
  std::string_view overflow = ten;
  EXPECT_FALSE(GetVarint64(&overflow, &v));
  std::string_view empty;
  EXPECT_FALSE(GetVarint64(&empty, &v));
}

TEST(CodingTest, LengthPrefixedRoundTripsAndRefusesShortBody) {
  std::string s;
  PutLengthPrefixed(&s, "abc");
  PutLengthPrefixed(&s, "");
  PutLengthPrefixed(&s, std::string(300, 'x'));
  std::string_view in = s, v;
  ASSERT_TRUE(GetLengthPrefixed(&in, &v));
  EXPECT_EQ(v, "abc");
  ASSERT_TRUE(GetLengthPrefixed(&in, &v));
  EXPECT_EQ(v, "");
  ASSERT_TRUE(GetLengthPrefixed(&in, &v));
  EXPECT_EQ(v, std::string(300, 'x'));
  EXPECT_TRUE(in.empty());

  std::string_view short_body(
      "\x05"
      "abc",
      4);
  EXPECT_FALSE(GetLengthPrefixed(&short_body, &v));
  EXPECT_EQ(short_body.size(), 4u);
}

}  // namespace
}  // namespace acpstore::base
