// The one child-process helper of the tests and the benchmarks: start a
// program with an argv and an environment, send its stdout and stderr to
// files, pipes or /dev/null, wait for it with a deadline, signal it
// (SIGTERM, SIGKILL), read what it prints (a line on a pipe, a marker in
// a log file, the port a server logs) and collect its exit code, raw wait
// status and resource usage.
//
// The environment is this process's minus every ACPSTORE_* variable (so a
// developer's shell cannot change a test's or a benchmark's outcome) plus
// the spec's NAME=value entries, which replace a variable of the same name.
//
// Spawning is posix_spawn(p): nothing runs in the child between fork and
// exec, which matters in multi-threaded test binaries. stdin is /dev/null.
//
// Thread-safety: none; a Process belongs to one thread. Lifetime: the
// destructor SIGKILLs and reaps a child that still runs, so a failed
// assertion never leaks a process.

#ifndef ACPSTORE_TESTING_PROCESS_H_
#define ACPSTORE_TESTING_PROCESS_H_

#include <sys/resource.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "acpstore/status.h"

namespace acpstore::proc {

using Clock = std::chrono::steady_clock;

// Where one of the child's output streams goes.
struct Output {
  enum class Kind { kInherit, kNull, kFile, kPipe, kStdout };
  Kind kind = Kind::kInherit;
  std::string path;  // kFile: created or truncated, mode 0600

  static Output Inherit() { return {}; }
  static Output Null() { return {Kind::kNull, ""}; }
  static Output File(std::string path) { return {Kind::kFile, std::move(path)}; }
  static Output Pipe() { return {Kind::kPipe, ""}; }
  // stderr only: the same file or pipe as stdout (2>&1).
  static Output SameAsStdout() { return {Kind::kStdout, ""}; }
};

struct Spec {
  std::vector<std::string> argv;  // argv[0]: the program's path
  // argv[0] is a name looked up in PATH (e.g. "wrk").
  bool search_path = false;
  std::vector<std::string> env;  // NAME=value, added or replacing
  Output out = Output::Inherit();
  Output err = Output::Inherit();
};

// How a reaped child ended.
struct Exit {
  int wait_status = 0;  // raw, as waitpid returns it
  rusage usage{};       // the child's own (wait4)
  // The exit code, or 128 + the signal number when a signal ended it.
  int code() const;
  bool signaled() const;
  int signal() const;   // 0 unless signaled()
};

enum class Stream { kStdout, kStderr };

class Process {
 public:
  // Starts the child. On failure pid() is -1 and status() says why.
  explicit Process(const Spec& spec);
  // The common case of the end-to-end tests: `args` with the clean
  // environment plus `env`, stdout and stderr in output_dir/stdout.log and
  // output_dir/stderr.log.
  Process(const std::vector<std::string>& args,
          const std::vector<std::string>& env, const std::string& output_dir);
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  const Status& status() const { return status_; }
  bool running() const { return pid_ > 0 && !exit_; }

  // Sends `sig` unless the child was reaped already.
  void Signal(int sig);
  // Waits up to `timeout` for the child to end: its exit code (as
  // Exit::code), nullopt on timeout. Once reaped, returns at once.
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  // SIGKILL, reads the pipes to EOF, reaps. Returns how it ended.
  const Exit& Kill();
  // SIGTERM, then SIGKILL after `grace`; reaps. Returns how it ended.
  const Exit& Terminate(std::chrono::milliseconds grace);
  // How it ended, once reaped.
  const std::optional<Exit>& exit() const { return exit_; }

  // What the child wrote to `stream` so far: the file's contents (kFile),
  // or the bytes read from the pipe (kPipe; see ReadUntil).
  std::string Text(Stream stream) const;
  // Reads the piped `stream` until `pred(text so far)` holds (true), or
  // until the deadline, EOF or an error (false). Needs Output::Pipe().
  template <typename Pred>
  bool ReadUntil(Stream stream, Pred pred, Clock::time_point deadline);
  // Waits until `stream` (file or pipe) contains `text`: false on timeout
  // or when the child ended first.
  bool WaitForText(Stream stream, std::string_view text,
                   std::chrono::milliseconds timeout);

 private:
  struct Sink {
    Output output;
    int fd = -1;        // read end of a pipe
    bool eof = false;
    std::string text;   // bytes read from the pipe
  };
  // Reads what the pipe has within `timeout_ms` (-1: until something
  // arrives); false at EOF or on an error.
  bool ReadPipe(Sink& sink, int timeout_ms);
  Sink& sink(Stream s) { return s == Stream::kStdout ? out_ : err_; }
  const Sink& sink(Stream s) const {
    return s == Stream::kStdout ? out_ : err_;
  }
  bool Reap(bool block);

  pid_t pid_ = -1;
  int pidfd_ = -1;  // pidfd_open(2), readable once the child has ended
  Status status_;
  Sink out_;
  Sink err_;
  std::optional<Exit> exit_;
};

template <typename Pred>
bool Process::ReadUntil(Stream stream, Pred pred, Clock::time_point deadline) {
  Sink& s = sink(stream);
  while (!pred(std::string_view(s.text))) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - Clock::now());
    if (left.count() <= 0 || s.fd < 0 || s.eof) return false;
    if (!ReadPipe(s, static_cast<int>(left.count()))) {
      return pred(std::string_view(s.text));
    }
  }
  return true;
}

// Runs `spec` to completion with stdout and stderr captured (pipes, unless
// the spec sends them elsewhere) and returns them with the exit code; a
// child still running at `timeout` is killed (exit code 128 + 9).
struct RunResult {
  int exit_code = -1;  // 128 + signal when a signal ended it; -1: no start
  std::string out;
  std::string err;  // or why the program could not be started
  rusage usage{};
};
RunResult Run(Spec spec, std::chrono::milliseconds timeout = std::chrono::minutes(30));
// Run() of `args` with the clean environment plus `env`.
RunResult RunProcess(const std::vector<std::string>& args,
                     const std::vector<std::string>& env = {});

// Whether `text` holds `line` as a complete line ("line\n" at the start or
// after a "\n"): what a child prints to say where it is.
bool HasLine(std::string_view text, std::string_view line);

// A TCP port on 127.0.0.1 that was free a moment ago (for a child to
// listen on).
int FreeLoopbackPort();

// The port in `text` right after the first `marker` (e.g. the server's
// "listening on 127.0.0.1:"), or 0.
uint16_t PortAfter(std::string_view text, std::string_view marker);

}  // namespace acpstore::proc

#endif  // ACPSTORE_TESTING_PROCESS_H_
