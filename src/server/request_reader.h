// Parsing one request's bytes under the server's caps (SPEC §6), with no
// socket: the connection (http_connection.cc) feeds it what it reads, and
// fuzz/http_request_fuzzer.cc feeds it raw input, so the fuzzer parses
// exactly as the server does.
//
// What Beast's parser leaves to its caller, done here:
//  - it throws (std::length_error) for a header or trailer field whose
//    name or value is over 65,535 bytes (what basic_fields can hold):
//    Put() never throws, it refuses with 431;
//  - it buffers a chunk line (size and extensions) and the trailer section
//    whole, with no limit: a chunk line's extensions are capped at
//    kMaxChunkExtensionBytes (400) and the last chunk's line and trailer section at
//    max_header_bytes (431); trailer fields themselves are refused (400):
//    Beast would merge them into the header, past the checks below;
//  - framing and singleton headers (RFC 9112 §3.2, §6.1, §6.3): a
//    Transfer-Encoding other than `chunked` (400, or 501 when chunked is
//    last), an HTTP/1.1 request without Host, a second copy of a header
//    the server reads once (400 naming it in `field`). Beast refuses some
//    framings itself while it reads the fields (both Transfer-Encoding and
//    Content-Length, a coding after chunked): they get the same 400.
// Every refusal closes the connection.
//
// Thread-safety: none; one reader per request.

#ifndef ACPSTORE_SERVER_REQUEST_READER_H_
#define ACPSTORE_SERVER_REQUEST_READER_H_

#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

#include "server/http_message.h"

namespace acpstore::server {

// The extensions of one chunk line (which the API ignores) are at most this
// long; a line still incomplete is refused once it is longer than this
// plus room for the chunk size.
inline constexpr size_t kMaxChunkExtensionBytes = 1024;

class RequestReader {
 public:
  RequestReader(size_t max_header_bytes, uint64_t max_body_bytes);
  // The parser keeps a reference to this object's chunk callback.
  RequestReader(const RequestReader&) = delete;
  RequestReader& operator=(const RequestReader&) = delete;

  // Parses what it can of `bytes` (the input not yet used) and returns how
  // many bytes it used; `ec` as boost::beast::http::basic_parser::put
  // (need_more: call again with more input). Never throws. When the
  // request must be refused, `ec` is set and refusal() holds the answer.
  size_t Put(std::string_view bytes, boost::system::error_code& ec);

  boost::beast::http::request_parser<boost::beast::http::string_body>&
  parser() {
    return parser_;
  }
  const boost::beast::http::request_parser<boost::beast::http::string_body>&
  parser() const {
    return parser_;
  }
  // Set once Put() has refused the request.
  const std::optional<Response>& refusal() const { return refusal_; }
  // True once every header field is in parser().get(): the header is
  // parsed, or Beast refused its Content-Length as over the body limit,
  // which it judges only after reading every field. Before that the
  // fields read so far may lack one that follows (an Origin, for CORS).
  bool fields_read() const {
    return parser_.is_header_done() || fields_read_;
  }

 private:
  void Refuse(Response r, boost::system::error_code& ec);

  const size_t max_header_bytes_;
  boost::beast::http::request_parser<boost::beast::http::string_body> parser_;
  std::function<void(uint64_t, std::string_view, boost::system::error_code&)>
      on_chunk_header_;
  size_t header_fields_ = 0;  // fields in the header, once it is parsed
  bool header_checked_ = false;
  bool fields_read_ = false;  // Beast refused the whole header's length
  std::optional<Response> refusal_;
};

// The header checks above, for a parsed header: the answer, or nullopt.
std::optional<Response> CheckRequestHead(
    const boost::beast::http::request_parser<
        boost::beast::http::string_body>& parser);

// The router's view of a request; moves the body out of `req`.
Request ToRequest(
    boost::beast::http::request<boost::beast::http::string_body>& req);

}  // namespace acpstore::server

#endif  // ACPSTORE_SERVER_REQUEST_READER_H_
