#include "base/ascii.h"

#include <gtest/gtest.h>

namespace acpstore::base {
namespace {

TEST(AsciiTest, LowerFoldsOnlyAsciiLetters) {
  EXPECT_EQ(AsciiLower("Content-TYPE: 9 Z@["), "content-type: 9 z@[");
  // A UTF-8 'É' (0xC3 0x89) is left exactly as it was.
  EXPECT_EQ(AsciiLower("\xC3\x89"), "\xC3\x89");
}

TEST(AsciiTest, EqualsAsciiLowerComparesWholeStrings) {
  EXPECT_TRUE(EqualsAsciiLower("Content-Length", "content-length"));
  EXPECT_FALSE(EqualsAsciiLower("Content-Lengths", "content-length"));
  EXPECT_FALSE(EqualsAsciiLower("Content-Lengt", "content-length"));
  EXPECT_FALSE(EqualsAsciiLower("Content_Length", "content-length"));
}

TEST(AsciiTest, TrimStripsSpacesAndTabsOnly) {
  EXPECT_EQ(TrimHttpWhitespace(" \t a b \t"), "a b");
  EXPECT_EQ(TrimHttpWhitespace("\r\na\n"), "\r\na\n");
  EXPECT_EQ(TrimHttpWhitespace(" \t "), "");
  EXPECT_EQ(TrimHttpWhitespace(""), "");
}

}  // namespace
}  // namespace acpstore::base
