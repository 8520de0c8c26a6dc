// Router: matches a Request to one route of SPEC §5 and runs its handler
// after the checks every route shares, in this order:
//   target parse (400) -> route match (404, or 405 with Allow) ->
//   bearer authentication (401) -> role (403) -> query parameters known
//   (400) -> Content-Type of a body (415) -> handler.
//
// Handlers live in one routes_<resource>.cc file per resource; each is
// registered under its OpenAPI operationId (docs/openapi.yaml). They see
// only Request/Response (http_message.h), never Beast.
//
// Thread-safety: Handle() may run on any number of threads at once; the
// route table is immutable. Lifetime: borrows everything in ServerContext.

#ifndef ACPSTORE_SERVER_ROUTER_H_
#define ACPSTORE_SERVER_ROUTER_H_

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "acpstore/store.h"
#include "auth/principal.h"
#include "server/http_message.h"
#include "server/query_params.h"
#include "server/server_options.h"

namespace acpstore::server {

class BrowserSessions;
class Metrics;
class SubscriberCaps;

// The services handlers use. Everything is borrowed from the Server.
struct ServerContext {
  Store* store = nullptr;
  auth::Authenticator* authenticator = nullptr;
  auth::KeyManager* key_manager = nullptr;  // may be null: /v1/keys -> 501
  Metrics* metrics = nullptr;
  SubscriberCaps* sse_caps = nullptr;
  const ServerOptions* options = nullptr;
  const std::atomic<bool>* stopping = nullptr;
  // Browser sign-in sessions (SPEC §12). The Router makes its own when null.
  BrowserSessions* browser_sessions = nullptr;
};

// Who may call a route.
enum class Access {
  kPublic,  // no credentials (/healthz, /readyz, /metrics)
  kRead,    // any role
  kWrite,   // writer or admin (a reader gets 403)
  kAdmin,   // admin only
};

// One request being handled. Lives until the handler returns; a handler
// that completes asynchronously moves `respond` (and whatever else it
// needs) into its completion.
struct Call {
  const ServerContext& ctx;
  Request& request;
  std::vector<std::string> params;  // the {placeholders}, decoded, in order
  QueryReader query;
  auth::Principal principal;  // empty for kPublic routes
  Scope scope;
  Responder respond;  // call exactly once
  // Authenticated by a browser session cookie, not a bearer token; then
  // the session's secret (the cookie's value), for what outlives the
  // request (an SSE stream ends with the session). Never logged.
  bool by_cookie = false;
  std::string browser_session;

  const std::string& Param(size_t i) const { return params[i]; }
  int max_depth() const { return ctx.options->max_body_depth; }
};

using HandlerFn = void (*)(Call& call);

// One route. Registered by brace-initialisation from string literals
// ({"GET", "/healthz", "healthz", &Healthz, Access::kPublic, ""}): the
// views borrow static storage. The constructor splits the pattern, so the
// segments are computed once per route (splitting for every request was
// ~2% of a single append's server CPU: issue 14, docs/benchmarks.md
// "Fifth round") and cannot disagree with `pattern`.
struct RouteSpec {
  RouteSpec(std::string_view method, std::string_view pattern,
            std::string_view operation_id, HandlerFn handler, Access access,
            std::string_view query, bool console = false);

  std::string_view method;
  std::string_view pattern;       // "/v1/sessions/{id}/events"
  std::string_view operation_id;  // "listEvents" (= OpenAPI operationId)
  HandlerFn handler;
  Access access;
  std::string_view query;  // allowed query parameters, comma-separated
  // A page of the web console (routes_console.cc): with ServerOptions::ui
  // false a Router leaves it out of its table.
  bool console;
  // `pattern` without its leading '/', split at every '/':
  // {"v1", "sessions", "{id}", "events"}.
  std::vector<std::string_view> segments;
};

// Registration, one per routes_*.cc file.
void AddSessionRoutes(std::vector<RouteSpec>* routes);
void AddEventRoutes(std::vector<RouteSpec>* routes);
void AddTranscriptRoutes(std::vector<RouteSpec>* routes);
void AddActionRoutes(std::vector<RouteSpec>* routes);
void AddPauseRoutes(std::vector<RouteSpec>* routes);
void AddKeyRoutes(std::vector<RouteSpec>* routes);
void AddOpsRoutes(std::vector<RouteSpec>* routes);
void AddAuthRoutes(std::vector<RouteSpec>* routes);
// The web console (routes_console.cc); registered by AddOpsRoutes.
void AddConsoleRoutes(std::vector<RouteSpec>* routes);

class Router {
 public:
  explicit Router(const ServerContext& ctx);
  // What the routes see (with the browser sessions this router owns).
  const ServerContext& context() const { return ctx_; }

  // Runs the request to completion; `respond` is called exactly once, on
  // this thread or on a store thread. The Response's route/operation are
  // filled in.
  void Handle(Request request, const Responder& respond) const;
  // The metrics and log label Handle would give a request the connection
  // answered itself (a 413 for its declared length, a 408 while its body
  // was read): its method's route, else another method's on its path (a
  // 405's label), else "-". A static string, as Metrics needs.
  std::string_view RouteOf(std::string_view method,
                           std::string_view target) const;

  // Every route, in registration order.
  static const std::vector<RouteSpec>& Routes();

 private:
  // The routes this router serves: Routes() without the console's when
  // ServerOptions::ui is false. Left out rather than answering 404 from
  // their handlers, so that their paths answer exactly as unknown ones do
  // (404 with `path` for every method, route "-" in /metrics; SPEC §12).
  static std::vector<const RouteSpec*> Served(const ServerContext& ctx);

  // For a request with no Authorization header but a Cookie header: fills
  // *out with its browser session's principal, or returns the refusal
  // (malformed cookies 400, no/unknown/expired session or revoked key 401,
  // a state-changing method without its CSRF token 403). routes_auth.cc.
  std::optional<Response> CookiePrincipal(const Request& request,
                                          auth::Principal* out,
                                          std::string* secret) const;

  struct RouteMatch {
    const RouteSpec* route = nullptr;       // the method's, most specific
    const RouteSpec* path_match = nullptr;  // any method's, most specific
    std::string allow;                      // the path's other methods
    std::vector<std::string> params;        // route's placeholders
  };
  RouteMatch Match(std::string_view method,
                   const std::vector<std::string>& segments) const;

  std::shared_ptr<BrowserSessions> own_sessions_;  // when ctx had none
  const ServerContext ctx_;
  const std::vector<const RouteSpec*> routes_;  // Served(ctx_)
};

// For SSE: parses a resume point, Last-Event-ID first (SPEC §5.2).
Result<EventSeq> ResumePoint(const Request& request, const QueryReader& query);

}  // namespace acpstore::server

#endif  // ACPSTORE_SERVER_ROUTER_H_
