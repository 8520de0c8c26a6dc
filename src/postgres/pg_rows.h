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

#include "acpstore/records.h"
#include "acpstore/result.h"
#include "postgres/pg_conn.h"

namespace acpstore::postgres {

// A session with its stream counters (Session::events) and incarnation.
struct SessionRow {
  Session session;
  uint64_t incarnation = 0;
};

// SELECT lists; each parser reads its columns starting at `col`.
inline constexpr const char* kSessionColumns =
    "s.record, s.incarnation, s.first_seq, s.last_seq, s.retained, "
    "s.payload_bytes";
inline constexpr int kSessionColumnCount = 6;
inline constexpr const char* kEventColumns =
    "e.seq, e.client_event_id, e.event_type, e.occurred_at, e.ingested_at, "
    "e.backend_run_id, e.payload_ref, e.payload";
inline constexpr int kEventColumnCount = 8;
inline constexpr const char* kActionColumns = "a.record";
inline constexpr const char* kPauseColumns = "p.record";

// kCorruption when a stored record does not decode.
// A PostgreSQL array literal of `items`: {"a","b"}, each quoted (for
// `= ANY($1::text[])` parameters).
std::string TextArray(const std::vector<std::string>& items);

Result<SessionRow> ParseSessionRow(const PgResult& r, int row, int col);
Result<Action> ParseActionRow(const PgResult& r, int row, int col);
Result<Pause> ParsePauseRow(const PgResult& r, int row, int col);
// The event's scope fields come from its session.
Event ParseEventRow(const PgResult& r, int row, int col,
                    const Session& session);

// The time a terminal session ended / a terminal action finished, as the
// memory engine's retention indexes order them (engine/state.cc).
std::optional<int64_t> SessionEndedAt(const Session& s);
std::optional<int64_t> ActionFinishedAt(const Action& a);

}  // namespace acpstore::postgres

#endif  // ACPSTORE_POSTGRES_PG_ROWS_H_
