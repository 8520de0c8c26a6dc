// HttpClient and ReadResponse: see http_client.h.

#include "net/http_client.h"

#include <utility>

#include "net/url.h"

namespace acpstore::net {

Result<Response> ReadResponse(Connection& conn, Deadline deadline, bool* close) {
  std::string& buf = conn.buffer();
  ResponseHead head;
  Response response;
  for (;;) {
    std::optional<Status> bad = ParseResponseHead(buf, &head, &response.headers);
    if (bad) return *bad;
    if (head.size != 0) break;
    Result<size_t> got = conn.ReadSome(deadline);
    if (!got.ok()) return got.status();
    if (*got == 0) return Status::Unavailable("no response within the timeout");
  }
  response.status = head.status;
  buf.erase(0, head.size);
  bool ends_connection = head.close;
  switch (head.body) {
    case BodyKind::kNone:
      break;
    case BodyKind::kLength: {
      const size_t want = static_cast<size_t>(head.content_length);
      if (!conn.ReadUntil([want](const std::string& b) { return b.size() >= want; },
                          deadline)) {
        return Status::Unavailable(conn.eof() ? "the body ended early"
                                              : "the body did not arrive in time");
      }
      response.body = buf.substr(0, want);
      buf.erase(0, want);
      break;
    }
    case BodyKind::kChunked: {
      ChunkedDecoder decoder;
      for (;;) {
        size_t used = 0;
        Status s = decoder.Feed(buf, &used, &response.body);
        if (!s.ok()) return Status::Unavailable(s.message());
        buf.erase(0, used);
        if (decoder.done()) break;
        Result<size_t> got = conn.ReadSome(deadline);
        if (!got.ok()) return got.status();
        if (*got == 0) return Status::Unavailable("the body did not arrive in time");
      }
      break;
    }
    case BodyKind::kUntilClose: {
      while (!conn.eof()) {
        Result<size_t> got = conn.ReadSome(deadline);
        if (!got.ok() && !conn.eof()) return got.status();
        if (got.ok() && *got == 0) {
          return Status::Unavailable("the body did not end in time");
        }
      }
      response.body = std::move(buf);
      buf.clear();
      ends_connection = true;
      break;
    }
  }
  if (close != nullptr) *close = ends_connection;
  return response;
}

HttpClient::HttpClient(ClientOptions options)
    : options_(std::move(options)),
      writer_(HostHeader(options_.host, options_.port), options_.token) {}

HttpClient::HttpClient(uint16_t port, std::string token,
                       std::chrono::milliseconds timeout)
    : HttpClient(ClientOptions{.port = port,
                               .token = std::move(token),
                               .timeout = timeout}) {}

Result<Response> HttpClient::Request(std::string_view method,
                                     std::string_view target,
                                     std::string_view body,
                                     const HeaderList& headers) {
  request_.clear();
  writer_.Append(&request_, method, target, body, headers);
  bool stale = false;
  Result<Response> r = Once(request_, &stale);
  if (!r.ok() && stale && options_.retry_stale) r = Once(request_, &stale);
  return r;
}

Result<Response> HttpClient::Once(std::string_view request, bool* stale) {
  const Deadline deadline = After(options_.timeout);
  const bool reused = conn_.is_open();
  *stale = false;
  if (!reused) {
    Result<Connection> c =
        options_.host == "127.0.0.1"
            ? Connection::Loopback(options_.port, {.timeout = options_.timeout})
            : Connection::Open(options_.host, options_.port,
                               {.timeout = options_.timeout});
    if (!c.ok()) return c.status();
    conn_ = std::move(*c);
  }
  Status sent = conn_.SendAll(request);
  if (!sent.ok()) {
    conn_.Close();
    *stale = reused;
    return sent;
  }
  bool close = false;
  for (;;) {
    Result<Response> r = ReadResponse(conn_, deadline, &close);
    if (!r.ok()) {
      // A kept-alive connection the server had already closed: nothing of
      // a reply arrived.
      *stale = reused && conn_.eof() && conn_.buffer().empty();
      conn_.Close();
      return r;
    }
    if (r->status >= 100 && r->status < 200) continue;  // interim
    if (close) conn_.Close();
    return r;
  }
}

}  // namespace acpstore::net
