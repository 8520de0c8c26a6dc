// Request validation (SPEC §2.1-2.7): one function per request shape, each
// checking every rule in the order the fields are declared, cheap checks
// before JSON canonicalisation so a bad id never costs a payload parse.
//
// Field names in messages are the HTTP API's camelCase names.
// Thread-safety: pure functions.

#include "record/validate.h"

#include <string>
#include <unordered_map>

#include "record/field_error.h"
#include "record/utf8.h"

namespace acpstore::record {
namespace {

constexpr uint32_t kMaxListLimit = 1000;
constexpr int64_t kMinLeaseMs = 1000;
constexpr int64_t kMaxLeaseMs = 3600000;
// 1970-01-01T00:00:00.000Z .. 9999-12-31T23:59:59.999Z (SPEC §2: ISO-8601
// with four-digit years).
constexpr TimestampMs kMinTimestamp = 0;
constexpr TimestampMs kMaxTimestamp = 253402300799999;

std::string ExceedsBytes(size_t max_bytes) {
  return "exceeds " + std::to_string(max_bytes) + " bytes";
}

Status CheckOptionalId(const std::optional<std::string>& value,
                       std::string_view prefix, std::string_view name,
                       size_t max_bytes) {
  if (!value) return Status::OK();
  return CheckId(*value, JoinField(prefix, name), max_bytes);
}

// A new record's own id, which becomes a URL path segment
// (/v1/sessions/{id}, /v1/actions/{actionId}). "." and ".." are dot
// segments that fetch() and browsers remove from a path (RFC 3986 5.2.4,
// and the WHATWG URL parser does so for "%2E" too), so no HTTP client could
// address such a record: refused when it is created (SPEC 2.5).
Status CheckPathId(const std::optional<std::string>& value,
                   std::string_view name, size_t max_bytes) {
  if (!value) return Status::OK();
  ACPSTORE_RETURN_IF_ERROR(CheckId(*value, name, max_bytes));
  if (*value == "." || *value == "..") {
    return InvalidField(name, "must not be \".\" or \"..\" (a URL dot segment)");
  }
  return Status::OK();
}

// A PATCH field: absent (unchanged), cleared, or a new id.
Status CheckPatchId(const std::optional<std::optional<std::string>>& value,
                    std::string_view name, size_t max_bytes) {
  if (!value || !*value) return Status::OK();
  return CheckId(**value, name, max_bytes);
}

Status CheckTimestamp(TimestampMs ms, std::string_view field) {
  if (ms >= kMinTimestamp && ms <= kMaxTimestamp) return Status::OK();
  return InvalidField(field,
                      "must be between 1970-01-01T00:00:00.000Z and "
                      "9999-12-31T23:59:59.999Z");
}

Status CheckWarnings(const std::vector<ValidationWarning>& warnings,
                     const Limits& limits) {
  constexpr std::string_view kField = "validationWarnings";
  if (warnings.size() > limits.max_validation_warnings) {
    return InvalidField(kField, "more than " +
                                    std::to_string(limits.max_validation_warnings) +
                                    " items");
  }
  for (size_t i = 0; i < warnings.size(); ++i) {
    const std::string item = IndexField(kField, i);
    ACPSTORE_RETURN_IF_ERROR(CheckText(warnings[i].code, JoinField(item, "code"),
                                       limits.max_warning_bytes));
    ACPSTORE_RETURN_IF_ERROR(CheckText(warnings[i].message,
                                       JoinField(item, "message"),
                                       limits.max_warning_bytes,
                                       /*allow_empty=*/true));
  }
  return Status::OK();
}

}  // namespace

Status CheckUtf8(std::string_view value, std::string_view field) {
  const size_t bad = FindInvalidUtf8(value);
  if (bad == std::string_view::npos) return Status::OK();
  return InvalidField(field, "invalid UTF-8 at offset " + std::to_string(bad));
}

Status CheckId(std::string_view value, std::string_view field,
               size_t max_bytes) {
  if (value.empty()) return InvalidField(field, "must not be empty");
  if (value.size() > max_bytes) return InvalidField(field, ExceedsBytes(max_bytes));
  ACPSTORE_RETURN_IF_ERROR(CheckUtf8(value, field));
  if (HasControlChar(value)) {
    return InvalidField(field, "contains a control character");
  }
  return Status::OK();
}

Status CheckText(std::string_view value, std::string_view field,
                 size_t max_bytes, bool allow_empty) {
  if (value.empty() && !allow_empty) {
    return InvalidField(field, "must not be empty");
  }
  if (value.size() > max_bytes) return InvalidField(field, ExceedsBytes(max_bytes));
  return CheckUtf8(value, field);
}

Status CheckTextUtf16(std::string_view value, std::string_view field,
                      size_t max_units, bool allow_empty) {
  if (value.empty() && !allow_empty) {
    return InvalidField(field, "must not be empty");
  }
  ACPSTORE_RETURN_IF_ERROR(CheckUtf8(value, field));
  if (Utf16Length(value) > max_units) {
    return InvalidField(field, "exceeds " + std::to_string(max_units) +
                                   " UTF-16 code units");
  }
  return Status::OK();
}

Status ValidateOptionalMetadata(std::optional<std::string>* metadata,
                                const Limits& limits, std::string_view field) {
  if (!metadata->has_value()) return Status::OK();
  ACPSTORE_ASSIGN_OR_RETURN(**metadata,
                            CanonicalizeMetadata(**metadata, limits, field));
  return Status::OK();
}

// ---------------------------------------------------------------- sessions

Status ValidateNewSession(NewSession* req, const Limits& limits) {
  const size_t max_id = limits.max_id_bytes;
  ACPSTORE_RETURN_IF_ERROR(CheckPathId(req->id, "id", max_id));
  ACPSTORE_RETURN_IF_ERROR(
      CheckOptionalId(req->conversation_id, "", "conversationId", max_id));
  ACPSTORE_RETURN_IF_ERROR(
      CheckOptionalId(req->transcript_id, "", "transcriptId", max_id));
  ACPSTORE_RETURN_IF_ERROR(
      CheckOptionalId(req->parent_session_id, "", "parentSessionId", max_id));
  ACPSTORE_RETURN_IF_ERROR(
      CheckOptionalId(req->root_session_id, "", "rootSessionId", max_id));
  ACPSTORE_RETURN_IF_ERROR(
      CheckOptionalId(req->correlation_id, "", "correlationId", max_id));
  ACPSTORE_RETURN_IF_ERROR(CheckOptionalId(req->resume_from_session_id, "",
                                           "resumeFromSessionId", max_id));
  ACPSTORE_RETURN_IF_ERROR(CheckOptionalId(req->acp_agent_session_id, "",
                                           "acpAgentSessionId", max_id));
  ACPSTORE_RETURN_IF_ERROR(
      CheckOptionalId(req->claude_session_id, "", "claudeSessionId", max_id));
  ACPSTORE_RETURN_IF_ERROR(CheckOptionalId(req->current_backend_run_id, "",
                                           "currentBackendRunId", max_id));
  ACPSTORE_RETURN_IF_ERROR(CheckWarnings(req->validation_warnings, limits));
  return ValidateOptionalMetadata(&req->backend_metadata, limits,
                                  "backendMetadata");
}

Status ValidateSessionPatch(SessionPatch* patch, const Limits& limits) {
  const size_t max_id = limits.max_id_bytes;
  ACPSTORE_RETURN_IF_ERROR(
      CheckPatchId(patch->acp_agent_session_id, "acpAgentSessionId", max_id));
  ACPSTORE_RETURN_IF_ERROR(
      CheckPatchId(patch->claude_session_id, "claudeSessionId", max_id));
  ACPSTORE_RETURN_IF_ERROR(CheckPatchId(patch->current_backend_run_id,
                                        "currentBackendRunId", max_id));
  if (patch->validation_warnings) {
    ACPSTORE_RETURN_IF_ERROR(CheckWarnings(*patch->validation_warnings, limits));
  }
  if (patch->backend_metadata) {
    return ValidateOptionalMetadata(&*patch->backend_metadata, limits,
                                    "backendMetadata");
  }
  return Status::OK();
}

Status ValidateSessionQuery(const SessionQuery& query) {
  return ValidateListLimit(query.limit);
}

Status ValidateListLimit(uint32_t limit) {
  if (limit >= 1 && limit <= kMaxListLimit) return Status::OK();
  return InvalidField("limit", "must be between 1 and " +
                                   std::to_string(kMaxListLimit));
}

// ------------------------------------------------------------------ events

Status ValidateNewEvent(NewEvent* event, const Limits& limits,
                        std::string_view field) {
  const size_t max_id = limits.max_id_bytes;
  ACPSTORE_RETURN_IF_ERROR(CheckId(event->event_type,
                                   JoinField(field, "eventType"),
                                   limits.max_event_type_bytes));
  ACPSTORE_RETURN_IF_ERROR(
      CheckOptionalId(event->client_event_id, field, "clientEventId", max_id));
  ACPSTORE_RETURN_IF_ERROR(
      CheckOptionalId(event->backend_run_id, field, "backendRunId", max_id));
  ACPSTORE_RETURN_IF_ERROR(
      CheckOptionalId(event->payload_ref, field, "payloadRef", max_id));
  if (event->occurred_at) {
    ACPSTORE_RETURN_IF_ERROR(
        CheckTimestamp(*event->occurred_at, JoinField(field, "occurredAt")));
  }
  // The server's scanner already judged the bytes canonical; within the
  // limits they are what CanonicalizePayload would return. Outside them,
  // the full path below gives the precise error.
  if (event->canonical_payload_nesting &&
      event->payload.size() <= limits.max_payload_bytes &&
      *event->canonical_payload_nesting <= limits.max_json_depth) {
    return Status::OK();
  }
  ACPSTORE_ASSIGN_OR_RETURN(
      event->payload,
      CanonicalizePayload(event->payload, limits, JoinField(field, "payload")));
  return Status::OK();
}

Status ValidateAppendRequest(AppendRequest* req, const Limits& limits) {
  if (req->events.empty()) {
    return InvalidField("events", "must hold at least one event");
  }
  if (req->events.size() > limits.max_batch_events) {
    return InvalidField("events", "more than " +
                                      std::to_string(limits.max_batch_events) +
                                      " events in one batch");
  }
  // Retries are deduplicated by clientEventId; the same id twice in one
  // batch would make "which one is the original" ambiguous.
  std::unordered_map<std::string_view, size_t> seen;
  for (size_t i = 0; i < req->events.size(); ++i) {
    NewEvent& event = req->events[i];
    const std::string item = IndexField("events", i);
    ACPSTORE_RETURN_IF_ERROR(ValidateNewEvent(&event, limits, item));
    if (!event.client_event_id) continue;
    const auto [it, inserted] = seen.emplace(*event.client_event_id, i);
    if (!inserted) {
      return InvalidField(JoinField(item, "clientEventId"),
                          "repeats " + IndexField("events", it->second) +
                              ".clientEventId within one batch");
    }
  }
  return Status::OK();
}

// ----------------------------------------------------------------- actions

Status ValidateNewAction(NewAction* req, const Limits& limits) {
  const size_t max_id = limits.max_id_bytes;
  ACPSTORE_RETURN_IF_ERROR(CheckPathId(req->action_id, "actionId", max_id));
  ACPSTORE_RETURN_IF_ERROR(CheckId(req->session_id, "sessionId", max_id));
  ACPSTORE_RETURN_IF_ERROR(
      CheckOptionalId(req->idempotency_key, "", "idempotencyKey", max_id));
  ACPSTORE_RETURN_IF_ERROR(
      CheckOptionalId(req->approval_id, "", "approvalId", max_id));
  ACPSTORE_RETURN_IF_ERROR(
      CheckOptionalId(req->control_request_id, "", "controlRequestId", max_id));
  if (req->available_at) {
    ACPSTORE_RETURN_IF_ERROR(CheckTimestamp(*req->available_at, "availableAt"));
  }
  return ValidateOptionalMetadata(&req->metadata, limits, "metadata");
}

Status ValidateActionQuery(const ActionQuery& query) {
  ACPSTORE_RETURN_IF_ERROR(
      CheckOptionalId(query.session_id, "", "sessionId", Limits{}.max_id_bytes));
  return ValidateListLimit(query.limit);
}

Status ValidateLeaseMs(int64_t lease_ms) {
  if (lease_ms >= kMinLeaseMs && lease_ms <= kMaxLeaseMs) return Status::OK();
  return InvalidField("leaseMs", "must be between " + std::to_string(kMinLeaseMs) +
                                     " and " + std::to_string(kMaxLeaseMs));
}

Status ValidateLeaseRequest(const LeaseRequest& req, const Limits& limits) {
  ACPSTORE_RETURN_IF_ERROR(ValidateLeaseMs(req.lease_ms));
  return CheckOptionalId(req.session_id, "", "sessionId", limits.max_id_bytes);
}

// ------------------------------------------------------------------ pauses

Status ValidatePauseRequest(PauseRequest* req, const Limits& limits) {
  ACPSTORE_RETURN_IF_ERROR(
      CheckOptionalId(req->pause_id, "", "pauseId", limits.max_id_bytes));
  ACPSTORE_RETURN_IF_ERROR(
      CheckTextUtf16(req->reason, "reason", limits.max_reason_utf16));
  ACPSTORE_RETURN_IF_ERROR(
      CheckId(req->requested_by, "requestedBy", limits.max_id_bytes));
  ACPSTORE_RETURN_IF_ERROR(CheckOptionalId(req->idempotency_key, "",
                                           "idempotencyKey", limits.max_id_bytes));
  return ValidateOptionalMetadata(&req->metadata, limits, "metadata");
}

Status ValidateInterventionStart(const InterventionStartRequest& req,
                                 const Limits& limits) {
  ACPSTORE_RETURN_IF_ERROR(
      CheckId(req.intervention_by, "interventionBy", limits.max_id_bytes));
  return CheckOptionalId(req.intervention_id, "", "interventionId",
                         limits.max_id_bytes);
}

Status ValidateInterventionComplete(const InterventionCompleteRequest& req,
                                    const Limits& limits) {
  ACPSTORE_RETURN_IF_ERROR(
      CheckId(req.intervention_id, "interventionId", limits.max_id_bytes));
  ACPSTORE_RETURN_IF_ERROR(
      CheckId(req.completed_by, "completedBy", limits.max_id_bytes));
  if (!req.guidance) return Status::OK();
  return CheckTextUtf16(*req.guidance, "guidance", limits.max_guidance_utf16,
                   /*allow_empty=*/true);
}

Status ValidateResumeRequest(ResumeRequest* req, const Limits& limits) {
  ACPSTORE_RETURN_IF_ERROR(
      CheckId(req->resumed_by, "resumedBy", limits.max_id_bytes));
  ACPSTORE_RETURN_IF_ERROR(
      CheckOptionalId(req->resume_id, "", "resumeId", limits.max_id_bytes));
  return ValidateOptionalMetadata(&req->metadata, limits, "metadata");
}

}  // namespace acpstore::record
