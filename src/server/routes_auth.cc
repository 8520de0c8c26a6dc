// Browser sign-in routes (SPEC §12): createBrowserSession trades a bearer
// token for a session cookie and a CSRF token; deleteBrowserSession signs
// out. Also the router's cookie check (Router::CookiePrincipal), so every
// rule about the cookie lives in this file and browser_access.cc.
//
// A browser session is never made from a cookie (only from a bearer
// token) nor for a service key (its scope is named per request; the
// console is for people).

#include <optional>
#include <string>
#include <utility>

#include "auth/principal.h"
#include "base/time_format.h"
#include "server/browser_access.h"
#include "server/browser_sessions.h"
#include "server/json_writer.h"
#include "server/routes_util.h"

namespace acpstore::server {
namespace {

bool IsSafeMethod(std::string_view method) {
  return method == "GET" || method == "HEAD";
}

void CreateBrowserSession(Call& call) {
  if (call.by_cookie) {
    return call.respond(ErrorResponse(Status::Unauthenticated(
        "sign in with 'Authorization: Bearer <token>', not a session "
        "cookie")));
  }
  if (call.principal.role == auth::Role::kService) {
    return call.respond(ErrorResponse(
        Status::Forbidden("a service key cannot sign in to a browser")));
  }
  const ServerOptions& o = *call.ctx.options;
  Result<IssuedBrowserSession> s =
      call.ctx.browser_sessions->Create(call.principal);
  if (FailedParse(call, s)) return;
  JsonWriter w;
  w.BeginObject();
  // Shown once; the server keeps only its hash. The cookie's value is in
  // Set-Cookie alone (HttpOnly: no script reads it).
  w.Key("csrfToken").String(s->csrf);
  w.Key("expiresAt").String(base::FormatIso8601(s->expires_at));
  w.Key("key").BeginObject();
  w.Key("id").String(call.principal.key_id);
  w.Key("tenantId").String(call.principal.tenant_id);
  w.Key("role").String(auth::ToString(call.principal.role));
  w.EndObject();
  w.EndObject();
  Response r = JsonResponse(201, w.Take());
  r.headers.emplace_back("Cache-Control", "no-store");
  r.headers.emplace_back(
      "Set-Cookie",
      SessionSetCookie(o, s->secret, (o.ui_session_ttl_ms + 999) / 1000));
  call.respond(std::move(r));
}

void DeleteBrowserSession(Call& call) {
  if (!call.by_cookie) {
    return call.respond(ErrorResponse(Status::InvalidArgument(
        "sign-out ends the session of the request's cookie; this request "
        "has none (it used a bearer token)")));
  }
  const ServerOptions& o = *call.ctx.options;
  // The router found the cookie well-formed and its session live.
  Result<std::optional<std::string_view>> value =
      FindSessionCookie(call.request.cookie, SessionCookieName(o));
  if (value.ok() && *value) call.ctx.browser_sessions->Remove(**value);
  Response r = NoContent();
  r.headers.emplace_back("Set-Cookie", SessionClearCookie(o));
  call.respond(std::move(r));
}

}  // namespace

std::optional<Response> Router::CookiePrincipal(const Request& request,
                                                auth::Principal* out,
                                                std::string* secret) const {
  const ServerOptions& o = *ctx_.options;
  if (request.cookie.size() > kMaxCookieHeaderBytes) {
    return ErrorResponse(Status::InvalidArgument(
                             "Cookie header larger than " +
                             std::to_string(kMaxCookieHeaderBytes) + " bytes")
                             .With("field", "Cookie"));
  }
  Result<std::optional<std::string_view>> value =
      FindSessionCookie(request.cookie, SessionCookieName(o));
  if (!value.ok()) return ErrorResponse(value.error());
  if (!*value) {
    return ErrorResponse(Status::Unauthenticated(
        "missing or malformed 'Authorization: Bearer <token>' header (or "
        "browser session cookie)"));
  }
  // From here on the client holds our cookie: a 401 also clears it.
  auto refuse = [&o](const Status& s) {
    Response r = ErrorResponse(s);
    if (r.status == 401) {
      r.headers.emplace_back("Set-Cookie", SessionClearCookie(o));
    }
    return r;
  };
  // A key store's failure is not a 401: the cookie is cleared only on one.
  Result<FoundBrowserSession> session =
      ctx_.browser_sessions->FindLive(**value, *ctx_.authenticator);
  if (!session.ok()) return refuse(session.error());
  if (!IsSafeMethod(request.method)) {
    if (request.csrf_token.empty()) {
      return ErrorResponse(HttpError::kCsrfRejected,
                           "a request authenticated by the session cookie "
                           "must send the X-CSRF-Token header that "
                           "POST /v1/auth/session returned");
    }
    if (!BrowserSessions::CsrfMatches(*session, request.csrf_token)) {
      return ErrorResponse(HttpError::kCsrfRejected,
                           "X-CSRF-Token does not match this session");
    }
  }
  *out = std::move(session->principal);
  *secret = std::string(**value);
  return std::nullopt;
}

void AddAuthRoutes(std::vector<RouteSpec>* r) {
  r->push_back({"POST", "/v1/auth/session", "createBrowserSession",
                &CreateBrowserSession, Access::kRead, ""});
  r->push_back({"DELETE", "/v1/auth/session", "deleteBrowserSession",
                &DeleteBrowserSession, Access::kRead, ""});
}

}  // namespace acpstore::server
