// Server: acpstore's HTTP/1.1 API (SPEC §5, §6) over Boost.Beast/Asio.
//
//   server::Server srv(options, *store, key_store, &key_store);
//   if (Status s = srv.Start(); !s.ok()) ...   // binds; srv.port() is real
//   ...                                         // serve until a signal
//   srv.Stop();                                 // graceful, bounded
//
// One io_context runs on options.io_threads threads; each connection is a
// C++20 coroutine on its own strand, so an SSE stream open for hours costs
// a coroutine frame and a socket, not a thread. Store mutations complete
// asynchronously and resume the connection on its strand; no I/O thread
// ever waits for an fsync.
//
// Thread-safety: Start/Stop/port from one controlling thread. Lifetime:
// borrows the store, authenticator and key manager, which must outlive the
// Server (Stop() or the destructor returns only once no request can touch
// them any more).

#ifndef ACPSTORE_SERVER_SERVER_H_
#define ACPSTORE_SERVER_SERVER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "acpstore/status.h"
#include "acpstore/store.h"
#include "auth/principal.h"
#include "server/server_options.h"

namespace acpstore::server {

class Metrics;

class Server {
 public:
  // `key_manager` may be null: /v1/keys then answers 404 saying so.
  Server(ServerOptions options, Store& store,
         auth::Authenticator& authenticator, auth::KeyManager* key_manager);
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  ~Server();  // Stop()s if running. NOLINT(bugprone-exception-escape)

  // Binds every listen address and starts serving. kUnavailable (bind
  // failure, e.g. the port is taken, or no address could be bound) or
  // kInvalidArgument (an address that is not numeric), naming the address.
  Status Start();

  // The bound port (the real one when options.port was 0), the same on
  // every address. 0 before Start.
  uint16_t port() const;
  // What it listens on, "127.0.0.1:7700" or "[::1]:7700", in the order of
  // options.listen_addresses; and the addresses Start passed over because
  // this machine does not have them, each "[::1]:7700: <why>". Valid after
  // a successful Start.
  const std::vector<std::string>& endpoints() const;
  const std::vector<std::string>& passed_over() const;

  // Graceful: stops accepting, lets in-flight requests finish (answering
  // with Connection: close), ends SSE streams, closes idle keep-alive
  // connections; after shutdown_timeout_ms closes whatever is left. Returns
  // once every I/O thread has exited, within shutdown_timeout_ms + 0.5 s.
  // Idempotent. Must not be called from an I/O thread (a request handler).
  void Stop();

  const Metrics& metrics() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace acpstore::server

#endif  // ACPSTORE_SERVER_SERVER_H_
