// Request bodies (JSON) -> the Store's request shapes (SPEC §5).
//
// Field-level errors name the camelCase field; unknown fields, wrong
// types and immutable fields in a PATCH are 400s. Payloads and metadata
// maps are passed on as the client's raw JSON text; the store validates
// and canonicalises them (limits, depth, duplicate keys, UTF-8). An event
// payload the scanner found already canonical carries that verdict
// (NewEvent::canonical_payload_nesting), and the store checks only its
// limits.
//
// `max_depth` bounds the nesting of the whole body (ServerOptions).
//
// Thread-safety: pure functions.

#ifndef ACPSTORE_SERVER_REQUEST_CODEC_H_
#define ACPSTORE_SERVER_REQUEST_CODEC_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "acpstore/records.h"
#include "acpstore/result.h"

namespace acpstore::server {

// An empty body means "no fields" where every field is optional.
Result<NewSession> ParseNewSession(std::string_view body, int max_depth);
Result<SessionPatch> ParseSessionPatch(std::string_view body, int max_depth);
Result<SessionEvent> ParseTransition(std::string_view body, int max_depth);

struct ParsedAppend {
  AppendRequest request;
  bool batch = false;  // the body had "events": answer {"events": [...]}
};
Result<ParsedAppend> ParseAppend(std::string_view body, int max_depth);

Result<NewAction> ParseNewAction(std::string_view body, int max_depth);
Result<LeaseRequest> ParseLease(std::string_view body, int max_depth);

struct HeartbeatBody {
  std::string lease_token;
  int64_t lease_ms = 0;
};
// complete and fail name the lease by exactly one of leaseToken and
// attemptCount (the latter for service keys only; see LeaseClaim).
struct CompleteBody {
  std::string lease_token;
  std::optional<int64_t> attempt_count;
  std::optional<std::string> result_metadata;
};
struct FailBody {
  std::string lease_token;
  std::optional<int64_t> attempt_count;
  std::optional<std::string> error_metadata;
  bool retry = false;
};
struct CancelBody {
  std::optional<std::string> error_metadata;
};
Result<HeartbeatBody> ParseHeartbeat(std::string_view body, int max_depth);
Result<CompleteBody> ParseComplete(std::string_view body, int max_depth);
Result<FailBody> ParseFail(std::string_view body, int max_depth);
Result<CancelBody> ParseCancel(std::string_view body, int max_depth);

Result<PauseRequest> ParsePause(std::string_view body, int max_depth);
Result<InterventionStartRequest> ParseInterventionStart(std::string_view body,
                                                        int max_depth);
Result<InterventionCompleteRequest> ParseInterventionComplete(
    std::string_view body, int max_depth);
Result<ResumeRequest> ParseResume(std::string_view body, int max_depth);

struct CreateKeyBody {
  std::string role;  // "reader" | "writer" | "admin"; checked by the route
  std::string name;
};
Result<CreateKeyBody> ParseCreateKey(std::string_view body, int max_depth);

}  // namespace acpstore::server

#endif  // ACPSTORE_SERVER_REQUEST_CODEC_H_
