// Server-sent events for a client: SseParser turns bytes into frames by
// the text/event-stream rules, and SseStream opens a stream (GET with
// Accept: text/event-stream and Last-Event-ID) and reads its frames.
//
// SseParser: lines end in LF, CRLF or CR; "field: value" (one optional
// space after the colon); a blank line dispatches the frame; data lines
// join with "\n". A frame is dispatched when anything set it: data, event,
// id, a valid retry, or a comment (":" lines; acpstore's heartbeat is
// ": ping", which tests look for).
//
// SseStream reads the response head within the open timeout; a non-200
// reply has its (length-framed) body read too, so the caller can report
// the error. A 200 body is decoded (chunked when the server said so) and
// parsed as it arrives.
//
// Thread-safety: none; one thread.

#ifndef ACPSTORE_NET_SSE_H_
#define ACPSTORE_NET_SSE_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "acpstore/result.h"
#include "acpstore/status.h"
#include "net/connection.h"
#include "net/http_wire.h"

namespace acpstore::net {

struct SseFrame {
  std::optional<std::string> id;
  std::string event;  // empty: a plain "message"
  std::string data;
  std::string comment;  // ": ping" -> "ping" (the last comment line)
  std::optional<int64_t> retry_ms;
};

class SseParser {
 public:
  using OnFrame = std::function<void(SseFrame&&)>;
  // Calls on_frame for each complete frame in `bytes` (frames may span
  // calls).
  void Feed(std::string_view bytes, const OnFrame& on_frame);

 private:
  void Line(std::string_view line, const OnFrame& on_frame);

  std::string line_;
  bool last_was_cr_ = false;
  SseFrame frame_;
  bool has_data_ = false;
  bool touched_ = false;
};

struct SseRequest {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  std::string target;  // path and query
  std::string token;
  std::optional<std::string> last_event_id;
  // Sent as the Cookie header when set (a browser session's stream).
  std::string cookie;
  ConnectOptions connect;  // its timeout also bounds the response head
};

class SseStream {
 public:
  SseStream() = default;
  SseStream(SseStream&&) noexcept = default;
  SseStream& operator=(SseStream&&) noexcept = default;

  // Connects, sends the GET and reads the head (and a non-200 body).
  // kUnavailable when the server cannot be reached or does not answer.
  Status Open(const SseRequest& request);

  // The response head; for a non-200 reply its body too.
  const Response& head() const { return head_; }
  int status() const { return head_.status; }

  // Waits until `deadline` for bytes and calls on_frame for each frame
  // they complete. OK when bytes arrived or the deadline passed (the
  // caller's loop decides); kUnavailable when the stream ended (then
  // ended() is true) or failed.
  Status Poll(Deadline deadline, const SseParser::OnFrame& on_frame);
  bool ended() const { return ended_; }

  Connection& connection() { return conn_; }
  void Close() { conn_.Close(); }

 private:
  Status Consume(const SseParser::OnFrame& on_frame);

  Connection conn_;
  Response head_;
  bool chunked_ = false;
  ChunkedDecoder chunks_;
  std::string decoded_;
  SseParser parser_;
  bool ended_ = false;
};

}  // namespace acpstore::net

#endif  // ACPSTORE_NET_SSE_H_
