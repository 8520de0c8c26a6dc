// The tests' HTTP vocabulary over src/net. See test_client.h.

#include "test_client.h"

namespace acpstore::testing {

RawConnection::RawConnection(uint16_t port, int recv_buffer) {
  Result<net::Connection> c =
      net::Connection::Loopback(port, {.recv_buffer = recv_buffer});
  if (c.ok()) conn_ = std::move(*c);
}

HttpResponse RawConnection::ReadResponse(std::chrono::milliseconds timeout) {
  Result<net::Response> r = net::ReadResponse(conn_, net::After(timeout));
  return r.ok() ? std::move(*r) : HttpResponse();
}

HttpResponse HttpClient::Do(const std::string& method, const std::string& path,
                            const std::string& body, net::HeaderList headers) {
  Result<net::Response> r = client_.Request(method, path, body, headers);
  return r.ok() ? std::move(*r) : HttpResponse();
}

SseClient::SseClient(uint16_t port, const std::string& token,
                     const std::string& path,
                     std::optional<std::string> last_event_id, int recv_buffer,
                     const std::string& cookie) {
  // A failed open leaves status() 0, which the test asserts on.
  (void)stream_.Open({.port = port,
                      .target = path,
                      .token = token,
                      .last_event_id = std::move(last_event_id),
                      .cookie = cookie,
                      .connect = {.recv_buffer = recv_buffer}});
}

const std::vector<SseFrame>& SseClient::WaitFrames(
    size_t n, std::chrono::milliseconds timeout) {
  const net::Deadline deadline = net::After(timeout);
  auto collect = [this](net::SseFrame&& f) {
    frames_.push_back(SseFrame{.event = std::move(f.event),
                               .id = f.id.value_or(""),
                               .data = std::move(f.data),
                               .comment = std::move(f.comment),
                               .retry = f.retry_ms});
  };
  // Bytes already buffered count even when n is reached or time is up.
  if (!stream_.connection().buffer().empty()) (void)stream_.Poll(deadline, collect);
  while (frames_.size() < n && net::Clock::now() < deadline) {
    if (!stream_.Poll(deadline, collect).ok()) break;  // closed
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
