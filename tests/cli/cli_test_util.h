// What the CLI end-to-end tests share: the acpstore binary run through the
// child-process helper (testing/process.h) and one-shot requests through
// the HTTP client (src/net). Only the tests' vocabulary lives here; the
// processes and the HTTP are those two libraries'.
//
// Thread-safety: none; one test thread.

#ifndef ACPSTORE_TESTS_CLI_CLI_TEST_UTIL_H_
#define ACPSTORE_TESTS_CLI_CLI_TEST_UTIL_H_

#include <chrono>
#include <cstdint>
#include <string>

#include "net/http_client.h"
#include "testing/process.h"

namespace acpstore::testing {

using proc::FreeLoopbackPort;
using proc::RunProcess;

// One HTTP/1.1 request to 127.0.0.1:port on a fresh connection. status is
// -1 when there is no response (refused, reset, 5 s without a reply).
struct HttpReply {
  int status = -1;
  std::string body;
};
inline HttpReply HttpRequest(int port, const std::string& method,
                             const std::string& path,
                             const std::string& bearer = "",
                             const std::string& json_body = "") {
  net::HttpClient client(static_cast<uint16_t>(port), bearer,
                         std::chrono::seconds(5));
  Result<net::Response> r = client.Request(method, path, json_body);
  if (!r.ok()) return {};
  return {r->status, std::move(r->body)};
}
inline int HttpStatus(int port, const std::string& method,
                      const std::string& path, const std::string& bearer = "",
                      const std::string& json_body = "") {
  return HttpRequest(port, method, path, bearer, json_body).status;
}

}  // namespace acpstore::testing

#endif  // ACPSTORE_TESTS_CLI_CLI_TEST_UTIL_H_
