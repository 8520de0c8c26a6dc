// FakeServer: a scripted HTTP peer on 127.0.0.1 for the client's unit
// tests. Each accepted connection runs `handler(fd, requests)` on the
// server's thread; the handler reads requests with ReadRequest and writes
// raw reply bytes, so a test can send exactly the framing it checks.
//
// Thread-safety: the handler runs on the server thread; accepted() and the
// captured requests are read by the test thread after the handler is done
// (join on destruction or WaitAccepted).

#ifndef ACPSTORE_NET_FAKE_SERVER_TEST_UTIL_H_
#define ACPSTORE_NET_FAKE_SERVER_TEST_UTIL_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace acpstore::net {

class FakeServer {
 public:
  // handler(fd): serves one connection; return to close it.
  using Handler = std::function<void(int fd, FakeServer& self)>;

  explicit FakeServer(Handler handler) : handler_(std::move(handler)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    ::listen(listen_fd_, 16);
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Loop(); });
  }
  ~FakeServer() {
    stop_ = true;
    thread_.join();
    ::close(listen_fd_);
  }

  uint16_t port() const { return port_; }
  int accepted() const { return accepted_.load(); }
  std::vector<std::string> requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }

  // Reads one request head (and a Content-Length body) from fd; "" when
  // the client closed. Records it.
  std::string ReadRequest(int fd) {
    std::string& buf = pending_[fd];
    for (;;) {
      const size_t end = buf.find("\r\n\r\n");
      if (end != std::string::npos) {
        size_t body = 0;
        const size_t cl = buf.find("Content-Length: ");
        if (cl != std::string::npos && cl < end) body = std::stoul(buf.substr(cl + 16));
        if (buf.size() >= end + 4 + body) {
          std::string req = buf.substr(0, end + 4 + body);
          buf.erase(0, req.size());
          std::lock_guard lock(mu_);
          requests_.push_back(req);
          return req;
        }
      }
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 5000) <= 0) return "";
      char chunk[4096];
      const ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
      if (n <= 0) return "";
      buf.append(chunk, static_cast<size_t>(n));
    }
  }
  static void Write(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
  }

 private:
  void Loop() {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      accepted_.fetch_add(1);
      handler_(fd, *this);
      ::close(fd);
      pending_.erase(fd);
    }
  }

  Handler handler_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::mutex mu_;
  std::vector<std::string> requests_;
  std::map<int, std::string> pending_;
  std::thread thread_;
};

}  // namespace acpstore::net

#endif  // ACPSTORE_NET_FAKE_SERVER_TEST_UTIL_H_
