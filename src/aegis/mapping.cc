// Aegis record -> acpstore record. See mapping.h; field list and defaults:
// docs/aegis_format.md.
//
// Member values arrive as compact JSON text rebuilt by the reader, so
// strings use only the escapes record::AppendJsonStringBody writes and
// numbers are the tokens of the file.
//
// Thread-safety: pure functions.

#include "aegis/mapping.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string_view>

#include "base/time_format.h"
#include "base/uuid.h"
#include "record/canonical_json.h"
#include "record/field_error.h"
#include "record/validate.h"

namespace acpstore::aegis {
namespace {

using record::InvalidField;

constexpr TimestampMs kMaxTimestamp = 253402300799999;  // 9999-12-31

std::string_view TypeName(std::string_view v) {
  if (v.empty()) return "nothing";
  switch (v[0]) {
    case '"':
      return "a string";
    case '{':
      return "an object";
    case '[':
      return "an array";
    case 't':
    case 'f':
      return "a boolean";
    case 'n':
      return "null";
    default:
      return "a number";
  }
}

// Reads the members of one record.
class Fields {
 public:
  explicit Fields(const RawRecord& r) : r_(r) {}

  // The member's text; std::nullopt when absent or null (the format omits
  // optional fields, but a null is read as "absent" too).
  std::optional<std::string_view> Raw(std::string_view key) const {
    std::optional<std::string_view> v = r_.Get(key);
    if (!v || *v == "null") return std::nullopt;
    return v;
  }
  // The first of `keys` present (aliases, docs/aegis_format.md).
  std::optional<std::string_view> RawAny(
      std::initializer_list<std::string_view> keys,
      std::string_view* which) const {
    for (std::string_view k : keys) {
      if (auto v = Raw(k)) {
        *which = k;
        return v;
      }
    }
    *which = *keys.begin();
    return std::nullopt;
  }

  Result<std::optional<std::string>> OptString(std::string_view key) const {
    std::optional<std::string_view> v = Raw(key);
    if (!v) return std::optional<std::string>();
    ACPSTORE_ASSIGN_OR_RETURN(std::string s, AsString(*v, key));
    return std::optional<std::string>(std::move(s));
  }
  Result<std::string> String(std::string_view key) const {
    ACPSTORE_ASSIGN_OR_RETURN(std::optional<std::string> v, OptString(key));
    if (!v) return InvalidField(key, "missing");
    return std::move(*v);
  }
  static Result<std::string> AsString(std::string_view v,
                                      std::string_view key) {
    if (v.size() < 2 || v.front() != '"') {
      return InvalidField(key,
                          "expected a string, got " + std::string(TypeName(v)));
    }
    std::string_view body = v.substr(1, v.size() - 2);
    if (body.find('\\') == std::string_view::npos) return std::string(body);
    return record::UnescapeJsonStringBody(body, key);
  }

  // An integer; doubles with no fraction count ("3.0", "1e3").
  static Result<int64_t> AsInteger(std::string_view v, std::string_view key) {
    if (v.empty() || !(v[0] == '-' || (v[0] >= '0' && v[0] <= '9'))) {
      return InvalidField(key,
                          "expected a number, got " + std::string(TypeName(v)));
    }
    int64_t n = 0;
    auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec == std::errc() && ptr == v.data() + v.size()) return n;
    const std::string token(v);
    const double d = std::strtod(token.c_str(), nullptr);
    if (!std::isfinite(d)) {
      return InvalidField(key, "not a finite number (" + token + ")");
    }
    if (d != std::floor(d) || std::fabs(d) > 9.007199254740992e15) {
      return InvalidField(key, "not a whole number (" + token + ")");
    }
    return static_cast<int64_t>(d);
  }

  Result<std::optional<int64_t>> OptInteger(std::string_view key) const {
    std::optional<std::string_view> v = Raw(key);
    if (!v) return std::optional<int64_t>();
    ACPSTORE_ASSIGN_OR_RETURN(int64_t n, AsInteger(*v, key));
    return std::optional<int64_t>(n);
  }

  // Session times are epoch milliseconds, every other time ISO-8601; each
  // kind also accepts the other (docs/aegis_format.md).
  Result<std::optional<TimestampMs>> OptTime(std::string_view key) const {
    std::optional<std::string_view> v = Raw(key);
    if (!v) return std::optional<TimestampMs>();
    TimestampMs ms = 0;
    if ((*v)[0] == '"') {
      ACPSTORE_ASSIGN_OR_RETURN(std::string text, AsString(*v, key));
      std::optional<TimestampMs> parsed = base::ParseIso8601(text);
      if (!parsed) {
        return InvalidField(key, "not an ISO-8601 time: \"" +
                                     record::QuoteForMessage(text) + "\"");
      }
      ms = *parsed;
    } else {
      Result<int64_t> n = AsInteger(*v, key);
      if (!n.ok()) {
        return InvalidField(
            key, "not a time: " +
                     std::string(n.error().message()).substr(key.size() + 2));
      }
      ms = *n;
    }
    if (ms < 0 || ms > kMaxTimestamp) {
      return InvalidField(key,
                          "must be between 1970-01-01T00:00:00.000Z and "
                          "9999-12-31T23:59:59.999Z");
    }
    return std::optional<TimestampMs>(ms);
  }
  Result<TimestampMs> Time(std::string_view key) const {
    ACPSTORE_ASSIGN_OR_RETURN(std::optional<TimestampMs> t, OptTime(key));
    if (!t) return InvalidField(key, "missing");
    return *t;
  }

  // A metadata map as raw JSON text (canonicalised by the validators).
  Result<std::optional<std::string>> OptObjectText(std::string_view key) const {
    std::optional<std::string_view> v = Raw(key);
    if (!v) return std::optional<std::string>();
    if ((*v)[0] != '{') {
      return InvalidField(
          key, "expected an object, got " + std::string(TypeName(*v)));
    }
    return std::optional<std::string>(std::string(*v));
  }

 private:
  const RawRecord& r_;
};

Status CheckRecord(const RawRecord& r) {
  if (r.bad_group) {
    return Status::InvalidArgument("expected an array of events");
  }
  if (r.too_large) {
    return Status::InvalidArgument(
        "the record is too large (its payload can be at most "
        "--max-payload-bytes)");
  }
  if (!r.is_object) return Status::InvalidArgument("not an object");
  if (r.duplicate_key) {
    return InvalidField(*r.duplicate_key, "appears twice in the record");
  }
  return Status::OK();
}

// The record's id: its field, else the member name it was stored under.
Result<std::string> IdOf(const Fields& f, const RawRecord& r,
                         std::string_view key, std::string_view alias,
                         const Limits& limits) {
  ACPSTORE_ASSIGN_OR_RETURN(std::optional<std::string> id, f.OptString(key));
  if (!id && !alias.empty()) {
    ACPSTORE_ASSIGN_OR_RETURN(id, f.OptString(alias));
  }
  if (!id && r.map_key && r.collection != Collection::kEvents) id = r.map_key;
  if (!id) return InvalidField(key, "missing");
  if (r.map_key && r.collection != Collection::kEvents && *id != *r.map_key) {
    return InvalidField(key, "differs from the key it is stored under");
  }
  ACPSTORE_RETURN_IF_ERROR(record::CheckId(*id, key, limits.max_id_bytes));
  return std::move(*id);
}

Status CheckOptId(const std::optional<std::string>& v, std::string_view key,
                  const Limits& limits) {
  return v ? record::CheckId(*v, key, limits.max_id_bytes) : Status::OK();
}

// tenantId / ownerKeyId of a record that belongs to a session: optional.
Status ScopeOf(const Fields& f, const Limits& limits, std::string* tenant,
               std::string* owner) {
  ACPSTORE_ASSIGN_OR_RETURN(std::optional<std::string> t,
                            f.OptString("tenantId"));
  ACPSTORE_ASSIGN_OR_RETURN(std::optional<std::string> o,
                            f.OptString("ownerKeyId"));
  ACPSTORE_RETURN_IF_ERROR(CheckOptId(t, "tenantId", limits));
  ACPSTORE_RETURN_IF_ERROR(CheckOptId(o, "ownerKeyId", limits));
  *tenant = t.value_or("");
  *owner = o.value_or("");
  return Status::OK();
}

Result<std::vector<ValidationWarning>> Warnings(std::string_view text) {
  // [{"code":"..","message":".."},...] in compact form; parsed by hand to
  // keep Boost's DOM out of the hot path.
  std::vector<ValidationWarning> out;
  constexpr std::string_view kField = "validationWarnings";
  if (text.empty() || text[0] != '[') {
    return InvalidField(
        kField, "expected an array, got " + std::string(TypeName(text)));
  }
  size_t i = 1;
  auto read_string = [&](std::string* dst) -> bool {
    if (i >= text.size() || text[i] != '"') return false;
    size_t j = i + 1;
    while (j < text.size() && text[j] != '"') j += text[j] == '\\' ? 2 : 1;
    if (j >= text.size()) return false;
    Result<std::string> v =
        record::UnescapeJsonStringBody(text.substr(i + 1, j - i - 1), kField);
    if (!v.ok()) return false;
    *dst = std::move(*v);
    i = j + 1;
    return true;
  };
  while (i < text.size() && text[i] != ']') {
    const size_t index = out.size();
    const std::string item = record::IndexField(kField, index);
    if (text[i] != '{') return InvalidField(item, "expected an object");
    ++i;
    ValidationWarning w;
    bool have_code = false;
    while (i < text.size() && text[i] != '}') {
      std::string key, value;
      if (!read_string(&key) || i >= text.size() || text[i] != ':') {
        return InvalidField(item, "malformed");
      }
      ++i;
      if (!read_string(&value)) {
        return InvalidField(record::JoinField(item, key), "expected a string");
      }
      if (key == "code") {
        w.code = std::move(value);
        have_code = true;
      } else if (key == "message") {
        w.message = std::move(value);
      }
      if (i < text.size() && text[i] == ',') ++i;
    }
    if (!have_code)
      return InvalidField(record::JoinField(item, "code"), "missing");
    out.push_back(std::move(w));
    ++i;  // '}'
    if (i < text.size() && text[i] == ',') ++i;
  }
  return out;
}

}  // namespace

Result<MappedSession> MapSession(const RawRecord& r, const Limits& limits) {
  ACPSTORE_RETURN_IF_ERROR(CheckRecord(r));
  Fields f(r);
  MappedSession out;
  Session& s = out.session;
  ACPSTORE_ASSIGN_OR_RETURN(s.id, IdOf(f, r, "id", "sessionId", limits));
  ACPSTORE_ASSIGN_OR_RETURN(s.tenant_id, f.String("tenantId"));
  ACPSTORE_RETURN_IF_ERROR(
      record::CheckId(s.tenant_id, "tenantId", limits.max_id_bytes));
  ACPSTORE_ASSIGN_OR_RETURN(s.owner_key_id, f.String("ownerKeyId"));
  ACPSTORE_RETURN_IF_ERROR(
      record::CheckId(s.owner_key_id, "ownerKeyId", limits.max_id_bytes));
  ACPSTORE_ASSIGN_OR_RETURN(std::optional<std::string> conversation,
                            f.OptString("conversationId"));
  ACPSTORE_ASSIGN_OR_RETURN(std::optional<std::string> transcript,
                            f.OptString("transcriptId"));
  ACPSTORE_RETURN_IF_ERROR(CheckOptId(conversation, "conversationId", limits));
  ACPSTORE_RETURN_IF_ERROR(CheckOptId(transcript, "transcriptId", limits));
  // Older files predate these ids; acpstore always has them.
  s.conversation_id = conversation ? *conversation : base::NewUuidV4();
  s.transcript_id = transcript ? *transcript : base::NewUuidV4();

  NewSession check;  // the create-time rules, reused
  ACPSTORE_ASSIGN_OR_RETURN(check.parent_session_id,
                            f.OptString("parentSessionId"));
  ACPSTORE_ASSIGN_OR_RETURN(check.root_session_id,
                            f.OptString("rootSessionId"));
  ACPSTORE_ASSIGN_OR_RETURN(check.correlation_id, f.OptString("correlationId"));
  ACPSTORE_ASSIGN_OR_RETURN(check.resume_from_session_id,
                            f.OptString("resumeFromSessionId"));
  ACPSTORE_ASSIGN_OR_RETURN(check.acp_agent_session_id,
                            f.OptString("acpAgentSessionId"));
  ACPSTORE_ASSIGN_OR_RETURN(check.claude_session_id,
                            f.OptString("claudeSessionId"));
  ACPSTORE_ASSIGN_OR_RETURN(check.current_backend_run_id,
                            f.OptString("currentBackendRunId"));
  ACPSTORE_ASSIGN_OR_RETURN(check.backend_metadata,
                            f.OptObjectText("backendMetadata"));
  if (std::optional<std::string_view> w = f.Raw("validationWarnings")) {
    ACPSTORE_ASSIGN_OR_RETURN(check.validation_warnings, Warnings(*w));
  }
  ACPSTORE_RETURN_IF_ERROR(record::ValidateNewSession(&check, limits));
  s.parent_session_id = std::move(check.parent_session_id);
  s.root_session_id = std::move(check.root_session_id);
  s.correlation_id = std::move(check.correlation_id);
  s.resume_from_session_id = std::move(check.resume_from_session_id);
  s.acp_agent_session_id = std::move(check.acp_agent_session_id);
  s.claude_session_id = std::move(check.claude_session_id);
  s.current_backend_run_id = std::move(check.current_backend_run_id);
  s.backend_metadata = std::move(check.backend_metadata);
  s.validation_warnings = std::move(check.validation_warnings);

  ACPSTORE_ASSIGN_OR_RETURN(std::string status, f.String("status"));
  std::optional<SessionStatus> st = ParseSessionStatus(status);
  if (!st) {
    return InvalidField(
        "status", "unknown status \"" + record::QuoteForMessage(status) + "\"");
  }
  s.status = *st;
  ACPSTORE_ASSIGN_OR_RETURN(s.created_at, f.Time("createdAt"));
  ACPSTORE_ASSIGN_OR_RETURN(std::optional<TimestampMs> updated,
                            f.OptTime("updatedAt"));
  s.updated_at = updated.value_or(s.created_at);
  ACPSTORE_ASSIGN_OR_RETURN(s.closed_at, f.OptTime("closedAt"));
  ACPSTORE_ASSIGN_OR_RETURN(s.failed_at, f.OptTime("failedAt"));

  std::string_view which;
  if (std::optional<std::string_view> v =
          f.RawAny({"lastEventSeq", "lastSeq", "eventSeq"}, &which)) {
    ACPSTORE_ASSIGN_OR_RETURN(int64_t n, Fields::AsInteger(*v, which));
    if (n < 0) return InvalidField(which, "must not be negative");
    out.last_event_seq = static_cast<EventSeq>(n);
  }
  return out;
}

Result<MappedEvent> MapEvent(const RawRecord& r, const Limits& limits) {
  ACPSTORE_RETURN_IF_ERROR(CheckRecord(r));
  Fields f(r);
  MappedEvent out;
  Event& e = out.event;
  ACPSTORE_ASSIGN_OR_RETURN(std::optional<std::string> session,
                            f.OptString("sessionId"));
  if (session && r.map_key && *session != *r.map_key) {
    return InvalidField("sessionId",
                        "differs from the session key it is stored under");
  }
  if (!session) session = r.map_key;
  if (!session) return InvalidField("sessionId", "missing");
  ACPSTORE_RETURN_IF_ERROR(
      record::CheckId(*session, "sessionId", limits.max_id_bytes));
  e.session_id = std::move(*session);
  ACPSTORE_RETURN_IF_ERROR(ScopeOf(f, limits, &e.tenant_id, &e.owner_key_id));

  std::string_view which;
  std::optional<std::string_view> seq = f.RawAny({"eventSeq", "seq"}, &which);
  if (!seq) return InvalidField("eventSeq", "missing");
  ACPSTORE_ASSIGN_OR_RETURN(int64_t n, Fields::AsInteger(*seq, which));
  if (n < 1) return InvalidField(which, "must be at least 1");
  e.seq = static_cast<EventSeq>(n);
  ACPSTORE_ASSIGN_OR_RETURN(out.event_id, f.OptString("eventId"));

  NewEvent check;
  std::optional<std::string_view> type =
      f.RawAny({"eventType", "type"}, &which);
  if (!type) return InvalidField("eventType", "missing");
  ACPSTORE_ASSIGN_OR_RETURN(check.event_type, Fields::AsString(*type, which));
  std::optional<std::string_view> payload = r.Get("payload");
  if (!payload) return InvalidField("payload", "missing");
  check.payload = std::string(*payload);
  ACPSTORE_ASSIGN_OR_RETURN(check.client_event_id,
                            f.OptString("clientEventId"));
  ACPSTORE_ASSIGN_OR_RETURN(check.backend_run_id, f.OptString("backendRunId"));
  ACPSTORE_ASSIGN_OR_RETURN(check.payload_ref, f.OptString("payloadRef"));
  ACPSTORE_ASSIGN_OR_RETURN(std::optional<TimestampMs> occurred,
                            f.OptTime("occurredAt"));
  ACPSTORE_ASSIGN_OR_RETURN(std::optional<TimestampMs> ingested,
                            f.OptTime("ingestedAt"));
  if (!occurred && !ingested) {
    return InvalidField("occurredAt", "missing (and so is ingestedAt)");
  }
  check.occurred_at = occurred ? occurred : ingested;
  ACPSTORE_RETURN_IF_ERROR(record::ValidateNewEvent(&check, limits));
  e.event_type = std::move(check.event_type);
  e.payload = std::move(check.payload);
  e.client_event_id = std::move(check.client_event_id);
  e.backend_run_id = std::move(check.backend_run_id);
  e.payload_ref = std::move(check.payload_ref);
  e.occurred_at = *check.occurred_at;
  e.ingested_at = ingested.value_or(e.occurred_at);
  return out;
}

Result<MappedAction> MapAction(const RawRecord& r, const Limits& limits) {
  ACPSTORE_RETURN_IF_ERROR(CheckRecord(r));
  Fields f(r);
  MappedAction out;
  Action& a = out.action;
  ACPSTORE_ASSIGN_OR_RETURN(a.action_id, IdOf(f, r, "actionId", "id", limits));
  ACPSTORE_RETURN_IF_ERROR(ScopeOf(f, limits, &a.tenant_id, &a.owner_key_id));
  NewAction check;
  ACPSTORE_ASSIGN_OR_RETURN(check.session_id, f.String("sessionId"));
  ACPSTORE_ASSIGN_OR_RETURN(check.idempotency_key,
                            f.OptString("idempotencyKey"));
  ACPSTORE_ASSIGN_OR_RETURN(check.approval_id, f.OptString("approvalId"));
  ACPSTORE_ASSIGN_OR_RETURN(check.control_request_id,
                            f.OptString("controlRequestId"));
  ACPSTORE_ASSIGN_OR_RETURN(check.metadata, f.OptObjectText("metadata"));
  ACPSTORE_ASSIGN_OR_RETURN(check.available_at, f.OptTime("availableAt"));
  ACPSTORE_RETURN_IF_ERROR(record::ValidateNewAction(&check, limits));
  a.session_id = std::move(check.session_id);
  a.idempotency_key = std::move(check.idempotency_key);
  a.approval_id = std::move(check.approval_id);
  a.control_request_id = std::move(check.control_request_id);
  a.metadata = std::move(check.metadata);

  ACPSTORE_ASSIGN_OR_RETURN(std::string type, f.String("type"));
  std::optional<ActionType> t = ParseActionType(type);
  if (!t) {
    return InvalidField("type", "unknown action type \"" +
                                    record::QuoteForMessage(type) + "\"");
  }
  a.type = *t;
  ACPSTORE_ASSIGN_OR_RETURN(std::string status, f.String("status"));
  std::optional<ActionStatus> st = ParseActionStatus(status);
  if (!st) {
    return InvalidField(
        "status", "unknown status \"" + record::QuoteForMessage(status) + "\"");
  }
  a.status = *st;
  ACPSTORE_ASSIGN_OR_RETURN(a.created_at, f.Time("createdAt"));
  a.available_at = check.available_at.value_or(a.created_at);
  ACPSTORE_ASSIGN_OR_RETURN(std::optional<TimestampMs> updated,
                            f.OptTime("updatedAt"));
  a.updated_at = updated.value_or(a.created_at);
  ACPSTORE_ASSIGN_OR_RETURN(a.leased_until, f.OptTime("leasedUntil"));
  if (a.status == ActionStatus::kLeased && !a.leased_until) {
    return InvalidField("leasedUntil", "missing on a leased action");
  }
  if (a.status != ActionStatus::kLeased) a.leased_until.reset();
  ACPSTORE_ASSIGN_OR_RETURN(std::optional<int64_t> attempts,
                            f.OptInteger("attemptCount"));
  if (attempts && (*attempts < 0 || *attempts > 1000000)) {
    return InvalidField("attemptCount", "must be between 0 and 1000000");
  }
  a.attempt_count = static_cast<uint32_t>(attempts.value_or(0));
  ACPSTORE_ASSIGN_OR_RETURN(std::optional<std::string> token,
                            f.OptString("leaseToken"));
  if (token && a.status == ActionStatus::kLeased) {
    ACPSTORE_RETURN_IF_ERROR(
        record::CheckId(*token, "leaseToken", limits.max_id_bytes));
    a.lease_token = std::move(*token);
  }
  ACPSTORE_ASSIGN_OR_RETURN(a.result_metadata,
                            f.OptObjectText("resultMetadata"));
  ACPSTORE_RETURN_IF_ERROR(record::ValidateOptionalMetadata(
      &a.result_metadata, limits, "resultMetadata"));
  ACPSTORE_ASSIGN_OR_RETURN(a.error_metadata, f.OptObjectText("errorMetadata"));
  ACPSTORE_RETURN_IF_ERROR(record::ValidateOptionalMetadata(
      &a.error_metadata, limits, "errorMetadata"));
  ACPSTORE_ASSIGN_OR_RETURN(a.completed_at, f.OptTime("completedAt"));
  ACPSTORE_ASSIGN_OR_RETURN(a.failed_at, f.OptTime("failedAt"));
  ACPSTORE_ASSIGN_OR_RETURN(a.cancelled_at, f.OptTime("cancelledAt"));
  return out;
}

Result<MappedPause> MapPause(const RawRecord& r, const Limits& limits) {
  ACPSTORE_RETURN_IF_ERROR(CheckRecord(r));
  Fields f(r);
  MappedPause out;
  Pause& p = out.pause;
  ACPSTORE_ASSIGN_OR_RETURN(p.pause_id, IdOf(f, r, "pauseId", "id", limits));
  ACPSTORE_RETURN_IF_ERROR(ScopeOf(f, limits, &p.tenant_id, &p.owner_key_id));
  ACPSTORE_ASSIGN_OR_RETURN(p.session_id, f.String("sessionId"));
  ACPSTORE_RETURN_IF_ERROR(
      record::CheckId(p.session_id, "sessionId", limits.max_id_bytes));
  ACPSTORE_ASSIGN_OR_RETURN(std::string status, f.String("status"));
  std::optional<PauseStatus> st = ParsePauseStatus(status);
  if (!st) {
    return InvalidField(
        "status", "unknown status \"" + record::QuoteForMessage(status) + "\"");
  }
  p.status = *st;
  PauseRequest check;
  ACPSTORE_ASSIGN_OR_RETURN(check.reason, f.String("reason"));
  ACPSTORE_ASSIGN_OR_RETURN(check.requested_by, f.String("requestedBy"));
  ACPSTORE_ASSIGN_OR_RETURN(check.idempotency_key,
                            f.OptString("idempotencyKey"));
  ACPSTORE_ASSIGN_OR_RETURN(check.metadata, f.OptObjectText("metadata"));
  ACPSTORE_RETURN_IF_ERROR(record::ValidatePauseRequest(&check, limits));
  p.reason = std::move(check.reason);
  p.requested_by = std::move(check.requested_by);
  p.idempotency_key = std::move(check.idempotency_key);
  p.metadata = std::move(check.metadata);
  ACPSTORE_ASSIGN_OR_RETURN(p.requested_at, f.Time("requestedAt"));

  ACPSTORE_ASSIGN_OR_RETURN(p.intervention_id, f.OptString("interventionId"));
  ACPSTORE_ASSIGN_OR_RETURN(p.intervention_by, f.OptString("interventionBy"));
  ACPSTORE_ASSIGN_OR_RETURN(p.intervention_completed_by,
                            f.OptString("interventionCompletedBy"));
  ACPSTORE_ASSIGN_OR_RETURN(p.resume_id, f.OptString("resumeId"));
  ACPSTORE_ASSIGN_OR_RETURN(p.resumed_by, f.OptString("resumedBy"));
  ACPSTORE_RETURN_IF_ERROR(
      CheckOptId(p.intervention_id, "interventionId", limits));
  ACPSTORE_RETURN_IF_ERROR(
      CheckOptId(p.intervention_by, "interventionBy", limits));
  ACPSTORE_RETURN_IF_ERROR(CheckOptId(p.intervention_completed_by,
                                      "interventionCompletedBy", limits));
  ACPSTORE_RETURN_IF_ERROR(CheckOptId(p.resume_id, "resumeId", limits));
  ACPSTORE_RETURN_IF_ERROR(CheckOptId(p.resumed_by, "resumedBy", limits));
  ACPSTORE_ASSIGN_OR_RETURN(p.guidance, f.OptString("guidance"));
  if (p.guidance) {
    ACPSTORE_RETURN_IF_ERROR(record::CheckText(*p.guidance, "guidance",
                                               limits.max_guidance_bytes,
                                               /*allow_empty=*/true));
  }
  ACPSTORE_ASSIGN_OR_RETURN(p.resume_metadata,
                            f.OptObjectText("resumeMetadata"));
  ACPSTORE_RETURN_IF_ERROR(record::ValidateOptionalMetadata(
      &p.resume_metadata, limits, "resumeMetadata"));
  ACPSTORE_ASSIGN_OR_RETURN(p.intervention_started_at,
                            f.OptTime("interventionStartedAt"));
  ACPSTORE_ASSIGN_OR_RETURN(p.intervention_completed_at,
                            f.OptTime("interventionCompletedAt"));
  ACPSTORE_ASSIGN_OR_RETURN(p.resumed_at, f.OptTime("resumedAt"));
  ACPSTORE_ASSIGN_OR_RETURN(std::optional<TimestampMs> updated,
                            f.OptTime("updatedAt"));
  p.updated_at = updated.value_or(p.requested_at);
  if (p.status == PauseStatus::kIntervening && !p.intervention_id) {
    return InvalidField("interventionId", "missing on an intervening pause");
  }
  return out;
}

}  // namespace acpstore::aegis
