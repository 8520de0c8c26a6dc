// Record encodings. Grammar: docs/mutation_format.md. Fields are written in
// the order the grammar lists them; an optional field is written only when
// its presence bit is set.

#include "record/record_codec.h"

#include <array>
#include <optional>
#include <string>
#include <utility>

#include "base/coding.h"
#include "base/format_version.h"
#include "record/mutation_format.h"

namespace acpstore::record {
namespace {

namespace f = format;

// ------------------------------------------------------------ enum codes

template <typename Enum, size_t N>
using CodeTable = std::array<std::pair<Enum, uint8_t>, N>;

constexpr CodeTable<SessionStatus, 8> kSessionStatusCodes = {{
    {SessionStatus::kInitializing, f::session_status::kInitializing},
    {SessionStatus::kIdle, f::session_status::kIdle},
    {SessionStatus::kRunning, f::session_status::kRunning},
    {SessionStatus::kPaused, f::session_status::kPaused},
    {SessionStatus::kIntervening, f::session_status::kIntervening},
    {SessionStatus::kClosing, f::session_status::kClosing},
    {SessionStatus::kClosed, f::session_status::kClosed},
    {SessionStatus::kFailed, f::session_status::kFailed},
}};
constexpr CodeTable<ActionType, 9> kActionTypeCodes = {{
    {ActionType::kPrompt, f::action_type::kPrompt},
    {ActionType::kApprove, f::action_type::kApprove},
    {ActionType::kReject, f::action_type::kReject},
    {ActionType::kPause, f::action_type::kPause},
    {ActionType::kResume, f::action_type::kResume},
    {ActionType::kCancel, f::action_type::kCancel},
    {ActionType::kDriverTransfer, f::action_type::kDriverTransfer},
    {ActionType::kIntervene, f::action_type::kIntervene},
    {ActionType::kClose, f::action_type::kClose},
}};
constexpr CodeTable<ActionStatus, 5> kActionStatusCodes = {{
    {ActionStatus::kQueued, f::action_status::kQueued},
    {ActionStatus::kLeased, f::action_status::kLeased},
    {ActionStatus::kCompleted, f::action_status::kCompleted},
    {ActionStatus::kFailed, f::action_status::kFailed},
    {ActionStatus::kCancelled, f::action_status::kCancelled},
}};
constexpr CodeTable<PauseStatus, 3> kPauseStatusCodes = {{
    {PauseStatus::kPaused, f::pause_status::kPaused},
    {PauseStatus::kIntervening, f::pause_status::kIntervening},
    {PauseStatus::kResumed, f::pause_status::kResumed},
}};
// A new enumerator must get a code before it can be stored.
static_assert(static_cast<size_t>(SessionStatus::kFailed) + 1 ==
              kSessionStatusCodes.size());
static_assert(static_cast<size_t>(ActionType::kClose) + 1 ==
              kActionTypeCodes.size());
static_assert(static_cast<size_t>(ActionStatus::kCancelled) + 1 ==
              kActionStatusCodes.size());
static_assert(static_cast<size_t>(PauseStatus::kResumed) + 1 ==
              kPauseStatusCodes.size());

template <typename Enum, size_t N>
uint8_t ToCode(const CodeTable<Enum, N>& table, Enum value) {
  for (const auto& [e, code] : table) {
    if (e == value) return code;
  }
  return 0xff;  // unreachable for a valid enumerator; decodes as corruption
}

template <typename Enum, size_t N>
Status ReadEnum(ByteReader* in, std::string_view what,
                const CodeTable<Enum, N>& table, Enum* out) {
  uint8_t code = 0;
  ACPSTORE_RETURN_IF_ERROR(in->U8(what, &code));
  for (const auto& [e, c] : table) {
    if (c == code) {
      *out = e;
      return Status::OK();
    }
  }
  return in->Corrupt(std::string(what) + ": unknown code " +
                     std::to_string(code));
}

// --------------------------------------------------------------- helpers

void PutString(std::string* dst, std::string_view s) {
  base::PutLengthPrefixed(dst, s);
}
void PutInt64(std::string* dst, int64_t v) {
  base::PutVarint64(dst, static_cast<uint64_t>(v));
}
void PutOpt(std::string* dst, const std::optional<std::string>& s) {
  if (s) PutString(dst, *s);
}
void PutOpt(std::string* dst, const std::optional<int64_t>& v) {
  if (v) PutInt64(dst, *v);
}
template <typename T>
uint32_t Bit(const std::optional<T>& field, uint32_t bit) {
  return field.has_value() ? bit : 0;
}

// Version byte and presence bitmap, checked against what this build knows.
Status ReadPrologue(ByteReader* in, std::string_view record,
                    uint8_t current_version, uint32_t known_bits,
                    uint32_t* presence) {
  uint8_t version = 0;
  ACPSTORE_RETURN_IF_ERROR(in->U8(std::string(record) + " version", &version));
  if (version > current_version) {
    return NewerFormat(std::string(record) + " encoding at offset " +
                           std::to_string(in->offset() - 1),
                       version, current_version);
  }
  if (version == 0) return in->Corrupt(std::string(record) + ": version 0");
  ACPSTORE_RETURN_IF_ERROR(
      in->Varint32(std::string(record) + " presence", presence));
  if ((*presence & ~known_bits) != 0) {
    return in->Corrupt(std::string(record) + ": unknown presence bits " +
                       std::to_string(*presence & ~known_bits));
  }
  return Status::OK();
}

// Runs a ByteReader decoder over *input; advances it only on success.
template <typename T>
Status DecodeWhole(std::string_view* input, T* out,
                   Status (*decode)(ByteReader*, T*)) {
  ByteReader in(*input);
  ACPSTORE_RETURN_IF_ERROR(decode(&in, out));
  *input = in.rest();
  return Status::OK();
}

}  // namespace

// ---------------------------------------------------------------- session

void EncodeSession(const Session& s, std::string* dst) {
  namespace b = f::session_bit;
  dst->push_back(static_cast<char>(f::kSessionVersion));
  base::PutVarint32(
      dst, Bit(s.parent_session_id, b::kParentSessionId) |
               Bit(s.root_session_id, b::kRootSessionId) |
               Bit(s.correlation_id, b::kCorrelationId) |
               Bit(s.resume_from_session_id, b::kResumeFromSessionId) |
               Bit(s.acp_agent_session_id, b::kAcpAgentSessionId) |
               Bit(s.claude_session_id, b::kClaudeSessionId) |
               Bit(s.current_backend_run_id, b::kCurrentBackendRunId) |
               Bit(s.closed_at, b::kClosedAt) | Bit(s.failed_at, b::kFailedAt) |
               Bit(s.backend_metadata, b::kBackendMetadata));
  PutString(dst, s.id);
  PutString(dst, s.tenant_id);
  PutString(dst, s.owner_key_id);
  PutString(dst, s.conversation_id);
  PutString(dst, s.transcript_id);
  PutOpt(dst, s.parent_session_id);
  PutOpt(dst, s.root_session_id);
  PutOpt(dst, s.correlation_id);
  PutOpt(dst, s.resume_from_session_id);
  PutOpt(dst, s.acp_agent_session_id);
  PutOpt(dst, s.claude_session_id);
  PutOpt(dst, s.current_backend_run_id);
  dst->push_back(static_cast<char>(ToCode(kSessionStatusCodes, s.status)));
  PutInt64(dst, s.created_at);
  PutInt64(dst, s.updated_at);
  PutOpt(dst, s.closed_at);
  PutOpt(dst, s.failed_at);
  PutOpt(dst, s.backend_metadata);
  base::PutVarint32(dst, static_cast<uint32_t>(s.validation_warnings.size()));
  for (const ValidationWarning& w : s.validation_warnings) {
    PutString(dst, w.code);
    PutString(dst, w.message);
  }
}

Status DecodeSession(ByteReader* in, Session* out) {
  namespace b = f::session_bit;
  Session s;
  uint32_t p = 0;
  ACPSTORE_RETURN_IF_ERROR(
      ReadPrologue(in, "session", f::kSessionVersion, b::kAll, &p));
  ACPSTORE_RETURN_IF_ERROR(in->String("session.id", &s.id));
  ACPSTORE_RETURN_IF_ERROR(in->String("session.tenant_id", &s.tenant_id));
  ACPSTORE_RETURN_IF_ERROR(in->String("session.owner_key_id", &s.owner_key_id));
  ACPSTORE_RETURN_IF_ERROR(
      in->String("session.conversation_id", &s.conversation_id));
  ACPSTORE_RETURN_IF_ERROR(
      in->String("session.transcript_id", &s.transcript_id));
  ACPSTORE_RETURN_IF_ERROR(in->OptString("session.parent_session_id", p,
                                         b::kParentSessionId,
                                         &s.parent_session_id));
  ACPSTORE_RETURN_IF_ERROR(in->OptString(
      "session.root_session_id", p, b::kRootSessionId, &s.root_session_id));
  ACPSTORE_RETURN_IF_ERROR(in->OptString("session.correlation_id", p,
                                         b::kCorrelationId, &s.correlation_id));
  ACPSTORE_RETURN_IF_ERROR(in->OptString("session.resume_from_session_id", p,
                                         b::kResumeFromSessionId,
                                         &s.resume_from_session_id));
  ACPSTORE_RETURN_IF_ERROR(in->OptString("session.acp_agent_session_id", p,
                                         b::kAcpAgentSessionId,
                                         &s.acp_agent_session_id));
  ACPSTORE_RETURN_IF_ERROR(in->OptString("session.claude_session_id", p,
                                         b::kClaudeSessionId,
                                         &s.claude_session_id));
  ACPSTORE_RETURN_IF_ERROR(in->OptString("session.current_backend_run_id", p,
                                         b::kCurrentBackendRunId,
                                         &s.current_backend_run_id));
  ACPSTORE_RETURN_IF_ERROR(
      ReadEnum(in, "session.status", kSessionStatusCodes, &s.status));
  ACPSTORE_RETURN_IF_ERROR(in->Int64("session.created_at", &s.created_at));
  ACPSTORE_RETURN_IF_ERROR(in->Int64("session.updated_at", &s.updated_at));
  ACPSTORE_RETURN_IF_ERROR(
      in->OptInt64("session.closed_at", p, b::kClosedAt, &s.closed_at));
  ACPSTORE_RETURN_IF_ERROR(
      in->OptInt64("session.failed_at", p, b::kFailedAt, &s.failed_at));
  ACPSTORE_RETURN_IF_ERROR(in->OptString(
      "session.backend_metadata", p, b::kBackendMetadata, &s.backend_metadata));
  uint32_t warnings = 0;
  ACPSTORE_RETURN_IF_ERROR(
      in->Varint32("session.validation_warnings count", &warnings));
  // Each warning takes at least two bytes: refuse a count the input cannot
  // hold before reserving memory for it.
  if (warnings > in->rest().size() / 2) {
    return in->Corrupt("session.validation_warnings: count " +
                       std::to_string(warnings) + " runs past the end");
  }
  s.validation_warnings.resize(warnings);
  for (ValidationWarning& w : s.validation_warnings) {
    ACPSTORE_RETURN_IF_ERROR(
        in->String("session.validation_warnings.code", &w.code));
    ACPSTORE_RETURN_IF_ERROR(
        in->String("session.validation_warnings.message", &w.message));
  }
  *out = std::move(s);
  return Status::OK();
}

// ------------------------------------------------------------------ event

void EncodeEvent(const Event& e, std::string* dst) {
  EncodeEventHead(e, dst);
  PutString(dst, e.payload);
}

void EncodeEventHead(const Event& e, std::string* dst) {
  namespace b = f::event_bit;
  dst->push_back(static_cast<char>(f::kEventVersion));
  base::PutVarint32(dst, Bit(e.client_event_id, b::kClientEventId) |
                             Bit(e.backend_run_id, b::kBackendRunId) |
                             Bit(e.payload_ref, b::kPayloadRef));
  PutString(dst, e.session_id);
  PutString(dst, e.tenant_id);
  PutString(dst, e.owner_key_id);
  base::PutVarint64(dst, e.seq);
  PutOpt(dst, e.client_event_id);
  PutString(dst, e.event_type);
  PutInt64(dst, e.occurred_at);
  PutInt64(dst, e.ingested_at);
  PutOpt(dst, e.backend_run_id);
  PutOpt(dst, e.payload_ref);
}

Status DecodeEvent(ByteReader* in, Event* out) {
  namespace b = f::event_bit;
  Event e;
  uint32_t p = 0;
  ACPSTORE_RETURN_IF_ERROR(
      ReadPrologue(in, "event", f::kEventVersion, b::kAll, &p));
  ACPSTORE_RETURN_IF_ERROR(in->String("event.session_id", &e.session_id));
  ACPSTORE_RETURN_IF_ERROR(in->String("event.tenant_id", &e.tenant_id));
  ACPSTORE_RETURN_IF_ERROR(in->String("event.owner_key_id", &e.owner_key_id));
  ACPSTORE_RETURN_IF_ERROR(in->Varint64("event.seq", &e.seq));
  ACPSTORE_RETURN_IF_ERROR(in->OptString(
      "event.client_event_id", p, b::kClientEventId, &e.client_event_id));
  ACPSTORE_RETURN_IF_ERROR(in->String("event.event_type", &e.event_type));
  ACPSTORE_RETURN_IF_ERROR(in->Int64("event.occurred_at", &e.occurred_at));
  ACPSTORE_RETURN_IF_ERROR(in->Int64("event.ingested_at", &e.ingested_at));
  ACPSTORE_RETURN_IF_ERROR(in->OptString("event.backend_run_id", p,
                                         b::kBackendRunId, &e.backend_run_id));
  ACPSTORE_RETURN_IF_ERROR(
      in->OptString("event.payload_ref", p, b::kPayloadRef, &e.payload_ref));
  ACPSTORE_RETURN_IF_ERROR(in->String("event.payload", &e.payload));
  *out = std::move(e);
  return Status::OK();
}

// ----------------------------------------------------------------- action

void EncodeAction(const Action& a, std::string* dst) {
  namespace b = f::action_bit;
  dst->push_back(static_cast<char>(f::kActionVersion));
  base::PutVarint32(dst, Bit(a.idempotency_key, b::kIdempotencyKey) |
                             Bit(a.approval_id, b::kApprovalId) |
                             Bit(a.control_request_id, b::kControlRequestId) |
                             Bit(a.leased_until, b::kLeasedUntil) |
                             Bit(a.metadata, b::kMetadata) |
                             Bit(a.result_metadata, b::kResultMetadata) |
                             Bit(a.error_metadata, b::kErrorMetadata) |
                             Bit(a.completed_at, b::kCompletedAt) |
                             Bit(a.failed_at, b::kFailedAt) |
                             Bit(a.cancelled_at, b::kCancelledAt));
  PutString(dst, a.action_id);
  PutString(dst, a.session_id);
  PutString(dst, a.tenant_id);
  PutString(dst, a.owner_key_id);
  dst->push_back(static_cast<char>(ToCode(kActionTypeCodes, a.type)));
  PutOpt(dst, a.idempotency_key);
  PutOpt(dst, a.approval_id);
  PutOpt(dst, a.control_request_id);
  dst->push_back(static_cast<char>(ToCode(kActionStatusCodes, a.status)));
  PutInt64(dst, a.created_at);
  PutInt64(dst, a.available_at);
  PutInt64(dst, a.updated_at);
  PutOpt(dst, a.leased_until);
  base::PutVarint32(dst, a.attempt_count);
  PutString(dst, a.lease_token);
  PutOpt(dst, a.metadata);
  PutOpt(dst, a.result_metadata);
  PutOpt(dst, a.error_metadata);
  PutOpt(dst, a.completed_at);
  PutOpt(dst, a.failed_at);
  PutOpt(dst, a.cancelled_at);
}

Status DecodeAction(ByteReader* in, Action* out) {
  namespace b = f::action_bit;
  Action a;
  uint32_t p = 0;
  ACPSTORE_RETURN_IF_ERROR(
      ReadPrologue(in, "action", f::kActionVersion, b::kAll, &p));
  ACPSTORE_RETURN_IF_ERROR(in->String("action.action_id", &a.action_id));
  ACPSTORE_RETURN_IF_ERROR(in->String("action.session_id", &a.session_id));
  ACPSTORE_RETURN_IF_ERROR(in->String("action.tenant_id", &a.tenant_id));
  ACPSTORE_RETURN_IF_ERROR(in->String("action.owner_key_id", &a.owner_key_id));
  ACPSTORE_RETURN_IF_ERROR(
      ReadEnum(in, "action.type", kActionTypeCodes, &a.type));
  ACPSTORE_RETURN_IF_ERROR(in->OptString(
      "action.idempotency_key", p, b::kIdempotencyKey, &a.idempotency_key));
  ACPSTORE_RETURN_IF_ERROR(
      in->OptString("action.approval_id", p, b::kApprovalId, &a.approval_id));
  ACPSTORE_RETURN_IF_ERROR(in->OptString("action.control_request_id", p,
                                         b::kControlRequestId,
                                         &a.control_request_id));
  ACPSTORE_RETURN_IF_ERROR(
      ReadEnum(in, "action.status", kActionStatusCodes, &a.status));
  ACPSTORE_RETURN_IF_ERROR(in->Int64("action.created_at", &a.created_at));
  ACPSTORE_RETURN_IF_ERROR(in->Int64("action.available_at", &a.available_at));
  ACPSTORE_RETURN_IF_ERROR(in->Int64("action.updated_at", &a.updated_at));
  ACPSTORE_RETURN_IF_ERROR(
      in->OptInt64("action.leased_until", p, b::kLeasedUntil, &a.leased_until));
  ACPSTORE_RETURN_IF_ERROR(
      in->Varint32("action.attempt_count", &a.attempt_count));
  ACPSTORE_RETURN_IF_ERROR(in->String("action.lease_token", &a.lease_token));
  ACPSTORE_RETURN_IF_ERROR(
      in->OptString("action.metadata", p, b::kMetadata, &a.metadata));
  ACPSTORE_RETURN_IF_ERROR(in->OptString(
      "action.result_metadata", p, b::kResultMetadata, &a.result_metadata));
  ACPSTORE_RETURN_IF_ERROR(in->OptString("action.error_metadata", p,
                                         b::kErrorMetadata, &a.error_metadata));
  ACPSTORE_RETURN_IF_ERROR(
      in->OptInt64("action.completed_at", p, b::kCompletedAt, &a.completed_at));
  ACPSTORE_RETURN_IF_ERROR(
      in->OptInt64("action.failed_at", p, b::kFailedAt, &a.failed_at));
  ACPSTORE_RETURN_IF_ERROR(
      in->OptInt64("action.cancelled_at", p, b::kCancelledAt, &a.cancelled_at));
  *out = std::move(a);
  return Status::OK();
}

// ------------------------------------------------------------------ pause

void EncodePause(const Pause& x, std::string* dst) {
  namespace b = f::pause_bit;
  dst->push_back(static_cast<char>(f::kPauseVersion));
  base::PutVarint32(
      dst, Bit(x.idempotency_key, b::kIdempotencyKey) |
               Bit(x.metadata, b::kMetadata) |
               Bit(x.intervention_id, b::kInterventionId) |
               Bit(x.intervention_by, b::kInterventionBy) |
               Bit(x.intervention_started_at, b::kInterventionStartedAt) |
               Bit(x.intervention_completed_by, b::kInterventionCompletedBy) |
               Bit(x.intervention_completed_at, b::kInterventionCompletedAt) |
               Bit(x.guidance, b::kGuidance) | Bit(x.resume_id, b::kResumeId) |
               Bit(x.resumed_by, b::kResumedBy) |
               Bit(x.resumed_at, b::kResumedAt) |
               Bit(x.resume_metadata, b::kResumeMetadata) |
               (x.earlier_intervention_ids.empty()
                    ? 0u
                    : b::kEarlierInterventionIds));
  PutString(dst, x.pause_id);
  PutString(dst, x.session_id);
  PutString(dst, x.tenant_id);
  PutString(dst, x.owner_key_id);
  dst->push_back(static_cast<char>(ToCode(kPauseStatusCodes, x.status)));
  PutOpt(dst, x.idempotency_key);
  PutString(dst, x.reason);
  PutString(dst, x.requested_by);
  PutInt64(dst, x.requested_at);
  PutOpt(dst, x.metadata);
  PutOpt(dst, x.intervention_id);
  PutOpt(dst, x.intervention_by);
  PutOpt(dst, x.intervention_started_at);
  PutOpt(dst, x.intervention_completed_by);
  PutOpt(dst, x.intervention_completed_at);
  PutOpt(dst, x.guidance);
  PutOpt(dst, x.resume_id);
  PutOpt(dst, x.resumed_by);
  PutOpt(dst, x.resumed_at);
  PutOpt(dst, x.resume_metadata);
  if (!x.earlier_intervention_ids.empty()) {
    base::PutVarint32(dst,
                      static_cast<uint32_t>(x.earlier_intervention_ids.size()));
    for (const std::string& id : x.earlier_intervention_ids) PutString(dst, id);
  }
  PutInt64(dst, x.updated_at);
}

Status DecodePause(ByteReader* in, Pause* out) {
  namespace b = f::pause_bit;
  Pause x;
  uint32_t p = 0;
  // Version 1 had no bit 12.
  const bool version1 = !in->rest().empty() && in->rest()[0] == 1;
  ACPSTORE_RETURN_IF_ERROR(ReadPrologue(in, "pause", f::kPauseVersion,
                                        version1 ? b::kAllVersion1 : b::kAll,
                                        &p));
  ACPSTORE_RETURN_IF_ERROR(in->String("pause.pause_id", &x.pause_id));
  ACPSTORE_RETURN_IF_ERROR(in->String("pause.session_id", &x.session_id));
  ACPSTORE_RETURN_IF_ERROR(in->String("pause.tenant_id", &x.tenant_id));
  ACPSTORE_RETURN_IF_ERROR(in->String("pause.owner_key_id", &x.owner_key_id));
  ACPSTORE_RETURN_IF_ERROR(
      ReadEnum(in, "pause.status", kPauseStatusCodes, &x.status));
  ACPSTORE_RETURN_IF_ERROR(in->OptString(
      "pause.idempotency_key", p, b::kIdempotencyKey, &x.idempotency_key));
  ACPSTORE_RETURN_IF_ERROR(in->String("pause.reason", &x.reason));
  ACPSTORE_RETURN_IF_ERROR(in->String("pause.requested_by", &x.requested_by));
  ACPSTORE_RETURN_IF_ERROR(in->Int64("pause.requested_at", &x.requested_at));
  ACPSTORE_RETURN_IF_ERROR(
      in->OptString("pause.metadata", p, b::kMetadata, &x.metadata));
  ACPSTORE_RETURN_IF_ERROR(in->OptString(
      "pause.intervention_id", p, b::kInterventionId, &x.intervention_id));
  ACPSTORE_RETURN_IF_ERROR(in->OptString(
      "pause.intervention_by", p, b::kInterventionBy, &x.intervention_by));
  ACPSTORE_RETURN_IF_ERROR(in->OptInt64("pause.intervention_started_at", p,
                                        b::kInterventionStartedAt,
                                        &x.intervention_started_at));
  ACPSTORE_RETURN_IF_ERROR(in->OptString("pause.intervention_completed_by", p,
                                         b::kInterventionCompletedBy,
                                         &x.intervention_completed_by));
  ACPSTORE_RETURN_IF_ERROR(in->OptInt64("pause.intervention_completed_at", p,
                                        b::kInterventionCompletedAt,
                                        &x.intervention_completed_at));
  ACPSTORE_RETURN_IF_ERROR(
      in->OptString("pause.guidance", p, b::kGuidance, &x.guidance));
  ACPSTORE_RETURN_IF_ERROR(
      in->OptString("pause.resume_id", p, b::kResumeId, &x.resume_id));
  ACPSTORE_RETURN_IF_ERROR(
      in->OptString("pause.resumed_by", p, b::kResumedBy, &x.resumed_by));
  ACPSTORE_RETURN_IF_ERROR(
      in->OptInt64("pause.resumed_at", p, b::kResumedAt, &x.resumed_at));
  ACPSTORE_RETURN_IF_ERROR(in->OptString(
      "pause.resume_metadata", p, b::kResumeMetadata, &x.resume_metadata));
  if ((p & b::kEarlierInterventionIds) != 0) {
    uint32_t n = 0;
    ACPSTORE_RETURN_IF_ERROR(
        in->Varint32("pause.earlier_intervention_ids count", &n));
    // Present only when non-empty; each id takes at least its length byte.
    if (n == 0 || n > in->rest().size()) {
      return in->Corrupt("pause.earlier_intervention_ids: count " +
                         std::to_string(n) + " is not possible here");
    }
    x.earlier_intervention_ids.resize(n);
    for (std::string& id : x.earlier_intervention_ids) {
      ACPSTORE_RETURN_IF_ERROR(
          in->String("pause.earlier_intervention_ids", &id));
    }
  }
  ACPSTORE_RETURN_IF_ERROR(in->Int64("pause.updated_at", &x.updated_at));
  *out = std::move(x);
  return Status::OK();
}

// ------------------------------------------------- std::string_view forms

Status DecodeSession(std::string_view* input, Session* out) {
  return DecodeWhole<Session>(input, out, &DecodeSession);
}
Status DecodeEvent(std::string_view* input, Event* out) {
  return DecodeWhole<Event>(input, out, &DecodeEvent);
}
Status DecodeAction(std::string_view* input, Action* out) {
  return DecodeWhole<Action>(input, out, &DecodeAction);
}
Status DecodePause(std::string_view* input, Pause* out) {
  return DecodeWhole<Pause>(input, out, &DecodePause);
}

}  // namespace acpstore::record
