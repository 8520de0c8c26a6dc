// Tests for page cursors: they round-trip and refuse anything else.

#include "engine/cursor.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/time_format.h"

namespace acpstore::engine {
namespace {

constexpr CursorKind kS = CursorKind::kSessions;
constexpr CursorKind kA = CursorKind::kActions;

TEST(CursorTest, RoundTripsTimeAndId) {
  for (CursorKind kind : {kS, kA}) {
    for (const std::string& id : std::vector<std::string>{
             "a", "session-1", "\xc3\xbcn\xc3\xaf/ids:ok", std::string(256, 'x')}) {
      for (TimestampMs t : {TimestampMs{0}, TimestampMs{1779504960123},
                            base::kLatestTimestamp}) {
        auto key = DecodeCursor(kind, EncodeCursor(kind, t, id));
        ASSERT_TRUE(key.ok()) << key.status();
        EXPECT_EQ(key->time, t);
        EXPECT_EQ(key->id, id);
      }
    }
  }
}

TEST(CursorTest, IsUrlSafe) {
  std::string c = EncodeCursor(kS, 1779504960123, "\xff\xfe\xfd?>?>>>");
  EXPECT_EQ(c.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopq"
                                "rstuvwxyz0123456789-_"),
            std::string::npos);
}

TEST(CursorTest, GarbageIsInvalidArgumentNamingTheField) {
  for (const char* bad : {"!", "abc", "a", "AAAA", "not a cursor",
                          "Y2FiYw==" /* padded */}) {
    auto key = DecodeCursor(kS, bad);
    ASSERT_FALSE(key.ok()) << bad;
    EXPECT_EQ(key.error().code(), StatusCode::kInvalidArgument);
    ASSERT_NE(key.error().Detail("field"), nullptr);
  }
}

TEST(CursorTest, NonCanonicalSpellingIsRefused) {
  std::string c = EncodeCursor(kS, 7, "ab");  // 11 raw bytes: 15 chars, 2 spare bits
  ASSERT_EQ(c.size() % 4, 3u);
  // Flip a spare low bit of the last character.
  std::string alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  size_t v = alphabet.find(c.back());
  c.back() = alphabet[v ^ 1];
  EXPECT_FALSE(DecodeCursor(kS, c).ok());
}

TEST(CursorTest, EmptyIdIsNotACursor) {
  EXPECT_FALSE(DecodeCursor(kS, EncodeCursor(kS, 5, "")).ok());
}

// A cursor of one listing is refused by the other.
TEST(CursorTest, TheOtherListingsCursorIsRefused) {
  EXPECT_FALSE(DecodeCursor(kA, EncodeCursor(kS, 5, "x")).ok());
  EXPECT_FALSE(DecodeCursor(kS, EncodeCursor(kA, 5, "x")).ok());
}

// No stored time lies outside 1970..9999, so no cursor does.
TEST(CursorTest, TimesNoRecordCanHaveAreRefused) {
  for (TimestampMs t : {TimestampMs{-1}, base::kLatestTimestamp + 1,
                        TimestampMs{INT64_MIN} + 5}) {
    EXPECT_FALSE(DecodeCursor(kS, EncodeCursor(kS, t, "x")).ok()) << t;
  }
}

// Cursors issued before cursors had a kind ('c' | time | id, base64url)
// still page either listing after an upgrade.
TEST(CursorTest, LegacyCursorsAreReadByBothListings) {
  // 'c', time 5 (8 bytes big-endian), "ab": "YwAAAAAAAAAFYWI".
  const std::string legacy = "YwAAAAAAAAAFYWI";
  for (CursorKind kind : {kS, kA}) {
    auto key = DecodeCursor(kind, legacy);
    ASSERT_TRUE(key.ok()) << key.status();
    EXPECT_EQ(key->time, 5);
    EXPECT_EQ(key->id, "ab");
  }
}

}  // namespace
}  // namespace acpstore::engine
