// HttpClient against a scripted peer: keep-alive, framing, reconnects,
// deadlines and errors as Status.

#include "net/http_client.h"

#include <gtest/gtest.h>

#include <chrono>

#include "net/fake_server_test_util.h"

namespace acpstore::net {
namespace {

using std::chrono::milliseconds;

TEST(HttpClientTest, KeepAliveCarriesRequestsOnOneConnection) {
  FakeServer server([](int fd, FakeServer& s) {
    while (!s.ReadRequest(fd).empty()) {
      FakeServer::Write(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    }
  });
  HttpClient client(server.port(), "secret");
  for (int i = 0; i < 3; ++i) {
    Result<Response> r = client.Post("/v1/x", "{\"a\":1}");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "ok");
  }
  client.Disconnect();
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0],
            "POST /v1/x HTTP/1.1\r\nHost: 127.0.0.1:" +
                std::to_string(server.port()) +
                "\r\nAuthorization: Bearer secret\r\nContent-Type: "
                "application/json\r\nContent-Length: 7\r\n\r\n{\"a\":1}");
  EXPECT_EQ(server.accepted(), 1);
}

TEST(HttpClientTest, ChunkedBodyAndInterimReplies) {
  FakeServer server([](int fd, FakeServer& s) {
    if (s.ReadRequest(fd).empty()) return;
    FakeServer::Write(fd, "HTTP/1.1 100 Continue\r\n\r\n");
    FakeServer::Write(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n");
    FakeServer::Write(fd, "2\r\nde\r\n0\r\n\r\n");
    if (s.ReadRequest(fd).empty()) return;
    FakeServer::Write(fd, "HTTP/1.1 204 No Content\r\n\r\n");
  });
  HttpClient client(server.port());
  Result<Response> r = client.Get("/a");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "abcde");
  EXPECT_EQ(r->Header("transfer-encoding"), "chunked");
  r = client.Delete("/b");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 204);
  EXPECT_EQ(server.accepted(), 1);
}

TEST(HttpClientTest, ConnectionCloseAndBodyToEofReconnect) {
  FakeServer server([](int fd, FakeServer& s) {
    if (s.ReadRequest(fd).empty()) return;
    if (s.accepted() == 1) {
      FakeServer::Write(fd, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\na");
    } else {
      FakeServer::Write(fd, "HTTP/1.1 200 OK\r\n\r\nuntil the end");
    }
  });
  HttpClient client(server.port());
  Result<Response> r = client.Get("/1");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body, "a");
  EXPECT_FALSE(client.connected());
  r = client.Get("/2");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body, "until the end");
  EXPECT_FALSE(client.connected());
  EXPECT_EQ(server.accepted(), 2);
}

TEST(HttpClientTest, RefusedAndSilentServersAreUnavailable) {
  uint16_t port = 0;
  {
    FakeServer gone([](int, FakeServer&) {});
    port = gone.port();
  }
  HttpClient refused(port);
  Result<Response> r = refused.Get("/");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);

  FakeServer silent([](int fd, FakeServer& s) {
    s.ReadRequest(fd);
    FakeServer::Write(fd, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
    char c;
    ::recv(fd, &c, 1, 0);  // until the client gives up and closes
  });
  HttpClient slow(silent.port(), "", milliseconds(200));
  const auto start = std::chrono::steady_clock::now();
  r = slow.Get("/");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_FALSE(slow.connected());
}

TEST(HttpClientTest, StaleKeptAliveConnectionIsRetriedOnlyWhenAsked) {
  // Each connection answers one request, then closes without saying so.
  auto one_reply = [](int fd, FakeServer& s) {
    if (s.ReadRequest(fd).empty()) return;
    FakeServer::Write(fd, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  };
  FakeServer server(one_reply);
  HttpClient plain(server.port());
  ASSERT_TRUE(plain.Get("/").ok());
  // The server closes after its reply: the second request fails on send
  // or reads EOF or a reset; an error, never a silent retry.
  Result<Response> second = plain.Get("/");
  EXPECT_FALSE(second.ok());

  HttpClient retrying(ClientOptions{.port = server.port(), .retry_stale = true});
  ASSERT_TRUE(retrying.Get("/").ok());
  Result<Response> again = retrying.Get("/");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->status, 200);
}

TEST(HttpClientTest, GarbageIsNotAResponse) {
  FakeServer server([](int fd, FakeServer& s) {
    s.ReadRequest(fd);
    FakeServer::Write(fd, "SSH-2.0-OpenSSH\r\n\r\n");
  });
  HttpClient client(server.port());
  Result<Response> r = client.Get("/");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace acpstore::net
