// HttpClient: blocking HTTP/1.1 requests over one keep-alive connection,
// for the CLI, the tests and the benchmarks. Bodies framed by
// Content-Length, chunked, or the end of the connection; interim 1xx
// replies are skipped; one deadline (`timeout`) bounds each request from
// connect to the last body byte.
//
// Failure is part of the job: the server may die mid-request. A request
// returns the complete response or a Status (kUnavailable: refused, reset,
// EOF, timeout, not HTTP), after which the connection is dropped and the
// next request reconnects. Nothing is retried unless `retry_stale` asks
// for one retry of a request whose kept-alive connection turned out to be
// closed before any reply byte (safe only for idempotent use: the tests
// set it, the crash tests do not, since they count every lost request).
//
// Thread-safety: none; one client per thread. Lifetime: owns its socket.

#ifndef ACPSTORE_NET_HTTP_CLIENT_H_
#define ACPSTORE_NET_HTTP_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "acpstore/result.h"
#include "net/connection.h"
#include "net/http_wire.h"

namespace acpstore::net {

struct ClientOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  std::string token;  // "Authorization: Bearer <token>" when not empty
  std::chrono::milliseconds timeout = std::chrono::seconds(10);
  bool retry_stale = false;
};

// Reads one response (head and body as framed by the head) from `conn`,
// skipping nothing: a 100 Continue is returned like any other. *close is
// set when the connection cannot carry another request (Connection: close,
// or a body read to EOF).
Result<Response> ReadResponse(Connection& conn, Deadline deadline,
                              bool* close = nullptr);

class HttpClient {
 public:
  explicit HttpClient(ClientOptions options);
  // 127.0.0.1:port with an optional token.
  explicit HttpClient(uint16_t port, std::string token = "",
                      std::chrono::milliseconds timeout = std::chrono::seconds(10));

  HttpClient(HttpClient&&) noexcept = default;
  HttpClient& operator=(HttpClient&&) noexcept = default;

  Result<Response> Request(std::string_view method, std::string_view target,
                           std::string_view body = {},
                           const HeaderList& headers = {});
  Result<Response> Get(std::string_view target) { return Request("GET", target); }
  Result<Response> Delete(std::string_view target) {
    return Request("DELETE", target);
  }
  Result<Response> Post(std::string_view target, std::string_view json) {
    return Request("POST", target, json);
  }
  Result<Response> Patch(std::string_view target, std::string_view json) {
    return Request("PATCH", target, json);
  }

  bool connected() const { return conn_.is_open(); }
  void Disconnect() { conn_.Close(); }
  const ClientOptions& options() const { return options_; }

 private:
  Result<Response> Once(std::string_view request, bool* stale);

  ClientOptions options_;
  RequestWriter writer_;
  Connection conn_;
  std::string request_;  // reused between requests
};

}  // namespace acpstore::net

#endif  // ACPSTORE_NET_HTTP_CLIENT_H_
