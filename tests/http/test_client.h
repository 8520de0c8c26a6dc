// The end-to-end tests' HTTP vocabulary over the project's one client,
// src/net: requests whose failure reads as status 0 (so a scenario can
// assert on `.status` directly), raw connections for hostile input, and an
// SSE reader that collects frames. Nothing here touches a socket or parses
// HTTP; net::Connection, net::ReadResponse and net::SseStream do.
//
// Thread-safety: none; one client per thread. Every read has a timeout so
// a broken server fails a test instead of hanging it.

#ifndef ACPSTORE_TESTS_HTTP_TEST_CLIENT_H_
#define ACPSTORE_TESTS_HTTP_TEST_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "net/connection.h"
#include "net/http_client.h"
#include "net/sse.h"

namespace acpstore::testing {

// status 0: no response (connection closed / timeout). Header() takes
// lower-case names; Json() and ErrorCode() read the body.
using HttpResponse = net::Response;

// A TCP connection to 127.0.0.1:port that sends whatever a test writes.
class RawConnection {
 public:
  explicit RawConnection(uint16_t port, int recv_buffer = 0);

  bool ok() const { return conn_.is_open(); }
  // False when the peer has closed or reset the connection.
  bool Send(std::string_view bytes) { return conn_.SendAll(bytes).ok(); }
  // Reads one response (an interim 100 too); status 0 if none arrived
  // whole within `timeout`.
  HttpResponse ReadResponse(
      std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Reads until `pred(buffered)` or timeout/close; returns everything
  // buffered so far (also kept for later calls).
  template <typename Pred>
  std::string ReadUntil(Pred pred, std::chrono::milliseconds timeout) {
    conn_.ReadUntil(pred, net::After(timeout));
    return conn_.buffer();
  }
  // True if the peer closed (EOF or reset) within `timeout`.
  bool WaitClosed(std::chrono::milliseconds timeout) {
    return conn_.WaitClosed(timeout);
  }
  int fd() const { return conn_.fd(); }
  std::string& buffered() { return conn_.buffer(); }

 private:
  net::Connection conn_;
};

// Requests with a bearer token over one keep-alive connection, retried once
// on a fresh connection when the kept-alive one turns out closed.
class HttpClient {
 public:
  explicit HttpClient(uint16_t port, std::string token = "")
      : client_(net::ClientOptions{
            .port = port, .token = std::move(token), .retry_stale = true}) {}

  HttpResponse Get(const std::string& path) { return Do("GET", path, ""); }
  HttpResponse Delete(const std::string& path) {
    return Do("DELETE", path, "");
  }
  HttpResponse Post(const std::string& path, const std::string& json) {
    return Do("POST", path, json);
  }
  HttpResponse Patch(const std::string& path, const std::string& json) {
    return Do("PATCH", path, json);
  }
  HttpResponse Do(const std::string& method, const std::string& path,
                  const std::string& body, net::HeaderList headers = {});

 private:
  net::HttpClient client_;
};

// One SSE frame as the tests read it.
struct SseFrame {
  std::string event;  // "" for a data frame
  std::string id;     // "" when the frame has none
  std::string data;
  std::string comment;  // ": ping" -> "ping"
  std::optional<int64_t> retry;
};

// Reads an SSE response incrementally.
class SseClient {
 public:
  // Sends GET `path` with the token and `last_event_id` (when set) and
  // reads the head (status 0 when there is none).
  // `cookie`: sent as the Cookie header (a browser session's stream; then
  // pass an empty token).
  SseClient(uint16_t port, const std::string& token, const std::string& path,
            std::optional<std::string> last_event_id = std::nullopt,
            int recv_buffer = 0, const std::string& cookie = "");
  int status() const { return stream_.status(); }
  const HttpResponse& head() const { return stream_.head(); }
  // Frames received so far plus those arriving until `n` are available
  // (or timeout, or the end of the stream). Returns all frames received.
  const std::vector<SseFrame>& WaitFrames(
      size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Data frames (with an id) only.
  std::vector<SseFrame> Events() const;
  net::Connection& connection() { return stream_.connection(); }

 private:
  net::SseStream stream_;
  std::vector<SseFrame> frames_;
};

}  // namespace acpstore::testing

#endif  // ACPSTORE_TESTS_HTTP_TEST_CLIENT_H_
