// Status: codes, wire names, details and the human-readable form.
//
// Thread-safety: values only; no shared state. Lifetime: a Status owns its
// State; copies are deep so two copies never alias.

#include "acpstore/status.h"

#include <string>

namespace acpstore {

std::string_view StatusCodeName(StatusCode code) {
  // The wire names are part of the HTTP contract (SPEC §5): never rename.
  switch (code) {
    case StatusCode::kOk: return "ok";
    case StatusCode::kInvalidArgument: return "invalid_argument";
    case StatusCode::kNotFound: return "not_found";
    case StatusCode::kConflict: return "conflict";
    case StatusCode::kInvalidTransition: return "invalid_transition";
    case StatusCode::kSeqConflict: return "seq_conflict";
    case StatusCode::kIdempotencyConflict: return "idempotency_conflict";
    case StatusCode::kStaleLease: return "stale_lease";
    case StatusCode::kAlreadyPaused: return "already_paused";
    case StatusCode::kNotPaused: return "not_paused";
    case StatusCode::kPayloadTooLarge: return "payload_too_large";
    case StatusCode::kUnavailable: return "unavailable";
    case StatusCode::kInsufficientStorage: return "insufficient_storage";
    case StatusCode::kDataLoss: return "data_loss";
    case StatusCode::kCorruption: return "corruption";
    case StatusCode::kIoError: return "io_error";
    case StatusCode::kInternal: return "internal";
    case StatusCode::kUnauthenticated: return "unauthenticated";
    case StatusCode::kForbidden: return "forbidden";
    case StatusCode::kResourceExhausted: return "too_many_requests";
    case StatusCode::kNotImplemented: return "not_implemented";
  }
  return "unknown";
}

Status::Status(StatusCode code, std::string_view message) {
  // A kOk code with a message would make a non-null state that still
  // reports ok() == false; keep the "OK is null" invariant instead.
  if (code == StatusCode::kOk) return;
  state_ = std::make_unique<State>(State{code, std::string(message), {}});
}

Status::Status(const Status& other)
    : state_(other.state_ ? std::make_unique<State>(*other.state_) : nullptr) {}

Status& Status::operator=(const Status& other) {
  if (this != &other) {
    state_ = other.state_ ? std::make_unique<State>(*other.state_) : nullptr;
  }
  return *this;
}

std::string_view Status::message() const {
  if (!ok()) return state_->message;
  return {};
}

const std::vector<StatusDetail>& Status::details() const {
  static const std::vector<StatusDetail> kNone;
  return ok() ? kNone : state_->details;
}

namespace {

// Replaces an existing detail of the same key so a detail appears once in
// the HTTP error body, where keys are JSON object keys.
void SetDetail(std::vector<StatusDetail>* details, std::string_view key,
               std::variant<std::string, int64_t> value) {
  for (StatusDetail& d : *details) {
    if (d.key == key) {
      d.value = std::move(value);
      return;
    }
  }
  details->push_back(StatusDetail{std::string(key), std::move(value)});
}

}  // namespace

Status& Status::With(std::string_view key, std::string_view value) & {
  if (!ok()) SetDetail(&state_->details, key, std::string(value));
  return *this;
}

Status& Status::With(std::string_view key, int64_t value) & {
  if (!ok()) SetDetail(&state_->details, key, value);
  return *this;
}

Status&& Status::With(std::string_view key, std::string_view value) && {
  return std::move(With(key, value));
}

Status&& Status::With(std::string_view key, int64_t value) && {
  return std::move(With(key, value));
}

const StatusDetail* Status::Detail(std::string_view key) const {
  for (const StatusDetail& d : details()) {
    if (d.key == key) return &d;
  }
  return nullptr;
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  std::string out(StatusCodeName(state_->code));
  if (!state_->message.empty()) {
    out += ": ";
    out += state_->message;
  }
  if (!state_->details.empty()) {
    out += " [";
    bool first = true;
    for (const StatusDetail& d : state_->details) {
      if (!first) out += ", ";
      first = false;
      out += d.key;
      out += '=';
      if (const auto* s = std::get_if<std::string>(&d.value)) {
        out += *s;
      } else {
        out += std::to_string(std::get<int64_t>(d.value));
      }
    }
    out += ']';
  }
  return out;
}

std::ostream& operator<<(std::ostream& os, const Status& status) {
  return os << status.ToString();
}

}  // namespace acpstore
