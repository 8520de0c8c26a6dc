// The web console's files (SPEC §12, decision 0015), embedded in the binary
// at build time by cmake/embed_files.cmake from console/src/, and what the
// server sends with each: content type, ETag, caching and security headers.
//
// Thread-safety: immutable data and pure functions.

#ifndef ACPSTORE_SERVER_CONSOLE_ASSETS_H_
#define ACPSTORE_SERVER_CONSOLE_ASSETS_H_

#include <cstddef>
#include <string_view>

namespace acpstore::server {

struct EmbeddedFile {
  std::string_view name;    // path under /ui/, e.g. "app.js"
  std::string_view bytes;   // the file as it was at build time
  std::string_view sha256;  // 64 lowercase hex digits of `bytes`
};

// Generated (console_assets_data.cc): every file of console/src/.
extern const EmbeddedFile kEmbeddedFiles[];
extern const size_t kEmbeddedFileCount;

// The file served at /ui/<name> ("" is index.html), or nullptr. Only the
// embedded names match: no path is ever resolved on disk.
const EmbeddedFile* FindConsoleFile(std::string_view name);

// "text/html; charset=utf-8", "text/javascript; charset=utf-8", ... from
// the name's extension; "application/octet-stream" for anything else.
std::string_view ConsoleContentType(std::string_view name);

// The ETag of a file: a quoted prefix of its SHA-256 (strong validator).
std::string_view ConsoleEtagOf(const EmbeddedFile& file);  // without quotes

// True when an If-None-Match header value names `etag` (a list, weak
// forms and "*" included, RFC 9110 §13.1.2).
bool IfNoneMatchHits(std::string_view if_none_match, std::string_view etag);

// The Content-Security-Policy of every console response: only this
// origin's own scripts, styles, images and API; no inline script or
// style, no frames, no plugins, no other origin of any kind.
inline constexpr std::string_view kConsoleCsp =
    "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; manifest-src 'self'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

}  // namespace acpstore::server

#endif  // ACPSTORE_SERVER_CONSOLE_ASSETS_H_
