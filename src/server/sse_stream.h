// SseStream writes one session's events to one client as server-sent
// events (SPEC §5.2), framed by SseFrames (sse_frames.h).
//
// Flow: the store's Subscription is pulled with Next() on the connection's
// strand; its on_ready only posts a wake-up to that strand. Event frames
// come from the server's SseFrameCache, built once for all the session's
// streams. A stream that has just written events takes no page until
// sse_coalesce_ms after that write (decision 0025): under a busy session
// one write carries several events, and no event waits longer than the
// window; the first wake-up after a quiet window is served at once.
// Frames for at
// most sse_buffer_bytes are collected in an SseBatch (the cache's shared
// frames by reference, no copy per stream; each page pulled takes only the
// room left, so a replay of large events reads no further ahead), then
// written with one
// scatter/gather write under write_timeout_ms: a
// client that stops reading is disconnected when its socket buffer is full
// and that write times out, so memory per client stays bounded. A second
// coroutine reads from the socket only to notice at once when the client
// leaves (and frees its subscriber slot).
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

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <sys/uio.h>

#include "acpstore/records.h"
#include "server/http_message.h"
#include "server/io_deadline.h"
#include "server/metrics.h"
#include "server/server_options.h"
#include "server/sse_auth_watch.h"
#include "server/sse_batch.h"
#include "server/sse_frame_cache.h"

namespace acpstore::server {

class SseStream {
 public:
  // Borrows socket, deadline, options, metrics, the server's shared frame
  // cache and its SseAuthWatch (a stream opened with a key registers
  // there, so a revocation wakes it) from the connection.
  SseStream(boost::asio::ip::tcp::socket& socket, IoDeadline& deadline,
            std::shared_ptr<SseStart> start, const ServerOptions& options,
            Metrics& metrics, SseFrameCache& frames, SseAuthWatch& auth_watch);
  SseStream(const SseStream&) = delete;
  SseStream& operator=(const SseStream&) = delete;
  ~SseStream();

  // Writes the response head and frames until the stream ends.
  boost::asio::awaitable<void> Run();
  // Ends Run() soon (server shutdown).
  void Stop();

 private:
  struct Wake;
  boost::asio::awaitable<bool> Write(const std::string& bytes);
  // Writes every piece of `batch`; the batch (and so its shared frames)
  // must stay unchanged until this completes.
  boost::asio::awaitable<bool> Write(const SseBatch& batch);
  // Writes iov_ under the write timeout.
  boost::asio::awaitable<bool> WriteIov();
  // Sends every byte of iov_; false on an error (or the timeout's cancel).
  boost::asio::awaitable<bool> SendAll();
  boost::asio::awaitable<void> WatchPeer(std::shared_ptr<Wake> wake);
  boost::asio::awaitable<void> Hold(
      std::chrono::steady_clock::time_point until);

  boost::asio::ip::tcp::socket& socket_;
  IoDeadline& deadline_;
  std::shared_ptr<SseStart> start_;
  const ServerOptions& options_;
  Metrics& metrics_;
  SseFrameCache& frames_;
  SseAuthWatch& auth_watch_;
  std::shared_ptr<Wake> wake_;
  // The buffers of the write in flight; kept to reuse its allocation.
  std::vector<iovec> iov_;
};

}  // namespace acpstore::server

#endif  // ACPSTORE_SERVER_SSE_STREAM_H_
