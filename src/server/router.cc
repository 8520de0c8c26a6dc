// Route table, matching and the checks every route shares. See router.h.

#include "server/router.h"

#include <algorithm>
#include <exception>
#include <memory>
#include <utility>

#include "base/ascii.h"
#include "record/canonical_json.h"
#include "record/field_error.h"
#include "server/browser_access.h"
#include "server/browser_sessions.h"
#include "server/error_map.h"

namespace acpstore::server {
namespace {

using base::AsciiLower;
using base::TrimHttpWhitespace;

std::vector<std::string_view> SplitPattern(std::string_view pattern) {
  std::vector<std::string_view> out;
  pattern.remove_prefix(1);
  for (;;) {
    const size_t slash = pattern.find('/');
    out.push_back(pattern.substr(0, slash));
    if (slash == std::string_view::npos) return out;
    pattern.remove_prefix(slash + 1);
  }
}

bool IsPlaceholder(std::string_view seg) {
  return seg.size() > 2 && seg.front() == '{' && seg.back() == '}';
}

// Matches `segments` against a pattern split into `parts`; fills the
// placeholders. Returns the number of literal segments (more = more
// specific), or -1.
int MatchPattern(const std::vector<std::string_view>& parts,
                 const std::vector<std::string>& segments,
                 std::vector<std::string>* params) {
  if (parts.size() != segments.size()) return -1;
  int literals = 0;
  params->clear();
  for (size_t i = 0; i < parts.size(); ++i) {
    if (IsPlaceholder(parts[i])) {
      if (segments[i].empty()) return -1;
      params->push_back(segments[i]);
    } else if (parts[i] == segments[i]) {
      ++literals;
    } else {
      return -1;
    }
  }
  return literals;
}

// "application/json" with an optional "charset=utf-8" (any case).
bool IsJsonContentType(std::string_view value) {
  const size_t semi = value.find(';');
  if (AsciiLower(TrimHttpWhitespace(value.substr(0, semi))) != "application/json") return false;
  while (semi != std::string_view::npos) {
    value.remove_prefix(value.find(';') + 1);
    const size_t next = value.find(';');
    const std::string param = AsciiLower(TrimHttpWhitespace(value.substr(0, next)));
    if (param.rfind("charset=", 0) == 0) {
      std::string cs = param.substr(8);
      cs.erase(std::remove(cs.begin(), cs.end(), '"'), cs.end());
      if (cs != "utf-8" && cs != "utf8") return false;
    }
    if (next == std::string_view::npos) break;
  }
  return true;
}

// The token of "Bearer <token>", or empty.
std::string_view BearerToken(std::string_view header) {
  header = TrimHttpWhitespace(header);
  if (header.size() < 7 || AsciiLower(header.substr(0, 7)) != "bearer ") return {};
  return TrimHttpWhitespace(header.substr(7));
}

// The scope a service key names in X-Acpstore-Scope:
// "<tenantId>/<ownerKeyId>", each part percent-encoded (SPEC §6).
Result<Scope> ServiceScope(const Request& request,
                           const auth::Principal& principal) {
  if (!request.has_acpstore_scope) {
    return Status::InvalidArgument(
               "a service key must name its scope in the X-Acpstore-Scope "
               "header (<tenantId>/<ownerKeyId>, each percent-encoded)")
        .With("field", "X-Acpstore-Scope");
  }
  const std::string_view value = TrimHttpWhitespace(request.acpstore_scope);
  const size_t slash = value.find('/');
  if (slash == std::string_view::npos ||
      value.find('/', slash + 1) != std::string_view::npos) {
    return Status::InvalidArgument(
               "X-Acpstore-Scope must be <tenantId>/<ownerKeyId>")
        .With("field", "X-Acpstore-Scope");
  }
  ACPSTORE_ASSIGN_OR_RETURN(
      std::string tenant,
      PercentDecode(value.substr(0, slash), "X-Acpstore-Scope"));
  ACPSTORE_ASSIGN_OR_RETURN(
      std::string owner,
      PercentDecode(value.substr(slash + 1), "X-Acpstore-Scope"));
  if (tenant.empty() || owner.empty() || tenant.size() > 256 ||
      owner.size() > 256) {
    return Status::InvalidArgument(
               "X-Acpstore-Scope: tenantId and ownerKeyId must be 1-256 "
               "bytes")
        .With("field", "X-Acpstore-Scope");
  }
  if (!principal.ServesTenant(tenant)) {
    // Like every other tenant boundary: indistinguishable from absence.
    return Status::NotFound("no such record in this key's scope");
  }
  return Scope{std::move(tenant), std::move(owner), Scope::Access::kOwner};
}

}  // namespace

RouteSpec::RouteSpec(std::string_view method, std::string_view pattern,
                     std::string_view operation_id, HandlerFn handler,
                     Access access, std::string_view query, bool console)
    : method(method),
      pattern(pattern),
      operation_id(operation_id),
      handler(handler),
      access(access),
      query(query),
      console(console),
      segments(SplitPattern(pattern)) {}

const std::vector<RouteSpec>& Router::Routes() {
  static const std::vector<RouteSpec>* routes = [] {
    auto* r = new std::vector<RouteSpec>();
    AddSessionRoutes(r);
    AddEventRoutes(r);
    AddTranscriptRoutes(r);
    AddActionRoutes(r);
    AddPauseRoutes(r);
    AddKeyRoutes(r);
    AddOpsRoutes(r);
    AddAuthRoutes(r);
    return r;
  }();
  return *routes;
}

namespace {
ServerContext WithSessions(ServerContext ctx, BrowserSessions* own) {
  if (ctx.browser_sessions == nullptr) ctx.browser_sessions = own;
  return ctx;
}
std::shared_ptr<BrowserSessions> MakeSessions(const ServerContext& ctx) {
  if (ctx.browser_sessions != nullptr || ctx.options == nullptr) return {};
  const ServerOptions& o = *ctx.options;
  return std::make_shared<BrowserSessions>(BrowserSessionOptions{
      o.ui_session_ttl_ms, o.ui_max_sessions, o.ui_max_sessions_per_key,
      o.clock});
}
}  // namespace

Router::Router(const ServerContext& ctx)
    : own_sessions_(MakeSessions(ctx)),
      ctx_(WithSessions(ctx, own_sessions_.get())),
      routes_(Served(ctx_)) {}

std::vector<const RouteSpec*> Router::Served(const ServerContext& ctx) {
  const bool ui = ctx.options == nullptr || ctx.options->ui;
  std::vector<const RouteSpec*> out;
  for (const RouteSpec& spec : Routes()) {
    if (ui || !spec.console) out.push_back(&spec);
  }
  return out;
}

Router::RouteMatch Router::Match(
    std::string_view method, const std::vector<std::string>& segments) const {
  // The most specific pattern with this method wins, so a literal
  // ("/v1/actions/lease") beats a placeholder ("/v1/actions/{actionId}").
  // The most specific pattern of any method labels a 405 in metrics and
  // the log: its path is a known route, not an unknown one ("-").
  RouteMatch m;
  std::vector<std::string> params;
  int best = -1;
  int best_path = -1;
  for (const RouteSpec* spec : routes_) {
    const int score = MatchPattern(spec->segments, segments, &params);
    if (score < 0) continue;
    if (score > best_path) {
      best_path = score;
      m.path_match = spec;
    }
    if (spec->method == method) {
      if (score > best) {
        best = score;
        m.route = spec;
        m.params = params;
      }
    } else if (m.allow.find(spec->method) == std::string::npos) {
      if (!m.allow.empty()) m.allow += ", ";
      m.allow += spec->method;
    }
  }
  return m;
}

std::string_view Router::RouteOf(std::string_view method,
                                 std::string_view target) const {
  Result<ParsedTarget> parsed = ParseTarget(target);
  if (!parsed.ok()) return "-";
  const RouteMatch m = Match(method, parsed->segments);
  if (m.route != nullptr) return m.route->pattern;
  if (m.path_match != nullptr) return m.path_match->pattern;
  return "-";
}

void Router::Handle(Request request, const Responder& respond) const {
  const RouteSpec* route = nullptr;
  std::string service_tenant;  // a service key's tenant, once known
  // Every response passes here so it carries its route for metrics/logs.
  // (CORS headers are the connection's: it adds them to every response it
  // writes, its own refusals included.)
  const ServerOptions* options = ctx_.options;
  auto finish = [&route, &service_tenant, respond](Response r) {
    if (route != nullptr) {
      r.route = route->pattern;
      r.operation = route->operation_id;
    }
    r.service_tenant = service_tenant;
    respond(std::move(r));
  };

  Result<ParsedTarget> target = ParseTarget(request.target);
  if (!target.ok()) return finish(ErrorResponse(target.error()));
  if (request.method == "OPTIONS" && !request.origin.empty() &&
      !request.cors_request_method.empty() && options != nullptr) {
    Response r = PreflightResponse(*options, request);
    r.route = "-";
    return respond(std::move(r));
  }

  RouteMatch match = Match(request.method, target->segments);
  route = match.route;
  const RouteSpec* path_match = match.path_match;
  const std::string& allow = match.allow;
  std::vector<std::string>& best_params = match.params;
  if (route == nullptr) {
    if (allow.empty()) {
      return finish(ErrorResponse(
          Status::NotFound("no such route")
              .With("path", record::QuoteForMessage(request.target))));
    }
    // The method is not echoed: it is client bytes of any kind.
    Response r = ErrorResponse(HttpError::kMethodNotAllowed,
                               "method not allowed here; see Allow");
    r.headers.emplace_back("Allow", allow);
    r.route = path_match->pattern;  // no operation ran: none is named
    return finish(std::move(r));
  }

  Call call{ctx_,
            request,
            std::move(best_params),
            QueryReader(std::move(target->query)),
            {},
            {},
            nullptr};

  if (route->access != Access::kPublic) {
    const std::string_view token = BearerToken(request.authorization);
    Result<auth::Principal> principal = Status::Unauthenticated("");
    // The cookie counts only when no Authorization header came at all: an
    // empty or malformed one is a bad bearer token (401), never a fall
    // back to the cookie (http_api.md, "Browser sign-in and CORS").
    const bool has_authorization =
        request.has_authorization || !request.authorization.empty();
    if (!has_authorization && !request.cookie.empty()) {
      // A browser (SPEC §12): the session cookie, checked with its CSRF
      // token on a state-changing method; errors are final.
      auth::Principal p;
      if (std::optional<Response> refusal =
              CookiePrincipal(request, &p, &call.browser_session)) {
        return finish(std::move(*refusal));
      }
      principal = std::move(p);
      call.by_cookie = true;
    } else if (token.empty()) {
      return finish(ErrorResponse(Status::Unauthenticated(
          "missing or malformed 'Authorization: Bearer <token>' header")));
    } else {
      principal = ctx_.authenticator->Authenticate(token);
    }
    if (!principal.ok()) {
      const Status& s = principal.error();
      if (s.code() != StatusCode::kUnauthenticated) {
        // A failing key store must not look like a bad token to clients.
        return finish(ErrorResponse(s));
      }
      return finish(ErrorResponse(Status::Unauthenticated("invalid API key")));
    }
    call.principal = std::move(*principal);
    if (call.principal.role == auth::Role::kService) {
      Result<Scope> scope = ServiceScope(request, call.principal);
      if (!scope.ok()) return finish(ErrorResponse(scope.error()));
      call.scope = std::move(*scope);
      service_tenant = call.scope.tenant_id;
    } else if (request.has_acpstore_scope) {
      return finish(ErrorResponse(
          Status::InvalidArgument(
              "X-Acpstore-Scope is for service keys only; this key's scope "
              "is fixed")
              .With("field", "X-Acpstore-Scope")));
    } else {
      call.scope = call.principal.ToScope();
    }
    if (route->access == Access::kWrite && !call.scope.CanWrite()) {
      return finish(
          ErrorResponse(Status::Forbidden("this key may read but not write")));
    }
    if (route->access == Access::kAdmin &&
        call.principal.role != auth::Role::kAdmin) {
      return finish(ErrorResponse(Status::Forbidden("admin key required")));
    }
  }

  if (const std::string* unknown = call.query.FirstUnknown(route->query)) {
    return finish(ErrorResponse(record::InvalidField(
        record::QuoteForMessage(*unknown), "unknown query parameter")));
  }
  if (!request.body.empty() && !IsJsonContentType(request.content_type)) {
    return finish(ErrorResponse(
        HttpError::kUnsupportedMediaType,
        "a request body must be sent as Content-Type: application/json"));
  }

  // The handler completes via call.respond, possibly later on a store
  // thread; `route` is static so the capture stays valid.
  const RouteSpec* matched = route;
  auto once = std::make_shared<std::atomic<bool>>(false);
  call.respond = [matched, respond, once, service_tenant](Response r) {
    if (once->exchange(true)) return;
    r.route = matched->pattern;
    r.operation = matched->operation_id;
    r.service_tenant = service_tenant;
    respond(std::move(r));
  };
  try {
    matched->handler(call);
  } catch (const std::exception& e) {
    Response r = ErrorResponse(Status::Internal(e.what()));
    if (!once->exchange(true)) {
      r.route = matched->pattern;
      r.operation = matched->operation_id;
      r.service_tenant = service_tenant;
      respond(std::move(r));
    }
  }
}

}  // namespace acpstore::server
