// End-to-end: hostile and malformed input (SPEC §5 error table, §6 caps).
// Every scenario ends by checking that the server still serves a correct
// read.

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "server_fixture.h"

namespace acpstore::testing {
namespace {

using std::chrono::milliseconds;

class HostileHttpTest : public HttpTest {
 protected:
  void Configure(server::ServerOptions* o) override {
    o->max_body_bytes = 64 << 10;
    o->max_header_bytes = 4 << 10;
    o->read_timeout_ms = 300;
  }
  void SetUp() override {
    HttpTest::SetUp();
    // A server that did not start (no database for the postgres runs) has
    // failed the test already; going on would use it.
    if (HasFatalFailure()) return;
    CreateSession("writer-a", R"({"id":"s"})");
    AppendEvents("writer-a", "s", 2);
  }
  // The server is still healthy and answers a correct read correctly.
  void ExpectStillServing() {
    EXPECT_EQ(Client("").Get("/healthz").status, 200);
    HttpResponse r = Client("reader-a").Get("/v1/sessions/s/events");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.Json().at("lastSeq"), 2);
  }
  std::string Post(const std::string& path, size_t content_length,
                   const std::string& extra = "") {
    return "POST " + path +
           " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer writer-a\r\n"
           "Content-Type: application/json\r\nContent-Length: " +
           std::to_string(content_length) + "\r\n" + extra + "\r\n";
  }
};

TEST_F(HostileHttpTest, DeclaredBodyOverTheCapIs413BeforeItIsSent) {
  RawConnection c(port());
  // Only the head is sent: the answer must come without the body.
  ASSERT_TRUE(c.Send(Post("/v1/sessions/s/events", 100u << 20)));
  HttpResponse r = c.ReadResponse(milliseconds(2000));
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.ErrorCode(), "payload_too_large");
  EXPECT_EQ(r.Header("connection"), "close");
  EXPECT_TRUE(c.WaitClosed(milliseconds(2000)));
  ExpectStillServing();
}

TEST_F(HostileHttpTest, ChunkedBodyIsCutAtTheCap) {
  RawConnection c(port());
  ASSERT_TRUE(c.Send(
      "POST /v1/sessions/s/events HTTP/1.1\r\nHost: x\r\n"
      "Authorization: Bearer writer-a\r\nContent-Type: application/json\r\n"
      "Transfer-Encoding: chunked\r\n\r\n"));
  const std::string chunk(16 << 10, 'a');
  char size[16];
  std::snprintf(size, sizeof(size), "%zx\r\n", chunk.size());
  for (int i = 0; i < 8; ++i) {
    if (!c.Send(std::string(size) + chunk + "\r\n"))
      break;  // closed early: fine
  }
  HttpResponse r = c.ReadResponse(milliseconds(2000));
  EXPECT_EQ(r.status, 413);
  ExpectStillServing();
}

TEST_F(HostileHttpTest, HugeHeaderIs431) {
  RawConnection c(port());
  ASSERT_TRUE(c.Send("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Junk: " +
                     std::string(8 << 10, 'j') + "\r\n\r\n"));
  HttpResponse r = c.ReadResponse(milliseconds(2000));
  EXPECT_EQ(r.status, 431);
  EXPECT_EQ(r.ErrorCode(), "header_too_large");
  ExpectStillServing();
}

TEST_F(HostileHttpTest, WrongContentTypeIs415) {
  HttpClient c = Client("writer-a");
  HttpResponse r =
      c.Do("POST", "/v1/sessions/s/events", R"({"eventType":"a","payload":1})",
           {{"Content-Type", "text/plain"}});
  EXPECT_EQ(r.status, 415);
  EXPECT_EQ(r.ErrorCode(), "unsupported_media_type");
  r = c.Do("POST", "/v1/sessions/s/events", R"({"eventType":"a","payload":1})",
           {{"Content-Type", "application/json; charset=latin1"}});
  EXPECT_EQ(r.status, 415);
  r = c.Do("POST", "/v1/sessions/s/events", R"({"eventType":"a","payload":1})",
           {{"Content-Type", "Application/JSON; charset=UTF-8"}});
  EXPECT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(Client("").Get("/healthz").status, 200);
}

TEST_F(HostileHttpTest, BadJsonUtf8DepthAndDuplicatesAre400) {
  HttpClient c = Client("writer-a");
  const std::string deep = std::string(200, '[') + std::string(200, ']');
  const std::string payload_deep = std::string(70, '[') + std::string(70, ']');
  std::vector<std::string> bodies = {
      "{",                                                   // truncated
      R"({"eventType":"a","payload":1,})",                   // trailing comma
      R"({"eventType":"a","payload":01})",                   // leading zero
      R"({"eventType":"a","payload":NaN})",                  // not JSON
      R"({"eventType":"a","payload":1} x)",                  // trailing garbage
      "{\"eventType\":\"a\",\"payload\":\"\xC3\x28\"}",      // invalid UTF-8
      "{\"eventType\":\"a\",\"payload\":\"\xED\xA0\x80\"}",  // encoded
                                                             // surrogate
      R"({"eventType":"a\ud800","payload":1})",   // lone surrogate escape
      "{\"eventType\":\"a\x01\",\"payload\":1}",  // raw control char
      R"({"eventType":"a","eventType":"b","payload":1})",  // duplicate key
      R"({"eventType":"a","payload":{"k":1,"k":2}})",  // duplicate in payload
      R"({"eventType":"a","payload":)" + deep + "}",   // body too deep
      R"({"eventType":"a","payload":)" + payload_deep +
          "}",                                 // payload too deep
      R"({"eventType":"a","payload":1e400})",  // number overflow
  };
  for (const std::string& body : bodies) {
    HttpResponse r = c.Post("/v1/sessions/s/events", body);
    EXPECT_EQ(r.status, 400) << body.substr(0, 80) << " -> " << r.body;
    EXPECT_EQ(r.ErrorCode(), "invalid_argument") << body.substr(0, 80);
  }
  ExpectStillServing();
}

TEST_F(HostileHttpTest, UnknownRouteIs404AndWrongMethodIs405WithAllow) {
  HttpClient c = Client("writer-a");
  HttpResponse r = c.Get("/v2/sessions");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.ErrorCode(), "not_found");
  EXPECT_EQ(c.Get("/v1/sessions/s/nothing").status, 404);
  EXPECT_EQ(c.Get("/").status, 404);
  r = c.Do("PUT", "/v1/sessions/s", "{}");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.ErrorCode(), "method_not_allowed");
  EXPECT_EQ(r.Header("allow"), "GET, PATCH, DELETE");
  r = c.Do("DELETE", "/v1/sessions", "");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.Header("allow"), "POST, GET");
  r = c.Do("GET", "/v1/actions/lease/heartbeat", "");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.Header("allow"), "POST");
  ExpectStillServing();
}

TEST_F(HostileHttpTest, MalformedRequestLineIs400) {
  RawConnection c(port());
  ASSERT_TRUE(c.Send("GET /healthz HTTP/9.9 garbage\r\n\r\n"));
  HttpResponse r = c.ReadResponse(milliseconds(2000));
  EXPECT_EQ(r.status, 400);
  RawConnection d(port());
  ASSERT_TRUE(
      d.Send("GET /v1/sessions/%zz HTTP/1.1\r\nHost: x\r\nAuthorization: "
             "Bearer writer-a\r\n\r\n"));
  EXPECT_EQ(d.ReadResponse(milliseconds(2000)).status, 400);
  RawConnection e(port());
  ASSERT_TRUE(
      e.Send("GET /v1/sessions/%ff%fe HTTP/1.1\r\nHost: x\r\nAuthorization: "
             "Bearer writer-a\r\n\r\n"));
  EXPECT_EQ(e.ReadResponse(milliseconds(2000)).status, 400);  // not UTF-8
  ExpectStillServing();
}

TEST_F(HostileHttpTest, SlowClientGets408ThenClose) {
  RawConnection c(port());
  // Half a header, then silence.
  ASSERT_TRUE(c.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n"));
  HttpResponse r = c.ReadResponse(milliseconds(3000));
  EXPECT_EQ(r.status, 408);
  EXPECT_EQ(r.ErrorCode(), "request_timeout");
  EXPECT_TRUE(c.WaitClosed(milliseconds(2000)));

  // A body that never finishes.
  RawConnection d(port());
  ASSERT_TRUE(d.Send(Post("/v1/sessions/s/events", 100) + "{\"eventType\":"));
  EXPECT_EQ(d.ReadResponse(milliseconds(3000)).status, 408);

  // A trickle of header bytes does not reset the clock (slowloris): the
  // server answers or closes while the trickle still goes on. A server that
  // reset its clock per line would never do so; one that does not cuts in
  // about one read timeout (300 ms) on an idle machine. The trickle may go
  // on for 200 lines 50 ms apart (10 s, over 30 read timeouts): under
  // ThreadSanitizer, beside other suites on two cores, the old 40 lines
  // (2 s) once ran out before the server had cut.
  RawConnection e(port());
  ASSERT_TRUE(e.Send("GET /healthz HTTP/1.1\r\n"));
  bool cut_short = false;
  for (int i = 0; i < 200 && !cut_short; ++i) {
    e.ReadUntil([](const std::string& b) { return !b.empty(); },
                milliseconds(50));
    cut_short = !e.buffered().empty() || !e.Send("X-A: b\r\n");
  }
  EXPECT_TRUE(cut_short) << "a trickle of header lines kept the request open";
  // A line sent just as the server closed may be answered by a reset that
  // discards the 408 before it is read (status 0); a reply that was read
  // must be the 408.
  const int trickle_status = e.ReadResponse(milliseconds(3000)).status;
  if (trickle_status != 0) {
    EXPECT_EQ(trickle_status, 408);
  }

  // An idle keep-alive connection is closed quietly.
  RawConnection f(port());
  EXPECT_TRUE(f.WaitClosed(milliseconds(2000)));
  EXPECT_TRUE(f.buffered().empty());
  ExpectStillServing();
}

TEST_F(HostileHttpTest, KeepAliveServesManyRequestsOnOneConnection) {
  RawConnection c(port());
  std::string pipelined;
  for (int i = 0; i < 5; ++i)
    pipelined += "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_TRUE(c.Send(pipelined));
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(c.ReadResponse(milliseconds(2000)).status, 200);
}

TEST_F(HostileHttpTest, ExpectContinueIsHonoured) {
  RawConnection c(port());
  const std::string body = R"({"eventType":"a","payload":1})";
  ASSERT_TRUE(c.Send(
      Post("/v1/sessions/s/events", body.size(), "Expect: 100-continue\r\n")));
  HttpResponse cont = c.ReadResponse(milliseconds(2000));
  EXPECT_EQ(cont.status, 100);
  ASSERT_TRUE(c.Send(body));
  EXPECT_EQ(c.ReadResponse(milliseconds(2000)).status, 201);
}

// A refusal sent before the request was read whole (413, 431, 429 over
// the body budget, 408, 400) is followed by a lingering close: the server
// shuts down its sending side and reads and discards what the client still
// sends, for at most 2 s (never longer than read_timeout_ms) and
// max(16 MiB, 2 x max_body_bytes) bytes, before it closes. Closing with
// unread input would make the kernel send a reset, and a client still
// uploading (Node's fetch, found by a probe) then fails with ECONNRESET
// instead of reading the answer.
class LingeringCloseTest : public HostileHttpTest {
 protected:
  void Configure(server::ServerOptions* o) override {
    HostileHttpTest::Configure(o);
    o->read_timeout_ms = 5000;  // the linger's 2 s apply
  }

  struct Outcome {
    HttpResponse response;
    size_t sent = 0;     // filler bytes the kernel accepted
    int send_error = 0;  // errno of the send that failed, 0 if none did
    int reset = 0;       // error a reset left on the socket, 0 if none
  };

  // Sends `head`, then `filler` bytes from another thread while this one
  // reads the answer, as a client that uploads and listens at once (Node's
  // fetch does). Then, done, it closes its side and waits until the
  // connection is gone: `reset` tells an orderly end from a reset (recv()
  // reports the end of the stream either way once the server's FIN came).
  Outcome SendWhileReading(const std::string& head, size_t filler) {
    Outcome out;
    RawConnection c(port());
    EXPECT_TRUE(c.Send(head));
    std::thread writer([&out, &c, filler] {
      const std::string chunk(64 << 10, 'x');
      while (out.sent < filler) {
        const ssize_t n =
            ::send(c.fd(), chunk.data(),
                   std::min(chunk.size(), filler - out.sent), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
          out.send_error = n < 0 ? errno : EPIPE;
          return;
        }
        out.sent += static_cast<size_t>(n);
      }
    });
    out.response = c.ReadResponse(milliseconds(10000));
    writer.join();
    ::shutdown(c.fd(), SHUT_WR);
    EXPECT_TRUE(WaitUntil([&c] {
      tcp_info info{};
      socklen_t len = sizeof(info);
      return ::getsockopt(c.fd(), IPPROTO_TCP, TCP_INFO, &info, &len) == 0 &&
             info.tcpi_state == TCP_CLOSE;
    }));
    socklen_t len = sizeof(out.reset);
    ::getsockopt(c.fd(), SOL_SOCKET, SO_ERROR, &out.reset, &len);
    return out;
  }
};

TEST_F(LingeringCloseTest, A413ReachesAClientStillSendingItsBody) {
  // 4 MiB declared (the cap is 64 KiB) and sent while the answer is read.
  // Before the fix the server drained only 1 MiB and then closed with the
  // rest unread: a reset every time.
  constexpr size_t kBody = size_t{4} << 20;
  for (int attempt = 0; attempt < 3; ++attempt) {
    SCOPED_TRACE("attempt " + std::to_string(attempt));
    const Outcome o =
        SendWhileReading(Post("/v1/sessions/s/events", kBody), kBody);
    EXPECT_EQ(o.response.status, 413) << o.response.body;
    EXPECT_EQ(o.response.ErrorCode(), "payload_too_large");
    EXPECT_EQ(o.response.Json().at("error").at("limit"), 64 << 10);
    EXPECT_EQ(o.response.Header("connection"), "close");
    EXPECT_EQ(o.send_error, 0)
        << std::strerror(o.send_error) << " after " << o.sent << " body bytes";
    EXPECT_EQ(o.sent, kBody);
    EXPECT_EQ(o.reset, 0) << std::strerror(o.reset);
  }
  ExpectStillServing();
}

TEST_F(LingeringCloseTest, A431ReachesAClientStillSendingItsHeader) {
  // 2 MiB of one header line, over the 4 KiB cap.
  constexpr size_t kJunk = size_t{2} << 20;
  const Outcome o =
      SendWhileReading("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Junk: ", kJunk);
  EXPECT_EQ(o.response.status, 431) << o.response.body;
  EXPECT_EQ(o.response.ErrorCode(), "header_too_large");
  EXPECT_EQ(o.send_error, 0) << std::strerror(o.send_error);
  EXPECT_EQ(o.sent, kJunk);
  EXPECT_EQ(o.reset, 0) << std::strerror(o.reset);
  ExpectStillServing();
}

TEST_F(LingeringCloseTest, TheLingerIsBoundedInBytesAndTime) {
  // A client that never stops sending is cut once 16 MiB were discarded
  // (2 x max_body_bytes is less here); its answer came first.
  {
    RawConnection c(port());
    ASSERT_TRUE(c.Send(Post("/v1/sessions/s/events", size_t{1} << 40)));
    size_t sent = 0;
    std::thread writer([&c, &sent] {
      const std::string chunk(64 << 10, 'x');
      while (sent < (size_t{1} << 30)) {  // 1 GiB: far past the cap
        const ssize_t n =
            ::send(c.fd(), chunk.data(), chunk.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        sent += static_cast<size_t>(n);
      }
    });
    EXPECT_EQ(c.ReadResponse(milliseconds(10000)).status, 413);
    writer.join();
    EXPECT_LT(sent, size_t{1} << 30) << "the server never stopped reading";
  }
  // A client that trickles is cut after about 2 s.
  {
    RawConnection c(port());
    ASSERT_TRUE(c.Send(Post("/v1/sessions/s/events", 1u << 20)));
    ASSERT_EQ(c.ReadResponse(milliseconds(10000)).status, 413);
    const auto start = std::chrono::steady_clock::now();
    while (c.Send(std::string(1024, 'x')) &&
           std::chrono::steady_clock::now() - start < milliseconds(20000)) {
      std::this_thread::sleep_for(milliseconds(20));
    }
    EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(20000))
        << "the server never closed";
  }
  ExpectStillServing();
}

TEST_F(LingeringCloseTest, StopDoesNotWaitForALinger) {
  RawConnection c(port());
  ASSERT_TRUE(c.Send(Post("/v1/sessions/s/events", 1u << 20)));
  ASSERT_EQ(c.ReadResponse(milliseconds(10000)).status, 413);
  // The server now lingers for 2 s; a graceful stop ends that at once.
  const auto start = std::chrono::steady_clock::now();
  server_->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(1500));
}

class ConnectionCapTest : public LingeringCloseTest {
 protected:
  void Configure(server::ServerOptions* o) override {
    LingeringCloseTest::Configure(o);
    o->max_connections = 4;
  }

  // Opens connections until the cap is reached; they count while held.
  std::vector<std::unique_ptr<RawConnection>> FillToTheCap() {
    std::vector<std::unique_ptr<RawConnection>> held;
    for (int i = 0; i < 4; ++i) {
      // A connection closed just before (the fixture's readiness check)
      // still counts until the server has seen it close: a 429 here means
      // "not yet", so try again until a deadline.
      const auto deadline =
          std::chrono::steady_clock::now() + std::chrono::seconds(10);
      for (;;) {
        auto c = std::make_unique<RawConnection>(port());
        EXPECT_TRUE(c->Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
        const int status = c->ReadResponse(milliseconds(2000)).status;
        if (status == 200) {
          held.push_back(std::move(c));  // accepted and counted
          break;
        }
        EXPECT_EQ(status, 429);
        if (status != 429 || std::chrono::steady_clock::now() >= deadline) {
          ADD_FAILURE() << "could not fill the connection cap";
          return held;
        }
        std::this_thread::sleep_for(milliseconds(10));
      }
    }
    return held;
  }
};

TEST_F(ConnectionCapTest, OverTheCapIs429AndClose) {
  std::vector<std::unique_ptr<RawConnection>> held = FillToTheCap();
  ASSERT_EQ(held.size(), 4u);
  RawConnection extra(port());
  HttpResponse r = extra.ReadResponse(milliseconds(2000));
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.ErrorCode(), "too_many_requests");
  // Once the server has seen clients leave, service resumes.
  held.clear();
  EXPECT_TRUE(
      WaitUntil([&] { return Client("").Get("/healthz").status == 200; }));
  ExpectStillServing();
}

// Found by review: over the cap the server wrote its 429 and closed at
// once, with the client's request unread; the kernel then answered with a
// reset, and a client still sending (as Node's fetch does) failed with
// EPIPE or ECONNRESET instead of reading the 429 and its Retry-After. The
// refusal now lingers as the other refusals do.
TEST_F(ConnectionCapTest, A429ReachesAClientStillSendingItsRequest) {
  std::vector<std::unique_ptr<RawConnection>> held = FillToTheCap();
  ASSERT_EQ(held.size(), 4u);
  constexpr size_t kBody = size_t{1} << 20;
  for (int attempt = 0; attempt < 3; ++attempt) {
    SCOPED_TRACE("attempt " + std::to_string(attempt));
    const Outcome o =
        SendWhileReading(Post("/v1/sessions/s/events", kBody), kBody);
    EXPECT_EQ(o.response.status, 429) << o.response.body;
    EXPECT_EQ(o.response.ErrorCode(), "too_many_requests");
    EXPECT_EQ(o.send_error, 0) << std::strerror(o.send_error);
    EXPECT_EQ(o.sent, kBody);
    EXPECT_EQ(o.reset, 0) << std::strerror(o.reset);
  }
  held.clear();
  EXPECT_TRUE(
      WaitUntil([&] { return Client("").Get("/healthz").status == 200; }));
  ExpectStillServing();
}

}  // namespace
}  // namespace acpstore::testing

namespace acpstore::testing {
namespace {

class BodyBudgetTest : public HttpTest {
 protected:
  void Configure(server::ServerOptions* o) override {
    o->max_body_bytes = 64 << 10;
    o->max_inflight_body_bytes = 100 << 10;
    o->read_timeout_ms = 500;
  }
};

// Bodies being read are held in memory: past the global budget, new ones
// are refused before they are read, and the budget comes back.
TEST_F(BodyBudgetTest, BodiesInFlightAreBoundedAcrossConnections) {
  CreateSession("writer-a", R"({"id":"s"})");
  const std::string head =
      "POST /v1/sessions/s/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
      "writer-a\r\n"
      "Content-Type: application/json\r\nContent-Length: 60000\r\n\r\n";
  RawConnection slow(port());
  // "100 Continue" comes once the server has reserved the 60000 bytes.
  ASSERT_TRUE(slow.Send(head.substr(0, head.size() - 2) +
                        "Expect: 100-continue\r\n\r\n"));
  ASSERT_EQ(slow.ReadResponse(milliseconds(2000)).status, 100);
  ASSERT_TRUE(slow.Send("{"));
  RawConnection second(port());
  ASSERT_TRUE(second.Send(head));
  HttpResponse r = second.ReadResponse(milliseconds(2000));
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.ErrorCode(), "too_many_requests");
  // The slow one times out, and its reservation is returned.
  EXPECT_EQ(slow.ReadResponse(milliseconds(3000)).status, 408);
  HttpResponse ok =
      Client("writer-a")
          .Post("/v1/sessions/s/events", R"({"eventType":"a","payload":1})");
  EXPECT_EQ(ok.status, 201);
}

}  // namespace
}  // namespace acpstore::testing
