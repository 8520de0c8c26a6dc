// IoDeadline: one deadline per connection for whatever I/O is pending
// (reading a request, writing a response or an SSE batch). A watchdog
// coroutine cancels the socket's operations when it passes, so a client
// that stalls is dropped instead of holding a thread-free coroutine and
// its buffers forever.
//
// Thread-safety: none; every call happens on the connection's strand.
// Lifetime: owned by the connection; Close() ends the watchdog.

#ifndef ACPSTORE_SERVER_IO_DEADLINE_H_
#define ACPSTORE_SERVER_IO_DEADLINE_H_

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <cstdint>

namespace acpstore::server {

class IoDeadline {
 public:
  using Clock = std::chrono::steady_clock;

  explicit IoDeadline(boost::asio::ip::tcp::socket& socket)
      : socket_(socket), timer_(socket.get_executor()) {}

  // The pending I/O must finish within `ms`; else the socket's operations
  // are cancelled and expired() turns true.
  void Arm(int64_t ms) {
    at_ = Clock::now() + std::chrono::milliseconds(ms);
    expired_ = false;
    // The watchdog re-reads at_ whenever its timer fires, so it need only
    // be woken early for a deadline before that. A cancel on every Arm
    // woke it twice per request (read, then write) for nothing: the same
    // timeout armed again always ends later (issue 14).
    if (at_ < timer_.expiry()) timer_.cancel();
  }
  void Disarm() { at_ = Clock::time_point::max(); }
  bool expired() const { return expired_; }
  void Close() {
    closed_ = true;
    timer_.cancel();
  }

  // Runs until Close(). Spawn it on the socket's strand.
  boost::asio::awaitable<void> Watch() {
    while (!closed_) {
      const Clock::time_point now = Clock::now();
      if (at_ <= now) {
        expired_ = true;
        boost::system::error_code ignored;
        socket_.cancel(ignored);
        // A cancel reaches only the operation pending at this instant. A
        // composed one (Beast's header read, a write in parts) caught
        // between two of its steps, its last read's data just arrived,
        // goes on with the next step, and a client trickling bytes then
        // keeps it alive for good (seen in CI: the slowloris test's
        // request held open for 10 s). So until the owner disarms or
        // re-arms, cancel again every kRecancel.
        at_ = now + kRecancel;
        continue;
      }
      timer_.expires_at(
          at_ == Clock::time_point::max() ? now + std::chrono::hours(1) : at_);
      boost::system::error_code ec;
      co_await timer_.async_wait(
          boost::asio::redirect_error(boost::asio::use_awaitable, ec));
    }
  }

 private:
  static constexpr std::chrono::milliseconds kRecancel{20};

  boost::asio::ip::tcp::socket& socket_;
  boost::asio::steady_timer timer_;
  Clock::time_point at_ = Clock::time_point::max();
  bool expired_ = false;
  bool closed_ = false;
};

}  // namespace acpstore::server

#endif  // ACPSTORE_SERVER_IO_DEADLINE_H_
