// Connection: one blocking TCP connection with a receive buffer, where
// every wait has a deadline and every Unix error comes back as a Status
// (kUnavailable, with the errno text). The HTTP client and the SSE reader
// sit on it; tests use it directly to send bytes a correct client never
// would.
//
// Reading never blocks past its deadline: ReadSome polls, then takes what
// one recv returns. A timeout is not an error (0 bytes); the end of the
// stream is (eof() tells it from a reset).
//
// Thread-safety: none; one thread. Lifetime: owns its socket (move-only).

#ifndef ACPSTORE_NET_CONNECTION_H_
#define ACPSTORE_NET_CONNECTION_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "acpstore/result.h"
#include "acpstore/status.h"

namespace acpstore::net {

using Clock = std::chrono::steady_clock;
using Deadline = Clock::time_point;

inline Deadline After(std::chrono::milliseconds timeout) {
  return Clock::now() + timeout;
}

struct ConnectOptions {
  // connect(2) itself is bounded by this too (a non-blocking connect).
  std::chrono::milliseconds timeout = std::chrono::seconds(10);
  // SO_RCVBUF before connecting when > 0 (tests of slow readers).
  int recv_buffer = 0;
};

class Connection {
 public:
  Connection() = default;
  ~Connection() { Close(); }
  Connection(Connection&& other) noexcept;
  Connection& operator=(Connection&& other) noexcept;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Resolves `host` (name, IPv4 or IPv6 literal) and connects to the first
  // address that answers; TCP_NODELAY, close-on-exec. kUnavailable when
  // nothing answers (worth retrying), kInvalidArgument for a bad name.
  static Result<Connection> Open(const std::string& host, uint16_t port,
                                 const ConnectOptions& options = {});
  // 127.0.0.1:port, without name resolution.
  static Result<Connection> Loopback(uint16_t port,
                                     const ConnectOptions& options = {});

  bool is_open() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  // The peer closed (EOF) or reset the connection.
  bool eof() const { return eof_; }

  // Writes all of `bytes` (SIGPIPE suppressed).
  Status SendAll(std::string_view bytes);

  // Waits until `deadline` for bytes and appends what one recv returns to
  // buffer(): the count (0 on timeout, or when a signal interrupted the
  // wait). kUnavailable at EOF or on a reset
  // (eof() is then true) and on any other error.
  Result<size_t> ReadSome(Deadline deadline);

  // Reads until pred(buffer()) holds: true, or false at the deadline, EOF
  // or an error (what arrived stays in buffer()).
  template <typename Pred>
  bool ReadUntil(Pred pred, Deadline deadline);

  // Reads and discards until the peer closes: true, or false at the deadline.
  bool WaitClosed(Deadline deadline);
  bool WaitClosed(std::chrono::milliseconds timeout) {
    return WaitClosed(After(timeout));
  }

  // Bytes received and not yet consumed by the caller.
  std::string& buffer() { return buf_; }
  const std::string& buffer() const { return buf_; }

  void Close();

 private:
  explicit Connection(int fd) : fd_(fd) {}

  int fd_ = -1;
  bool eof_ = false;
  std::string buf_;
};

template <typename Pred>
bool Connection::ReadUntil(Pred pred, Deadline deadline) {
  while (!pred(buf_)) {
    if (Clock::now() >= deadline) return false;
    Result<size_t> got = ReadSome(deadline);
    if (!got.ok()) return false;
  }
  return true;
}

}  // namespace acpstore::net

#endif  // ACPSTORE_NET_CONNECTION_H_
