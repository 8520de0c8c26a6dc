// Internals shared by server.cc (listener, lifecycle) and
// http_connection.cc (one HTTP connection). Not part of the server's API.
//
// ServerCore holds what every connection shares; Connection is one client
// socket served by a coroutine on its own strand.
//
// Thread-safety: ServerCore's atomics and registry (under mu) may be used
// from any thread; a Connection's state only on its strand, except
// Shutdown()/ForceClose(), which post to it.

#ifndef ACPSTORE_SERVER_HTTP_CONNECTION_H_
#define ACPSTORE_SERVER_HTTP_CONNECTION_H_

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "server/io_deadline.h"
#include "server/metrics.h"
#include "server/router.h"
#include "server/server_options.h"
#include "server/sse_auth_watch.h"
#include "server/sse_frame_cache.h"
#include "server/subscriber_caps.h"

namespace acpstore::server {

class Connection;
class SseStream;

// A lingering close after a refusal (Connection::CloseSocket, and a
// connection refused over the cap, server.cc) reads and discards what the
// client still sends, so that closing is not a reset under the answer: for
// at most kLingerMs (and never longer than read_timeout_ms), and for at
// least kLingerMinBytes before it gives up.
inline constexpr int64_t kLingerMs = 2000;
inline constexpr uint64_t kLingerMinBytes = uint64_t{16} << 20;

struct ServerCore {
  ServerCore(ServerOptions opts, Store& store,
             auth::Authenticator& authenticator, auth::KeyManager* key_manager)
      : options(std::move(opts)),
        sse_caps(options.max_sse_subscribers_total, options.max_sse_per_key),
        router(ServerContext{&store, &authenticator, key_manager, &metrics,
                             &sse_caps, &options, &stopping}) {}

  const ServerOptions options;
  Metrics metrics;
  SubscriberCaps sse_caps;
  SseFrameCache sse_frames;  // shared by every SSE stream
  SseAuthWatch sse_auth;     // wakes streams to re-check a changed key
  std::atomic<bool> stopping{false};
  // Bytes reserved for request bodies being read or handled.
  std::atomic<size_t> body_bytes{0};
  const Router router;

  std::mutex mu;
  std::condition_variable changed;  // a connection ended or a reply came
  std::unordered_map<Connection*, std::weak_ptr<Connection>> live;  // mu

  // A reply the store still owes. A store completion may run, or be
  // destroyed, on a store thread after the server is gone, so it holds only
  // this slot and never an asio object: `deliver` (which owns the awaiting
  // coroutine and its strand executor) lives here, and Server::Stop empties
  // every slot before it frees the io_context.
  struct OwedReply {
    std::mutex mu;
    std::function<void(Response)> deliver;  // mu; empty once used or detached
    ServerCore* core = nullptr;             // mu; null once detached
  };
  std::unordered_map<OwedReply*, std::shared_ptr<OwedReply>> owed;  // mu

  // Any thread: hands `r` to the slot's coroutine, if it still waits.
  static void Deliver(const std::shared_ptr<OwedReply>& slot, Response r);
  // Server::Stop, after the I/O threads have joined: drops every reply
  // still owed, so no completion can touch asio afterwards.
  void DetachOwedReplies();
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(boost::asio::ip::tcp::socket socket, ServerCore& core);
  ~Connection();

  // Registers the connection and spawns its coroutines on its strand.
  static void Start(const std::shared_ptr<Connection>& connection);
  // Any thread: finish the current request, then close; end an SSE
  // stream; close at once when idle.
  void Shutdown();
  // Any thread: close the socket now.
  void ForceClose();

 private:
  // kLingering: closing after a refusal, reading and discarding what the
  // client still sends (CloseSocket); Shutdown() ends it like kIdle.
  enum class State { kIdle, kBusy, kStreaming, kLingering };
  // One request being read: its parser, the body bytes it reserved, when
  // it began. Defined in http_connection.cc.
  struct Incoming;

  // The connection loop: ReadRequest → (a refusal and close) or Dispatch
  // → SendResponse while keep-alive, or StreamEvents; then CloseSocket.
  boost::asio::awaitable<void> Run();

  // Step 1. Reads one request's header and, unless refused first (too
  // large, over the in-flight body budget), its body, within
  // read_timeout_ms; answers `Expect: 100-continue`. The error, if any.
  boost::asio::awaitable<boost::system::error_code> ReadRequest(
      Incoming& in);
  // Reads into buffer_ and feeds in.reader until the header (`whole`
  // false) or the whole request is parsed, or an error. Not Beast's
  // http::async_read: its parser may throw (a field over 65,535 bytes),
  // and from inside Beast's read the exception would leave the
  // io_context's run() and end the process; here the reader catches it.
  boost::asio::awaitable<boost::system::error_code> Parse(Incoming& in,
                                                          bool whole);
  // After a failed ReadRequest: the error response to send before closing
  // (the reader's refusal: 400/431/501; else 408, 431, 413, 429, 400), or
  // nullopt to close without one (the client left, an idle keep-alive
  // connection timed out, Shutdown()).
  std::optional<Response> RefusalFor(const boost::system::error_code& ec,
                                     const Incoming& in);
  // Step 2, dispatch, is AsyncDispatch (http_connection.cc): it runs the
  // router and resumes the loop on the strand once the store has answered.
  // Step 3. Adds the CORS headers (AddCors), counts and logs `r`, then
  // writes it. False if the write failed.
  boost::asio::awaitable<bool> SendResponse(Response r, unsigned version,
                                            bool keep_alive,
                                            std::string_view method,
                                            int64_t start_us,
                                            std::string_view origin);
  // Step 3, SSE: the request is answered once the stream starts (its head
  // with the CORS headers, AddCors); the socket belongs to an SseStream
  // until it ends, then the connection closes.
  boost::asio::awaitable<void> StreamEvents(Response response,
                                            std::string_view method,
                                            int64_t start_us,
                                            std::string_view origin);
  // The CORS headers (SPEC §12) for a request whose Origin is `origin`
  // ("" when it sent none or its head was never read whole). Added here,
  // where every response is written, rather than where each is built, so
  // that none goes out without them: the connection's own refusals (413,
  // 431, 408, 429, 400) are built without the router, and lacked them. A
  // preflight's answer keeps its own.
  void AddCors(Response& r, std::string_view origin) const;
  // Metrics and the request log for one answered request.
  void CountRequest(std::string_view method, const Response& r, int status,
                    std::string_view internal_error, int64_t start_us);
  // Step 4. Shuts the sending side down; after a refusal (`linger`) reads
  // and discards what the client still sends, within caps (kLingerMs,
  // kLingerMinBytes above), so that the close is not a
  // reset under the answer; then closes.
  boost::asio::awaitable<void> CloseSocket(bool linger);

  boost::asio::ip::tcp::socket socket_;
  ServerCore& core_;
  IoDeadline deadline_;
  // Strand only: bytes read past the current request (kept across
  // keep-alive requests), and "address:port" for the request log.
  boost::beast::flat_buffer buffer_;
  std::string remote_;
  // Strand only: the head of the response being written, reused so that a
  // keep-alive connection formats every reply into the same bytes.
  std::string head_;
  State state_ = State::kIdle;  // strand only
  SseStream* sse_ = nullptr;    // strand only; set while streaming
};

}  // namespace acpstore::server

#endif  // ACPSTORE_SERVER_HTTP_CONNECTION_H_
