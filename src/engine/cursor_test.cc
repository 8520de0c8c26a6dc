// Tests for page cursors: they round-trip and refuse anything else.

#include "engine/cursor.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace acpstore::engine {
namespace {

TEST(CursorTest, RoundTripsTimeAndId) {
  for (const std::string& id : std::vector<std::string>{
           "a", "session-1", "\xc3\xbcn\xc3\xaf/ids:ok", std::string(256, 'x')}) {
    for (TimestampMs t : {TimestampMs{0}, TimestampMs{1779504960123},
                          TimestampMs{-5}}) {
      auto key = DecodeCursor(EncodeCursor(t, id));
      ASSERT_TRUE(key.ok()) << key.status();
      EXPECT_EQ(key->time, t);
      EXPECT_EQ(key->id, id);
    }
  }
}

TEST(CursorTest, IsUrlSafe) {
  std::string c = EncodeCursor(1779504960123, "\xff\xfe\xfd?>?>>>");
  EXPECT_EQ(c.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopq"
                                "rstuvwxyz0123456789-_"),
            std::string::npos);
}

TEST(CursorTest, GarbageIsInvalidArgumentNamingTheField) {
  for (const char* bad : {"!", "abc", "a", "AAAA", "not a cursor",
                          "Y2FiYw==" /* padded */}) {
    auto key = DecodeCursor(bad);
    ASSERT_FALSE(key.ok()) << bad;
    EXPECT_EQ(key.error().code(), StatusCode::kInvalidArgument);
    ASSERT_NE(key.error().Detail("field"), nullptr);
  }
}

TEST(CursorTest, NonCanonicalSpellingIsRefused) {
  std::string c = EncodeCursor(7, "ab");  // 11 raw bytes: 15 chars, 2 spare bits
  ASSERT_EQ(c.size() % 4, 3u);
  // Flip a spare low bit of the last character.
  std::string alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  size_t v = alphabet.find(c.back());
  c.back() = alphabet[v ^ 1];
  EXPECT_FALSE(DecodeCursor(c).ok());
}

TEST(CursorTest, EmptyIdIsNotACursor) {
  EXPECT_FALSE(DecodeCursor(EncodeCursor(5, "")).ok());
}

}  // namespace
}  // namespace acpstore::engine
