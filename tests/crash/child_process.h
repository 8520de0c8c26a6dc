// ChildProcess runs crash_child with its stdout on a pipe this process
// reads, so the test sees every ack line the child managed to write before
// it was killed, and its stderr in a file for failure messages.
//
// Thread-safety: none; one test thread. Lifetime: the destructor SIGKILLs
// and reaps the child if it still runs.

#ifndef ACPSTORE_TESTS_CRASH_CHILD_PROCESS_H_
#define ACPSTORE_TESTS_CRASH_CHILD_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace acpstore::crash {

class ChildProcess {
 public:
  // Starts args[0] with args; stderr goes to (truncated) `stderr_path`.
  // On failure pid() is -1 and error() says why.
  ChildProcess(const std::vector<std::string>& args,
               const std::string& stderr_path);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  const std::string& error() const { return error_; }

  // Reads stdout into the buffer until `deadline`, or until the buffer
  // holds a complete line equal to `line` (when not empty). Returns whether
  // that line was seen; false too when stdout reached EOF.
  bool ReadUntil(std::chrono::steady_clock::time_point deadline,
                 const std::string& line = "");
  // SIGKILLs the child, reads stdout to EOF and reaps it. Returns the raw
  // wait status.
  int KillAndReap();

  // Everything read from stdout so far.
  const std::string& output() const { return out_; }

 private:
  // Appends what is readable now; false at EOF or on error.
  bool ReadSome(int timeout_ms);

  pid_t pid_ = -1;
  int out_fd_ = -1;
  bool reaped_ = false;
  std::string out_;
  std::string error_;
};

}  // namespace acpstore::crash

#endif  // ACPSTORE_TESTS_CRASH_CHILD_PROCESS_H_
