// Blocking test HTTP client. See test_client.h.

#include "test_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

namespace acpstore::testing {
namespace {

std::string Lower(std::string s) {
  for (char& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Parses "HTTP/1.1 200 OK\r\nName: value\r\n..." (without the blank line).
void ParseHead(std::string_view head, HttpResponse* r) {
  size_t eol = head.find("\r\n");
  std::string_view status_line = head.substr(0, eol);
  if (status_line.size() >= 12) {
    r->status = std::atoi(std::string(status_line.substr(9, 3)).c_str());
  }
  while (eol != std::string_view::npos) {
    head.remove_prefix(eol + 2);
    eol = head.find("\r\n");
    std::string_view line = head.substr(0, eol);
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string value(line.substr(colon + 1));
    value.erase(0, value.find_first_not_of(' '));
    r->headers[Lower(std::string(line.substr(0, colon)))] = value;
  }
}

}  // namespace

boost::json::value HttpResponse::Json() const {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(body, ec);
  if (ec) return nullptr;
  return v;
}

std::string HttpResponse::ErrorCode() const {
  boost::json::value v = Json();
  if (!v.is_object()) return "";
  const auto* err = v.as_object().if_contains("error");
  if (err == nullptr || !err->is_object()) return "";
  const auto* code = err->as_object().if_contains("code");
  return code != nullptr && code->is_string() ? std::string(code->as_string())
                                              : std::string();
}

RawConnection::RawConnection(uint16_t port, int recv_buffer) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd_ < 0) return;
  if (recv_buffer > 0) {
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &recv_buffer, sizeof(recv_buffer));
  }
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

RawConnection::~RawConnection() {
  if (fd_ >= 0) ::close(fd_);
}

bool RawConnection::Send(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

bool RawConnection::ReadSome(std::chrono::milliseconds timeout) {
  if (eof_ || fd_ < 0) return false;
  pollfd p{fd_, POLLIN, 0};
  const int ready = ::poll(&p, 1, static_cast<int>(timeout.count()));
  if (ready <= 0) return false;
  char chunk[65536];
  const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
  if (n <= 0) {
    eof_ = true;
    return false;
  }
  buf_.append(chunk, static_cast<size_t>(n));
  return true;
}

bool RawConnection::WaitClosed(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!eof_) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    ReadSome(left);
    buf_.clear();  // only closure matters here
  }
  return true;
}

HttpResponse RawConnection::ReadResponse(std::chrono::milliseconds timeout) {
  HttpResponse r;
  ReadUntil(
      [](const std::string& b) {
        return b.find("\r\n\r\n") != std::string::npos;
      },
      timeout);
  const size_t end = buf_.find("\r\n\r\n");
  if (end == std::string::npos) return r;
  ParseHead(std::string_view(buf_).substr(0, end), &r);
  buf_.erase(0, end + 4);
  const std::string cl = r.Header("content-length");
  if (!cl.empty()) {
    const size_t want = std::stoul(cl);
    ReadUntil([want](const std::string& b) { return b.size() >= want; },
              timeout);
    r.body = buf_.substr(0, std::min(want, buf_.size()));
    buf_.erase(0, r.body.size());
  } else if (r.status != 204 && r.status != 100) {
    ReadUntil([](const std::string&) { return false; }, timeout);
    r.body = std::move(buf_);
    buf_.clear();
  }
  return r;
}

HttpResponse HttpClient::Do(
    const std::string& method, const std::string& path, const std::string& body,
    std::vector<std::pair<std::string, std::string>> headers) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!conn_ || !conn_->ok()) conn_.emplace(port_);
    std::string req = method + " " + path + " HTTP/1.1\r\nHost: test\r\n";
    if (!token_.empty()) req += "Authorization: Bearer " + token_ + "\r\n";
    bool has_type = false;
    for (const auto& [n, v] : headers) {
      req += n + ": " + v + "\r\n";
      has_type = has_type || Lower(n) == "content-type";
    }
    if (!body.empty()) {
      if (!has_type) req += "Content-Type: application/json\r\n";
      req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    }
    req += "\r\n" + body;
    if (!conn_->Send(req)) {
      conn_.reset();
      continue;
    }
    HttpResponse r = conn_->ReadResponse();
    if (r.status == 0) {
      // The server closed a kept-alive connection: retry once on a new one.
      conn_.reset();
      continue;
    }
    if (Lower(r.Header("connection")) == "close") conn_.reset();
    return r;
  }
  return {};
}

SseClient::SseClient(uint16_t port, const std::string& token,
                     const std::string& path,
                     std::optional<std::string> last_event_id, int recv_buffer)
    : conn_(port, recv_buffer) {
  std::string req = "GET " + path +
                    " HTTP/1.1\r\nHost: test\r\nAccept: text/event-stream\r\n";
  if (!token.empty()) req += "Authorization: Bearer " + token + "\r\n";
  if (last_event_id) req += "Last-Event-ID: " + *last_event_id + "\r\n";
  req += "\r\n";
  conn_.Send(req);
  auto& buf = conn_.buffered();
  conn_.ReadUntil(
      [](const std::string& b) {
        return b.find("\r\n\r\n") != std::string::npos;
      },
      std::chrono::seconds(10));
  const size_t end = buf.find("\r\n\r\n");
  if (end == std::string::npos) return;
  ParseHead(std::string_view(buf).substr(0, end), &head_);
  status_ = head_.status;
  buf.erase(0, end + 4);
  if (status_ != 200) {
    const std::string cl = head_.Header("content-length");
    const size_t want = cl.empty() ? 0 : std::stoul(cl);
    conn_.ReadUntil([want](const std::string& b) { return b.size() >= want; },
                    std::chrono::seconds(10));
    head_.body = buf;
    buf.clear();
  }
}

void SseClient::Parse() {
  std::string& buf = conn_.buffered();
  for (;;) {
    const size_t end = buf.find("\n\n", consumed_);
    if (end == std::string::npos) break;
    std::string_view block(buf.data() + consumed_, end - consumed_);
    consumed_ = end + 2;
    SseFrame f;
    while (!block.empty()) {
      const size_t nl = block.find('\n');
      std::string_view line = block.substr(0, nl);
      block = nl == std::string_view::npos ? std::string_view()
                                           : block.substr(nl + 1);
      if (line.rfind(": ", 0) == 0)
        f.comment = std::string(line.substr(2));
      else if (line.rfind("id: ", 0) == 0)
        f.id = std::string(line.substr(4));
      else if (line.rfind("event: ", 0) == 0)
        f.event = std::string(line.substr(7));
      else if (line.rfind("data: ", 0) == 0)
        f.data += std::string(line.substr(6));
      else if (line.rfind("retry: ", 0) == 0)
        f.retry = std::stoll(std::string(line.substr(7)));
    }
    frames_.push_back(std::move(f));
  }
  // Drop consumed bytes now and then so long streams stay small.
  if (consumed_ > (1u << 20)) {
    buf.erase(0, consumed_);
    consumed_ = 0;
  }
}

const std::vector<SseFrame>& SseClient::WaitFrames(
    size_t n, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  Parse();
  while (frames_.size() < n) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    const size_t before = conn_.buffered().size();
    conn_.ReadUntil(
        [before](const std::string& b) { return b.size() > before; }, left);
    if (conn_.buffered().size() == before) break;  // closed or timed out
    Parse();
  }
  return frames_;
}

std::vector<SseFrame> SseClient::Events() const {
  std::vector<SseFrame> out;
  for (const SseFrame& f : frames_) {
    if (!f.id.empty()) out.push_back(f);
  }
  return out;
}

}  // namespace acpstore::testing
