// The 64-byte block scanner against byte-at-a-time references, and the
// top-level scan built on it against Boost.JSON.

#include "transcript/json_blocks.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "acpstore/options.h"
#include "record/json_generator_test_util.h"
#include "record/validate.h"
#include "transcript/json_fields.h"

namespace acpstore::transcript {
namespace {

constexpr size_t kNpos = std::string_view::npos;

// Bytes biased towards the ones the masks mark, their neighbours, and
// bytes that differ from a bracket in one bit other than 0x20.
std::string RandomBytes(std::mt19937_64& rng, size_t n) {
  static constexpr char kLikely[] = {'"', '\\', '{',    '}',    '[',    ']',
                                     ';', '=',  'a',    ' ',    '\x1B', '\x1D',
                                     'z', '|',  '\xFB', '\xFD'};
  std::string s(n, '\0');
  for (char& c : s) {
    c = rng() % 2 == 0 ? kLikely[rng() % sizeof(kLikely)]
                       : static_cast<char>(rng());
  }
  return s;
}

TEST(JsonBlocksTest, ClassifyBlockAgreesWithTheBytewiseReference) {
  std::mt19937_64 rng(20261206);
  for (int i = 0; i < 100000; ++i) {
    const std::string block = RandomBytes(rng, kJsonBlock);
    const BlockBits fast = ClassifyBlock(block.data());
    const BlockBits ref = ClassifyBlockBytewise(block.data());
    ASSERT_EQ(fast.quote, ref.quote);
    ASSERT_EQ(fast.backslash, ref.backslash);
    ASSERT_EQ(fast.open, ref.open);
    ASSERT_EQ(fast.close, ref.close);
  }
  // Every byte value in every position class.
  for (int c = 0; c < 256; ++c) {
    std::string block(kJsonBlock, static_cast<char>(c));
    const BlockBits fast = ClassifyBlock(block.data());
    const BlockBits ref = ClassifyBlockBytewise(block.data());
    EXPECT_EQ(fast.quote, ref.quote) << c;
    EXPECT_EQ(fast.backslash, ref.backslash) << c;
    EXPECT_EQ(fast.open, ref.open) << c;
    EXPECT_EQ(fast.close, ref.close) << c;
    const bool open = c == '{' || c == '[';
    EXPECT_EQ(ref.open, open ? ~uint64_t{0} : 0) << c;
  }
}

// Runs of backslashes of every length, across block boundaries: the byte
// after a run of odd length is escaped, after an even one it is not.
TEST(JsonBlocksTest, EscapedBitsFollowRunsOfBackslashesAcrossBlocks) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 20000; ++i) {
    std::string s;
    while (s.size() < 4 * kJsonBlock) {
      s.append(rng() % 70, '\\');
      s.append(1 + rng() % 3, 'x');
    }
    s.resize(4 * kJsonBlock);
    std::vector<bool> ref(s.size(), false);
    bool escaping = false;  // the previous byte escapes this one
    for (size_t k = 0; k < s.size(); ++k) {
      ref[k] = escaping;
      escaping = !escaping && s[k] == '\\';
    }
    bool carry = false;
    for (size_t pos = 0; pos < s.size(); pos += kJsonBlock) {
      const uint64_t bits =
          EscapedBits(ClassifyBlock(s.data() + pos).backslash, &carry);
      for (size_t k = 0; k < kJsonBlock; ++k) {
        ASSERT_EQ(((bits >> k) & 1) != 0, ref[pos + k]) << i << " at " << pos + k;
      }
    }
  }
}

TEST(JsonBlocksTest, PrefixXorIsTheParityOfTheBitsUpToEach) {
  std::mt19937_64 rng(11);
  for (int i = 0; i < 10000; ++i) {
    const uint64_t x = rng() & rng();
    const uint64_t p = PrefixXor(x);
    bool parity = false;
    for (int k = 0; k < 64; ++k) {
      parity ^= ((x >> k) & 1) != 0;
      ASSERT_EQ(((p >> k) & 1) != 0, parity);
    }
  }
}

TEST(JsonBlocksTest, SkipsHandPickedValues) {
  EXPECT_EQ(SkipContainer("{}", 0), 2u);
  EXPECT_EQ(SkipContainer("[]x", 0), 2u);
  EXPECT_EQ(SkipContainer(R"({"a":"}\"]{"})", 0), 13u);
  EXPECT_EQ(SkipContainer(R"({"a":"\\"})", 0), 10u);
  EXPECT_EQ(SkipContainer(R"(x[{"a":[1,{}]},"]"])", 1), 19u);
  EXPECT_EQ(SkipContainer("{", 0), kNpos);
  EXPECT_EQ(SkipContainer(R"({"a":"}")", 0), kNpos);
  EXPECT_EQ(SkipContainer("}", 0), kNpos);
  // An escaping backslash as a block's last byte: the quote that opens
  // the next block is text.
  std::string s = R"({"a":")";
  s.append(kJsonBlock - 1 - s.size(), 'x');
  s += "\\\"}\"}";
  ASSERT_EQ(s[kJsonBlock - 1], '\\');
  EXPECT_EQ(SkipContainer(s, 0), s.size());
  EXPECT_EQ(SkipStringFrom(R"(ab\"c"d)", 0), 6u);
  EXPECT_EQ(SkipStringFrom(R"(\\"d)", 0), 3u);
  EXPECT_EQ(SkipStringFrom(R"(\")", 0), kNpos);
}

// Each generated value that Boost.JSON accepts, at a random offset in
// two blocks: the skip ends exactly where the value does, and no proper prefix
// of a container closes.
TEST(JsonBlocksTest, SkipsWhatBoostParsesAtRandomAlignments) {
  record::JsonGenerator gen(20261206);
  std::mt19937_64 rng(3);
  int containers = 0, strings = 0;
  for (int i = 0; i < 30000; ++i) {
    std::string value = gen.Document();
    const size_t first = value.find_first_not_of(" \n\t\r");
    if (first == std::string::npos) continue;
    value.erase(0, first);
    value.erase(value.find_last_not_of(" \n\t\r") + 1);
    boost::system::error_code ec;
    (void)boost::json::parse(value, ec);
    if (ec) continue;
    const char c = value[0];
    if (c != '{' && c != '[' && c != '"') continue;
    const size_t offset = rng() % (2 * kJsonBlock);
    const std::string s = std::string(offset, ' ') + value + ",\"z\":1}";
    if (c == '"') {
      ++strings;
      // From the first byte of the text (an escape or not), as SkipString
      // hands over.
      if (value.size() > 2) {
        EXPECT_EQ(SkipStringFrom(s, offset + 1), offset + value.size()) << value;
      }
      continue;
    }
    ++containers;
    ASSERT_EQ(SkipContainer(s, offset), offset + value.size()) << value;
    const size_t cut = offset + rng() % value.size();
    EXPECT_EQ(SkipContainer(std::string_view(s).substr(0, cut), offset), kNpos)
        << value;
  }
  EXPECT_GT(containers, 3000);
  EXPECT_GT(strings, 2000);
}

// The top-level scan (json_fields.h, built on the skips) visits exactly
// Boost.JSON's members, in order, each raw value parsing to the member's.
TEST(JsonBlocksTest, TopLevelScanAgreesWithBoost) {
  record::JsonGenerator gen(4242, /*spaces=*/false);
  int objects = 0;
  for (int i = 0; i < 20000; ++i) {
    const std::string doc = gen.Object(6, /*distinct_keys=*/true);
    Result<std::string> canonical =
        record::CanonicalizePayload(doc, acpstore::Limits{}, "payload");
    if (!canonical.ok()) continue;
    ++objects;
    const boost::json::object ref = boost::json::parse(*canonical).as_object();
    std::vector<std::pair<std::string, std::string_view>> seen;
    ScanTopLevel(*canonical, [&](std::string_view k, std::string_view v) {
      std::string key;
      EXPECT_TRUE(AppendStringValue("\"" + std::string(k) + "\"", &key));
      seen.emplace_back(std::move(key), v);
      return true;
    });
    ASSERT_EQ(seen.size(), ref.size()) << *canonical;
    size_t m = 0;
    for (const auto& member : ref) {
      EXPECT_EQ(seen[m].first, std::string(member.key())) << *canonical;
      EXPECT_EQ(boost::json::parse(seen[m].second), member.value()) << *canonical;
      ++m;
    }
  }
  EXPECT_GT(objects, 5000);
}

}  // namespace
}  // namespace acpstore::transcript
