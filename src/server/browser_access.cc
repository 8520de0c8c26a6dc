// Session cookie and CORS. See browser_access.h.

#include "server/browser_access.h"

#include <algorithm>

#include "base/ascii.h"
#include "server/error_map.h"

namespace acpstore::server {
namespace {

using base::TrimHttpWhitespace;

// RFC 6265 token characters for a cookie name.
bool IsCookieName(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    if (c <= 0x20 || c >= 0x7f) return false;
    if (std::string_view("()<>@,;:\\\"/[]?={}").find(static_cast<char>(c)) !=
        std::string_view::npos) {
      return false;
    }
  }
  return true;
}

std::string Attributes(const ServerOptions& options) {
  std::string a = "; Path=/; HttpOnly; SameSite=Strict";
  if (options.ui_secure_cookie) a += "; Secure";
  return a;
}

}  // namespace

std::string_view SessionCookieName(const ServerOptions& options) {
  return options.ui_secure_cookie ? "__Host-acpstore_session"
                                  : "acpstore_session";
}

std::string SessionSetCookie(const ServerOptions& options,
                             std::string_view secret, int64_t max_age_s) {
  std::string v(SessionCookieName(options));
  v += "=";
  v += secret;
  v += Attributes(options);
  v += "; Max-Age=" + std::to_string(max_age_s);
  return v;
}

std::string SessionClearCookie(const ServerOptions& options) {
  std::string v(SessionCookieName(options));
  v += "=";
  v += Attributes(options);
  v += "; Max-Age=0";
  return v;
}

Result<std::optional<std::string_view>> FindSessionCookie(
    std::string_view header, std::string_view name) {
  std::optional<std::string_view> found;
  size_t count = 0;
  while (!header.empty()) {
    const size_t semi = header.find(';');
    std::string_view pair = TrimHttpWhitespace(header.substr(0, semi));
    header = semi == std::string_view::npos ? std::string_view()
                                            : header.substr(semi + 1);
    if (pair.empty()) continue;
    if (++count > kMaxCookies) {
      return Status::InvalidArgument("more than " +
                                     std::to_string(kMaxCookies) +
                                     " cookies in one request")
          .With("field", "Cookie");
    }
    const size_t eq = pair.find('=');
    if (eq == std::string_view::npos ||
        !IsCookieName(TrimHttpWhitespace(pair.substr(0, eq)))) {
      return Status::InvalidArgument("malformed Cookie header")
          .With("field", "Cookie");
    }
    if (TrimHttpWhitespace(pair.substr(0, eq)) != name) continue;
    if (found) {
      // Two of ours: one may have been planted by a sibling host; trust
      // neither.
      return Status::InvalidArgument("the session cookie is sent twice")
          .With("field", "Cookie");
    }
    std::string_view value = TrimHttpWhitespace(pair.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    found = value;
  }
  return found;
}

bool CorsOriginAllowed(const ServerOptions& options, std::string_view origin) {
  if (origin.empty()) return false;
  return std::find(options.cors_origins.begin(), options.cors_origins.end(),
                   origin) != options.cors_origins.end();
}

void AddCorsHeaders(const ServerOptions& options, std::string_view origin,
                    Response* r) {
  if (options.cors_origins.empty()) return;
  r->headers.emplace_back("Vary", "Origin");
  if (!CorsOriginAllowed(options, origin)) return;
  r->headers.emplace_back("Access-Control-Allow-Origin", std::string(origin));
  // Scripts may read these on a cross-origin response.
  r->headers.emplace_back("Access-Control-Expose-Headers", "Retry-After");
}

Response PreflightResponse(const ServerOptions& options,
                           const Request& request) {
  if (!CorsOriginAllowed(options, request.origin)) {
    Response r = ErrorResponse(HttpError::kOriginNotAllowed,
                               "this origin may not call the API (see "
                               "--cors-origin)");
    AddCorsHeaders(options, "", &r);
    r.preflight = true;
    return r;
  }
  Response r;
  r.status = 204;
  r.content_type.clear();
  r.preflight = true;
  AddCorsHeaders(options, request.origin, &r);
  r.headers.emplace_back("Access-Control-Allow-Methods",
                         "GET, POST, PATCH, DELETE");
  r.headers.emplace_back("Access-Control-Allow-Headers",
                         "Authorization, Content-Type, Last-Event-ID, "
                         "X-CSRF-Token, Prefer, X-Acpstore-Scope");
  r.headers.emplace_back("Access-Control-Max-Age",
                         std::to_string(options.cors_max_age_s));
  return r;
}

}  // namespace acpstore::server
