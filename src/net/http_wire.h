// The bytes of HTTP/1.1 for a client, without sockets: the request it
// writes, the response head it parses, and the framing of a response body
// (Content-Length, chunked, or to the end of the connection). The blocking
// client (http_client.h), the SSE reader (sse.h) and the benchmark's epoll
// load generator (bench/http_loadgen.h) all frame responses with these, so
// there is one reading of the protocol.
//
// Thread-safety: pure functions; BodyDecoder is one response's state.

#ifndef ACPSTORE_NET_HTTP_WIRE_H_
#define ACPSTORE_NET_HTTP_WIRE_H_

#include <boost/json/value.hpp>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "acpstore/status.h"

namespace acpstore::net {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// Appends "METHOD target HTTP/1.1" and its headers to *out: Host, then
// "Authorization: Bearer <token>" when `token` is not empty, then `extra`
// in order, then for a non-empty body Content-Type (application/json
// unless `extra` names one) and Content-Length, the blank line and the
// body. For one request; many to one server go through a RequestWriter.
void AppendRequest(std::string* out, std::string_view method,
                   std::string_view target, std::string_view host,
                   std::string_view token, std::string_view body,
                   const HeaderList& extra = {});

// AppendRequest for many requests to one host with one token: the header
// lines they share are formatted once, so a request is a few appends (as
// cheap as the load generator's hand-written requests were; same-run
// figures in docs/benchmarks.md). The load generator and HttpClient write
// every request with one.
class RequestWriter {
 public:
  RequestWriter(std::string_view host, std::string_view token);
  // The same bytes as AppendRequest(out, method, target, host, token, body,
  // extra).
  void Append(std::string* out, std::string_view method,
              std::string_view target, std::string_view body,
              const HeaderList& extra) const;
  void Append(std::string* out, std::string_view method,
              std::string_view target, std::string_view body) const;

 private:
  std::string common_;  // " HTTP/1.1\r\nHost: h[\r\nAuthorization: Bearer t]"
};

// A response as the client received it.
struct Response {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;

  // A header by lower-case name; "" when absent.
  std::string Header(const std::string& lower_name) const;
  bool HasHeader(const std::string& lower_name) const {
    return headers.contains(lower_name);
  }
  // The body as JSON; null when it is not JSON.
  boost::json::value Json() const;
  // error.code of an acpstore error body (SPEC §5.4), or "".
  std::string ErrorCode() const;
};

// How the body after a head is delimited (RFC 9112 §6.3, client side).
enum class BodyKind {
  kNone,           // 1xx, 204, 304 (and HEAD, which this client never sends)
  kLength,         // Content-Length bytes
  kChunked,        // Transfer-Encoding: chunked
  kUntilClose,     // neither: the body runs to the end of the connection
};

struct ResponseHead {
  int status = 0;
  size_t size = 0;  // bytes of the head, blank line included
  BodyKind body = BodyKind::kNone;
  uint64_t content_length = 0;  // for kLength
  bool close = false;           // Connection: close
};

// Parses the head at the front of `in` into *head and, when `headers` is
// not null, the header fields (names lower-cased). nullopt: the head is not
// complete yet. An error Status: not an HTTP/1.x response head (or a head
// larger than `max_head` bytes).
std::optional<Status> ParseResponseHead(std::string_view in, ResponseHead* head,
                                        std::map<std::string, std::string>* headers,
                                        size_t max_head = size_t{64} * 1024);

// Framing without headers, for the load generator's hot path: if `in`
// starts with a complete response whose body has a Content-Length (or no
// body), its status and total size; else nullopt (incomplete, or framed
// otherwise: the load generator only meets acpstore's replies, which
// always carry a length outside SSE). No allocation.
struct FramedResponse {
  int status = 0;
  size_t size = 0;
};
std::optional<FramedResponse> FrameLengthResponse(std::string_view in);

// Decodes a chunked body incrementally: Feed() takes raw bytes (any split)
// and appends the payload to *out. done() after the last chunk and its
// trailers. Errors are kInvalidArgument (a malformed size line).
class ChunkedDecoder {
 public:
  // Consumes what it can of `in`; returns how many bytes it used.
  Status Feed(std::string_view in, size_t* used, std::string* out);
  bool done() const { return state_ == State::kDone; }

 private:
  enum class State { kSize, kData, kDataEnd, kTrailer, kDone };
  State state_ = State::kSize;
  uint64_t left_ = 0;
  std::string line_;  // a size or trailer line in progress
};

}  // namespace acpstore::net

#endif  // ACPSTORE_NET_HTTP_WIRE_H_
