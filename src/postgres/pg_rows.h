// Rows ↔ records: the column lists the engine selects and how a row
// becomes a Session, Event, Action or Pause. Sessions, actions and pauses
// are stored as their binary record encoding (record/record_codec.h) in a
// `record` bytea column beside the columns SQL filters and orders by; an
// event is stored column by column with its payload as canonical JSON
// text (decision 0007), so it comes back byte for byte.
//
// Thread-safety: pure functions.

#ifndef ACPSTORE_POSTGRES_PG_ROWS_H_
#define ACPSTORE_POSTGRES_PG_ROWS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "acpstore/records.h"
#include "acpstore/result.h"
#include "postgres/pg_conn.h"

namespace acpstore::postgres {

// A session with its stream counters (Session::events) and incarnation.
struct SessionRow {
  Session session;
  uint64_t incarnation = 0;
};

// SELECT lists; each parser reads its columns starting at `col`. Each
// list ends with the row's key (its table's primary key), so that a record
// that does not decode is named by its row, also in a listing. Before the
// key, each brings the columns SQL filters, orders, scopes, leases and
// sweeps its rows by (owner, session, status, type, times, idempotency
// key), which its parser checks against the record.
inline constexpr const char* kSessionColumns =
    "s.record, s.incarnation, s.first_seq, s.last_seq, s.retained, "
    "s.payload_bytes, s.owner_key_id, s.status, s.updated_at, s.ended_at, "
    "s.tenant_id, s.session_id";
inline constexpr int kSessionColumnCount = 12;
inline constexpr const char* kEventColumns =
    "e.seq, e.client_event_id, e.event_type, e.occurred_at, e.ingested_at, "
    "e.backend_run_id, e.payload_ref, e.payload";
inline constexpr int kEventColumnCount = 8;
inline constexpr const char* kActionColumns =
    "a.record, a.session_id, a.owner_key_id, a.type, a.status, "
    "a.created_at, a.available_at, a.leased_until, a.finished_at, "
    "a.idempotency_key, a.tenant_id, a.action_id";
inline constexpr int kActionColumnCount = 12;
inline constexpr const char* kPauseColumns =
    "p.record, p.status, p.tenant_id, p.session_id, p.pause_id";
inline constexpr int kPauseColumnCount = 5;

// Whether `sql` selects `columns` first ("SELECT <columns>" followed by
// the end, a space or a comma): the statements spell their lists out (a
// PgStatement is a literal), and each that a parser reads asserts this at
// compile time, so a list cannot drift from its parser's offsets.
constexpr bool SelectsColumns(std::string_view sql, std::string_view columns) {
  constexpr std::string_view kSelect = "SELECT ";
  if (!sql.starts_with(kSelect)) return false;
  sql.remove_prefix(kSelect.size());
  if (!sql.starts_with(columns)) return false;
  sql.remove_prefix(columns.size());
  return sql.empty() || sql.front() == ' ' || sql.front() == ',';
}

// A PostgreSQL array literal of `items`: {"a","b"}, each quoted (for
// `= ANY($1::text[])` parameters).
std::string TextArray(const std::vector<std::string>& items);

// A stored record that does not decode is damage (a hand edit, a bad
// restore, a bug): kDataLoss, as a record failing its checksum is on the
// file engine (SPEC §5, 500 `data_loss`: damaged bytes are never returned
// as data), with the message "stored <what> in <table> (<key>, ...) is
// damaged: <why>" and the details table and the key's fields (tenantId,
// sessionId, actionId, pauseId). A record of a newer format version is
// not damage (SPEC §3): the decoder's status (IsNewerFormat), prefixed
// "<table> (<key>, ...) was written by a newer acpstore: ".
Result<SessionRow> ParseSessionRow(const PgResult& r, int row, int col);
Result<Action> ParseActionRow(const PgResult& r, int row, int col);
Result<Pause> ParsePauseRow(const PgResult& r, int row, int col);
// Why the session record of kSessionColumns at (row, col) disagrees with
// its own row, "" when it does not: every column pg_write.cc derives from
// it (the key, owner_key_id, status, updated_at, ended_at), compared with
// it ("session owner_key_id column "o1", but its record says "x1"; ..."),
// and every string it holds valid UTF-8 (SPEC §2.5). The engine filters,
// orders and scopes by the columns and answers with the record, so a row
// where they part is damage: ParseSessionRow fails on it, and verify
// reports it, with this one check.
std::string SessionRowDisagreement(const PgResult& r, int row, int col,
                                   const Session& s);
// The same for an action of kActionColumns (the key, session_id,
// owner_key_id, type, status, created_at, available_at, leased_until,
// finished_at, idempotency_key; "action status column 0, but its record
// says 4"), which the engine lists, leases, expires and deletes by, and
// for a pause of kPauseColumns (the key and status). ParseActionRow and
// ParsePauseRow fail on it, and verify reports it.
std::string ActionRowDisagreement(const PgResult& r, int row, int col,
                                  const Action& a);
std::string PauseRowDisagreement(const PgResult& r, int row, int col,
                                 const Pause& p);

// The columns of one row that disagree with its decoded record, for the
// checks above: "action status column 4, but its record says 0; type
// column ...".
// Strings are shown quoted, bytes that are not UTF-8 as \xNN.
class ColumnCheck {
 public:
  ColumnCheck(const PgResult& r, int row) : r_(r), row_(row) {}

  void Text(int col, const char* name, std::string_view record);
  void OptText(int col, const char* name,
               const std::optional<std::string>& record);
  void Int(int col, const char* name, int64_t record);
  void OptInt(int col, const char* name, std::optional<int64_t> record);
  // A string of the record that is not valid UTF-8.
  void Utf8(const char* name, std::string_view record);
  // A metadata map of the record (SPEC §2.6) that is not a JSON object:
  // responses embed it as it is, so anything else would make them invalid
  // JSON. Checked as a stored payload is (IsValidStoredPayload), not
  // against the live limits an import may exceed.
  void JsonObject(const char* name, std::string_view record);

  // "" when every column agrees.
  std::string Result(const char* record_name) const;

 private:
  void Compare(const char* name, const std::string& column,
               const std::string& record);

  const PgResult& r_;
  const int row_;
  std::vector<std::string> problems_;
};

// The record column alone, the decoder's status on failure as it is (for
// verify, which names each row itself and reports damage as a finding).
Result<Session> DecodeSessionRecord(const PgResult& r, int row, int col);
Result<Action> DecodeActionRecord(const PgResult& r, int row, int col);
Result<Pause> DecodePauseRecord(const PgResult& r, int row, int col);
// The event's scope fields come from its session. A payload that is not
// valid JSON is damage as a record that does not decode is (a stored
// payload is the canonical JSON the server accepted, decision 0007;
// returned as it is, clients would get invalid JSON): kDataLoss, "stored
// event in events (<tenant>, <session>, <seq>) is damaged: its payload is
// not valid JSON", with the details table, tenantId, sessionId and seq.
// Only validity is checked (the payload fast path's one pass, decision
// 0023), not the live limits: an import may store larger and deeper
// payloads (SPEC §8). What that pass leaves to Boost.JSON's recursive
// parser is parsed no deeper than 1,100 levels (deeper is damage), so no
// stored payload exhausts the stack (pg_rows.cc).
Result<Event> ParseEventRow(const PgResult& r, int row, int col,
                            const Session& session);
// The check ParseEventRow makes of a stored payload (for verify).
bool IsValidStoredPayload(std::string_view payload);

// The time a terminal session ended / a terminal action finished, as the
// memory engine's retention indexes order them (engine/state.cc).
std::optional<int64_t> SessionEndedAt(const Session& s);
std::optional<int64_t> ActionFinishedAt(const Action& a);

}  // namespace acpstore::postgres

#endif  // ACPSTORE_POSTGRES_PG_ROWS_H_
