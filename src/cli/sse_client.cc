// SseParser, ParseUrl and HttpGet: see sse_client.h.
//
// Thread-safety: none.

#include "cli/sse_client.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>

namespace acpstore::cli {

// ---------------------------------------------------------------- SseParser

void SseParser::Feed(std::string_view bytes,
                     const std::function<void(const SseFrame&)>& on_frame) {
  for (char c : bytes) {
    if (c == '\n' && last_was_cr_) {  // the LF of a CRLF
      last_was_cr_ = false;
      continue;
    }
    last_was_cr_ = c == '\r';
    if (c == '\n' || c == '\r') {
      Line(line_, on_frame);
      line_.clear();
    } else {
      line_.push_back(c);
    }
  }
}

void SseParser::Line(std::string_view line,
                     const std::function<void(const SseFrame&)>& on_frame) {
  if (line.empty()) {
    if (touched_) on_frame(frame_);
    frame_ = SseFrame();
    has_data_ = false;
    touched_ = false;
    return;
  }
  if (line[0] == ':') return;  // comment (heartbeat)
  const size_t colon = line.find(':');
  std::string_view field = line.substr(0, colon);
  std::string_view value;
  if (colon != std::string_view::npos) {
    value = line.substr(colon + 1);
    if (!value.empty() && value[0] == ' ') value.remove_prefix(1);
  }
  if (field == "data") {
    if (has_data_) frame_.data.push_back('\n');
    frame_.data.append(value);
    has_data_ = true;
    touched_ = true;
  } else if (field == "id") {
    frame_.id = std::string(value);
    touched_ = true;
  } else if (field == "event") {
    frame_.event = std::string(value);
    touched_ = true;
  } else if (field == "retry") {
    int64_t ms = 0;
    auto [p, ec] =
        std::from_chars(value.data(), value.data() + value.size(), ms);
    if (ec == std::errc() && p == value.data() + value.size()) {
      frame_.retry_ms = ms;
      touched_ = true;
    }
  }
}

// ---------------------------------------------------------------------- URLs

Result<Url> ParseUrl(std::string_view text) {
  constexpr std::string_view kScheme = "http://";
  auto bad = [&] {
    return Status::InvalidArgument("expected http://HOST:PORT, got '" +
                                   std::string(text.substr(0, 100)) + "'");
  };
  if (!text.starts_with(kScheme)) return bad();
  std::string_view rest = text.substr(kScheme.size());
  const size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  Url url;
  if (slash != std::string_view::npos) {
    std::string_view path = rest.substr(slash);
    while (!path.empty() && path.back() == '/') path.remove_suffix(1);
    url.base_path = std::string(path);
  }
  std::string_view port;
  if (authority.starts_with("[")) {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad();
    url.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return bad();
      port = after.substr(1);
    }
  } else {
    const size_t colon = authority.rfind(':');
    url.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (url.host.empty()) return bad();
  if (!port.empty()) {
    unsigned value = 0;
    auto [p, ec] =
        std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || p != port.data() + port.size() || value == 0 ||
        value > 65535) {
      return bad();
    }
    url.port = static_cast<uint16_t>(value);
  }
  return url;
}

std::string EncodePathSegment(std::string_view segment) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : segment) {
    const bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '.' ||
                            c == '_' || c == '~';
    if (unreserved) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

// -------------------------------------------------------------------- HttpGet

namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// Waits until fd is ready for `events`; false on timeout or error.
bool WaitFor(int fd, int16_t events, int timeout_ms) {
  pollfd p{fd, events, 0};
  const int r = ::poll(&p, 1, timeout_ms);
  return r > 0;
}

}  // namespace

HttpGet::~HttpGet() { Close(); }

void HttpGet::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Status HttpGet::Start(const Url& url, const std::string& target,
                      const std::vector<std::string>& headers, int timeout_ms) {
  Close();
  status_code_ = 0;
  headers_.clear();
  pending_.clear();
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(url.port);
  const int gai = ::getaddrinfo(url.host.c_str(), port.c_str(), &hints, &found);
  if (gai != 0) {
    return Status::Unavailable("cannot resolve " + url.host + ": " +
                               ::gai_strerror(gai));
  }
  std::string last_error = "no address";
  for (addrinfo* a = found; a != nullptr && fd_ < 0; a = a->ai_next) {
    const int fd =
        ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
      fd_ = fd;
    } else {
      last_error = std::strerror(errno);
      ::close(fd);
    }
  }
  ::freeaddrinfo(found);
  if (fd_ < 0) {
    return Status::Unavailable("cannot connect to " + url.host + ":" + port +
                               ": " + last_error);
  }
  std::string request =
      "GET " + target + " HTTP/1.1\r\nHost: " +
      (url.host.find(':') != std::string::npos ? "[" + url.host + "]"
                                               : url.host) +
      ":" + port + "\r\n";
  for (const std::string& h : headers) request += h + "\r\n";
  request += "\r\n";
  size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n =
        ::send(fd_, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Close();
      return Status::Unavailable("connection lost while sending the request");
    }
    sent += static_cast<size_t>(n);
  }
  // The response head.
  std::string head;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  size_t end = std::string::npos;
  while ((end = head.find("\r\n\r\n")) == std::string::npos) {
    if (head.size() > size_t{64} * 1024) {
      Close();
      return Status::Unavailable("response head too large");
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 ||
        !WaitFor(fd_, POLLIN, static_cast<int>(left.count()))) {
      Close();
      return Status::Unavailable("no response from the server");
    }
    char buf[4096];
    const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Close();
      return Status::Unavailable("the server closed the connection");
    }
    head.append(buf, static_cast<size_t>(n));
  }
  pending_ = head.substr(end + 4);
  head.resize(end);
  // "HTTP/1.1 200 OK"
  const size_t sp = head.find(' ');
  if (!head.starts_with("HTTP/1.") || sp == std::string::npos ||
      head.size() < sp + 4) {
    Close();
    return Status::Unavailable("not an HTTP response");
  }
  status_code_ = std::atoi(head.c_str() + sp + 1);
  size_t pos = head.find("\r\n");
  while (pos != std::string::npos) {
    const size_t next = head.find("\r\n", pos + 2);
    std::string_view line(
        head.data() + pos + 2,
        (next == std::string::npos ? head.size() : next) - (pos + 2));
    const size_t colon = line.find(':');
    if (colon != std::string_view::npos) {
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      headers_.emplace_back(std::string(line.substr(0, colon)),
                            std::string(value));
    }
    pos = next;
  }
  return Status::OK();
}

std::optional<std::string> HttpGet::Header(std::string_view name) const {
  for (const auto& [k, v] : headers_) {
    if (EqualsIgnoreCase(k, name)) return v;
  }
  return std::nullopt;
}

bool HttpGet::Read(std::string* out, int timeout_ms) {
  if (!pending_.empty()) {
    out->append(pending_);
    pending_.clear();
    return true;
  }
  if (fd_ < 0) return false;
  if (!WaitFor(fd_, POLLIN, timeout_ms)) return true;
  char buf[16384];
  const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
  if (n < 0 && errno == EINTR) return true;
  if (n <= 0) {
    Close();
    return false;
  }
  out->append(buf, static_cast<size_t>(n));
  return true;
}

}  // namespace acpstore::cli
