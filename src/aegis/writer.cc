// acpstore record -> Aegis JSON. See writer.h. Absent optionals are
// omitted, never written as null (the format's rule).
//
// Thread-safety: pure functions.

#include "aegis/writer.h"

#include <optional>
#include <string_view>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "base/time_format.h"
#include "record/canonical_json.h"

namespace acpstore::aegis {
namespace {

class Obj {
 public:
  explicit Obj(std::string* out) : out_(out) { out_->push_back('{'); }
  ~Obj() { out_->push_back('}'); }

  void Key(std::string_view key) {
    if (!first_) out_->push_back(',');
    first_ = false;
    record::AppendJsonString(key, out_);
    out_->push_back(':');
  }
  void Str(std::string_view key, std::string_view v) {
    Key(key);
    record::AppendJsonString(v, out_);
  }
  void Str(std::string_view key, const std::string& v) {
    Str(key, static_cast<std::string_view>(v));
  }
  void Str(std::string_view key, const std::optional<std::string>& v) {
    if (v) Str(key, *v);
  }
  void Raw(std::string_view key, std::string_view json) {
    Key(key);
    out_->append(json);
  }
  void Raw(std::string_view key, const std::string& json) {
    Raw(key, static_cast<std::string_view>(json));
  }
  void Raw(std::string_view key, const std::optional<std::string>& json) {
    if (json) Raw(key, *json);
  }
  void Num(std::string_view key, uint64_t v) { Raw(key, std::to_string(v)); }
  void Epoch(std::string_view key, TimestampMs ms) {
    Raw(key, std::to_string(ms));
  }
  void Epoch(std::string_view key, const std::optional<TimestampMs>& ms) {
    if (ms) Epoch(key, *ms);
  }
  void Iso(std::string_view key, TimestampMs ms) {
    Str(key, base::FormatIso8601(ms));
  }
  void Iso(std::string_view key, const std::optional<TimestampMs>& ms) {
    if (ms) Iso(key, *ms);
  }

 private:
  std::string* const out_;
  bool first_ = true;
};

// backendMetadata without its permissionMode key (moved to *mode).
std::optional<std::string> SplitPermissionMode(
    const std::optional<std::string>& metadata, std::optional<std::string>* mode) {
  if (!metadata) return metadata;
  boost::json::error_code ec;
  boost::json::value v = boost::json::parse(*metadata, ec);
  if (ec || !v.is_object()) return metadata;
  boost::json::object& obj = v.as_object();
  auto it = obj.find("permissionMode");
  if (it == obj.end() || !it->value().is_string()) return metadata;
  *mode = std::string(it->value().as_string());
  obj.erase(it);
  if (obj.empty()) return std::nullopt;
  std::string out = "{";
  for (const auto& [k, val] : obj) {
    if (out.size() > 1) out.push_back(',');
    record::AppendJsonString(std::string_view(k.data(), k.size()), &out);
    out.push_back(':');
    out += boost::json::serialize(val);
  }
  out.push_back('}');
  return out;
}

}  // namespace

void WriteSession(const Session& s, std::string* out) {
  Obj o(out);
  o.Str("id", s.id);
  o.Str("tenantId", s.tenant_id);
  o.Str("ownerKeyId", s.owner_key_id);
  o.Str("conversationId", s.conversation_id);
  o.Str("transcriptId", s.transcript_id);
  o.Str("parentSessionId", s.parent_session_id);
  o.Str("rootSessionId", s.root_session_id);
  o.Str("correlationId", s.correlation_id);
  o.Str("resumeFromSessionId", s.resume_from_session_id);
  o.Str("acpAgentSessionId", s.acp_agent_session_id);
  o.Str("claudeSessionId", s.claude_session_id);
  o.Str("currentBackendRunId", s.current_backend_run_id);
  o.Str("status", ToString(s.status));
  o.Epoch("createdAt", s.created_at);
  o.Epoch("updatedAt", s.updated_at);
  o.Epoch("closedAt", s.closed_at);
  o.Epoch("failedAt", s.failed_at);
  // permissionMode rides in backendMetadata (import puts it there); Aegis
  // reads it from the session record.
  std::optional<std::string> mode;
  std::optional<std::string> metadata =
      SplitPermissionMode(s.backend_metadata, &mode);
  o.Raw("backendMetadata", metadata);
  if (!s.validation_warnings.empty()) {
    o.Key("validationWarnings");
    out->push_back('[');
    for (size_t i = 0; i < s.validation_warnings.size(); ++i) {
      if (i > 0) out->push_back(',');
      Obj w(out);
      w.Str("code", s.validation_warnings[i].code);
      w.Str("message", s.validation_warnings[i].message);
    }
    out->push_back(']');
  }
  o.Str("permissionMode", mode);
}

void WriteEvent(const Event& e, std::string* out) {
  Obj o(out);
  o.Str("eventId", e.EventId());
  o.Str("sessionId", e.session_id);
  o.Str("tenantId", e.tenant_id);
  o.Str("ownerKeyId", e.owner_key_id);
  o.Num("eventSeq", e.seq);
  o.Str("eventType", e.event_type);
  o.Iso("occurredAt", e.occurred_at);
  o.Iso("ingestedAt", e.ingested_at);
  o.Str("backendRunId", e.backend_run_id);
  o.Str("payloadRef", e.payload_ref);
  o.Raw("payload", e.payload);
}

void WriteAction(const Action& a, std::string* out) {
  Obj o(out);
  o.Str("actionId", a.action_id);
  o.Str("sessionId", a.session_id);
  o.Str("tenantId", a.tenant_id);
  o.Str("ownerKeyId", a.owner_key_id);
  o.Str("actionType", ToString(a.type));
  o.Str("status", ToString(a.status));
  o.Iso("createdAt", a.created_at);
  o.Iso("availableAt", a.available_at);
  if (a.status == ActionStatus::kLeased) o.Iso("leasedUntil", a.leased_until);
  o.Num("attemptCount", a.attempt_count);
  // Aegis writes {} when an action has none.
  o.Raw("metadata", a.metadata ? *a.metadata : std::string("{}"));
  o.Str("idempotencyKey", a.idempotency_key);
  o.Str("approvalId", a.approval_id);
  o.Str("controlRequestId", a.control_request_id);
  o.Raw("resultMetadata", a.result_metadata);
  o.Raw("errorMetadata", a.error_metadata);
  o.Iso("completedAt", a.completed_at);
  o.Iso("failedAt", a.failed_at);
  o.Iso("cancelledAt", a.cancelled_at);
}

void WritePause(const Pause& p, std::string* out) {
  Obj o(out);
  o.Str("pauseId", p.pause_id);
  o.Str("sessionId", p.session_id);
  o.Str("tenantId", p.tenant_id);
  o.Str("ownerKeyId", p.owner_key_id);
  o.Str("status", ToString(p.status));
  o.Str("reason", p.reason);
  o.Str("requestedBy", p.requested_by);
  o.Iso("requestedAt", p.requested_at);
  o.Iso("updatedAt", p.updated_at);
  o.Str("idempotencyKey", p.idempotency_key);
  o.Raw("metadata", p.metadata);
  o.Str("interventionId", p.intervention_id);
  o.Str("interventionBy", p.intervention_by);
  o.Iso("interventionStartedAt", p.intervention_started_at);
  o.Str("interventionCompletedBy", p.intervention_completed_by);
  o.Iso("interventionCompletedAt", p.intervention_completed_at);
  o.Str("guidance", p.guidance);
  o.Str("resumedBy", p.resumed_by);
  o.Iso("resumedAt", p.resumed_at);
}

}  // namespace acpstore::aegis
