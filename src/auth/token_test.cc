// Token format, digests and the constant-time comparison.

#include "auth/token.h"

#include <gtest/gtest.h>

#include <set>

namespace acpstore::auth {
namespace {

TEST(TokenTest, NewTokenHasTheDocumentedShape) {
  const std::string lookup = NewLookup();
  ASSERT_TRUE(IsLookup(lookup));
  const std::string token = NewToken(lookup);
  EXPECT_EQ(token.size(), kTokenBytes);
  EXPECT_TRUE(token.starts_with("acp_" + lookup + "_"));
  std::optional<ParsedToken> parsed = ParseToken(token);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->lookup, lookup);
}

TEST(TokenTest, TokensAreNeverRepeated) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    EXPECT_TRUE(seen.insert(NewToken("0123456789abcdef")).second);
  }
}

TEST(TokenTest, MalformedTokensDoNotParse) {
  const std::string good = NewToken(NewLookup());
  EXPECT_FALSE(ParseToken(""));
  EXPECT_FALSE(ParseToken("acp_"));
  EXPECT_FALSE(ParseToken(good.substr(0, good.size() - 1)));
  EXPECT_FALSE(ParseToken(good + "0"));
  std::string upper = good;
  upper.back() = 'A';
  EXPECT_FALSE(ParseToken(upper));
  std::string no_sep = good;
  no_sep[kTokenPrefix.size() + kLookupHexChars] = 'a';
  EXPECT_FALSE(ParseToken(no_sep));
  std::string bad_prefix = good;
  bad_prefix[0] = 'x';
  EXPECT_FALSE(ParseToken(bad_prefix));
}

TEST(TokenTest, Sha256MatchesTheKnownVector) {
  EXPECT_EQ(DigestToHex(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(TokenTest, DigestHexRoundTrips) {
  const Digest d = Sha256("x");
  std::optional<Digest> back = DigestFromHex(DigestToHex(d));
  ASSERT_TRUE(back);
  EXPECT_TRUE(DigestsEqual(d, *back));
  EXPECT_FALSE(DigestFromHex("zz"));
  EXPECT_FALSE(DigestFromHex(std::string(64, 'G')));
}

TEST(TokenTest, DigestsEqualComparesEveryByte) {
  const Digest a = Sha256("a");
  for (size_t i = 0; i < a.size(); ++i) {
    Digest b = a;
    b[i] ^= 1;
    EXPECT_FALSE(DigestsEqual(a, b)) << "byte " << i;
  }
  EXPECT_TRUE(DigestsEqual(a, Sha256("a")));
}

}  // namespace
}  // namespace acpstore::auth
