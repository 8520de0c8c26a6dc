// SseParser's frame rules and SseStream against a scripted peer: the
// request it sends (Last-Event-ID), frames as they arrive, chunked
// streams, error replies and the end of a stream.

#include "net/sse.h"

#include <gtest/gtest.h>

#include <vector>

#include "net/fake_server_test_util.h"

namespace acpstore::net {
namespace {

using std::chrono::milliseconds;

std::vector<SseFrame> ParseAll(const std::vector<std::string>& pieces) {
  SseParser parser;
  std::vector<SseFrame> out;
  for (const auto& p : pieces) {
    parser.Feed(p, [&](SseFrame&& f) { out.push_back(std::move(f)); });
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
    ASSERT_EQ(frames.size(), 5u) << cut;
    EXPECT_EQ(frames[0].retry_ms.value(), 2000);
    EXPECT_EQ(frames[1].comment, "ping");
    EXPECT_FALSE(frames[1].id.has_value());
    EXPECT_EQ(frames[2].id.value(), "7");
    EXPECT_EQ(frames[2].data, "{\"a\":1}");
    EXPECT_EQ(frames[3].event, "truncated");
    EXPECT_EQ(frames[4].data, "x");
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

// Reads frames until `n` arrived or the stream ends.
std::vector<SseFrame> Collect(SseStream& stream, size_t n) {
  std::vector<SseFrame> out;
  const Deadline deadline = After(milliseconds(5000));
  while (out.size() < n && Clock::now() < deadline) {
    if (!stream.Poll(deadline, [&](SseFrame&& f) { out.push_back(std::move(f)); })
             .ok()) {
      break;
    }
  }
  return out;
}

TEST(SseStreamTest, SendsLastEventIdAndReadsFramesUntilTheEnd) {
  FakeServer server([](int fd, FakeServer& s) {
    if (s.ReadRequest(fd).empty()) return;
    FakeServer::Write(fd,
                      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n"
                      "retry: 2000\n\nid: 5\ndata: {}\n");
    FakeServer::Write(fd, "\nid: 6\ndata: {}\n\n");
  });
  SseStream stream;
  ASSERT_TRUE(stream
                  .Open({.port = server.port(),
                         .target = "/v1/sessions/s/events/stream",
                         .token = "t",
                         .last_event_id = "4"})
                  .ok());
  EXPECT_EQ(stream.status(), 200);
  EXPECT_EQ(stream.head().Header("content-type"), "text/event-stream");
  auto frames = Collect(stream, 3);
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[1].id.value(), "5");
  EXPECT_EQ(frames[2].id.value(), "6");
  // The server closed after the last frame.
  std::vector<SseFrame> none;
  Status s = Status::OK();
  while (s.ok()) {
    s = stream.Poll(After(milliseconds(5000)),
                    [&](SseFrame&& f) { none.push_back(std::move(f)); });
  }
  EXPECT_TRUE(stream.ended());
  EXPECT_TRUE(none.empty());
  const std::string request = server.requests().at(0);
  EXPECT_NE(request.find("\r\nLast-Event-ID: 4\r\n"), std::string::npos) << request;
  EXPECT_NE(request.find("\r\nAccept: text/event-stream\r\n"), std::string::npos);
  EXPECT_NE(request.find("\r\nAuthorization: Bearer t\r\n"), std::string::npos);
}

TEST(SseStreamTest, ChunkedStream) {
  FakeServer server([](int fd, FakeServer& s) {
    if (s.ReadRequest(fd).empty()) return;
    FakeServer::Write(fd,
                      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "7\r\nid: 1\nd\r\n");
    FakeServer::Write(fd, "A\r\nata: x\n\n: \r\n5\r\nping\n\r\n1\r\n\n\r\n0\r\n\r\n");
  });
  SseStream stream;
  ASSERT_TRUE(stream.Open({.port = server.port(), .target = "/s"}).ok());
  auto frames = Collect(stream, 3);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].id.value(), "1");
  EXPECT_EQ(frames[0].data, "x");
  EXPECT_EQ(frames[1].comment, "ping");
  EXPECT_TRUE(stream.ended());
}

TEST(SseStreamTest, ErrorReplyKeepsItsBody) {
  FakeServer server([](int fd, FakeServer& s) {
    if (s.ReadRequest(fd).empty()) return;
    FakeServer::Write(fd,
                      "HTTP/1.1 429 Too Many Requests\r\nContent-Length: 40\r\n\r\n"
                      "{\"error\":{\"code\":\"too_many_requests\"}}  ");
  });
  SseStream stream;
  ASSERT_TRUE(stream.Open({.port = server.port(), .target = "/s"}).ok());
  EXPECT_EQ(stream.status(), 429);
  EXPECT_EQ(stream.head().ErrorCode(), "too_many_requests");
  EXPECT_FALSE(stream.Poll(After(milliseconds(100)), [](SseFrame&&) {}).ok());
}

TEST(SseStreamTest, NobodyListeningIsUnavailable) {
  uint16_t port = 0;
  {
    FakeServer gone([](int, FakeServer&) {});
    port = gone.port();
  }
  SseStream stream;
  Status s = stream.Open({.port = port, .target = "/s"});
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace acpstore::net
