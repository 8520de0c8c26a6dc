// The client side of `acpstore tail`: an SSE frame parser and a minimal
// blocking HTTP/1.1 GET over a POSIX socket (no Boost.Beast: a CLI needs
// one request at a time, and Beast translation units are slow to build).
//
// SseParser turns bytes into frames (id, event, data, retry) by the
// text/event-stream rules: lines end in LF, CRLF or CR; "field: value"
// (one optional space after the colon); ":" starts a comment; a blank line
// dispatches the frame; data lines join with "\n".
//
// HttpGet connects to a URL (http://host:port, IPv4/IPv6/name), sends one
// GET and reads the status line and headers; the body is then read with
// Read(), which polls so a caller can give up between reads. Nothing here
// prints; the token is only ever written to the socket.
//
// Thread-safety: none; one thread.

#ifndef ACPSTORE_CLI_SSE_CLIENT_H_
#define ACPSTORE_CLI_SSE_CLIENT_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "acpstore/result.h"
#include "acpstore/status.h"

namespace acpstore::cli {

struct SseFrame {
  std::optional<std::string> id;
  std::string event;  // empty: a plain "message"
  std::string data;
  std::optional<int64_t> retry_ms;
};

class SseParser {
 public:
  // Calls on_frame for each complete frame in `bytes` (frames may span
  // calls). A frame with neither data nor event nor id (e.g. "retry:" or
  // a comment alone) is still reported when it set retry.
  void Feed(std::string_view bytes,
            const std::function<void(const SseFrame&)>& on_frame);

 private:
  void Line(std::string_view line,
            const std::function<void(const SseFrame&)>& on_frame);

  std::string line_;
  bool last_was_cr_ = false;
  SseFrame frame_;
  bool has_data_ = false;
  bool touched_ = false;
};

struct Url {
  std::string host;  // without brackets
  uint16_t port = 80;
  std::string base_path;  // "" or "/prefix" (no trailing slash)
};
// "http://127.0.0.1:7700", "http://[::1]:7700/", "http://localhost".
Result<Url> ParseUrl(std::string_view text);

// Percent-encodes a path segment (RFC 3986 unreserved stay as they are).
std::string EncodePathSegment(std::string_view segment);

class HttpGet {
 public:
  HttpGet() = default;
  ~HttpGet();
  HttpGet(const HttpGet&) = delete;
  HttpGet& operator=(const HttpGet&) = delete;

  // Connects and sends `GET target` with `headers` ("Name: value" each),
  // then reads the response head. kUnavailable when the connection fails
  // (worth retrying).
  Status Start(const Url& url, const std::string& target,
               const std::vector<std::string>& headers, int timeout_ms);

  int status_code() const { return status_code_; }
  // A response header (case-insensitive name), if present.
  std::optional<std::string> Header(std::string_view name) const;

  // Reads some body bytes into *out (appending). Returns false at the end
  // of the body or on an error; waits at most timeout_ms (true with
  // nothing appended on timeout).
  bool Read(std::string* out, int timeout_ms);

  void Close();

 private:
  int fd_ = -1;
  int status_code_ = 0;
  std::vector<std::pair<std::string, std::string>> headers_;
  std::string pending_;  // body bytes read along with the head
};

}  // namespace acpstore::cli

#endif  // ACPSTORE_CLI_SSE_CLIENT_H_
