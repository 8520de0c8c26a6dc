// BlockingHttp. See http_client.h.

#include "http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace acpstore::crash {
namespace {

// Case-insensitive search for "\r\n<name>:" in a response head; the value
// with surrounding blanks removed, or "".
std::string HeaderValue(std::string_view head, std::string_view name) {
  for (size_t pos = head.find("\r\n"); pos != std::string_view::npos;
       pos = head.find("\r\n", pos + 2)) {
    std::string_view line = head.substr(pos + 2);
    line = line.substr(0, line.find("\r\n"));
    if (line.size() <= name.size() || line[name.size()] != ':') continue;
    bool same = true;
    for (size_t i = 0; i < name.size() && same; ++i) {
      same = std::tolower(static_cast<unsigned char>(line[i])) ==
             std::tolower(static_cast<unsigned char>(name[i]));
    }
    if (!same) continue;
    std::string_view v = line.substr(name.size() + 1);
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t'))
      v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t'))
      v.remove_suffix(1);
    return std::string(v);
  }
  return "";
}

}  // namespace

BlockingHttp::BlockingHttp(uint16_t port, std::string token,
                           std::chrono::milliseconds timeout)
    : port_(port), token_(std::move(token)), timeout_(timeout) {}

BlockingHttp::~BlockingHttp() { Disconnect(); }

void BlockingHttp::Disconnect() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  buf_.clear();
}

bool BlockingHttp::Connect() {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return false;
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port_);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    Disconnect();
    return false;
  }
  return true;
}

bool BlockingHttp::SendAll(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

bool BlockingHttp::Fill(size_t n) {
  const auto deadline = std::chrono::steady_clock::now() + timeout_;
  char chunk[65536];
  while (buf_.size() < n) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return false;
    const ssize_t got = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    buf_.append(chunk, static_cast<size_t>(got));
  }
  return true;
}

std::optional<HttpReply> BlockingHttp::Request(std::string_view method,
                                               std::string_view path,
                                               std::string_view json_body) {
  if (fd_ < 0 && !Connect()) return std::nullopt;
  std::string req;
  req.reserve(256 + json_body.size());
  req.append(method).append(" ").append(path).append(
      " HTTP/1.1\r\nHost: 127.0.0.1\r\n");
  if (!token_.empty()) req.append("Authorization: Bearer ").append(token_).append("\r\n");
  if (!json_body.empty()) {
    req.append("Content-Type: application/json\r\nContent-Length: ")
        .append(std::to_string(json_body.size()))
        .append("\r\n");
  }
  req.append("\r\n").append(json_body);
  if (!SendAll(req)) {
    Disconnect();
    return std::nullopt;
  }
  // Head first, then exactly Content-Length bytes of body.
  size_t end = std::string::npos;
  while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
    if (!Fill(buf_.size() + 1)) {
      Disconnect();
      return std::nullopt;
    }
  }
  const std::string_view head(buf_.data(), end);
  HttpReply reply;
  if (head.size() < 12 || head.substr(0, 7) != "HTTP/1.") {
    Disconnect();
    return std::nullopt;
  }
  reply.status = std::atoi(std::string(head.substr(9, 3)).c_str());
  const std::string length = HeaderValue(head, "content-length");
  reply.close = HeaderValue(head, "connection") == "close";
  const size_t body_len =
      length.empty() ? 0 : std::strtoull(length.c_str(), nullptr, 10);
  if (length.empty() && reply.status != 204 && reply.status != 304) {
    // No length: the body runs to the end of the connection. acpstore only
    // does that for SSE, which this client does not read.
    Disconnect();
    return std::nullopt;
  }
  if (!Fill(end + 4 + body_len)) {
    Disconnect();
    return std::nullopt;
  }
  reply.body = buf_.substr(end + 4, body_len);
  buf_.erase(0, end + 4 + body_len);
  if (reply.close) Disconnect();
  return reply;
}

}  // namespace acpstore::crash
