// Process, Run, FreeLoopbackPort: see process.h.

#include "testing/process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace acpstore::proc {
namespace {

std::vector<std::string> ChildEnv(const std::vector<std::string>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::strncmp(*e, "ACPSTORE_", 9) != 0) env.emplace_back(*e);
  }
  for (const std::string& add : extra) {
    const std::string name = add.substr(0, add.find('=') + 1);
    std::erase_if(env, [&](const std::string& e) { return e.starts_with(name); });
    env.push_back(add);
  }
  return env;
}

std::vector<char*> CStrings(std::vector<std::string>& v) {
  std::vector<char*> out;
  for (std::string& s : v) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

int Exit::code() const {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return -1;
}
bool Exit::signaled() const { return WIFSIGNALED(wait_status); }
int Exit::signal() const {
  return WIFSIGNALED(wait_status) ? WTERMSIG(wait_status) : 0;
}

Process::Process(const std::vector<std::string>& args,
                 const std::vector<std::string>& env,
                 const std::string& output_dir)
    : Process(Spec{.argv = args,
                   .env = env,
                   .out = Output::File(output_dir + "/stdout.log"),
                   .err = Output::File(output_dir + "/stderr.log")}) {}

Process::Process(const Spec& spec) {
  out_.output = spec.out;
  err_.output = spec.err;
  if (spec.argv.empty()) {
    status_ = Status::InvalidArgument("no program to start");
    return;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null",
                                   O_RDONLY, 0);
  int write_ends[2] = {-1, -1};
  Status failed;
  auto route = [&](Sink& sink, int target, int index) {
    switch (sink.output.kind) {
      case Output::Kind::kInherit:
        break;
      case Output::Kind::kNull:
        posix_spawn_file_actions_addopen(&actions, target, "/dev/null",
                                         O_WRONLY, 0);
        break;
      case Output::Kind::kFile:
        posix_spawn_file_actions_addopen(&actions, target,
                                         sink.output.path.c_str(),
                                         O_WRONLY | O_CREAT | O_TRUNC, 0600);
        break;
      case Output::Kind::kPipe: {
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) != 0) {
          failed = Status::IoError(std::string("pipe2: ") + std::strerror(errno));
          return;
        }
        sink.fd = fds[0];
        write_ends[index] = fds[1];
        // dup2 clears FD_CLOEXEC on the child's copy; both pipe ends
        // themselves close at exec.
        posix_spawn_file_actions_adddup2(&actions, fds[1], target);
        break;
      }
      case Output::Kind::kStdout:
        posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, target);
        break;
    }
  };
  route(out_, STDOUT_FILENO, 0);
  if (out_.output.kind == Output::Kind::kStdout) failed = Status::InvalidArgument("stdout cannot go to stdout");
  route(err_, STDERR_FILENO, 1);
  if (failed.ok()) {
    std::vector<std::string> args = spec.argv;
    std::vector<std::string> env = ChildEnv(spec.env);
    std::vector<char*> argv = CStrings(args);
    std::vector<char*> envp = CStrings(env);
    const int rc =
        spec.search_path
            ? ::posix_spawnp(&pid_, argv[0], &actions, nullptr, argv.data(),
                             envp.data())
            : ::posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(),
                            envp.data());
    if (rc != 0) {
      pid_ = -1;
      failed = Status::IoError("cannot start " + spec.argv[0] + ": " +
                               std::strerror(rc));
    }
  }
  posix_spawn_file_actions_destroy(&actions);
  if (pid_ > 0) {
    // A pidfd lets Wait() sleep in poll() until the child ends (or a pipe
    // has bytes) instead of waking up to ask: a benchmark measures this
    // process's CPU while its child runs.
    pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
  }
  for (int fd : write_ends) {
    if (fd >= 0) ::close(fd);
  }
  if (!failed.ok()) {
    status_ = failed;
    for (Sink* s : {&out_, &err_}) {
      if (s->fd >= 0) ::close(s->fd);
      s->fd = -1;
    }
  }
}

Process::~Process() {
  if (running()) Kill();
  for (Sink* s : {&out_, &err_}) {
    if (s->fd >= 0) ::close(s->fd);
  }
  if (pidfd_ >= 0) ::close(pidfd_);
}

void Process::Signal(int sig) {
  if (running()) ::kill(pid_, sig);
}

bool Process::Reap(bool block) {
  if (exit_) return true;
  if (pid_ <= 0) return false;
  Exit e;
  for (;;) {
    const pid_t r = ::wait4(pid_, &e.wait_status, block ? 0 : WNOHANG, &e.usage);
    if (r < 0 && errno == EINTR) continue;
    if (r == pid_) {
      exit_ = e;
      return true;
    }
    return false;
  }
}

std::optional<int> Process::Wait(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!Reap(false)) {
    if (pid_ <= 0) return std::nullopt;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - Clock::now());
    if (left.count() <= 0) return std::nullopt;
    // Sleep until the child ends or a pipe has bytes (kept drained so a
    // chatty child cannot block on a full pipe), or the deadline.
    pollfd fds[3];
    nfds_t n = 0;
    if (pidfd_ >= 0) fds[n++] = {pidfd_, POLLIN, 0};
    for (Sink* s : {&out_, &err_}) {
      if (s->fd >= 0 && !s->eof) fds[n++] = {s->fd, POLLIN, 0};
    }
    // Without a pidfd, look again every 5 ms.
    const int wait_ms = pidfd_ >= 0 ? static_cast<int>(left.count())
                                    : static_cast<int>(std::min<int64_t>(left.count(), 5));
    if (::poll(fds, n, wait_ms) < 0 && errno != EINTR) return std::nullopt;
    for (Sink* s : {&out_, &err_}) {
      if (s->fd >= 0 && !s->eof) ReadPipe(*s, 0);
    }
  }
  return exit_->code();
}

const Exit& Process::Kill() {
  if (!exit_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    for (Sink* s : {&out_, &err_}) {
      while (s->fd >= 0 && !s->eof && ReadPipe(*s, -1)) {
      }
    }
    Reap(true);
  }
  static const Exit kNever{};
  return exit_ ? *exit_ : kNever;
}

const Exit& Process::Terminate(std::chrono::milliseconds grace) {
  Signal(SIGTERM);
  if (!Wait(grace)) return Kill();
  return *exit_;
}

bool Process::ReadPipe(Sink& sink, int timeout_ms) {
  if (sink.fd < 0 || sink.eof) return false;
  pollfd p{sink.fd, POLLIN, 0};
  const int n = ::poll(&p, 1, timeout_ms);
  if (n < 0) return errno == EINTR;
  if (n == 0) return true;
  char buf[16384];
  const ssize_t got = ::read(sink.fd, buf, sizeof(buf));
  if (got < 0) return errno == EINTR || errno == EAGAIN;
  if (got == 0) {
    sink.eof = true;
    return false;
  }
  sink.text.append(buf, static_cast<size_t>(got));
  return true;
}

std::string Process::Text(Stream stream) const {
  const Sink& s = sink(stream);
  if (s.output.kind == Output::Kind::kFile) return ReadWholeFile(s.output.path);
  return s.text;
}

bool Process::WaitForText(Stream stream, std::string_view text,
                          std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  Sink& s = sink(stream);
  if (s.output.kind == Output::Kind::kPipe) {
    return ReadUntil(
        stream,
        [&](std::string_view got) { return got.find(text) != std::string_view::npos; },
        deadline);
  }
  while (Clock::now() < deadline) {
    if (Text(stream).find(text) != std::string::npos) return true;
    if (Wait(std::chrono::milliseconds(0))) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

RunResult Run(Spec spec, std::chrono::milliseconds timeout) {
  if (spec.out.kind == Output::Kind::kInherit) spec.out = Output::Pipe();
  if (spec.err.kind == Output::Kind::kInherit) spec.err = Output::Pipe();
  RunResult result;
  Process p(spec);
  if (p.pid() < 0) {
    result.err = std::string(p.status().message());
    return result;
  }
  const std::optional<int> code = p.Wait(timeout);
  const Exit& e = code ? *p.exit() : p.Kill();
  // Whatever is still in the pipes after the exit.
  p.ReadUntil(Stream::kStdout, [](std::string_view) { return false; },
              Clock::now() + std::chrono::seconds(10));
  p.ReadUntil(Stream::kStderr, [](std::string_view) { return false; },
              Clock::now() + std::chrono::seconds(10));
  result.exit_code = e.code();
  result.usage = e.usage;
  result.out = p.Text(Stream::kStdout);
  result.err = p.Text(Stream::kStderr);
  return result;
}

RunResult RunProcess(const std::vector<std::string>& args,
                     const std::vector<std::string>& env) {
  return Run(Spec{.argv = args, .env = env});
}

bool HasLine(std::string_view text, std::string_view line) {
  for (size_t at = text.find(line); at != std::string_view::npos;
       at = text.find(line, at + 1)) {
    const bool starts = at == 0 || text[at - 1] == '\n';
    const size_t end = at + line.size();
    if (starts && end < text.size() && text[end] == '\n') return true;
  }
  return false;
}

int FreeLoopbackPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  int port = 0;
  if (fd >= 0 &&
      ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  if (fd >= 0) ::close(fd);
  return port;
}

uint16_t PortAfter(std::string_view text, std::string_view marker) {
  const size_t at = text.find(marker);
  if (at == std::string_view::npos) return 0;
  const char* begin = text.data() + at + marker.size();
  unsigned port = 0;
  auto [p, ec] = std::from_chars(begin, text.data() + text.size(), port);
  if (ec != std::errc() || p == begin || port > 65535) return 0;
  return static_cast<uint16_t>(port);
}

}  // namespace acpstore::proc
