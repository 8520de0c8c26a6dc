// The one table that maps failures to HTTP (SPEC §5; STYLE.md item 6).
//
// Store failures arrive as a Status; the few failures only HTTP knows
// (wrong method, slow client, media type, oversized header) are HttpError
// values. No handler picks a status code for an error itself: they all
// come through ErrorResponse().
//
// Thread-safety: pure functions.

#ifndef ACPSTORE_SERVER_ERROR_MAP_H_
#define ACPSTORE_SERVER_ERROR_MAP_H_

#include <string_view>

#include "acpstore/status.h"
#include "server/http_message.h"

namespace acpstore::server {

// Failures that have no StatusCode because only the HTTP layer meets them.
enum class HttpError {
  kMethodNotAllowed,      // 405 method_not_allowed
  kRequestTimeout,        // 408 request_timeout
  kUnsupportedMediaType,  // 415 unsupported_media_type
  kHeaderTooLarge,        // 431 header_too_large
  kCsrfRejected,          // 403 csrf_rejected (SPEC §12)
  kOriginNotAllowed,      // 403 origin_not_allowed (CORS preflight)
  kNotImplemented,        // 501 not_implemented (a transfer coding; a store's
                          // kNotImplemented maps to the same answer)
};

struct HttpErrorInfo {
  int http_status;
  std::string_view code;  // the wire "code"
};

HttpErrorInfo MapStatus(StatusCode code);
HttpErrorInfo MapHttpError(HttpError error);

// {"error":{"code","message",...details}} with the mapped status. For
// internal failures (kInternal, kCorruption, kIoError) the message and
// details are replaced by a generic text; the original goes to
// Response::internal_error for the server log only.
Response ErrorResponse(const Status& status);
Response ErrorResponse(HttpError error, std::string_view message);

// The error body alone, as ErrorResponse writes it.
std::string ErrorBody(std::string_view code, std::string_view message);

}  // namespace acpstore::server

#endif  // ACPSTORE_SERVER_ERROR_MAP_H_
