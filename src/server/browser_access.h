// Browser access to the API (SPEC §12): the session cookie's name and
// attributes, reading it from a Cookie header under caps, and CORS.
// Decision: docs/decisions/0014-browser-sessions-and-cors.md.
//
// Thread-safety: pure functions.

#ifndef ACPSTORE_SERVER_BROWSER_ACCESS_H_
#define ACPSTORE_SERVER_BROWSER_ACCESS_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "acpstore/result.h"
#include "server/http_message.h"
#include "server/server_options.h"

namespace acpstore::server {

// Caps on a request's Cookie header(s): beyond them the request is refused
// (431 / 400) before any session is looked up.
inline constexpr size_t kMaxCookieHeaderBytes = 8192;
inline constexpr size_t kMaxCookies = 64;

// "__Host-acpstore_session" when the cookie is Secure (the prefix makes
// browsers insist on Secure, Path=/ and no Domain), else "acpstore_session".
std::string_view SessionCookieName(const ServerOptions& options);

// The Set-Cookie value that installs `secret` for max_age_s seconds, and
// the one that clears it.
std::string SessionSetCookie(const ServerOptions& options,
                             std::string_view secret, int64_t max_age_s);
std::string SessionClearCookie(const ServerOptions& options);

// The value of the session cookie in `cookie_header` (all Cookie lines
// joined), std::nullopt when absent. Errors (never quoting a value):
// kInvalidArgument for a malformed pair, more than kMaxCookies cookies or
// the session cookie twice; header_too_large (as a Response) is decided by
// the caller from kMaxCookieHeaderBytes.
Result<std::optional<std::string_view>> FindSessionCookie(
    std::string_view cookie_header, std::string_view name);

// True when `origin` is one of options.cors_origins (exact match).
bool CorsOriginAllowed(const ServerOptions& options, std::string_view origin);

// Adds the CORS headers for a response to a request whose Origin header is
// `origin` (empty: none, or not known): Access-Control-Allow-Origin and
// -Expose-Headers when CorsOriginAllowed accepts it. Vary: Origin goes on
// every response once any origin is configured, so a cache never serves
// one origin's answer to another. The connection calls this for every
// response it writes (http_connection.cc), a preflight's aside.
void AddCorsHeaders(const ServerOptions& options, std::string_view origin,
                    Response* r);

// The answer to a preflight (OPTIONS with Origin and
// Access-Control-Request-Method): 204 with the allowed methods and headers
// for an allowed origin, 403 origin_not_allowed otherwise.
Response PreflightResponse(const ServerOptions& options,
                           const Request& request);

}  // namespace acpstore::server

#endif  // ACPSTORE_SERVER_BROWSER_ACCESS_H_
