// SseParser and SseStream: see sse.h.

#include "net/sse.h"

#include <charconv>
#include <utility>

#include "net/http_client.h"
#include "net/url.h"

namespace acpstore::net {

void SseParser::Feed(std::string_view bytes, const OnFrame& on_frame) {
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

void SseParser::Line(std::string_view line, const OnFrame& on_frame) {
  if (line.empty()) {
    if (touched_) on_frame(std::move(frame_));
    frame_ = SseFrame();
    has_data_ = false;
    touched_ = false;
    return;
  }
  if (line[0] == ':') {  // a comment (the heartbeat)
    std::string_view text = line.substr(1);
    if (!text.empty() && text[0] == ' ') text.remove_prefix(1);
    frame_.comment = std::string(text);
    touched_ = true;
    return;
  }
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

Status SseStream::Open(const SseRequest& request) {
  *this = SseStream();
  Result<Connection> c =
      request.host == "127.0.0.1"
          ? Connection::Loopback(request.port, request.connect)
          : Connection::Open(request.host, request.port, request.connect);
  if (!c.ok()) return c.status();
  conn_ = std::move(*c);
  HeaderList headers = {{"Accept", "text/event-stream"}};
  if (request.last_event_id) {
    headers.emplace_back("Last-Event-ID", *request.last_event_id);
  }
  if (!request.cookie.empty()) headers.emplace_back("Cookie", request.cookie);
  std::string bytes;
  AppendRequest(&bytes, "GET", request.target,
                HostHeader(request.host, request.port), request.token, "",
                headers);
  if (Status s = conn_.SendAll(bytes); !s.ok()) return s;
  const Deadline deadline = After(request.connect.timeout);
  ResponseHead head;
  for (;;) {
    std::optional<Status> bad =
        ParseResponseHead(conn_.buffer(), &head, &head_.headers);
    if (bad) return *bad;
    if (head.size != 0) break;
    Result<size_t> got = conn_.ReadSome(deadline);
    if (!got.ok()) return got.status();
    if (*got == 0) return Status::Unavailable("no response from the server");
  }
  head_.status = head.status;
  if (head.status == 200) {
    // The body is the stream, read by Poll.
    conn_.buffer().erase(0, head.size);
    chunked_ = head.body == BodyKind::kChunked;
    return Status::OK();
  }
  // Not a stream: read the whole reply (head again) for its error body.
  Result<Response> reply = ReadResponse(conn_, deadline);
  if (!reply.ok()) return reply.status();
  head_ = std::move(*reply);
  ended_ = true;
  conn_.Close();
  return Status::OK();
}

Status SseStream::Consume(const SseParser::OnFrame& on_frame) {
  std::string& buf = conn_.buffer();
  if (!chunked_) {
    parser_.Feed(buf, on_frame);
    buf.clear();
    return Status::OK();
  }
  size_t used = 0;
  decoded_.clear();
  Status s = chunks_.Feed(buf, &used, &decoded_);
  buf.erase(0, used);
  parser_.Feed(decoded_, on_frame);
  if (!s.ok()) return Status::Unavailable(s.message());
  if (chunks_.done()) {
    ended_ = true;
    return Status::Unavailable("the stream ended");
  }
  return Status::OK();
}

Status SseStream::Poll(Deadline deadline, const SseParser::OnFrame& on_frame) {
  if (ended_ || !conn_.is_open()) {
    ended_ = true;
    return Status::Unavailable("the stream ended");
  }
  // Bytes that came with the head first.
  if (!conn_.buffer().empty()) return Consume(on_frame);
  Result<size_t> got = conn_.ReadSome(deadline);
  if (!got.ok()) {
    ended_ = true;
    return got.status();
  }
  return Consume(on_frame);
}

}  // namespace acpstore::net
