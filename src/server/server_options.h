// ServerOptions: every limit and timeout of the HTTP server (SPEC §5, §6).
// Each field states its default.

#ifndef ACPSTORE_SERVER_SERVER_OPTIONS_H_
#define ACPSTORE_SERVER_SERVER_OPTIONS_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "acpstore/clock.h"

namespace acpstore::server {

// One line of the request log. Never holds tokens, bodies, payloads or
// metadata values; `route` is the template ("/v1/sessions/{id}").
struct RequestLogEntry {
  std::string_view method;
  std::string_view route;      // "-" when no route matched
  std::string_view operation;  // operationId, "" when none
  int status = 0;
  int64_t latency_us = 0;
  std::string_view remote;  // "127.0.0.1:51234"
  // Why a 5xx happened (server-side only; may name files and offsets).
  std::string_view internal_error;
};

struct ServerOptions {
  // Default 127.0.0.1:7700 (SPEC §6). Numeric addresses only: a host name
  // is resolved by whoever reads the configuration (`acpstore serve` does
  // it while validating options, before anything touches the disk), and
  // the server listens on every address of the list, on one port. Of
  // several, one this machine does not have (EADDRNOTAVAIL, EAFNOSUPPORT:
  // the ::1 of a hosts file on a host without IPv6) is passed over while
  // another binds (Server::passed_over()). Port 0 picks a free port, the
  // same on every address; Server::port() reports it.
  std::vector<std::string> listen_addresses = {"127.0.0.1"};
  uint16_t port = 7700;
  // Threads running the io_context. 0 (default) = one per CPU the process
  // may run on (its affinity mask: taskset, cpusets), at least one.
  unsigned io_threads = 0;

  size_t max_body_bytes = 8u << 20;     // 413 beyond. Default 8 MiB.
  size_t max_header_bytes = 16u << 10;  // 431 beyond. Default 16 KiB.
  // Nesting of a whole request body (keep above the store's
  // max_json_depth + 3 so the store reports payload depth). Default 128.
  int max_body_depth = 128;
  // Request bodies held in memory at once, over all connections; a request
  // that would pass it is answered 429 before its body is read, so 1024
  // clients sending 8 MiB each cannot take 8 GiB. A chunked body counts as
  // max_body_bytes. Default 256 MiB.
  size_t max_inflight_body_bytes = 256u << 20;
  size_t max_connections = 1024;            // 429 + close beyond
  size_t max_sse_subscribers_total = 2048;  // 429 beyond
  size_t max_sse_per_key = 64;              // 429 beyond
  // A request's header and body must arrive within this, and an idle
  // keep-alive connection is closed after it. 408 when a request was
  // begun. Default 30 s.
  int64_t read_timeout_ms = 30000;
  // A response write (or an SSE frame batch) must complete within this,
  // else the client is too slow and is disconnected. Default 30 s.
  int64_t write_timeout_ms = 30000;
  int64_t sse_heartbeat_ms = 15000;  // ": ping" interval. Default 15 s.
  // Bytes of SSE frames built per write; with the kernel's send buffer this
  // bounds what a client that stops reading can hold. Default 1 MiB.
  size_t sse_buffer_bytes = 1u << 20;
  // A stream that has just written events waits until this long after
  // that write before it takes the next page (decision 0025): a busy
  // session's events then leave in one write per window instead of one per
  // append, for every stream. It bounds the delay added to any event; the
  // first event after a quiet spell of this length goes out at once.
  // 0 = write each wake-up at once. Default 5 ms.
  int64_t sse_coalesce_ms = 5;
  // Kernel send buffer for SSE sockets (SO_SNDBUF). 0 = system default.
  int sse_socket_send_buffer = 0;
  // Stop(): in-flight requests and SSE streams get this long to finish
  // before their sockets are closed. Default 10 s.
  int64_t shutdown_timeout_ms = 10000;

  // The web console at /ui/ (SPEC §12, routes_console.cc); false: /ui/
  // answers 404 like any unknown route (--ui false). Default true.
  bool ui = true;
  // Browser sign-in (SPEC §12, browser_sessions.h, decision 0014).
  // POST /v1/auth/session's cookie lives this long. Default 12 h.
  int64_t ui_session_ttl_ms = int64_t{12} * 3600 * 1000;
  size_t ui_max_sessions = 10000;         // live browser sessions; 429 beyond
  size_t ui_max_sessions_per_key = 16;    // a key's oldest is ended beyond
  // The cookie is `Secure` (and named __Host-acpstore_session) unless this
  // is false (--ui-insecure-cookie): browsers treat http://localhost as
  // secure, and anything else should be behind a TLS proxy. Default true.
  bool ui_secure_cookie = true;
  // Origins (scheme://host[:port], exact match) whose pages may call the
  // API with a bearer token (--cors-origin, repeatable). Default: none.
  std::vector<std::string> cors_origins;
  int64_t cors_max_age_s = 600;  // Access-Control-Max-Age of a preflight
  // Time of browser sessions' expiry. Borrowed; nullptr = SystemClock().
  Clock* clock = nullptr;

  // Called once per response, from an I/O thread. Must be cheap and
  // thread-safe. Default: none.
  std::function<void(const RequestLogEntry&)> request_log;
};

}  // namespace acpstore::server

#endif  // ACPSTORE_SERVER_SERVER_OPTIONS_H_
