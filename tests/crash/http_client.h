// BlockingHttp: a small blocking HTTP/1.1 client over one keep-alive
// connection to 127.0.0.1, for the serve crash tests. Plain POSIX sockets
// (no Beast: its translation units are slow to compile); responses must
// carry Content-Length or have no body (204), which is all acpstore sends
// outside SSE.
//
// Failure is part of the job here: the server may die mid-request. A
// request either returns a complete response (status + body) or nullopt
// ("connection error": refused, reset, EOF, timeout); the caller decides
// what an unknown outcome means. Nothing is ever retried.
//
// Thread-safety: none; one client per thread. Lifetime: owns its socket.

#ifndef ACPSTORE_TESTS_CRASH_HTTP_CLIENT_H_
#define ACPSTORE_TESTS_CRASH_HTTP_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace acpstore::crash {

struct HttpReply {
  int status = 0;
  std::string body;
  bool close = false;  // the server said Connection: close
};

class BlockingHttp {
 public:
  BlockingHttp(uint16_t port, std::string token,
               std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~BlockingHttp();
  BlockingHttp(const BlockingHttp&) = delete;
  BlockingHttp& operator=(const BlockingHttp&) = delete;

  // Sends one request (connecting first if needed) and reads the reply.
  // nullopt on any connection error; the connection is then dropped and
  // the next call reconnects.
  std::optional<HttpReply> Request(std::string_view method,
                                   std::string_view path,
                                   std::string_view json_body = {});
  std::optional<HttpReply> Get(std::string_view path) {
    return Request("GET", path);
  }
  std::optional<HttpReply> Post(std::string_view path, std::string_view body) {
    return Request("POST", path, body);
  }

  bool connected() const { return fd_ >= 0; }
  void Disconnect();

 private:
  bool Connect();
  bool SendAll(std::string_view bytes);
  // Reads until `buf_` holds at least `n` bytes; false on error/timeout.
  bool Fill(size_t n);

  uint16_t port_;
  std::string token_;
  std::chrono::milliseconds timeout_;
  int fd_ = -1;
  std::string buf_;
};

}  // namespace acpstore::crash

#endif  // ACPSTORE_TESTS_CRASH_HTTP_CLIENT_H_
