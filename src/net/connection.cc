// Connection: see connection.h.

#include "net/connection.h"
#include "net/url.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace acpstore::net {
namespace {

Status Errno(std::string_view what, int err) {
  return Status::Unavailable(std::string(what) + ": " + std::strerror(err));
}

int MillisLeft(Deadline deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - Clock::now());
  return left.count() <= 0 ? 0 : static_cast<int>(left.count());
}

// socket + connect bounded by `deadline`. Returns the fd or an errno.
Result<int> ConnectTo(const sockaddr* addr, socklen_t len, int family,
                      const ConnectOptions& options, Deadline deadline) {
  const int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return Errno("socket", errno);
  if (options.recv_buffer > 0) {
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &options.recv_buffer,
                 sizeof(options.recv_buffer));
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  int rc = ::connect(fd, addr, len);
  if (rc != 0 && errno == EINPROGRESS) {
    // Non-blocking so that the deadline bounds the handshake too.
    // A signal (EINTR) ends the wait too: `acpstore tail` installs its
    // SIGINT handler without SA_RESTART so that Ctrl-C is seen at once.
    pollfd p{fd, POLLOUT, 0};
    const int ready = ::poll(&p, 1, MillisLeft(deadline));
    if (ready <= 0) {
      ::close(fd);
      return Status::Unavailable(ready < 0 && errno == EINTR
                                     ? "connect: interrupted"
                                     : "connect: timed out");
    }
    int err = 0;
    socklen_t err_len = sizeof(err);
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &err_len);
    if (err != 0) {
      ::close(fd);
      return Errno("connect", err);
    }
    rc = 0;
  }
  if (rc != 0) {
    const int err = errno;
    ::close(fd);
    return Errno("connect", err);
  }
  // Blocking again: sends block (bounded by the peer reading), reads poll.
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  return fd;
}

}  // namespace

Connection::Connection(Connection&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      eof_(other.eof_),
      buf_(std::move(other.buf_)) {}

Connection& Connection::operator=(Connection&& other) noexcept {
  if (this != &other) {
    Close();
    fd_ = std::exchange(other.fd_, -1);
    eof_ = other.eof_;
    buf_ = std::move(other.buf_);
  }
  return *this;
}

Result<Connection> Connection::Loopback(uint16_t port,
                                        const ConnectOptions& options) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  Result<int> fd =
      ConnectTo(reinterpret_cast<const sockaddr*>(&addr), sizeof(addr),
                AF_INET, options, After(options.timeout));
  if (!fd.ok()) {
    return Status::Unavailable("cannot connect to 127.0.0.1:" +
                               std::to_string(port) + ": " +
                               std::string(fd.status().message()));
  }
  return Connection(*fd);
}

Result<Connection> Connection::Open(const std::string& host, uint16_t port,
                                    const ConnectOptions& options) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string port_text = std::to_string(port);
  const int gai = ::getaddrinfo(host.c_str(), port_text.c_str(), &hints, &found);
  if (gai != 0) {
    return Status::Unavailable("cannot resolve " + host + ": " +
                               ::gai_strerror(gai));
  }
  const Deadline deadline = After(options.timeout);
  std::string last_error = "no address";
  int fd = -1;
  for (addrinfo* a = found; a != nullptr && fd < 0; a = a->ai_next) {
    Result<int> got =
        ConnectTo(a->ai_addr, a->ai_addrlen, a->ai_family, options, deadline);
    if (got.ok()) {
      fd = *got;
    } else {
      last_error = std::string(got.status().message());
    }
  }
  ::freeaddrinfo(found);
  if (fd < 0) {
    return Status::Unavailable("cannot connect to " + HostHeader(host, port) +
                               ": " + last_error);
  }
  return Connection(fd);
}

Status Connection::SendAll(std::string_view bytes) {
  if (fd_ < 0) return Status::Unavailable("send: not connected");
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Errno("send", errno);
    if (n == 0) return Status::Unavailable("send: connection closed");
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return Status::OK();
}

Result<size_t> Connection::ReadSome(Deadline deadline) {
  if (fd_ < 0) return Status::Unavailable("recv: not connected");
  if (eof_) return Status::Unavailable("recv: connection closed by the peer");
  for (;;) {
    pollfd p{fd_, POLLIN, 0};
    const int ready = ::poll(&p, 1, MillisLeft(deadline));
    // A signal returns like a timeout (0 bytes), so the caller can look
    // at why it was woken (tail's Ctrl-C) before its deadline.
    if (ready < 0 && errno == EINTR) return size_t{0};
    if (ready < 0) return Errno("poll", errno);
    if (ready == 0) return size_t{0};
    char chunk[65536];
    const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return size_t{0};
    if (n <= 0) {
      eof_ = true;
      if (n < 0) return Errno("recv", errno);
      return Status::Unavailable("recv: connection closed by the peer");
    }
    buf_.append(chunk, static_cast<size_t>(n));
    return static_cast<size_t>(n);
  }
}

bool Connection::WaitClosed(Deadline deadline) {
  while (!eof_) {
    if (Clock::now() >= deadline) return false;
    Result<size_t> got = ReadSome(deadline);
    buf_.clear();  // only the closure matters here
    if (!got.ok() && !eof_) return false;
  }
  return true;
}

void Connection::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

}  // namespace acpstore::net
