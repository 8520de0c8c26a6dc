// The bytes of a response head. See response_head.h.

#include "server/response_head.h"

#include <cstddef>

#include "base/ascii.h"

namespace acpstore::server {
namespace {

bool SameName(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// Header values are the server's own (or an allowed Origin echoed back),
// but a CR or LF in one would end the head early and let whatever follows
// read as headers or a body (response splitting), so they never reach
// the wire: each becomes a space, as do NULs.
void AppendField(std::string_view name, std::string_view value,
                 std::string* out) {
  out->append(name).append(": ");
  for (char c : base::TrimHttpWhitespace(value)) {
    out->push_back(c == '\r' || c == '\n' || c == '\0' ? ' ' : c);
  }
  out->append("\r\n");
}

}  // namespace

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 422: return "Unprocessable Entity";
    case 428: return "Precondition Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    case 507: return "Insufficient Storage";
    default: return "Unknown";
  }
}

void AppendResponseHead(const Response& r, unsigned version, bool keep_alive,
                        std::string* out) {
  // Status codes are three digits (the routes and error_map.cc pick them).
  const int status = r.status;
  char code[3] = {static_cast<char>('0' + status / 100 % 10),
                  static_cast<char>('0' + status / 10 % 10),
                  static_cast<char>('0' + status % 10)};
  out->append(version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ");
  out->append(code, sizeof(code)).push_back(' ');
  out->append(ReasonPhrase(status)).append("\r\n");
  if (!r.content_type.empty()) {
    AppendField("Content-Type", r.content_type, out);
  }
  for (size_t i = 0; i < r.headers.size(); ++i) {
    const std::string& name = r.headers[i].first;
    bool replaced = false;  // a later header of the same name wins
    for (size_t j = i + 1; j < r.headers.size() && !replaced; ++j) {
      replaced = SameName(name, r.headers[j].first);
    }
    if (!replaced) AppendField(name, r.headers[i].second, out);
  }
  // HTTP/1.1 is persistent unless told otherwise, HTTP/1.0 the reverse.
  if (version == 10 && keep_alive) {
    out->append("Connection: keep-alive\r\n");
  } else if (version != 10 && !keep_alive) {
    out->append("Connection: close\r\n");
  }
  // A 204 must not carry a Content-Length (RFC 9110 §8.6); a 304 has no
  // body either, and a Content-Length on it would have to be the 200's.
  if (status != 204 && status != 304) {
    out->append("Content-Length: ")
        .append(std::to_string(r.body.size()))
        .append("\r\n");
  }
  out->append("\r\n");
}

}  // namespace acpstore::server
