// The word-at-a-time fast paths of string escaping and UTF-8 validation
// against a byte-at-a-time reference, at every position of long inputs (the
// fast paths step 8 bytes; a special byte in any lane must be found).

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "record/canonical_json.h"
#include "record/utf8.h"

namespace acpstore::record {
namespace {

std::string ReferenceEscape(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xF]);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  return out;
}

TEST(JsonTextTest, EscapesEverySpecialByteInEveryLane) {
  const std::string specials = std::string("\"\\\b\f\n\r\t\x01\x1f", 9) +
                               std::string(1, '\0');
  for (char special : specials) {
    for (size_t pos = 0; pos < 40; ++pos) {
      std::string s(40, 'a');
      s[pos] = special;
      s[(pos + 13) % 40] = '\x7f';  // DEL and UTF-8 bytes pass unescaped
      s[(pos + 27) % 40] = '\xc3';
      std::string out;
      AppendJsonStringBody(s, &out);
      EXPECT_EQ(out, ReferenceEscape(s)) << "special at " << pos;
    }
  }
}

TEST(JsonTextTest, NearMissBytesAreNotEscaped) {
  // One above and below each special value: 0x1F/0x20, 0x21/0x23, 0x5B/0x5D.
  const std::string s = "\x20\x21\x23\x5b\x5d\x20\x21\x23\x5b\x5d\x7f\x80\xff";
  std::string out;
  AppendJsonStringBody(s, &out);
  EXPECT_EQ(out, s);
}

TEST(JsonTextTest, EscapesAdjacentSpecialsAcrossWordBoundaries) {
  std::string s(7, 'x');
  s += "\"\"\n\\";
  s += std::string(9, 'y');
  s += std::string("\x00\x00", 2);
  std::string out;
  AppendJsonStringBody(s, &out);
  EXPECT_EQ(out, ReferenceEscape(s));
}

size_t ReferenceNextSpecial(std::string_view s, size_t i) {
  for (; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == '"' || c == '\\') return i;
  }
  return s.size();
}

// The 16-byte (SSE2) and 8-byte steps and the tail, from every start: every
// byte value at every position, behind a second special byte that must not
// shadow it, and before a third after it (a borrow in the word test marks
// bytes above a true hit only).
TEST(JsonTextTest, NextSpecialByteMatchesTheReferenceEverywhere) {
  constexpr size_t kLen = 48;
  for (int value = 0; value < 256; ++value) {
    for (size_t pos = 0; pos < kLen; ++pos) {
      std::string s(kLen, 'a');
      s[pos] = static_cast<char>(value);
      if (pos + 5 < kLen) s[pos + 5] = '"';
      s[(pos + 19) % kLen] = '\xc3';
      for (size_t start = 0; start <= kLen; ++start) {
        ASSERT_EQ(NextJsonSpecialByte(s, start), ReferenceNextSpecial(s, start))
            << "value " << value << " at " << pos << " from " << start;
      }
    }
  }
}

TEST(Utf8Test, FindsAnInvalidByteInEveryLaneAfterLongAscii) {
  for (size_t pos = 0; pos < 40; ++pos) {
    std::string s(40, 'a');
    s[pos] = '\xff';
    EXPECT_EQ(FindInvalidUtf8(s), pos);
    s[pos] = '\x80';  // a stray continuation byte
    EXPECT_EQ(FindInvalidUtf8(s), pos);
  }
}

TEST(Utf8Test, ValidMultiByteSequencesBetweenAsciiRunsPass) {
  std::string s;
  for (int i = 0; i < 20; ++i) s += "abcdefghij\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";
  EXPECT_EQ(FindInvalidUtf8(s), std::string_view::npos);
  s += "abcdefgh\xe2\x82";  // truncated at the end
  EXPECT_EQ(FindInvalidUtf8(s), s.size() - 2);
}


TEST(UnescapeJsonStringBody, DecodesEveryEscapeAndJoinsSurrogatePairs) {
  Result<std::string> s = UnescapeJsonStringBody(
      R"(a\n\t\"\\\/\b\f\r\u00e9\u20ac\ud83d\ude00z)", "f");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(*s, "a\n\t\"\\/\b\f\r\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80z");
  EXPECT_EQ(*UnescapeJsonStringBody("plain", "f"), "plain");
  EXPECT_EQ(*UnescapeJsonStringBody("", "f"), "");
}

// Plain runs are copied whole between escapes: runs of every length up to
// 40 (around the copy's edges), escapes back to back, at the start and the
// end, each checked against the text built piece by piece.
TEST(UnescapeJsonStringBody, RunsBetweenEscapesOfEveryLength) {
  const std::pair<std::string_view, std::string_view> kEscapes[] = {
      {"\\n", "\n"}, {"\\\"", "\""}, {"\\\\", "\\"},
      {"\\u00e9", "\xC3\xA9"}, {"\\ud83d\\ude00", "\xF0\x9F\x98\x80"}};
  const std::string kPlain = "src/a.ts:12: \xC3\xA9 const value = x;";
  uint32_t seed = 7;
  for (int round = 0; round < 500; ++round) {
    std::string in;
    std::string want;
    for (int piece = 0; piece < 12; ++piece) {
      seed = seed * 1103515245u + 12345u;
      if (seed % 3 == 0) {
        const auto& [escaped, decoded] = kEscapes[(seed >> 8) % 5];
        in += escaped;
        want += decoded;
      } else {
        // Cut only at byte boundaries of plain ASCII (the \xC3\xA9 pair
        // stays whole or goes).
        size_t len = (seed >> 8) % 41;
        std::string run = (kPlain + kPlain).substr(0, len);
        if (!run.empty() && static_cast<unsigned char>(run.back()) == 0xC3) {
          run.pop_back();
        }
        in += run;
        want += run;
      }
    }
    Result<std::string> got = UnescapeJsonStringBody(in, "f");
    ASSERT_TRUE(got.ok()) << in;
    ASSERT_EQ(*got, want) << in;
  }
}

TEST(UnescapeJsonStringBody, RefusesWhatNoParserAccepts) {
  for (std::string_view bad :
       {R"(\ud83d)", R"(\ude00)", R"(\ud83dx)", R"(\ud83d\u0041)",
        R"(\u12)", R"(\u12g4)", R"(\x)", "ends with \\", R"(\ud83d\u)"}) {
    Result<std::string> s = UnescapeJsonStringBody(bad, "title");
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(s.status().message().find("title"), std::string::npos) << bad;
  }
}

}  // namespace
}  // namespace acpstore::record
