// ParseUrl, HostHeader and EncodePathSegment.

#include "net/url.h"

#include <gtest/gtest.h>

namespace acpstore::net {
namespace {

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

TEST(UrlTest, HostHeaderBracketsIpv6) {
  EXPECT_EQ(HostHeader("127.0.0.1", 7700), "127.0.0.1:7700");
  EXPECT_EQ(HostHeader("::1", 81), "[::1]:81");
}

TEST(UrlTest, PathSegmentsArePercentEncoded) {
  EXPECT_EQ(EncodePathSegment("sess-1_a.b~"), "sess-1_a.b~");
  EXPECT_EQ(EncodePathSegment("a/b c?"), "a%2Fb%20c%3F");
}

}  // namespace
}  // namespace acpstore::net
