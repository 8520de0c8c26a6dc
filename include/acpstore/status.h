// Status is the outcome of an acpstore operation: OK, or one code from a
// closed set plus a human message and optional structured details.
//
// Failures are values in acpstore: no function in the public API throws.
// The codes mirror SPEC §5's error table, so the HTTP layer maps a Status to
// a response with one table (src/server/error_map.cc) and nothing else.
//
// Thread-safety: a Status is a value; distinct objects may be used from
// distinct threads without synchronisation.
//
// Cost: an OK status is one null pointer; only failures allocate.

#ifndef ACPSTORE_STATUS_H_
#define ACPSTORE_STATUS_H_

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace acpstore {

// Numbers are stable: they appear in logs and metrics. Never renumber.
enum class StatusCode : uint8_t {
  kOk = 0,
  kInvalidArgument = 1,      // bad JSON, bad field, a limit exceeded (400)
  kNotFound = 2,             // missing, or outside the caller's scope (404)
  kConflict = 3,             // duplicate id; delete of a live session (409)
  kInvalidTransition = 4,    // state machine refused the event (409)
  kSeqConflict = 5,          // expectedLastSeq differs from lastSeq (409)
  kIdempotencyConflict = 6,  // key reused with different content (409)
  kStaleLease = 7,           // lease token is not the current one (409)
  kAlreadyPaused = 8,        // the session already has an active pause (409)
  kNotPaused = 9,            // no matching active pause (409)
  kPayloadTooLarge = 10,     // a size cap was exceeded (413)
  kUnavailable = 11,         // journal failed, shutting down, memory (503)
  kInsufficientStorage = 12, // ENOSPC or --max-disk-bytes (507)
  kDataLoss = 13,            // a stored record failed its checksum (500)
  kCorruption = 14,          // damage found while opening or verifying
  kIoError = 15,             // an operating-system call failed
  kInternal = 16,            // a bug; never carries internals to clients
  kUnauthenticated = 17,     // missing or unknown credentials (401)
  kForbidden = 18,           // credentials lack the role (403)
  kResourceExhausted = 19,   // a connection or subscriber cap (429)
  kNotImplemented = 20,      // not done by this server as configured (501)
};

// The snake_case name used on the wire ("invalid_argument", ...).
std::string_view StatusCodeName(StatusCode code);

// One structured detail of a failure, e.g. {"lastSeq", 41} for a seq
// conflict or {"field", "payload"} for a validation error. The HTTP layer
// copies details into the error body next to "code" and "message".
struct StatusDetail {
  std::string key;
  std::variant<std::string, int64_t> value;

  friend bool operator==(const StatusDetail&, const StatusDetail&) = default;
};

// A detail (string) that stands in for the message in an HTTP error body,
// and is not itself rendered there: the message keeps what only the server
// log and the command-line tools should show (libpq's text: the database's
// host, port or socket path, its FATAL lines), the body says this instead.
// ToString() keeps both, so the server's log line has the whole story.
inline constexpr std::string_view kClientMessageDetail = "clientMessage";

class [[nodiscard]] Status {
 public:
  // An OK status.
  Status() noexcept = default;
  Status(StatusCode code, std::string_view message);

  Status(const Status& other);
  Status& operator=(const Status& other);
  Status(Status&& other) noexcept = default;
  Status& operator=(Status&& other) noexcept = default;
  ~Status() = default;

  static Status OK() { return Status(); }
  static Status InvalidArgument(std::string_view msg) {
    return Status(StatusCode::kInvalidArgument, msg);
  }
  static Status NotFound(std::string_view msg) {
    return Status(StatusCode::kNotFound, msg);
  }
  static Status Conflict(std::string_view msg) {
    return Status(StatusCode::kConflict, msg);
  }
  static Status InvalidTransition(std::string_view msg) {
    return Status(StatusCode::kInvalidTransition, msg);
  }
  static Status SeqConflict(std::string_view msg) {
    return Status(StatusCode::kSeqConflict, msg);
  }
  static Status IdempotencyConflict(std::string_view msg) {
    return Status(StatusCode::kIdempotencyConflict, msg);
  }
  static Status StaleLease(std::string_view msg) {
    return Status(StatusCode::kStaleLease, msg);
  }
  static Status AlreadyPaused(std::string_view msg) {
    return Status(StatusCode::kAlreadyPaused, msg);
  }
  static Status NotPaused(std::string_view msg) {
    return Status(StatusCode::kNotPaused, msg);
  }
  static Status PayloadTooLarge(std::string_view msg) {
    return Status(StatusCode::kPayloadTooLarge, msg);
  }
  static Status Unavailable(std::string_view msg) {
    return Status(StatusCode::kUnavailable, msg);
  }
  static Status InsufficientStorage(std::string_view msg) {
    return Status(StatusCode::kInsufficientStorage, msg);
  }
  static Status DataLoss(std::string_view msg) {
    return Status(StatusCode::kDataLoss, msg);
  }
  static Status Corruption(std::string_view msg) {
    return Status(StatusCode::kCorruption, msg);
  }
  static Status IoError(std::string_view msg) {
    return Status(StatusCode::kIoError, msg);
  }
  static Status Internal(std::string_view msg) {
    return Status(StatusCode::kInternal, msg);
  }
  static Status Unauthenticated(std::string_view msg) {
    return Status(StatusCode::kUnauthenticated, msg);
  }
  static Status Forbidden(std::string_view msg) {
    return Status(StatusCode::kForbidden, msg);
  }
  static Status ResourceExhausted(std::string_view msg) {
    return Status(StatusCode::kResourceExhausted, msg);
  }
  static Status NotImplemented(std::string_view msg) {
    return Status(StatusCode::kNotImplemented, msg);
  }

  bool ok() const { return state_ == nullptr; }
  StatusCode code() const { return ok() ? StatusCode::kOk : state_->code; }
  // Empty for OK.
  std::string_view message() const;
  // Empty for OK.
  const std::vector<StatusDetail>& details() const;

  // Adds a detail and returns *this, so a failure reads as one expression:
  //   return Status::SeqConflict("...").With("lastSeq", last);
  // Has no effect on an OK status.
  Status& With(std::string_view key, std::string_view value) &;
  Status& With(std::string_view key, int64_t value) &;
  Status&& With(std::string_view key, std::string_view value) &&;
  Status&& With(std::string_view key, int64_t value) &&;
  // Disambiguates string literals from the integer overload.
  Status& With(std::string_view key, const char* value) & {
    return With(key, std::string_view(value));
  }
  Status&& With(std::string_view key, const char* value) && {
    return std::move(With(key, std::string_view(value)));
  }

  // The value of detail `key`, or nullptr.
  const StatusDetail* Detail(std::string_view key) const;

  // "seq_conflict: expected lastSeq 3 but it is 4 [lastSeq=4]".
  std::string ToString() const;

 private:
  struct State {
    StatusCode code;
    std::string message;
    std::vector<StatusDetail> details;
  };
  std::unique_ptr<State> state_;
};

std::ostream& operator<<(std::ostream& os, const Status& status);

}  // namespace acpstore

// Propagates a failed Status from the current function.
#define ACPSTORE_RETURN_IF_ERROR(expr)             \
  do {                                             \
    ::acpstore::Status _acp_status = (expr);       \
    if (!_acp_status.ok()) return _acp_status;     \
  } while (0)

#endif  // ACPSTORE_STATUS_H_
