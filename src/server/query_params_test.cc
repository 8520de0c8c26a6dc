// Unit tests: request-target parsing and strict numbers (query_params.h).

#include "server/query_params.h"

#include <gtest/gtest.h>

namespace acpstore::server {
namespace {

TEST(ParseTarget, SplitsAndPercentDecodesSegmentsAndQuery) {
  auto t = ParseTarget("/v1/sessions/a%2Fb%20c/events?after=3&cursor=x%2By+z");
  ASSERT_TRUE(t.ok()) << t.error();
  EXPECT_EQ(t->segments,
            (std::vector<std::string>{"v1", "sessions", "a/b c", "events"}));
  QueryReader q(t->query);
  EXPECT_EQ(*q.Get("after"), "3");
  EXPECT_EQ(*q.Get("cursor"), "x+y+z");  // '+' is a plus, not a space
  EXPECT_EQ(q.Get("limit"), nullptr);
  EXPECT_EQ(q.FirstUnknown("after,cursor"), nullptr);
  EXPECT_EQ(*q.FirstUnknown("after"), "cursor");
}

TEST(ParseTarget, RefusesBadEncodingControlsAndRepeats) {
  for (const char* bad : {"", "v1", "http://x/v1", "/a%", "/a%2", "/a%zz",
                          "/%ff", "/a%00", "/a%0a", "/a?x=1&x=2", "/a#frag"}) {
    EXPECT_FALSE(ParseTarget(bad).ok()) << bad;
  }
}

TEST(ParseEventSeq, DigitsOnlyUpToTwoToThe63) {
  EXPECT_EQ(*ParseEventSeq("0", "after"), 0u);
  EXPECT_EQ(*ParseEventSeq("0042", "after"), 42u);
  EXPECT_EQ(*ParseEventSeq("9223372036854775808", "after"), 1ull << 63);
  for (const char* bad :
       {"", "-1", "+1", "1.0", "1e3", " 1", "0x1", "9223372036854775809",
        "18446744073709551616", "123456789012345678901"}) {
    auto r = ParseEventSeq(bad, "Last-Event-ID");
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(std::get<std::string>(r.error().Detail("field")->value),
                "Last-Event-ID");
    }
  }
}

TEST(ParseLimit, OneToAThousand) {
  EXPECT_EQ(*ParseLimit("1", "limit"), 1u);
  EXPECT_EQ(*ParseLimit("1000", "limit"), 1000u);
  for (const char* bad : {"0", "1001", "", "-5", "10a", "99999"}) {
    EXPECT_FALSE(ParseLimit(bad, "limit").ok()) << bad;
  }
}

TEST(QueryReader, ReadLimitKeepsTheDefaultUnlessGiven) {
  uint32_t limit = 100;
  using Params = std::vector<std::pair<std::string, std::string>>;
  EXPECT_TRUE(QueryReader(Params{}).ReadLimit(&limit).ok());
  EXPECT_EQ(limit, 100u);
  EXPECT_TRUE(QueryReader(Params{{"limit", "7"}}).ReadLimit(&limit).ok());
  EXPECT_EQ(limit, 7u);
  Status bad = QueryReader(Params{{"limit", "0"}}).ReadLimit(&limit);
  EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(limit, 7u);  // a refused value changes nothing
}

}  // namespace
}  // namespace acpstore::server
