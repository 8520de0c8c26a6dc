// See request_reader.h.

#include "server/request_reader.h"

#include <array>
#include <boost/asio/buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/range/iterator_range.hpp>
#include <exception>
#include <iterator>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "base/ascii.h"
#include "server/error_map.h"

namespace acpstore::server {

namespace beast = boost::beast;
namespace http = beast::http;
using boost::system::error_code;

namespace {

// Headers the server reads once. A second copy is refused rather than one
// of them winning: a proxy that adds its own (say X-Acpstore-Scope) would
// otherwise be overridden by one the client sent first. Content-Length is
// Beast's (identical copies are allowed, others refused); Cookie lines may
// be split and are joined (browser_access.h).
constexpr std::array<std::string_view, 8> kSingletons = {
    "Host",         "Authorization",  "Content-Type",
    "X-Acpstore-Scope", "Last-Event-ID", "X-CSRF-Token",
    "Origin",       "Access-Control-Request-Method"};

// Room on a chunk line for the size (16 hex digits, or more with leading
// zeros) besides its extensions.
constexpr size_t kChunkSizeRoom = 64;

Response ChunkExtensionsTooLong() {
  return ErrorResponse(Status::InvalidArgument(
      "chunk extensions longer than " +
      std::to_string(kMaxChunkExtensionBytes) + " bytes"));
}

Status BadFraming(const std::string& message) {
  return Status::InvalidArgument(message)
      .With("field", "Transfer-Encoding");
}

// RFC 9112 §6.1, §6.3: the only transfer coding the server decodes is
// chunked, once and last. Beast's parser takes any other coding (gzip,
// identity, "xchunked") as no body at all, so the body would be read as
// the next request on the connection (request smuggling), and it decodes
// "gzip, chunked" as plain chunked; so the whole list is judged here.
std::optional<Response> CheckTransferEncoding(
    const http::request_header<>& head) {
  std::vector<std::string_view> codings;
  for (const auto& field : boost::make_iterator_range(
           head.equal_range(http::field::transfer_encoding))) {
    std::string_view list = field.value();
    while (true) {
      const size_t comma = list.find(',');
      const std::string_view coding = base::TrimHttpWhitespace(list.substr(0, comma));
      if (!coding.empty()) codings.push_back(coding);
      if (comma == std::string_view::npos) break;
      list.remove_prefix(comma + 1);
    }
  }
  if (codings.empty()) {
    if (head.find(http::field::transfer_encoding) == head.end()) {
      return std::nullopt;
    }
    return ErrorResponse(BadFraming("Transfer-Encoding is empty"));
  }
  if (head.version() < 11) {
    return ErrorResponse(
        BadFraming("Transfer-Encoding is not allowed in HTTP/1.0"));
  }
  if (head.find(http::field::content_length) != head.end()) {
    return ErrorResponse(
        BadFraming("both Transfer-Encoding and Content-Length"));
  }
  if (!beast::iequals(codings.back(), "chunked")) {
    return ErrorResponse(
        BadFraming("the final transfer coding must be chunked, not " +
                   std::string(codings.back())));
  }
  for (size_t i = 0; i + 1 < codings.size(); ++i) {
    if (beast::iequals(codings[i], "chunked")) {
      return ErrorResponse(BadFraming("chunked is applied more than once"));
    }
  }
  if (codings.size() > 1) {
    return ErrorResponse(HttpError::kNotImplemented,
                         "transfer coding " + std::string(codings.front()) +
                             " is not implemented; only chunked is");
  }
  return std::nullopt;
}

// Beast judges Transfer-Encoding and Content-Length itself, field by field
// as it reads the header, so it refuses three framings of the list above
// before CheckTransferEncoding sees the header: a Transfer-Encoding after
// a Content-Length, a Content-Length after a chunked Transfer-Encoding, and
// a Transfer-Encoding line after one that ended with chunked. They get the
// answer the list gives them. nullopt for its other errors.
std::optional<Response> BeastFramingRefusal(
    const http::request_parser<http::string_body>& parser,
    const error_code& ec) {
  const bool content_length =
      parser.get().find(http::field::content_length) != parser.get().end();
  if (ec == http::error::bad_transfer_encoding) {
    return ErrorResponse(BadFraming(
        content_length
            ? "both Transfer-Encoding and Content-Length"
            : "a transfer coding after chunked (chunked must be the final "
              "coding, applied once)"));
  }
  // Beast also says bad_content_length for a malformed value alone; only
  // after a chunked Transfer-Encoding is it the two headers together.
  if (ec == http::error::bad_content_length && parser.chunked()) {
    return ErrorResponse(
        BadFraming("both Transfer-Encoding and Content-Length"));
  }
  return std::nullopt;
}

}  // namespace

RequestReader::RequestReader(size_t max_header_bytes, uint64_t max_body_bytes)
    : max_header_bytes_(max_header_bytes) {
  parser_.header_limit(static_cast<std::uint32_t>(max_header_bytes));
  parser_.body_limit(max_body_bytes);
  on_chunk_header_ = [this](uint64_t /*size*/, std::string_view extensions,
                            error_code& ec) {
    // The line was buffered whole; Put() caps it while it is incomplete.
    if (extensions.size() > kMaxChunkExtensionBytes) {
      Refuse(ChunkExtensionsTooLong(), ec);
    }
  };
  parser_.on_chunk_header(on_chunk_header_);
}

void RequestReader::Refuse(Response r, error_code& ec) {
  if (!refusal_) refusal_ = std::move(r);
  ec = http::error::bad_value;
}

size_t RequestReader::Put(std::string_view bytes, error_code& ec) {
  if (refusal_) {
    ec = http::error::bad_value;
    return 0;
  }
  size_t used = 0;
  try {
    used = parser_.put(boost::asio::buffer(bytes.data(), bytes.size()), ec);
  } catch (const std::length_error&) {
    // basic_fields holds a name or value of at most 65,535 bytes; a longer
    // one (a header under a large --max-header-bytes, or a trailer) throws.
    Refuse(ErrorResponse(HttpError::kHeaderTooLarge,
                         "a header field longer than 65,535 bytes"),
           ec);
    return 0;
  } catch (const std::exception& e) {
    Refuse(ErrorResponse(Status::InvalidArgument(
               std::string("malformed HTTP request: ") + e.what())),
           ec);
    return 0;
  }
  if (refusal_) {  // the chunk callback refused
    ec = http::error::bad_value;
    return used;
  }
  if (!parser_.is_header_done()) {
    // Before the body begins, only the header's last step (after every
    // field) refuses a Content-Length over the limit.
    if (ec == http::error::body_limit) fields_read_ = true;
    if (std::optional<Response> r = BeastFramingRefusal(parser_, ec)) {
      Refuse(std::move(*r), ec);
    }
    return used;
  }
  if (!header_checked_) {
    header_checked_ = true;
    header_fields_ = static_cast<size_t>(
        std::distance(parser_.get().begin(), parser_.get().end()));
    if (std::optional<Response> r = CheckRequestHead(parser_)) {
      Refuse(std::move(*r), ec);
      return used;
    }
  }
  if (!parser_.chunked()) return used;
  if (ec == http::error::need_more) {
    // What the parser left is one incomplete chunk line, or the last
    // chunk's line and the trailer section before their end: the parser
    // would keep all of it in memory.
    std::string_view rest = bytes.substr(used);
    if (rest.substr(0, 2) == "\r\n") rest.remove_prefix(2);
    const bool line_done = rest.find("\r\n") != std::string_view::npos;
    if (!line_done && rest.size() > kMaxChunkExtensionBytes + kChunkSizeRoom) {
      Refuse(ChunkExtensionsTooLong(), ec);
    } else if (rest.size() > max_header_bytes_) {
      Refuse(ErrorResponse(HttpError::kHeaderTooLarge,
                           "chunked trailer section larger than " +
                               std::to_string(max_header_bytes_) + " bytes"),
             ec);
    }
    return used;
  }
  if (!ec && parser_.is_done() &&
      static_cast<size_t>(std::distance(parser_.get().begin(),
                                        parser_.get().end())) !=
          header_fields_) {
    // Beast adds trailer fields to the header's, where they would pass for
    // headers no check above has seen; the API has no use for them.
    Refuse(ErrorResponse(Status::InvalidArgument(
               "trailer fields are not accepted")),
           ec);
  }
  return used;
}

std::optional<Response> CheckRequestHead(
    const http::request_parser<http::string_body>& parser) {
  const http::request_header<>& head = parser.get();
  for (const std::string_view name : kSingletons) {
    const auto range = head.equal_range(name);
    if (range.first != range.second && std::next(range.first) != range.second) {
      return ErrorResponse(
          Status::InvalidArgument("more than one " + std::string(name) +
                                  " header")
              .With("field", std::string(name)));
    }
  }
  // RFC 9112 §3.2: an HTTP/1.1 request without Host is refused.
  if (head.version() >= 11 && head.find(http::field::host) == head.end()) {
    return ErrorResponse(
        Status::InvalidArgument("an HTTP/1.1 request needs a Host header")
            .With("field", "Host"));
  }
  return CheckTransferEncoding(head);
}

Request ToRequest(http::request<http::string_body>& req) {
  Request request;
  request.method = std::string(req.method_string());
  request.target = std::string(req.target());
  if (auto it = req.find(http::field::authorization); it != req.end()) {
    request.has_authorization = true;
    request.authorization = std::string(it->value());
  }
  request.content_type = std::string(req[http::field::content_type]);
  if (auto it = req.find("Last-Event-ID"); it != req.end()) {
    request.has_last_event_id = true;
    request.last_event_id = std::string(it->value());
  }
  request.prefer = std::string(req["Prefer"]);
  if (auto it = req.find("X-Acpstore-Scope"); it != req.end()) {
    request.has_acpstore_scope = true;
    request.acpstore_scope = std::string(it->value());
  }
  // Browser access (SPEC §12). Every Cookie line: a client may split them.
  for (const auto& field : boost::make_iterator_range(
           req.equal_range(http::field::cookie))) {
    if (!request.cookie.empty()) request.cookie += "; ";
    request.cookie += std::string(field.value());
  }
  request.csrf_token = std::string(req["X-CSRF-Token"]);
  request.origin = std::string(req[http::field::origin]);
  request.cors_request_method =
      std::string(req[http::field::access_control_request_method]);
  request.if_none_match = std::string(req[http::field::if_none_match]);
  request.body = std::move(req.body());
  return request;
}

}  // namespace acpstore::server
