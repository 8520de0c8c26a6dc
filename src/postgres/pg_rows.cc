// Rows ↔ records: see pg_rows.h.

#include "postgres/pg_rows.h"

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "base/format_version.h"
#include "record/record_codec.h"
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

// What a stored payload is checked against: any size and any depth an
// import may have stored (SPEC §8), so only invalid JSON fails.
const Limits& StoredPayloadLimits() {
  static const Limits kLimits = [] {
    Limits l;
    l.max_payload_bytes = UINT32_MAX;
    l.max_json_depth = 1U << 20;
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
    return Undecodable(session.error(), kSessionRows, r, row, col + 6);
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
    return Undecodable(action.error(), kActionRows, r, row, col + 1);
  }
  return action;
}

Result<Pause> ParsePauseRow(const PgResult& r, int row, int col) {
  Result<Pause> pause = DecodePauseRecord(r, row, col);
  if (!pause.ok()) {
    return Undecodable(pause.error(), kPauseRows, r, row, col + 1);
  }
  return pause;
}

bool IsValidStoredPayload(std::string_view payload) {
  return record::CanonicalizePayload(payload, StoredPayloadLimits()).ok();
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
