// Request and Response: the server's own small view of an HTTP exchange.
//
// The connection code (the only code that sees Boost.Beast) fills a Request
// from the wire and writes a Response back; the router and every routes_*.cc
// file see only these types, so they compile fast and are tested without
// sockets.
//
// Thread-safety: plain values. A Response may carry an SseStart, which moves
// the connection into streaming mode (sse_stream.h).

#ifndef ACPSTORE_SERVER_HTTP_MESSAGE_H_
#define ACPSTORE_SERVER_HTTP_MESSAGE_H_

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "acpstore/store.h"
#include "server/subscriber_caps.h"

namespace acpstore::server {

struct Request {
  std::string method;  // "GET", "POST", ... as sent (case-sensitive)
  std::string target;  // raw request-target: "/v1/sessions?limit=5"
  // Headers the routes need; empty when absent. Nothing else is kept, so no
  // handler can log a header it should not (the token stays here only).
  // has_authorization: an Authorization header came, even an empty one (a
  // bearer header, good or bad, always wins over the session cookie).
  std::string authorization;
  bool has_authorization = false;
  std::string content_type;
  std::string last_event_id;
  bool has_last_event_id = false;
  // Prefer (RFC 7240), read by appendEvents for return=minimal.
  std::string prefer;
  // X-Acpstore-Scope: the scope a service key acts in (SPEC §6).
  std::string acpstore_scope;
  bool has_acpstore_scope = false;
  // Browser access (SPEC §12): every Cookie header, joined with "; ";
  // X-CSRF-Token; Origin and a preflight's Access-Control-Request-Method.
  std::string cookie;
  std::string csrf_token;
  std::string origin;
  std::string cors_request_method;
  // If-None-Match, for the console's files (routes_console.cc).
  std::string if_none_match;
  std::string body;
};

class ReadySignal;

// What streamEvents hands to the connection once the subscription exists:
// the connection then writes SSE frames instead of one response.
struct SseStart {
  std::unique_ptr<Subscription> subscription;
  // Fired by the store's on_ready; the stream registers its waker on it.
  std::shared_ptr<ReadySignal> ready;
  // Holds this stream's place under the subscriber caps until destroyed.
  std::unique_ptr<SubscriberSlot> slot;
  // Extra header lines ("Name: value\r\n"...) for the stream's response
  // head: the Response's headers, the CORS headers the connection adds
  // among them (SPEC §12).
  std::string extra_head;
  // Set only by streamTranscript: the subscription's events only wake the
  // stream (they are not sent); after each drain this appends the frames
  // of the transcript entries that changed after *seq (the last event seq
  // folded into what was sent) and advances *seq; it stops once the frames
  // reach `max_bytes` (at least one) and sets *more when entries are left
  // for the next call (TranscriptFrames). An error ends the stream with an
  // error frame. Runs on the connection's strand.
  std::function<Status(EventSeq* seq, size_t max_bytes, std::string* frames,
                       bool* more)>
      transcript;
  EventSeq transcript_seq = 0;
  // OK while the key the stream was opened with (bearer token or browser
  // session) is live; its refusal ends the stream with an error frame, so a
  // revoked key reads nothing new (SPEC §10: honoured within 2 s). Checked
  // before each drain, at most every 500 ms (sse_stream.cc). Runs on the
  // connection's strand.
  std::function<Status()> authorized;
};

struct Response {
  int status = 200;
  // Extra headers (Allow, WWW-Authenticate, Retry-After, ...).
  std::vector<std::pair<std::string, std::string>> headers;
  std::string content_type = "application/json";
  std::string body;  // empty for 204
  // Set only by streamEvents on success.
  std::shared_ptr<SseStart> sse;
  // For the server's own log only (never sent): why a 5xx happened.
  std::string internal_error;
  // Set by the router: the route template ("/v1/sessions/{id}") and its
  // operationId, for metrics and the request log. Static storage.
  std::string_view route = "-";
  std::string_view operation;
  // Set by the router for a service key's request: the tenant it acted in,
  // counted in /metrics (SPEC §6). Empty otherwise.
  std::string service_tenant;
  // Set only on the answer to a CORS preflight (PreflightResponse), which
  // carries CORS headers of its own: the connection, which adds them to
  // every other response, leaves it as it is.
  bool preflight = false;
};

// Called exactly once with the response, from any thread.
using Responder = std::function<void(Response)>;

// ReadySignal bridges a Subscription's on_ready (a store thread) to the SSE
// stream's executor. Notify() before a waker is set is remembered.
// Thread-safety: all methods may be called from any thread.
class ReadySignal {
 public:
  void Notify();
  // Sets (or clears, with nullptr) the function Notify() calls. A
  // notification that arrived while no waker was set is delivered at once.
  void SetWaker(std::function<void()> waker);

 private:
  std::mutex mu_;
  std::function<void()> waker_;
  bool pending_ = false;
};

}  // namespace acpstore::server

#endif  // ACPSTORE_SERVER_HTTP_MESSAGE_H_
