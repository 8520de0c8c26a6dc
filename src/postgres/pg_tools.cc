// CheckPostgres: see pg_tools.h.

#include "postgres/pg_tools.h"

#include <memory>
#include <string>
#include <utility>

#include "acpstore/records.h"
#include "postgres/pg_conn.h"
#include "postgres/pg_migrate.h"
#include "postgres/pg_rows.h"

namespace acpstore::postgres {
namespace {

// Every table of the schema, in the order they are reported.
constexpr const char* kTables[] = {
    "sessions",    "events",             "actions", "pauses",
    "transcripts", "transcript_entries", "transcript_text",
    "keys",        "schema_version"};

// Sessions whose counters disagree with their event rows (one scan of
// events), with what the rows say.
constexpr const char* kMismatchSql =
    "SELECT s.tenant_id, s.session_id, s.first_seq, s.last_seq, s.retained, "
    "s.payload_bytes, coalesce(e.n, 0), e.lo, e.hi, coalesce(e.bytes, 0), "
    "count(*) OVER () "
    "FROM sessions s LEFT JOIN (SELECT tenant_id, session_id, count(*) AS n, "
    "min(seq) AS lo, max(seq) AS hi, sum(octet_length(payload)) AS bytes "
    "FROM events GROUP BY tenant_id, session_id) e "
    "ON e.tenant_id = s.tenant_id AND e.session_id = s.session_id "
    "WHERE s.retained <> coalesce(e.n, 0) "
    "OR s.payload_bytes <> coalesce(e.bytes, 0) "
    "OR (e.n IS NOT NULL AND (s.first_seq <> e.lo OR s.last_seq <> e.hi "
    "OR e.hi - e.lo + 1 <> e.n)) "
    "OR (e.n IS NULL AND s.first_seq <> s.last_seq + 1) "
    "ORDER BY s.tenant_id, s.session_id LIMIT $1";

std::string N(int64_t v) { return std::to_string(v); }

PgCounterMismatch Describe(const PgResult& r, int i) {
  PgCounterMismatch m;
  m.tenant_id = std::string(r.Text(i, 0));
  m.session_id = std::string(r.Text(i, 1));
  const int64_t first = r.Int(i, 2), last = r.Int(i, 3), retained = r.Int(i, 4),
                bytes = r.Int(i, 5), rows = r.Int(i, 6),
                row_bytes = r.Int(i, 9);
  const std::optional<int64_t> lo = r.OptInt(i, 7), hi = r.OptInt(i, 8);
  if (retained != rows) {
    m.problems.push_back("retained " + N(retained) + ", but it has " +
                         N(rows) + " event rows");
  }
  if (bytes != row_bytes) {
    m.problems.push_back("payload_bytes " + N(bytes) +
                         ", but its event rows hold " + N(row_bytes));
  }
  if (lo && hi) {
    if (first != *lo) {
      m.problems.push_back("first_seq " + N(first) +
                           ", but the oldest event is " + N(*lo));
    }
    if (last != *hi) {
      m.problems.push_back("last_seq " + N(last) + ", but the newest event is " +
                           N(*hi));
    }
    if (*hi - *lo + 1 != rows) {
      m.problems.push_back("seqs " + N(*lo) + ".." + N(*hi) + " have gaps (" +
                           N(rows) + " rows)");
    }
  } else if (first != last + 1) {
    m.problems.push_back("no event rows, but first_seq " + N(first) +
                         " is not last_seq + 1 (last_seq " + N(last) + ")");
  }
  return m;
}

// Decodes the `record` column of every row of one table, a page at a time
// (keyset on the primary key), and checks it against the columns.
template <typename Check>
Status DecodeTable(PgConn& conn, const std::string& table,
                   const std::string& select,
                   const std::string& order, int key_columns, Check check,
                   PgCheckReport* out) {
  std::vector<std::string> after;
  for (;;) {
    std::string sql = select;
    PgParams p;
    if (!after.empty()) {
      sql += " WHERE (" + order + ") > (";
      for (int k = 0; k < key_columns; ++k) {
        sql += (k > 0 ? ", $" : "$") + std::to_string(k + 1);
        p.Text(after[k]);
      }
      sql += ")";
    }
    sql += " ORDER BY " + order + " LIMIT 1000";
    ACPSTORE_ASSIGN_OR_RETURN(PgResult r, conn.Query(sql, p));
    if (r.rows() == 0) return Status::OK();
    for (int i = 0; i < r.rows(); ++i) {
      ++out->rows_decoded;
      std::string where;
      for (int k = 0; k < key_columns; ++k) {
        where += (k > 0 ? ", " : "") + std::string(r.Text(i, k));
      }
      const std::string why = check(r, i, key_columns);
      if (why.empty()) continue;
      ++out->damaged;
      if (out->damaged_rows.size() < PgCheckReport::kMaxListed) {
        std::string line = table;
        line.append(" (").append(where).append("): ").append(why);
        out->damaged_rows.push_back(std::move(line));
      }
    }
    after.clear();
    const int last = r.rows() - 1;
    for (int k = 0; k < key_columns; ++k) {
      after.emplace_back(r.Text(last, k));
    }
  }
}

Status DecodeAll(PgConn& conn, PgCheckReport* out) {
  // Sessions: the record decodes, and its status and owner are the columns'.
  ACPSTORE_RETURN_IF_ERROR(DecodeTable(
      conn, "sessions",
      "SELECT s.tenant_id, s.session_id, s.status, s.owner_key_id, s.record, "
      "s.incarnation, s.first_seq, s.last_seq, s.retained, s.payload_bytes "
      "FROM sessions s",
      "s.tenant_id, s.session_id", 2,
      [](const PgResult& r, int i, int col) -> std::string {
        Result<SessionRow> row = ParseSessionRow(r, i, col + 2);
        if (!row.ok()) return "session record: " + std::string(row.error().message());
        if (static_cast<int64_t>(row->session.status) != r.Int(i, col)) {
          return "session status column disagrees with its record";
        }
        if (row->session.owner_key_id != r.Text(i, col + 1)) {
          return "session owner column disagrees with its record";
        }
        return "";
      },
      out));
  ACPSTORE_RETURN_IF_ERROR(DecodeTable(
      conn, "actions",
      "SELECT a.tenant_id, a.action_id, a.status, a.session_id, a.record "
      "FROM actions a",
      "a.tenant_id, a.action_id", 2,
      [](const PgResult& r, int i, int col) -> std::string {
        Result<Action> a = ParseActionRow(r, i, col + 2);
        if (!a.ok()) return "action record: " + std::string(a.error().message());
        if (static_cast<int64_t>(a->status) != r.Int(i, col)) {
          return "action status column disagrees with its record";
        }
        if (a->session_id != r.Text(i, col + 1)) {
          return "action session column disagrees with its record";
        }
        return "";
      },
      out));
  return DecodeTable(
      conn, "pauses",
      "SELECT p.tenant_id, p.session_id, p.pause_id, p.status, p.record "
      "FROM pauses p",
      "p.tenant_id, p.session_id, p.pause_id", 3,
      [](const PgResult& r, int i, int col) -> std::string {
        Result<Pause> p = ParsePauseRow(r, i, col + 1);
        if (!p.ok()) return "pause record: " + std::string(p.error().message());
        if (static_cast<int64_t>(p->status) != r.Int(i, col)) {
          return "pause status column disagrees with its record";
        }
        return "";
      },
      out);
}

Result<PgCheckReport> CheckIn(PgConn& conn, const std::string& schema,
                              bool decode_records) {
  PgCheckReport out;
  out.schema = schema;
  out.known_schema_version = KnownSchemaVersion();
  ACPSTORE_ASSIGN_OR_RETURN(
      PgResult exists,
      conn.Run("SELECT to_regclass('schema_version') IS NOT NULL"));
  if (exists.Text(0, 0) != "t") {
    return Status::NotFound("the database has no acpstore schema \"" + schema +
                            "\" (run `acpstore migrate` or start a server)");
  }
  ACPSTORE_ASSIGN_OR_RETURN(
      PgResult v, conn.Run("SELECT coalesce(max(version), 0) FROM schema_version"));
  out.schema_version = static_cast<int>(v.Int(0, 0));
  for (const char* table : kTables) {
    ACPSTORE_ASSIGN_OR_RETURN(
        PgResult t, conn.Query("SELECT to_regclass($1) IS NOT NULL",
                               PgParams().Text(table)));
    if (t.Text(0, 0) != "t") continue;  // a table of a later version
    ACPSTORE_ASSIGN_OR_RETURN(
        PgResult c, conn.Run("SELECT count(*) FROM " + conn.QuoteIdentifier(table)));
    out.tables.emplace_back(table, static_cast<uint64_t>(c.Int(0, 0)));
  }
  ACPSTORE_ASSIGN_OR_RETURN(
      PgResult st, conn.Run("SELECT status, count(*) FROM sessions GROUP BY status"));
  for (int i = 0; i < st.rows(); ++i) {
    const int64_t s = st.Int(i, 0);
    if (s >= 0 && s < 8) {
      out.sessions_by_status[static_cast<size_t>(s)] =
          static_cast<uint64_t>(st.Int(i, 1));
    }
  }
  ACPSTORE_ASSIGN_OR_RETURN(
      PgResult b,
      conn.Run("SELECT coalesce(sum(octet_length(payload)), 0) FROM events"));
  out.event_payload_bytes = static_cast<uint64_t>(b.Int(0, 0));
  ACPSTORE_ASSIGN_OR_RETURN(
      PgResult m,
      conn.Query(kMismatchSql,
                 PgParams().Int(static_cast<int64_t>(PgCheckReport::kMaxListed))));
  for (int i = 0; i < m.rows(); ++i) {
    out.mismatched_sessions = static_cast<uint64_t>(m.Int(i, 10));
    out.mismatches.push_back(Describe(m, i));
  }
  if (decode_records) ACPSTORE_RETURN_IF_ERROR(DecodeAll(conn, &out));
  return out;
}

}  // namespace

Result<PgCheckReport> CheckPostgres(const std::string& url,
                                    const std::string& schema,
                                    bool decode_records) {
  ACPSTORE_ASSIGN_OR_RETURN(std::unique_ptr<PgConn> conn,
                            PgConn::Connect(url, schema));
  // One snapshot for every query, so the counts and the counters agree
  // with each other even while servers write.
  ACPSTORE_RETURN_IF_ERROR(
      conn->Run("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").status());
  Result<PgCheckReport> r = CheckIn(*conn, schema, decode_records);
  (void)conn->Run(r.ok() ? "COMMIT" : "ROLLBACK");
  return r;
}

}  // namespace acpstore::postgres
