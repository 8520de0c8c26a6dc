// SSE framing. See sse_frames.h.

#include "server/sse_frames.h"

#include "server/error_map.h"
#include "server/json_codec.h"

namespace acpstore::server {

std::string SseFrames::ResponseHead(std::string_view extra) {
  std::string head =
      "HTTP/1.1 200 OK\r\n"
      "Content-Type: text/event-stream; charset=utf-8\r\n"
      "Cache-Control: no-store\r\n"
      "X-Accel-Buffering: no\r\n"
      "Connection: close\r\n";
  head.append(extra);
  head.append("\r\n");
  return head;
}

std::string SseFrames::Retry(int64_t ms) {
  return "retry: " + std::to_string(ms) + "\n\n";
}

void SseFrames::AppendEvent(const Event& event, std::string* out) {
  out->append("id: ");
  out->append(std::to_string(event.seq));
  out->append("\ndata: ");
  // Compact JSON has no raw line breaks: control characters inside
  // strings are escaped, so the event is one data line and no stored
  // string can inject a frame.
  JsonWriter w;
  WriteEvent(event, &w);
  out->append(w.str());
  out->append("\n\n");
}

void SseFrames::AppendTruncated(EventSeq first_seq, std::string* out) {
  out->append("event: truncated\ndata: {\"firstSeq\":");
  out->append(std::to_string(first_seq));
  out->append("}\n\n");
}

void SseFrames::AppendError(const Status& status, std::string* out) {
  out->append("event: error\ndata: ");
  out->append(ErrorResponse(status).body);
  out->append("\n\n");
}

std::string_view SseFrames::Ping() { return ": ping\n\n"; }

}  // namespace acpstore::server
