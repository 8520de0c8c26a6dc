// ServerProcess and EpollLoop (http_loadgen.h).

#include "http_loadgen.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "testing/process.h"

namespace acpstore::bench {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

int64_t MonoNanos() {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

ServerProcess::ServerProcess() = default;

ServerProcess::~ServerProcess() {
  if (process_ != nullptr && process_->running()) Stop();
}

pid_t ServerProcess::pid() const {
  return process_ != nullptr ? process_->pid() : -1;
}

Status ServerProcess::Start(const std::string& binary, const std::string& dir,
                            const std::vector<std::string>& args,
                            const std::string& token) {
  const std::string data_dir = dir + "/data";
  std::vector<std::string> argv = {binary,   "serve",    "--data-dir",
                                   data_dir, "--listen", "127.0.0.1:0"};
  argv.insert(argv.end(), args.begin(), args.end());
  process_ = std::make_unique<proc::Process>(
      proc::Spec{.argv = std::move(argv),
                 .out = proc::Output::Null(),
                 .err = proc::Output::File(dir + "/server.log")});
  if (process_->pid() < 0) return process_->status();
  static constexpr std::string_view kMarker = "listening on 127.0.0.1:";
  if (!process_->WaitForText(proc::Stream::kStderr, kMarker,
                             std::chrono::seconds(60))) {
    const std::string log = process_->Text(proc::Stream::kStderr);
    if (!process_->running()) {
      return Status::Unavailable("the server exited at start: " + log);
    }
    return Status::Unavailable("the server did not report a port: " + log);
  }
  port_ = proc::PortAfter(process_->Text(proc::Stream::kStderr), kMarker);
  token_ = token;
  if (token_.empty()) {
    std::ifstream token_file(data_dir + "/bootstrap-admin.token");
    std::getline(token_file, token_);
  }
  if (port_ == 0 || token_.empty()) {
    return Status::Unavailable("the server did not report a port and token: " +
                               process_->Text(proc::Stream::kStderr));
  }
  writer_ = std::make_unique<net::RequestWriter>("127.0.0.1", token_);
  return Status::OK();
}

int ServerProcess::Stop() {
  if (process_ == nullptr || process_->pid() < 0) return -1;
  return process_->Terminate(std::chrono::seconds(30)).code();
}

ServerProcess::Usage ServerProcess::ReadUsage() const {
  Usage u;
  const std::string proc_dir = "/proc/" + std::to_string(pid());
  std::istringstream status(ReadAll(proc_dir + "/status"));
  std::string line;
  while (std::getline(status, line)) {
    unsigned long long kb = 0;
    if (std::sscanf(line.c_str(), "VmRSS: %llu kB", &kb) == 1) u.rss = kb << 10;
    if (std::sscanf(line.c_str(), "VmHWM: %llu kB", &kb) == 1) u.hwm = kb << 10;
  }
  // /proc/PID/stat: fields 14 and 15 (utime, stime) after the ")" of comm.
  const std::string stat = ReadAll(proc_dir + "/stat");
  const size_t paren = stat.rfind(')');
  if (paren != std::string::npos) {
    std::istringstream fields(stat.substr(paren + 2));
    std::string skip;
    for (int i = 3; i < 14; ++i) fields >> skip;
    unsigned long long utime = 0, stime = 0;
    fields >> utime >> stime;
    u.cpu_seconds =
        static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
  }
  return u;
}

EpollLoop::EpollLoop() : epfd_(::epoll_create1(EPOLL_CLOEXEC)) {}

EpollLoop::~EpollLoop() {
  for (HttpConn& c : conns_) {
    if (c.fd >= 0) ::close(c.fd);
  }
  if (epfd_ >= 0) ::close(epfd_);
}

int EpollLoop::Connect(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  const size_t index = conns_.size();
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP;
  ev.data.u64 = index;
  if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    ::close(fd);
    return -1;
  }
  conns_.emplace_back();
  conns_.back().fd = fd;
  return static_cast<int>(index);
}

void EpollLoop::Send(size_t i, std::string_view bytes) {
  HttpConn& c = conns_[i];
  if (c.out_off == c.out.size()) {
    c.out.clear();
    c.out_off = 0;
  }
  c.out.append(bytes);
  Flush(i);
}

void EpollLoop::Flush(size_t i) {
  HttpConn& c = conns_[i];
  const bool had_pending = c.out_off < c.out.size();
  while (c.out_off < c.out.size() && !c.closed) {
    const ssize_t n = ::send(c.fd, c.out.data() + c.out_off,
                             c.out.size() - c.out_off, MSG_NOSIGNAL);
    if (n > 0) {
      c.out_off += static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      break;
    } else {
      c.closed = true;
    }
  }
  const bool pending = c.out_off < c.out.size() && !c.closed;
  if (pending != had_pending || pending) {
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP | (pending ? EPOLLOUT : 0u);
    ev.data.u64 = i;
    ::epoll_ctl(epfd_, EPOLL_CTL_MOD, c.fd, &ev);
  }
}

void EpollLoop::Poll(int timeout_ms,
                     const std::function<void(size_t)>& on_data) {
  epoll_event events[256];
  const int n = ::epoll_wait(epfd_, events, 256, timeout_ms);
  char chunk[65536];
  for (int k = 0; k < n; ++k) {
    const size_t i = events[k].data.u64;
    HttpConn& c = conns_[i];
    if (events[k].events & EPOLLOUT) Flush(i);
    if (!(events[k].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
      continue;
    bool got = false;
    for (;;) {
      const ssize_t r = ::recv(c.fd, chunk, sizeof(chunk), 0);
      if (r > 0) {
        c.in.append(chunk, static_cast<size_t>(r));
        got = true;
        if (static_cast<size_t>(r) < sizeof(chunk)) break;
      } else if (r < 0 && errno == EINTR) {
        continue;
      } else if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        break;
      } else {
        if (!c.closed) {
          c.closed = true;
          got = true;
          ::epoll_ctl(epfd_, EPOLL_CTL_DEL, c.fd, nullptr);
        }
        break;
      }
    }
    if (got) on_data(i);
  }
}

}  // namespace acpstore::bench
