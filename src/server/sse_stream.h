// SseStream writes one session's events to one client as server-sent
// events (SPEC §5.2). It is the only code that knows SSE framing:
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
// Flow: the store's Subscription is pulled with Next() on the connection's
// strand; its on_ready only posts a wake-up to that strand. Frames for at
// most sse_buffer_bytes are built, then written under write_timeout_ms: a
// client that stops reading is disconnected when its socket buffer is full
// and that write times out, so memory per client stays bounded.
//
// The response is close-delimited (no Content-Length, Connection: close):
// the stream ends when the client leaves, the server stops, or an error
// frame was sent.
//
// Thread-safety: Run() and Stop() on the connection's strand only.
// Lifetime: lives in the connection's coroutine frame; destroying it
// unsubscribes and releases the subscriber slot.

#ifndef ACPSTORE_SERVER_SSE_STREAM_H_
#define ACPSTORE_SERVER_SSE_STREAM_H_

#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "acpstore/records.h"
#include "server/http_message.h"
#include "server/io_deadline.h"
#include "server/metrics.h"
#include "server/server_options.h"

namespace acpstore::server {

class SseStream {
 public:
  // Borrows socket, deadline, options and metrics from the connection.
  SseStream(boost::asio::ip::tcp::socket& socket, IoDeadline& deadline,
            std::shared_ptr<SseStart> start, const ServerOptions& options,
            Metrics& metrics);
  SseStream(const SseStream&) = delete;
  SseStream& operator=(const SseStream&) = delete;
  ~SseStream();

  // Writes the response head and frames until the stream ends.
  boost::asio::awaitable<void> Run();
  // Ends Run() soon (server shutdown).
  void Stop();

  // Framing.
  static std::string ResponseHead();
  static std::string RetryFrame(int64_t ms);
  static void AppendEventFrame(const Event& event, std::string* out);
  static void AppendTruncatedFrame(EventSeq first_seq, std::string* out);
  static void AppendErrorFrame(const Status& status, std::string* out);
  static std::string_view PingFrame();

 private:
  struct Wake;
  boost::asio::awaitable<bool> Write(const std::string& bytes);
  boost::asio::awaitable<void> WatchPeer(std::shared_ptr<Wake> wake);

  boost::asio::ip::tcp::socket& socket_;
  IoDeadline& deadline_;
  std::shared_ptr<SseStart> start_;
  const ServerOptions& options_;
  Metrics& metrics_;
  std::shared_ptr<Wake> wake_;
};

}  // namespace acpstore::server

#endif  // ACPSTORE_SERVER_SSE_STREAM_H_
