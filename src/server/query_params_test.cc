// Unit tests: request-target parsing and strict numbers (query_params.h).

#include "server/query_params.h"

#include "server/router.h"

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

TEST(ParseEventSeq, LeadingZerosCountOnlyTheValue) {
  EXPECT_EQ(*ParseEventSeq("000000000000000000001", "after"), 1u);
  EXPECT_EQ(*ParseEventSeq(std::string(40, '0'), "after"), 0u);
  EXPECT_EQ(*ParseEventSeq(std::string(30, '0') + "9223372036854775808",
                           "after"),
            1ull << 63);
  // An all-digit value too large is out of range, not "digits only".
  for (const char* big : {"9223372036854775809", "99999999999999999999",
                          "123456789012345678901234567890"}) {
    auto r = ParseEventSeq(big, "after");
    ASSERT_FALSE(r.ok()) << big;
    EXPECT_NE(r.error().message().find("out of range"), std::string::npos)
        << r.error().message();
  }
  auto r = ParseEventSeq("12a", "after");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("digits only"), std::string::npos);
}

QueryReader Query(std::string name, std::string value) {
  std::vector<std::pair<std::string, std::string>> query;
  query.emplace_back(std::move(name), std::move(value));
  return QueryReader(std::move(query));
}

// streamEvents and streamTranscript: the header wins, but a bad ?after= is
// refused even then (it used to be ignored whenever the header came).
TEST(ResumePoint, BothAreCheckedWhicheverWins) {
  Request with_header;
  with_header.has_last_event_id = true;
  with_header.last_event_id = "3";
  for (const char* bad : {"abc", "-1", "1.5", ""}) {
    auto r = ResumePoint(with_header, Query("after", bad));
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(std::get<std::string>(r.error().Detail("field")->value),
              "after");
  }
  EXPECT_EQ(*ResumePoint(with_header, Query("after", "1")), 3u);
  EXPECT_EQ(*ResumePoint(with_header, QueryReader()), 3u);
  EXPECT_EQ(*ResumePoint(Request{}, Query("after", "5")), 5u);
  EXPECT_EQ(*ResumePoint(Request{}, QueryReader()), 0u);
  Request bad_header;
  bad_header.has_last_event_id = true;
  bad_header.last_event_id = "x";
  auto r = ResumePoint(bad_header, Query("after", "1"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(std::get<std::string>(r.error().Detail("field")->value),
            "Last-Event-ID");
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
