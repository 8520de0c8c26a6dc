// ChildProcess: posix_spawn with a stdout pipe and a stderr file.

#include "child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

extern char** environ;

namespace acpstore::crash {

ChildProcess::ChildProcess(const std::vector<std::string>& args,
                           const std::string& stderr_path) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    error_ = std::string("pipe2: ") + std::strerror(errno);
    return;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  // dup2 clears FD_CLOEXEC on the child's fd 1; the pipe ends themselves
  // close at exec.
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, stderr_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  std::vector<char*> argv;
  for (const std::string& a : args)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  int rc =
      ::posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  if (rc != 0) {
    pid_ = -1;
    ::close(fds[0]);
    error_ = "posix_spawn " + args[0] + ": " + std::strerror(rc);
    return;
  }
  out_fd_ = fds[0];
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0 && !reaped_) KillAndReap();
  if (out_fd_ >= 0) ::close(out_fd_);
}

bool ChildProcess::ReadSome(int timeout_ms) {
  pollfd p{.fd = out_fd_, .events = POLLIN, .revents = 0};
  int n = ::poll(&p, 1, timeout_ms);
  if (n < 0) return errno == EINTR;
  if (n == 0) return true;
  char buf[16384];
  ssize_t got = ::read(out_fd_, buf, sizeof(buf));
  if (got < 0) return errno == EINTR || errno == EAGAIN;
  if (got == 0) return false;
  out_.append(buf, static_cast<size_t>(got));
  return true;
}

bool ChildProcess::ReadUntil(std::chrono::steady_clock::time_point deadline,
                             const std::string& line) {
  const std::string want = line + "\n";
  while (true) {
    if (!line.empty() && (out_.rfind(want, 0) == 0 ||
                          out_.find("\n" + want) != std::string::npos)) {
      return true;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    if (!ReadSome(static_cast<int>(left.count()))) return false;
  }
}

int ChildProcess::KillAndReap() {
  ::kill(pid_, SIGKILL);
  while (ReadSome(-1)) {
  }
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  reaped_ = true;
  return status;
}

}  // namespace acpstore::crash
