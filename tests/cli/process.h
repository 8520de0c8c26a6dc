// Runs the real `acpstore` binary for the command-line tests: to completion
// (capturing stdout, stderr and the exit code) or in the background (for
// `serve`, with its output in files the test can poll).
//
// The child gets this process's environment minus every ACPSTORE_*
// variable, plus the ones a test passes, so a developer's shell cannot
// change a test's outcome.
//
// Thread-safety: none; one test thread.

#ifndef ACPSTORE_TESTS_CLI_PROCESS_H_
#define ACPSTORE_TESTS_CLI_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace acpstore::testing {

struct ProcessResult {
  int exit_code = -1;  // 128 + signal number when killed by a signal
  std::string out;
  std::string err;
};

// Runs `args` (args[0] is the program path) and waits for it.
ProcessResult RunProcess(const std::vector<std::string>& args,
                         const std::vector<std::string>& env = {});

// A child running in the background; stdout and stderr go to files.
// The destructor kills it (SIGKILL) if it still runs.
class BackgroundProcess {
 public:
  BackgroundProcess(const std::vector<std::string>& args,
                    const std::vector<std::string>& env,
                    const std::string& output_dir);
  ~BackgroundProcess();
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  pid_t pid() const { return pid_; }
  std::string Stderr() const;
  // Waits until stderr contains `text`; false on timeout or if the child
  // exited first.
  bool WaitForStderr(const std::string& text, std::chrono::milliseconds timeout);
  void Signal(int sig);
  // The exit code (as ProcessResult::exit_code) or std::nullopt on timeout.
  std::optional<int> Wait(std::chrono::milliseconds timeout);

 private:
  pid_t pid_ = -1;
  std::string err_path_;
  std::optional<int> exit_code_;
};

// A TCP port on 127.0.0.1 that was free a moment ago.
int FreeLoopbackPort();

// One HTTP/1.1 request to 127.0.0.1:port; returns the status code, or -1
// when the connection fails. `bearer` adds an Authorization header; a
// non-empty `json_body` is sent as application/json.
int HttpStatus(int port, const std::string& method, const std::string& path,
               const std::string& bearer = "",
               const std::string& json_body = "");

// The same, with the body (read to the end: the request says
// Connection: close). status is -1 when the connection fails.
struct HttpReply {
  int status = -1;
  std::string body;
};
HttpReply HttpRequest(int port, const std::string& method,
                      const std::string& path, const std::string& bearer = "",
                      const std::string& json_body = "");

}  // namespace acpstore::testing

#endif  // ACPSTORE_TESTS_CLI_PROCESS_H_
