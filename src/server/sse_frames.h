// SseFrames is the one place that knows server-sent-event framing (SPEC
// §5.2); SseStream (sse_stream.h) moves its output over a socket.
//
//   retry: 2000                      first, once
//   event: truncated                 when the resume point was below the
//   data: {"firstSeq":n}             retained range
//   id: <eventSeq>                   one per event; the data line is the
//   data: <event JSON, one line>     event exactly as GET .../events gives it
//   : ping                           every sse_heartbeat_ms while idle
//   event: error                     the stream cannot go on (session
//   data: {"error":{...}}            deleted, data loss); then it closes
//
// Kept free of Asio so it is unit-tested and fuzzed on its own.
// Thread-safety: pure functions.

#ifndef ACPSTORE_SERVER_SSE_FRAMES_H_
#define ACPSTORE_SERVER_SSE_FRAMES_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "acpstore/records.h"
#include "acpstore/status.h"

namespace acpstore::server {

class SseFrames {
 public:
  // The HTTP response head: 200, text/event-stream, close-delimited.
  // `extra`: whole header lines ("Name: value\r\n"), e.g. CORS.
  static std::string ResponseHead(std::string_view extra = {});
  static std::string Retry(int64_t ms);
  static void AppendEvent(const Event& event, std::string* out);
  static void AppendTruncated(EventSeq first_seq, std::string* out);
  static void AppendError(const Status& status, std::string* out);
  static std::string_view Ping();
};

}  // namespace acpstore::server

#endif  // ACPSTORE_SERVER_SSE_FRAMES_H_
