// A minimal blocking HTTP/1.1 client over POSIX sockets for the end-to-end
// tests: plain requests on a keep-alive connection, raw bytes for hostile
// input, and an SSE reader. Deliberately not Beast: it must be able to
// send what a correct client never would.
//
// Thread-safety: none; one client per thread. Every read has a timeout so
// a broken server fails a test instead of hanging it.

#ifndef ACPSTORE_TESTS_HTTP_TEST_CLIENT_H_
#define ACPSTORE_TESTS_HTTP_TEST_CLIENT_H_

#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace acpstore::testing {

struct HttpResponse {
  int status = 0;  // 0: no response (connection closed / timeout)
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;

  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
  boost::json::value Json() const;
  // error.code of an error body, or "".
  std::string ErrorCode() const;
};

// A TCP connection to 127.0.0.1:port.
class RawConnection {
 public:
  explicit RawConnection(uint16_t port, int recv_buffer = 0);
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool ok() const { return fd_ >= 0; }
  // False when the peer has closed or reset the connection.
  bool Send(std::string_view bytes);
  // Reads one response (headers + Content-Length body, or until close).
  HttpResponse ReadResponse(
      std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Reads whatever arrives until `pred(buffered)` or timeout/close.
  // Returns everything read so far (also kept for later calls).
  template <typename Pred>
  std::string ReadUntil(Pred pred, std::chrono::milliseconds timeout);
  // True if the peer closed (EOF or reset) within `timeout`.
  bool WaitClosed(std::chrono::milliseconds timeout);
  int fd() const { return fd_; }
  std::string& buffered() { return buf_; }

 private:
  bool ReadSome(std::chrono::milliseconds timeout);  // false: EOF/timeout
  int fd_ = -1;
  std::string buf_;
  bool eof_ = false;
};

template <typename Pred>
std::string RawConnection::ReadUntil(Pred pred,
                                     std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred(buf_)) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || !ReadSome(left)) break;
  }
  return buf_;
}

// Requests with a bearer token over one keep-alive connection (reopened
// when the server closed it).
class HttpClient {
 public:
  HttpClient(uint16_t port, std::string token = "")
      : port_(port), token_(std::move(token)) {}

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
  HttpResponse Do(
      const std::string& method, const std::string& path,
      const std::string& body,
      std::vector<std::pair<std::string, std::string>> headers = {});

 private:
  uint16_t port_;
  std::string token_;
  std::optional<RawConnection> conn_;
};

// One parsed SSE frame.
struct SseFrame {
  std::string event;  // "" for a data frame
  std::string id;
  std::string data;
  std::string comment;  // ": ping" -> "ping"
  std::optional<int64_t> retry;
};

// Reads an SSE response incrementally.
class SseClient {
 public:
  // Sends GET `path` with the token and `last_event_id` (when set).
  SseClient(uint16_t port, const std::string& token, const std::string& path,
            std::optional<std::string> last_event_id = std::nullopt,
            int recv_buffer = 0);
  int status() const { return status_; }
  const HttpResponse& head() const { return head_; }
  // Frames parsed so far plus those arriving until `n` are available
  // (or timeout). Returns all frames received.
  const std::vector<SseFrame>& WaitFrames(
      size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Data frames (with an id) only.
  std::vector<SseFrame> Events() const;
  RawConnection& connection() { return conn_; }

 private:
  void Parse();
  RawConnection conn_;
  HttpResponse head_;
  int status_ = 0;
  size_t consumed_ = 0;
  std::vector<SseFrame> frames_;
};

}  // namespace acpstore::testing

#endif  // ACPSTORE_TESTS_HTTP_TEST_CLIENT_H_
