// What the CLI end-to-end tests share: the acpstore binary run through the
// child-process helper (testing/process.h) and one-shot requests through
// the HTTP client (src/net). Only the tests' vocabulary lives here; the
// processes and the HTTP are those two libraries'.
//
// Thread-safety: none; one test thread.

#ifndef ACPSTORE_TESTS_CLI_CLI_TEST_UTIL_H_
#define ACPSTORE_TESTS_CLI_CLI_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

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

// `acpstore serve` (the binary at `binary`) on `data_dir`, listening on
// 127.0.0.1:port, its stdout and stderr logged into `logs_dir` (which must
// exist), with `extra` arguments after these. Started and waited for its
// "listening on" line (a failed start is a test failure naming its stderr);
// `token` is the bootstrap admin token the data directory holds (empty once
// an operator removed the file).
struct ServedStore {
  std::unique_ptr<proc::Process> process;
  std::string token;
};
inline ServedStore Serve(const std::string& binary, const std::string& data_dir,
                         const std::string& logs_dir, int port,
                         const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args{binary,     "serve",
                                "--data-dir", data_dir,
                                "--listen",   "127.0.0.1:" + std::to_string(port)};
  args.insert(args.end(), extra.begin(), extra.end());
  ServedStore served;
  served.process = std::make_unique<proc::Process>(
      args, std::vector<std::string>{}, logs_dir);
  EXPECT_TRUE(served.process->WaitForText(proc::Stream::kStderr, "listening on",
                                          std::chrono::seconds(15)))
      << served.process->Text(proc::Stream::kStderr);
  std::ifstream in(data_dir + "/bootstrap-admin.token");
  std::getline(in, served.token);
  return served;
}

}  // namespace acpstore::testing

#endif  // ACPSTORE_TESTS_CLI_CLI_TEST_UTIL_H_
