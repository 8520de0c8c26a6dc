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
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "server/io_deadline.h"
#include "server/metrics.h"
#include "server/router.h"
#include "server/server_options.h"
#include "server/sse_frame_cache.h"
#include "server/subscriber_caps.h"

namespace acpstore::server {

class Connection;
class SseStream;

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
  enum class State { kIdle, kBusy, kStreaming };

  boost::asio::awaitable<void> Run();

  boost::asio::ip::tcp::socket socket_;
  ServerCore& core_;
  IoDeadline deadline_;
  State state_ = State::kIdle;  // strand only
  SseStream* sse_ = nullptr;    // strand only; set while streaming
};

}  // namespace acpstore::server

#endif  // ACPSTORE_SERVER_HTTP_CONNECTION_H_
