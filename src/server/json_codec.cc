// Records -> wire JSON. See json_codec.h.

#include "server/json_codec.h"

#include <optional>

#include "base/time_format.h"

namespace acpstore::server {
namespace {

void Str(JsonWriter* w, std::string_view key, std::string_view v) {
  w->Key(key).String(v);
}
void OptStr(JsonWriter* w, std::string_view key,
            const std::optional<std::string>& v) {
  if (v) w->Key(key).String(*v);
}
void Time(JsonWriter* w, std::string_view key, TimestampMs t) {
  w->Key(key).String(base::FormatIso8601(t));
}
void OptTime(JsonWriter* w, std::string_view key,
             const std::optional<TimestampMs>& t) {
  if (t) Time(w, key, *t);
}
// Stored canonical JSON (a metadata map).
void OptRaw(JsonWriter* w, std::string_view key,
            const std::optional<std::string>& json) {
  if (json) w->Key(key).Raw(*json);
}

}  // namespace

void WriteSession(const Session& s, JsonWriter* w) {
  w->BeginObject();
  Str(w, "id", s.id);
  Str(w, "tenantId", s.tenant_id);
  Str(w, "ownerKeyId", s.owner_key_id);
  Str(w, "conversationId", s.conversation_id);
  Str(w, "transcriptId", s.transcript_id);
  OptStr(w, "parentSessionId", s.parent_session_id);
  OptStr(w, "rootSessionId", s.root_session_id);
  OptStr(w, "correlationId", s.correlation_id);
  OptStr(w, "resumeFromSessionId", s.resume_from_session_id);
  OptStr(w, "acpAgentSessionId", s.acp_agent_session_id);
  OptStr(w, "claudeSessionId", s.claude_session_id);
  OptStr(w, "currentBackendRunId", s.current_backend_run_id);
  Str(w, "status", ToString(s.status));
  Time(w, "createdAt", s.created_at);
  Time(w, "updatedAt", s.updated_at);
  OptTime(w, "closedAt", s.closed_at);
  OptTime(w, "failedAt", s.failed_at);
  OptRaw(w, "backendMetadata", s.backend_metadata);
  if (!s.validation_warnings.empty()) {
    w->Key("validationWarnings").BeginArray();
    for (const ValidationWarning& v : s.validation_warnings) {
      w->BeginObject();
      Str(w, "code", v.code);
      Str(w, "message", v.message);
      w->EndObject();
    }
    w->EndArray();
  }
  w->Key("events").BeginObject();
  w->Key("firstSeq").Uint(s.events.first_seq);
  w->Key("lastSeq").Uint(s.events.last_seq);
  w->Key("retained").Uint(s.events.retained);
  w->Key("bytes").Uint(s.events.bytes);
  w->EndObject();
  w->EndObject();
}

void WriteEvent(const Event& e, JsonWriter* w) {
  w->BeginObject();
  Str(w, "eventId", e.EventId());
  Str(w, "sessionId", e.session_id);
  Str(w, "tenantId", e.tenant_id);
  Str(w, "ownerKeyId", e.owner_key_id);
  w->Key("eventSeq").Uint(e.seq);
  OptStr(w, "clientEventId", e.client_event_id);
  Str(w, "eventType", e.event_type);
  Time(w, "occurredAt", e.occurred_at);
  Time(w, "ingestedAt", e.ingested_at);
  OptStr(w, "backendRunId", e.backend_run_id);
  OptStr(w, "payloadRef", e.payload_ref);
  // Canonical compact JSON: no raw newline can occur (strings escape
  // control characters), which SSE's one-line data relies on.
  w->Key("payload").Raw(e.payload.empty()
                            ? std::string_view("null")
                            : static_cast<std::string_view>(e.payload));
  w->EndObject();
}

void WriteEventAssigned(const Event& e, JsonWriter* w) {
  w->BeginObject();
  w->Key("eventSeq").Uint(e.seq);
  Str(w, "eventId", e.EventId());
  Time(w, "ingestedAt", e.ingested_at);
  w->EndObject();
}

void WriteAction(const Action& a, JsonWriter* w) {
  w->BeginObject();
  Str(w, "actionId", a.action_id);
  Str(w, "sessionId", a.session_id);
  Str(w, "tenantId", a.tenant_id);
  Str(w, "ownerKeyId", a.owner_key_id);
  Str(w, "type", ToString(a.type));
  OptStr(w, "idempotencyKey", a.idempotency_key);
  OptStr(w, "approvalId", a.approval_id);
  OptStr(w, "controlRequestId", a.control_request_id);
  Str(w, "status", ToString(a.status));
  Time(w, "createdAt", a.created_at);
  Time(w, "availableAt", a.available_at);
  Time(w, "updatedAt", a.updated_at);
  OptTime(w, "leasedUntil", a.leased_until);
  w->Key("attemptCount").Uint(a.attempt_count);
  if (!a.lease_token.empty()) Str(w, "leaseToken", a.lease_token);
  OptRaw(w, "metadata", a.metadata);
  OptRaw(w, "resultMetadata", a.result_metadata);
  OptRaw(w, "errorMetadata", a.error_metadata);
  OptTime(w, "completedAt", a.completed_at);
  OptTime(w, "failedAt", a.failed_at);
  OptTime(w, "cancelledAt", a.cancelled_at);
  w->EndObject();
}

void WritePause(const Pause& p, JsonWriter* w) {
  w->BeginObject();
  Str(w, "pauseId", p.pause_id);
  Str(w, "sessionId", p.session_id);
  Str(w, "tenantId", p.tenant_id);
  Str(w, "ownerKeyId", p.owner_key_id);
  Str(w, "status", ToString(p.status));
  OptStr(w, "idempotencyKey", p.idempotency_key);
  Str(w, "reason", p.reason);
  Str(w, "requestedBy", p.requested_by);
  Time(w, "requestedAt", p.requested_at);
  OptRaw(w, "metadata", p.metadata);
  OptStr(w, "interventionId", p.intervention_id);
  OptStr(w, "interventionBy", p.intervention_by);
  OptTime(w, "interventionStartedAt", p.intervention_started_at);
  OptStr(w, "interventionCompletedBy", p.intervention_completed_by);
  OptTime(w, "interventionCompletedAt", p.intervention_completed_at);
  OptStr(w, "guidance", p.guidance);
  OptStr(w, "resumeId", p.resume_id);
  OptStr(w, "resumedBy", p.resumed_by);
  OptTime(w, "resumedAt", p.resumed_at);
  OptRaw(w, "resumeMetadata", p.resume_metadata);
  Time(w, "updatedAt", p.updated_at);
  w->EndObject();
}

std::string SessionJson(const Session& session) {
  JsonWriter w;
  WriteSession(session, &w);
  return w.Take();
}

std::string EventJson(const Event& event) {
  JsonWriter w;
  WriteEvent(event, &w);
  return w.Take();
}

std::string ActionJson(const Action& action) {
  JsonWriter w;
  WriteAction(action, &w);
  return w.Take();
}

std::string PauseResultJson(const Session& session, const Pause& pause) {
  JsonWriter w;
  w.BeginObject().Key("session");
  WriteSession(session, &w);
  w.Key("pause");
  WritePause(pause, &w);
  w.EndObject();
  return w.Take();
}

}  // namespace acpstore::server
