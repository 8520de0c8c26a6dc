// JSON request bodies -> Store requests. See request_codec.h.

#include "server/request_codec.h"

#include <cstdint>
#include <utility>
#include <vector>

#include "record/field_error.h"
#include "server/json_reader.h"

namespace acpstore::server {
namespace {

using record::InvalidField;

// The body's top-level value. `optional_body`: an empty body reads as {}.
// `tape` must outlive the value (json_reader.h).
Result<JsonValue> Body(std::string_view body, int max_depth,
                       bool optional_body, JsonTape* tape) {
  if (body.empty()) {
    if (optional_body) return JsonValue{JsonKind::kObject, "{}"};
    return InvalidField("body", "is required (a JSON object)");
  }
  // Only no bytes at all is no body. Whitespace alone is a body that is
  // not a JSON value, refused like any malformed one (it read as {} where
  // the body is optional: found by a review).
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return InvalidField("body",
                        "is only whitespace, not a JSON object (send no "
                        "body at all where the body is optional)");
  }
  return ScanJson(body, "body", max_depth, tape);
}

std::vector<ValidationWarning> ReadWarnings(ObjectReader& r) {
  std::vector<ValidationWarning> out;
  std::optional<std::vector<JsonValue>> items =
      r.OptArray("validationWarnings");
  if (!items) return out;
  for (size_t i = 0; i < items->size() && r.ok(); ++i) {
    ObjectReader w((*items)[i],
                   record::IndexField(r.FieldName("validationWarnings"), i));
    ValidationWarning v;
    v.code = w.ReqString("code");
    v.message = w.OptString("message").value_or("");
    Status s = w.Finish();
    if (!s.ok()) r.Fail(std::move(s));
    out.push_back(std::move(v));
  }
  return out;
}

// Builds a request from a body object with `read`; any failure the reader
// recorded (or an unknown field) wins over the built value.
template <typename T, typename Read>
Result<T> ReadBody(std::string_view body, int max_depth, bool optional_body,
                   Read read) {
  JsonTape tape;
  Result<JsonValue> v = Body(body, max_depth, optional_body, &tape);
  if (!v.ok()) return std::move(v).error();
  ObjectReader r(*v, "");
  T out = read(r);
  Status s = r.Finish();
  if (!s.ok()) return s;
  return out;
}

Result<NewEvent> ReadEvent(const JsonValue& value, std::string prefix,
                           std::optional<EventSeq>* expected_last_seq) {
  ObjectReader r(value, std::move(prefix));
  NewEvent e;
  e.event_type = r.ReqString("eventType");
  std::optional<JsonValue> payload = r.Get("payload");
  if (!payload) {
    r.Fail(InvalidField(r.FieldName("payload"), "is required"));
  } else {
    e.payload = std::string(payload->raw);
    // The scanner's verdict spares the store a second pass (issue 14).
    if (payload->canonical) {
      e.canonical_payload_nesting = static_cast<uint32_t>(payload->nesting);
    }
  }
  e.occurred_at = r.OptTimestamp("occurredAt");
  e.backend_run_id = r.OptString("backendRunId");
  e.payload_ref = r.OptString("payloadRef");
  e.client_event_id = r.OptString("clientEventId");
  if (expected_last_seq != nullptr) {
    *expected_last_seq = r.OptUint("expectedLastSeq");
  }
  Status s = r.Finish();
  if (!s.ok()) return s;
  return e;
}

}  // namespace

Result<NewSession> ParseNewSession(std::string_view body, int max_depth) {
  return ReadBody<NewSession>(body, max_depth, true, [](ObjectReader& r) {
    NewSession s;
    s.id = r.OptString("id");
    s.conversation_id = r.OptString("conversationId");
    s.transcript_id = r.OptString("transcriptId");
    s.created_at = r.OptTimestamp("createdAt");
    s.parent_session_id = r.OptString("parentSessionId");
    s.root_session_id = r.OptString("rootSessionId");
    s.correlation_id = r.OptString("correlationId");
    s.resume_from_session_id = r.OptString("resumeFromSessionId");
    s.acp_agent_session_id = r.OptString("acpAgentSessionId");
    s.claude_session_id = r.OptString("claudeSessionId");
    s.current_backend_run_id = r.OptString("currentBackendRunId");
    s.backend_metadata = r.OptObjectText("backendMetadata");
    s.validation_warnings = ReadWarnings(r);
    return s;
  });
}

Result<SessionPatch> ParseSessionPatch(std::string_view body, int max_depth) {
  return ReadBody<SessionPatch>(body, max_depth, false, [](ObjectReader& r) {
    for (std::string_view f :
         {"id", "tenantId", "ownerKeyId", "conversationId", "transcriptId",
          "parentSessionId", "rootSessionId", "correlationId",
          "resumeFromSessionId", "createdAt", "updatedAt", "closedAt",
          "failedAt", "events"}) {
      r.RefuseImmutable(f);
    }
    SessionPatch p;
    p.acp_agent_session_id = r.PatchString("acpAgentSessionId");
    p.claude_session_id = r.PatchString("claudeSessionId");
    p.current_backend_run_id = r.PatchString("currentBackendRunId");
    p.backend_metadata = r.PatchObjectText("backendMetadata");
    if (r.Has("validationWarnings")) {
      p.validation_warnings = ReadWarnings(r);
    }
    if (std::optional<std::string> status = r.OptString("status")) {
      p.status = ParseSessionStatus(*status);
      if (!p.status) r.Fail(InvalidField("status", "unknown session status"));
    }
    return p;
  });
}

Result<SessionEvent> ParseTransition(std::string_view body, int max_depth) {
  JsonTape tape;
  Result<JsonValue> v = Body(body, max_depth, false, &tape);
  if (!v.ok()) return std::move(v).error();
  ObjectReader r(*v, "");
  std::string name = r.ReqString("event");
  Status s = r.Finish();
  if (!s.ok()) return s;
  std::optional<SessionEvent> event = ParseSessionEvent(name);
  if (!event) {
    return InvalidField("event",
                        "unknown lifecycle event (agent_ready, "
                        "run_started, ... runtime_failed)");
  }
  return *event;
}

Result<ParsedAppend> ParseAppend(std::string_view body, int max_depth) {
  JsonTape tape;
  Result<JsonValue> v = Body(body, max_depth, false, &tape);
  if (!v.ok()) return std::move(v).error();
  ParsedAppend out;
  ObjectReader r(*v, "");
  if (!r.Has("events")) {
    // One event; expectedLastSeq sits beside its fields.
    std::optional<EventSeq> expected;
    Result<NewEvent> e = ReadEvent(*v, "", &expected);
    if (!e.ok()) return std::move(e).error();
    out.request.events.push_back(std::move(*e));
    out.request.expected_last_seq = expected;
    return out;
  }
  out.batch = true;
  std::optional<std::vector<JsonValue>> events = r.OptArray("events");
  out.request.expected_last_seq = r.OptUint("expectedLastSeq");
  Status s = r.Finish();
  if (!s.ok()) return s;
  if (!events) return InvalidField("events", "must be an array");
  out.request.events.reserve(events->size());
  for (size_t i = 0; i < events->size(); ++i) {
    Result<NewEvent> e =
        ReadEvent((*events)[i], record::IndexField("events", i), nullptr);
    if (!e.ok()) return std::move(e).error();
    out.request.events.push_back(std::move(*e));
  }
  return out;
}

Result<NewAction> ParseNewAction(std::string_view body, int max_depth) {
  JsonTape tape;
  Result<JsonValue> v = Body(body, max_depth, false, &tape);
  if (!v.ok()) return std::move(v).error();
  ObjectReader r(*v, "");
  NewAction a;
  a.action_id = r.OptString("actionId");
  a.session_id = r.ReqString("sessionId");
  std::string type = r.ReqString("type");
  a.idempotency_key = r.OptString("idempotencyKey");
  a.approval_id = r.OptString("approvalId");
  a.control_request_id = r.OptString("controlRequestId");
  a.available_at = r.OptTimestamp("availableAt");
  a.metadata = r.OptObjectText("metadata");
  Status s = r.Finish();
  if (!s.ok()) return s;
  std::optional<ActionType> t = ParseActionType(type);
  if (!t) {
    return InvalidField("type",
                        "unknown action type (prompt, approve, "
                        "reject, pause, resume, cancel, "
                        "driver_transfer, intervene, close)");
  }
  a.type = *t;
  return a;
}

Result<LeaseRequest> ParseLease(std::string_view body, int max_depth) {
  JsonTape tape;
  Result<JsonValue> v = Body(body, max_depth, true, &tape);
  if (!v.ok()) return std::move(v).error();
  ObjectReader r(*v, "");
  LeaseRequest req;
  if (auto ms = r.OptInt("leaseMs", 1000, 3600000)) req.lease_ms = *ms;
  req.session_id = r.OptString("sessionId");
  std::optional<std::vector<JsonValue>> types = r.OptArray("types");
  if (types && types->empty()) {
    // The store reads no types as "any type": an empty filter would lease
    // every type, which is never what a worker that sends one means.
    r.Fail(InvalidField("types", "is empty (leave it out to lease any type)"));
  }
  for (size_t i = 0; types && i < types->size() && r.ok(); ++i) {
    const std::string field = record::IndexField("types", i);
    std::optional<ActionType> t;
    if ((*types)[i].kind == JsonKind::kString) {
      Result<std::string> name = DecodeJsonString((*types)[i].raw, field);
      if (name.ok()) t = ParseActionType(*name);
    }
    if (!t) {
      r.Fail(InvalidField(field, "must be an action type"));
    } else {
      req.types.push_back(*t);
    }
  }
  Status s = r.Finish();
  if (!s.ok()) return s;
  return req;
}

Result<HeartbeatBody> ParseHeartbeat(std::string_view body, int max_depth) {
  return ReadBody<HeartbeatBody>(body, max_depth, false, [](ObjectReader& r) {
    HeartbeatBody b;
    b.lease_token = r.ReqString("leaseToken");
    if (!r.HasValue("leaseMs")) {
      r.Fail(InvalidField("leaseMs", "is required"));
    }
    b.lease_ms = r.OptInt("leaseMs", 1000, 3600000).value_or(0);
    return b;
  });
}

// leaseToken, or attemptCount instead of it: exactly one.
void ReadLeaseClaim(ObjectReader& r, std::string* token,
                    std::optional<int64_t>* attempt) {
  *attempt = r.OptInt("attemptCount", 1, INT64_MAX);
  if (*attempt) {
    // A null leaseToken is an absent one; read it either way (Finish).
    const bool token_too = r.HasValue("leaseToken");
    (void)r.OptString("leaseToken");
    if (token_too) {
      r.Fail(InvalidField("attemptCount",
                          "send leaseToken or attemptCount, not both"));
    }
    return;
  }
  *token = r.ReqString("leaseToken");
}

Result<CompleteBody> ParseComplete(std::string_view body, int max_depth) {
  return ReadBody<CompleteBody>(body, max_depth, false, [](ObjectReader& r) {
    CompleteBody b;
    ReadLeaseClaim(r, &b.lease_token, &b.attempt_count);
    b.result_metadata = r.OptObjectText("resultMetadata");
    return b;
  });
}

Result<FailBody> ParseFail(std::string_view body, int max_depth) {
  return ReadBody<FailBody>(body, max_depth, false, [](ObjectReader& r) {
    FailBody b;
    ReadLeaseClaim(r, &b.lease_token, &b.attempt_count);
    b.error_metadata = r.OptObjectText("errorMetadata");
    b.retry = r.OptBool("retry").value_or(false);
    return b;
  });
}

Result<CancelBody> ParseCancel(std::string_view body, int max_depth) {
  return ReadBody<CancelBody>(body, max_depth, true, [](ObjectReader& r) {
    CancelBody b;
    b.error_metadata = r.OptObjectText("errorMetadata");
    return b;
  });
}

Result<PauseRequest> ParsePause(std::string_view body, int max_depth) {
  return ReadBody<PauseRequest>(body, max_depth, false, [](ObjectReader& r) {
    PauseRequest p;
    p.pause_id = r.OptString("pauseId");
    p.reason = r.ReqString("reason");
    p.requested_by = r.ReqString("requestedBy");
    p.idempotency_key = r.OptString("idempotencyKey");
    p.metadata = r.OptObjectText("metadata");
    return p;
  });
}

Result<InterventionStartRequest> ParseInterventionStart(std::string_view body,
                                                        int max_depth) {
  return ReadBody<InterventionStartRequest>(
      body, max_depth, false, [](ObjectReader& r) {
        InterventionStartRequest p;
        p.intervention_by = r.ReqString("interventionBy");
        p.intervention_id = r.OptString("interventionId");
        return p;
      });
}

Result<InterventionCompleteRequest> ParseInterventionComplete(
    std::string_view body, int max_depth) {
  return ReadBody<InterventionCompleteRequest>(
      body, max_depth, false, [](ObjectReader& r) {
        InterventionCompleteRequest p;
        p.intervention_id = r.ReqString("interventionId");
        p.completed_by = r.ReqString("completedBy");
        p.guidance = r.OptString("guidance");
        return p;
      });
}

Result<ResumeRequest> ParseResume(std::string_view body, int max_depth) {
  return ReadBody<ResumeRequest>(body, max_depth, false, [](ObjectReader& r) {
    ResumeRequest p;
    p.resumed_by = r.ReqString("resumedBy");
    p.resume_id = r.OptString("resumeId");
    p.metadata = r.OptObjectText("metadata");
    return p;
  });
}

Result<CreateKeyBody> ParseCreateKey(std::string_view body, int max_depth) {
  return ReadBody<CreateKeyBody>(body, max_depth, false, [](ObjectReader& r) {
    CreateKeyBody k;
    k.role = r.ReqString("role");
    k.name = r.OptString("name").value_or("");
    return k;
  });
}

}  // namespace acpstore::server
