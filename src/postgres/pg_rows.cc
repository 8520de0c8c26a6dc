// Rows ↔ records: see pg_rows.h.

#include "postgres/pg_rows.h"

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "base/format_version.h"
#include "record/canonical_fast.h"
#include "record/canonical_json.h"
#include "record/record_codec.h"
#include "record/utf8.h"
#include "record/validate.h"

namespace acpstore::postgres {
namespace {

// Decodes one whole record from a bytea column.
template <typename T, typename Decode>
Result<T> DecodeColumn(const PgResult& r, int row, int col, Decode decode,
                       const char* what) {
  std::string bytes = r.Bytes(row, col);
  std::string_view in = bytes;
  T out;
  Status s = decode(&in, &out);
  if (!s.ok()) return s;
  if (!in.empty()) {
    return Status::Corruption(std::string("trailing bytes after a stored ") +
                              what);
  }
  return out;
}

// How a table's rows are named: its key columns, after the record, and
// the detail each goes to in a kDataLoss.
struct RowKind {
  const char* table;
  const char* what;
  std::array<const char*, 3> key_details;
  int key_columns;
};
constexpr RowKind kSessionRows{"sessions", "session",
                               {"tenantId", "sessionId", nullptr}, 2};
constexpr RowKind kActionRows{"actions", "action",
                              {"tenantId", "actionId", nullptr}, 2};
constexpr RowKind kPauseRows{"pauses", "pause",
                             {"tenantId", "sessionId", "pauseId"}, 3};

// `decoded`, the failure of the record of `kind` at `row`, named by the
// key columns from `key_col` on (pg_rows.h says what it becomes).
Status Undecodable(const Status& decoded, const RowKind& kind,
                   const PgResult& r, int row, int key_col) {
  std::string where = std::string(kind.table) + " (";
  for (int k = 0; k < kind.key_columns; ++k) {
    if (k > 0) where += ", ";
    where += r.Text(row, key_col + k);
  }
  where += ")";
  // Written by a newer release: this build cannot read it, and must not
  // call it damage (SPEC §3).
  if (IsNewerFormat(decoded)) {
    return WithPrefix(decoded, where + " was written by a newer acpstore: ");
  }
  Status out = Status::DataLoss("stored " + std::string(kind.what) + " in " +
                                where + " is damaged: " +
                                std::string(decoded.message()));
  out.With("table", kind.table);
  for (int k = 0; k < kind.key_columns; ++k) {
    out.With(kind.key_details[static_cast<size_t>(k)],
             r.Text(row, key_col + k));
  }
  return out;
}

// A stored payload is checked for validity only: any size, and any depth
// an import may have stored (SPEC §8, 1,000) or a library's limits allowed.
// The one-pass check (canonical_fast.h) keeps its levels on the heap, so it
// takes any depth up to kStoredPayloadDepth. What it leaves to Boost.JSON's
// parser (a syntax error, a rare number) goes no deeper than
// kStoredPayloadParserDepth: that parser descends by recursion, a C++ frame
// per level, and a row written by hand or by an older release is untrusted
// input (found by review: 1,000,000 '[' in an event row ended the server,
// verify and export-aegis with SIGSEGV; 8 MiB of stack ran out near
// 105,000 levels). The bound is the Aegis reader's (aegis/reader.h), above
// any depth the import stores, and a payload that nests deeper and needs
// the parser is damage.
constexpr uint32_t kStoredPayloadDepth = 1U << 20;
constexpr uint32_t kStoredPayloadParserDepth = 1100;

const Limits& StoredPayloadParserLimits() {
  static const Limits kLimits = [] {
    Limits l;
    l.max_payload_bytes = UINT32_MAX;
    l.max_json_depth = kStoredPayloadParserDepth;
    return l;
  }();
  return kLimits;
}

}  // namespace

Result<Session> DecodeSessionRecord(const PgResult& r, int row, int col) {
  return DecodeColumn<Session>(
      r, row, col,
      [](std::string_view* in, Session* s) {
        return record::DecodeSession(in, s);
      },
      "session");
}

Result<Action> DecodeActionRecord(const PgResult& r, int row, int col) {
  return DecodeColumn<Action>(
      r, row, col,
      [](std::string_view* in, Action* a) { return record::DecodeAction(in, a); },
      "action");
}

Result<Pause> DecodePauseRecord(const PgResult& r, int row, int col) {
  return DecodeColumn<Pause>(
      r, row, col,
      [](std::string_view* in, Pause* p) { return record::DecodePause(in, p); },
      "pause");
}

Result<SessionRow> ParseSessionRow(const PgResult& r, int row, int col) {
  Result<Session> session = DecodeSessionRecord(r, row, col);
  if (!session.ok()) {
    return Undecodable(session.error(), kSessionRows, r, row, col + 10);
  }
  // Served as it is, such a row shows under an owner it does not name,
  // is refused to that owner and given to another (found by an outside
  // tester), or puts bytes that are not UTF-8 into a response.
  if (std::string why = SessionRowDisagreement(r, row, col, *session);
      !why.empty()) {
    return Undecodable(Status::Corruption(why), kSessionRows, r, row,
                       col + 10);
  }
  SessionRow out;
  out.session = std::move(*session);
  out.incarnation = static_cast<uint64_t>(r.Int(row, col + 1));
  out.session.events.first_seq = static_cast<EventSeq>(r.Int(row, col + 2));
  out.session.events.last_seq = static_cast<EventSeq>(r.Int(row, col + 3));
  out.session.events.retained = static_cast<uint64_t>(r.Int(row, col + 4));
  out.session.events.bytes = static_cast<uint64_t>(r.Int(row, col + 5));
  return out;
}

Result<Action> ParseActionRow(const PgResult& r, int row, int col) {
  Result<Action> action = DecodeActionRecord(r, row, col);
  if (!action.ok()) {
    return Undecodable(action.error(), kActionRows, r, row, col + 10);
  }
  // As a session's: listed to an owner it does not name, a lease's
  // candidate its decider cannot lease (every lease of its tenant found
  // nothing), swept by a time its record does not hold, or bytes that are
  // not UTF-8 in a response.
  if (std::string why = ActionRowDisagreement(r, row, col, *action);
      !why.empty()) {
    return Undecodable(Status::Corruption(why), kActionRows, r, row,
                       col + 10);
  }
  return action;
}

Result<Pause> ParsePauseRow(const PgResult& r, int row, int col) {
  Result<Pause> pause = DecodePauseRecord(r, row, col);
  if (!pause.ok()) {
    return Undecodable(pause.error(), kPauseRows, r, row, col + 2);
  }
  if (std::string why = PauseRowDisagreement(r, row, col, *pause);
      !why.empty()) {
    return Undecodable(Status::Corruption(why), kPauseRows, r, row, col + 2);
  }
  return pause;
}

bool IsValidStoredPayload(std::string_view payload) {
  try {
    std::string canonical;
    if (record::TryCanonicalizeFast(payload, UINT32_MAX, kStoredPayloadDepth,
                                    &canonical)) {
      return true;
    }
  } catch (...) {  // std::bad_alloc: the parser below decides
  }
  return record::CanonicalizePayloadWithParser(
             payload, StoredPayloadParserLimits(), "payload")
      .ok();
}

Result<Event> ParseEventRow(const PgResult& r, int row, int col,
                            const Session& session) {
  const std::string_view payload = r.Text(row, col + 7);
  if (!IsValidStoredPayload(payload)) {
    const std::string seq(r.Text(row, col));
    return Status::DataLoss("stored event in events (" + session.tenant_id +
                            ", " + session.id + ", " + seq +
                            ") is damaged: its payload is not valid JSON")
        .With("table", "events")
        .With("tenantId", session.tenant_id)
        .With("sessionId", session.id)
        .With("seq", r.Int(row, col));
  }
  Event e;
  e.session_id = session.id;
  e.tenant_id = session.tenant_id;
  e.owner_key_id = session.owner_key_id;
  e.seq = static_cast<EventSeq>(r.Int(row, col));
  e.client_event_id = r.OptText(row, col + 1);
  e.event_type = std::string(r.Text(row, col + 2));
  e.occurred_at = r.Int(row, col + 3);
  e.ingested_at = r.Int(row, col + 4);
  e.backend_run_id = r.OptText(row, col + 5);
  e.payload_ref = r.OptText(row, col + 6);
  e.payload = std::string(payload);
  return e;
}

namespace {

// `v` quoted for a message: as it is when it is valid UTF-8, else with
// every byte outside printable ASCII as \xNN, so the message stays UTF-8.
std::string Shown(const std::optional<std::string>& v) {
  if (!v) return "NULL";
  if (record::FindInvalidUtf8(*v) == std::string_view::npos) {
    return "\"" + *v + "\"";
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (const char ch : *v) {
    const auto b = static_cast<unsigned char>(ch);
    if (b < 0x20 || b >= 0x7f) {
      out += "\\x";
      out.push_back(kHex[b >> 4]);
      out.push_back(kHex[b & 0xf]);
    } else {
      out.push_back(ch);
    }
  }
  return out + "\"";
}

std::string N(int64_t v) { return std::to_string(v); }

}  // namespace

void ColumnCheck::Text(int col, const char* name, std::string_view record) {
  Compare(name, Shown(std::string(r_.Text(row_, col))),
          Shown(std::string(record)));
}

void ColumnCheck::OptText(int col, const char* name,
                          const std::optional<std::string>& record) {
  Compare(name, Shown(r_.OptText(row_, col)), Shown(record));
}

void ColumnCheck::Int(int col, const char* name, int64_t record) {
  Compare(name, N(r_.Int(row_, col)), N(record));
}

void ColumnCheck::OptInt(int col, const char* name,
                         std::optional<int64_t> record) {
  const std::optional<int64_t> column = r_.OptInt(row_, col);
  Compare(name, column ? N(*column) : "NULL", record ? N(*record) : "NULL");
}

void ColumnCheck::Utf8(const char* name, std::string_view record) {
  if (record::FindInvalidUtf8(record) == std::string_view::npos) return;
  problems_.push_back(std::string(name) + " " +
                      Shown(std::string(record)) + " is not valid UTF-8");
}

void ColumnCheck::JsonObject(const char* name, std::string_view record) {
  if (record.starts_with('{') && IsValidStoredPayload(record)) return;
  problems_.push_back(std::string(name) + " " + Shown(std::string(record)) +
                      " is not a JSON object");
}

std::string ColumnCheck::Result(const char* record_name) const {
  if (problems_.empty()) return "";
  std::string out = record_name;
  for (size_t i = 0; i < problems_.size(); ++i) {
    out += (i > 0 ? "; " : " ") + problems_[i];
  }
  return out;
}

void ColumnCheck::Compare(const char* name, const std::string& column,
                          const std::string& record) {
  if (column == record) return;
  problems_.push_back(std::string(name) + " column " + column +
                      ", but its record says " + record);
}

std::string SessionRowDisagreement(const PgResult& r, int row, int col,
                                   const Session& s) {
  ColumnCheck c(r, row);
  c.Text(col + 10, "tenant_id", s.tenant_id);
  c.Text(col + 11, "session_id", s.id);
  c.Text(col + 6, "owner_key_id", s.owner_key_id);
  c.Int(col + 7, "status", static_cast<int64_t>(s.status));
  c.Int(col + 8, "updated_at", s.updated_at);
  c.OptInt(col + 9, "ended_at", SessionEndedAt(s));
  // The strings no column holds; the key columns above are text columns,
  // which PostgreSQL keeps valid in a UTF-8 database.
  c.Utf8("conversation_id", s.conversation_id);
  c.Utf8("transcript_id", s.transcript_id);
  for (const auto& [name, v] :
       {std::pair{"parent_session_id", &s.parent_session_id},
        {"root_session_id", &s.root_session_id},
        {"correlation_id", &s.correlation_id},
        {"resume_from_session_id", &s.resume_from_session_id},
        {"acp_agent_session_id", &s.acp_agent_session_id},
        {"claude_session_id", &s.claude_session_id},
        {"current_backend_run_id", &s.current_backend_run_id}}) {
    if (*v) c.Utf8(name, **v);
  }
  if (s.backend_metadata) c.JsonObject("backend_metadata", *s.backend_metadata);
  for (const ValidationWarning& w : s.validation_warnings) {
    c.Utf8("validation_warnings code", w.code);
    c.Utf8("validation_warnings message", w.message);
  }
  return c.Result("session");
}

std::string ActionRowDisagreement(const PgResult& r, int row, int col,
                                  const Action& a) {
  ColumnCheck c(r, row);
  c.Text(col + 10, "tenant_id", a.tenant_id);
  c.Text(col + 11, "action_id", a.action_id);
  c.Text(col + 1, "session_id", a.session_id);
  c.Text(col + 2, "owner_key_id", a.owner_key_id);
  c.Int(col + 3, "type", static_cast<int64_t>(a.type));
  c.Int(col + 4, "status", static_cast<int64_t>(a.status));
  c.Int(col + 5, "created_at", a.created_at);
  c.Int(col + 6, "available_at", a.available_at);
  // Written only while leased (the expiry sweep's index).
  c.OptInt(col + 7, "leased_until",
           a.status == ActionStatus::kLeased ? a.leased_until : std::nullopt);
  c.OptInt(col + 8, "finished_at", ActionFinishedAt(a));
  c.OptText(col + 9, "idempotency_key", a.idempotency_key);
  // The strings no column holds.
  c.Utf8("lease_token", a.lease_token);
  for (const auto& [name, v] :
       {std::pair{"approval_id", &a.approval_id},
        {"control_request_id", &a.control_request_id}}) {
    if (*v) c.Utf8(name, **v);
  }
  for (const auto& [name, v] :
       {std::pair{"metadata", &a.metadata},
        {"result_metadata", &a.result_metadata},
        {"error_metadata", &a.error_metadata}}) {
    if (*v) c.JsonObject(name, **v);
  }
  return c.Result("action");
}

std::string PauseRowDisagreement(const PgResult& r, int row, int col,
                                 const Pause& p) {
  ColumnCheck c(r, row);
  c.Text(col + 2, "tenant_id", p.tenant_id);
  c.Text(col + 3, "session_id", p.session_id);
  c.Text(col + 4, "pause_id", p.pause_id);
  c.Int(col + 1, "status", static_cast<int64_t>(p.status));
  // The strings no column holds.
  c.Utf8("owner_key_id", p.owner_key_id);
  c.Utf8("reason", p.reason);
  c.Utf8("requested_by", p.requested_by);
  for (const auto& [name, v] :
       {std::pair{"idempotency_key", &p.idempotency_key},
        {"intervention_id", &p.intervention_id},
        {"intervention_by", &p.intervention_by},
        {"intervention_completed_by", &p.intervention_completed_by},
        {"guidance", &p.guidance},
        {"resume_id", &p.resume_id},
        {"resumed_by", &p.resumed_by}}) {
    if (*v) c.Utf8(name, **v);
  }
  for (const auto& [name, v] : {std::pair{"metadata", &p.metadata},
                                {"resume_metadata", &p.resume_metadata}}) {
    if (*v) c.JsonObject(name, **v);
  }
  for (const std::string& id : p.earlier_intervention_ids) {
    c.Utf8("earlier_intervention_ids", id);
  }
  return c.Result("pause");
}

std::optional<int64_t> SessionEndedAt(const Session& s) {
  if (s.status == SessionStatus::kClosed) return s.closed_at.value_or(s.updated_at);
  if (s.status == SessionStatus::kFailed) return s.failed_at.value_or(s.updated_at);
  return std::nullopt;
}

std::optional<int64_t> ActionFinishedAt(const Action& a) {
  switch (a.status) {
    case ActionStatus::kCompleted:
      return a.completed_at.value_or(a.updated_at);
    case ActionStatus::kFailed:
      return a.failed_at.value_or(a.updated_at);
    case ActionStatus::kCancelled:
      return a.cancelled_at.value_or(a.updated_at);
    default:
      return std::nullopt;
  }
}

std::string TextArray(const std::vector<std::string>& items) {
  std::string out = "{";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out.push_back(',');
    out.push_back('"');
    for (char ch : items[i]) {
      if (ch == '"' || ch == '\\') out.push_back('\\');
      out.push_back(ch);
    }
    out.push_back('"');
  }
  out.push_back('}');
  return out;
}

}  // namespace acpstore::postgres
