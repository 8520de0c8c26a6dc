// The wire helpers: the request bytes, response heads, length framing and
// chunked decoding split at every byte.

#include "net/http_wire.h"

#include <gtest/gtest.h>

namespace acpstore::net {
namespace {

TEST(AppendRequestTest, WritesHostTokenTypeAndLength) {
  std::string out;
  AppendRequest(&out, "POST", "/v1/sessions", "127.0.0.1:7", "tok", "{}");
  EXPECT_EQ(out,
            "POST /v1/sessions HTTP/1.1\r\nHost: 127.0.0.1:7\r\n"
            "Authorization: Bearer tok\r\nContent-Type: application/json\r\n"
            "Content-Length: 2\r\n\r\n{}");
  out.clear();
  AppendRequest(&out, "GET", "/x", "h", "", "", {{"Last-Event-ID", "4"}});
  EXPECT_EQ(out, "GET /x HTTP/1.1\r\nHost: h\r\nLast-Event-ID: 4\r\n\r\n");
  out.clear();
  AppendRequest(&out, "PUT", "/y", "h", "", "a", {{"content-type", "text/plain"}});
  EXPECT_EQ(out,
            "PUT /y HTTP/1.1\r\nHost: h\r\ncontent-type: text/plain\r\n"
            "Content-Length: 1\r\n\r\na");
}

TEST(RequestWriterTest, SameBytesAsAppendRequest) {
  for (const char* token : {"", "tok"}) {
    const RequestWriter writer("127.0.0.1:7", token);
    for (const char* body : {"", "{\"a\":1}"}) {
      for (const HeaderList& extra :
           {HeaderList{}, HeaderList{{"Accept", "text/event-stream"}},
            HeaderList{{"Content-Type", "text/plain"}}}) {
        std::string want, got = "kept|";
        AppendRequest(&want, "POST", "/p", "127.0.0.1:7", token, body, extra);
        writer.Append(&got, "POST", "/p", body, extra);
        EXPECT_EQ(got, "kept|" + want) << token << body;
        if (extra.empty()) {
          got.clear();
          writer.Append(&got, "POST", "/p", body);
          EXPECT_EQ(got, want);
        }
      }
    }
  }
}

TEST(ResponseHeadTest, FramingFollowsTheHeaders) {
  ResponseHead head;
  std::map<std::string, std::string> headers;
  EXPECT_FALSE(ParseResponseHead("HTTP/1.1 200 OK\r\nContent-Len", &head, &headers));
  EXPECT_EQ(head.size, 0u);

  const std::string text =
      "HTTP/1.1 201 Created\r\nContent-Length:  12 \r\nX-A: b\r\n\r\nbody";
  EXPECT_FALSE(ParseResponseHead(text, &head, &headers));
  EXPECT_EQ(head.status, 201);
  EXPECT_EQ(head.body, BodyKind::kLength);
  EXPECT_EQ(head.content_length, 12u);
  EXPECT_EQ(head.size, text.size() - 4);
  EXPECT_EQ(headers["x-a"], "b");

  EXPECT_FALSE(ParseResponseHead(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
      &head, nullptr));
  EXPECT_EQ(head.body, BodyKind::kChunked);
  EXPECT_FALSE(ParseResponseHead("HTTP/1.1 204 No Content\r\n\r\n", &head, nullptr));
  EXPECT_EQ(head.body, BodyKind::kNone);
  EXPECT_FALSE(ParseResponseHead("HTTP/1.1 100 Continue\r\n\r\n", &head, nullptr));
  EXPECT_EQ(head.body, BodyKind::kNone);
  EXPECT_FALSE(ParseResponseHead(
      "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", &head, nullptr));
  EXPECT_EQ(head.body, BodyKind::kUntilClose);
  EXPECT_TRUE(head.close);

  EXPECT_TRUE(ParseResponseHead("SSH-2.0-x\r\n", &head, nullptr));
  EXPECT_TRUE(ParseResponseHead("HTTP/1.1 2x0 OK\r\n\r\n", &head, nullptr));
  EXPECT_TRUE(ParseResponseHead(
      "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", &head, nullptr));
  EXPECT_TRUE(ParseResponseHead("HTTP/1.1 200 OK\r\n" + std::string(100, 'a'),
                                &head, nullptr, 64));
}

TEST(FrameLengthResponseTest, CompleteOnlyWithTheWholeBody) {
  const std::string two =
      "HTTP/1.1 201 Created\r\ncontent-length: 3\r\n\r\nabcHTTP/1.1 204 "
      "No Content\r\n\r\n";
  const size_t first = two.find("abc") + 3;
  for (size_t cut = 0; cut < first; ++cut) {
    EXPECT_FALSE(FrameLengthResponse(std::string_view(two).substr(0, cut))) << cut;
  }
  auto r = FrameLengthResponse(two);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 201);
  EXPECT_EQ(r->size, first);
  r = FrameLengthResponse(std::string_view(two).substr(first));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 204);
  EXPECT_EQ(r->size, two.size() - first);
}

TEST(ChunkedDecoderTest, SplitAnywhereGivesTheSameBody) {
  const std::string body =
      "4\r\nWiki\r\n6;ext=1\r\npedia \r\nE\r\nin \r\n\r\nchunks.\r\n0\r\n"
      "X-Trailer: t\r\n\r\nNEXT";
  for (size_t cut = 0; cut <= body.size(); ++cut) {
    ChunkedDecoder d;
    std::string out;
    size_t used1 = 0, used2 = 0;
    ASSERT_TRUE(d.Feed(body.substr(0, cut), &used1, &out).ok());
    ASSERT_LE(used1, cut);
    ASSERT_TRUE(d.Feed(body.substr(used1), &used2, &out).ok());
    EXPECT_TRUE(d.done()) << cut;
    EXPECT_EQ(out, "Wikipedia in \r\n\r\nchunks.") << cut;
    EXPECT_EQ(body.substr(used1 + used2), "NEXT") << cut;
  }
}

TEST(ChunkedDecoderTest, BadSizeLineIsAnError) {
  ChunkedDecoder d;
  std::string out;
  size_t used = 0;
  EXPECT_FALSE(d.Feed("zz\r\n", &used, &out).ok());
  ChunkedDecoder e;
  EXPECT_FALSE(e.Feed("1\r\nab\r\n", &used, &out).ok());  // no CRLF after data
}

TEST(ResponseTest, JsonAndErrorCode) {
  Response r;
  r.body = R"({"error":{"code":"not_found","message":"x"}})";
  EXPECT_EQ(r.ErrorCode(), "not_found");
  r.body = "not json";
  EXPECT_TRUE(r.Json().is_null());
  EXPECT_EQ(r.ErrorCode(), "");
}

}  // namespace
}  // namespace acpstore::net
