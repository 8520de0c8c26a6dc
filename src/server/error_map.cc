// The Status -> HTTP table (SPEC §5). See error_map.h.

#include "server/error_map.h"

#include <string>
#include <variant>

#include "record/utf8.h"
#include "server/json_writer.h"

namespace acpstore::server {
namespace {

constexpr std::string_view kInternalMessage =
    "internal error; the server log has the details";

// Messages and details may quote client input. The JSON writer needs valid
// UTF-8, so anything else is replaced (U+FFFD per bad byte) rather than
// trusted to have been checked upstream.
std::string SafeText(std::string_view s) {
  std::string out;
  for (;;) {
    const size_t bad = record::FindInvalidUtf8(s);
    if (bad == std::string_view::npos) {
      out.append(s);
      return out;
    }
    out.append(s.substr(0, bad));
    out.append("\xEF\xBF\xBD");
    s.remove_prefix(bad + 1);
  }
}

bool IsInternal(StatusCode code) {
  return code == StatusCode::kInternal || code == StatusCode::kCorruption ||
         code == StatusCode::kIoError || code == StatusCode::kOk;
}

}  // namespace

HttpErrorInfo MapStatus(StatusCode code) {
  switch (code) {
    case StatusCode::kInvalidArgument:
      return {400, "invalid_argument"};
    case StatusCode::kUnauthenticated:
      return {401, "unauthenticated"};
    case StatusCode::kForbidden:
      return {403, "forbidden"};
    case StatusCode::kNotFound:
      return {404, "not_found"};
    case StatusCode::kConflict:
      return {409, "conflict"};
    case StatusCode::kInvalidTransition:
      return {409, "invalid_transition"};
    case StatusCode::kSeqConflict:
      return {409, "seq_conflict"};
    case StatusCode::kIdempotencyConflict:
      return {409, "idempotency_conflict"};
    case StatusCode::kStaleLease:
      return {409, "stale_lease"};
    case StatusCode::kAlreadyPaused:
      return {409, "already_paused"};
    case StatusCode::kNotPaused:
      return {409, "not_paused"};
    case StatusCode::kPayloadTooLarge:
      return {413, "payload_too_large"};
    case StatusCode::kResourceExhausted:
      return {429, "too_many_requests"};
    case StatusCode::kUnavailable:
      return {503, "unavailable"};
    case StatusCode::kInsufficientStorage:
      return {507, "insufficient_storage"};
    // Not "try later" (no Retry-After): asking again will not change it
    // (decision 0036).
    case StatusCode::kNotImplemented:
      return {501, "not_implemented"};
    case StatusCode::kDataLoss:
      return {500, "data_loss"};
    // An OK status reaching the error path is a bug: report it as one.
    case StatusCode::kOk:
    case StatusCode::kCorruption:
    case StatusCode::kIoError:
    case StatusCode::kInternal:
      return {500, "internal"};
  }
  return {500, "internal"};
}

HttpErrorInfo MapHttpError(HttpError error) {
  switch (error) {
    case HttpError::kMethodNotAllowed:
      return {405, "method_not_allowed"};
    case HttpError::kRequestTimeout:
      return {408, "request_timeout"};
    case HttpError::kUnsupportedMediaType:
      return {415, "unsupported_media_type"};
    case HttpError::kHeaderTooLarge:
      return {431, "header_too_large"};
    case HttpError::kCsrfRejected:
      return {403, "csrf_rejected"};
    case HttpError::kOriginNotAllowed:
      return {403, "origin_not_allowed"};
    case HttpError::kNotImplemented:
      return {501, "not_implemented"};
  }
  return {500, "internal"};
}

std::string ErrorBody(std::string_view code, std::string_view message) {
  JsonWriter w;
  w.BeginObject().Key("error").BeginObject();
  w.Key("code").String(code).Key("message").String(SafeText(message));
  w.EndObject().EndObject();
  return w.Take();
}

Response ErrorResponse(const Status& status) {
  const HttpErrorInfo info = MapStatus(status.code());
  Response r;
  r.status = info.http_status;
  if (IsInternal(status.code())) {
    r.body = ErrorBody(info.code, kInternalMessage);
    r.internal_error = status.ToString();
    return r;
  }
  // What the client may read of the failure: libpq's text (a host, a
  // socket path, a FATAL line) stays in the server's log (internal_error
  // below), the body says what kClientMessageDetail says.
  const StatusDetail* client = status.Detail(kClientMessageDetail);
  const std::string* client_message =
      client != nullptr ? std::get_if<std::string>(&client->value) : nullptr;
  JsonWriter w;
  w.BeginObject().Key("error").BeginObject();
  w.Key("code").String(info.code).Key("message").String(SafeText(
      client_message != nullptr ? *client_message : status.message()));
  for (const StatusDetail& d : status.details()) {
    if (d.key == "code" || d.key == "message") continue;  // never shadowed
    if (d.key == kClientMessageDetail) continue;
    w.Key(SafeText(d.key));
    if (const auto* s = std::get_if<std::string>(&d.value)) {
      w.String(SafeText(*s));
    } else {
      w.Int(std::get<int64_t>(d.value));
    }
  }
  w.EndObject().EndObject();
  r.body = w.Take();
  if (status.code() == StatusCode::kUnauthenticated) {
    r.headers.emplace_back("WWW-Authenticate", "Bearer");
  }
  if (status.code() == StatusCode::kResourceExhausted ||
      status.code() == StatusCode::kUnavailable) {
    r.headers.emplace_back("Retry-After", "1");
  }
  // Every 5xx says why in the server's own log line (a 503 said nothing).
  if (r.status >= 500) r.internal_error = status.ToString();
  return r;
}

Response ErrorResponse(HttpError error, std::string_view message) {
  const HttpErrorInfo info = MapHttpError(error);
  Response r;
  r.status = info.http_status;
  r.body = ErrorBody(info.code, message);
  return r;
}

}  // namespace acpstore::server
