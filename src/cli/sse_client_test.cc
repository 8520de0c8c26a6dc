// SseParser and ParseUrl: the frame rules `acpstore tail` relies on.

#include "cli/sse_client.h"

#include <gtest/gtest.h>

#include <vector>

namespace acpstore::cli {
namespace {

std::vector<SseFrame> ParseAll(const std::vector<std::string>& pieces) {
  SseParser parser;
  std::vector<SseFrame> out;
  for (const auto& p : pieces) {
    parser.Feed(p, [&](const SseFrame& f) { out.push_back(f); });
  }
  return out;
}

TEST(SseParserTest, FramesOfTheServerSplitAnywhere) {
  const std::string stream =
      "retry: 2000\n\n: ping\n\nid: 7\ndata: {\"a\":1}\n\n"
      "event: truncated\ndata: {\"firstSeq\":3}\n\nid: 8\ndata: x\n\n";
  // Every split point gives the same frames.
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    auto frames = ParseAll({stream.substr(0, cut), stream.substr(cut)});
    ASSERT_EQ(frames.size(), 4u) << cut;
    EXPECT_EQ(frames[0].retry_ms.value(), 2000);
    EXPECT_EQ(frames[1].id.value(), "7");
    EXPECT_EQ(frames[1].data, "{\"a\":1}");
    EXPECT_EQ(frames[2].event, "truncated");
    EXPECT_EQ(frames[3].data, "x");
  }
}

TEST(SseParserTest, CrLfAndMultiLineDataAndNoSpace) {
  auto frames =
      ParseAll({"id:1\r\ndata:a\r\ndata: b\r\n\r\nid: 2\rdata: c\r\r"});
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].id.value(), "1");
  EXPECT_EQ(frames[0].data, "a\nb");
  EXPECT_EQ(frames[1].data, "c");
}

TEST(SseParserTest, IncompleteFrameIsNotDispatched) {
  EXPECT_TRUE(ParseAll({"id: 9\ndata: half"}).empty());
}

TEST(UrlTest, ParsesHostsPortsAndPrefixes) {
  Url u = ParseUrl("http://127.0.0.1:7700").value();
  EXPECT_EQ(u.host, "127.0.0.1");
  EXPECT_EQ(u.port, 7700);
  EXPECT_EQ(u.base_path, "");
  u = ParseUrl("http://[::1]:81/acp/").value();
  EXPECT_EQ(u.host, "::1");
  EXPECT_EQ(u.port, 81);
  EXPECT_EQ(u.base_path, "/acp");
  EXPECT_EQ(ParseUrl("http://localhost").value().port, 80);
  EXPECT_FALSE(ParseUrl("https://x:1").ok());
  EXPECT_FALSE(ParseUrl("http://:1").ok());
  EXPECT_FALSE(ParseUrl("http://x:99999").ok());
}

TEST(UrlTest, PathSegmentsArePercentEncoded) {
  EXPECT_EQ(EncodePathSegment("sess-1_a.b~"), "sess-1_a.b~");
  EXPECT_EQ(EncodePathSegment("a/b c?"), "a%2Fb%20c%3F");
}

}  // namespace
}  // namespace acpstore::cli
