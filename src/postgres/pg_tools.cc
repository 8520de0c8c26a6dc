// CheckPostgres: see pg_tools.h.

#include "postgres/pg_tools.h"

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "acpstore/records.h"
#include "base/format_version.h"
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

// Why a row is damaged ("" when it is not); an error stops the check:
// a record of a newer format version (SPEC §3) is not damage, and this
// build cannot tell whether its columns agree with it.
using RowVerdict = Result<std::string>;

// A record that did not decode: the newer release's, or damage.
RowVerdict Undecodable(const char* what, const std::string& where,
                       const Status& s) {
  if (IsNewerFormat(s)) {
    return WithPrefix(s, where + " was written by a newer acpstore: ");
  }
  return std::string(what) + " record: " + std::string(s.message());
}

// Counts a damaged row; lists it among the first kMaxListed.
void AddDamaged(std::string row, PgCheckReport* out) {
  ++out->damaged;
  if (out->damaged_rows.size() < PgCheckReport::kMaxListed) {
    out->damaged_rows.push_back(std::move(row));
  }
}

// Decodes the `record` column of every row of one table, a page at a time
// (keyset on the primary key), and checks it against the columns. `check`
// gets the row's key ("<table> (<key>, ...)") and the index of its first
// column after the key.
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
      std::string where = table + " (";
      for (int k = 0; k < key_columns; ++k) {
        where += (k > 0 ? ", " : "") + std::string(r.Text(i, k));
      }
      where += ")";
      ACPSTORE_ASSIGN_OR_RETURN(const std::string why,
                                check(r, i, key_columns, where));
      if (why.empty()) continue;
      AddDamaged(where.append(": ").append(why), out);
    }
    after.clear();
    const int last = r.rows() - 1;
    for (int k = 0; k < key_columns; ++k) {
      after.emplace_back(r.Text(last, k));
    }
  }
}

// Event payloads read per page at most (one payload at least, however
// large): with each payload up to the import's limits, a page of rows
// would hold any number of bytes.
constexpr int64_t kPayloadPageBytes = 8 << 20;

// Checks every event's payload, in key order, a page at a time: the keys
// and sizes of the next 1,000 rows, then the payloads of as many of them
// as fit in kPayloadPageBytes.
Status CheckEventPayloads(PgConn& conn, PgCheckReport* out) {
  constexpr const char* kOrder = "e.tenant_id, e.session_id, e.seq";
  std::optional<std::vector<std::string>> after;
  for (;;) {
    PgParams p;
    std::string where;
    if (after) {
      where = std::string(" WHERE (") + kOrder + ") > ($1, $2, $3::bigint)";
      p.Text((*after)[0]).Text((*after)[1]).Text((*after)[2]);
    }
    ACPSTORE_ASSIGN_OR_RETURN(
        PgResult sizes,
        conn.Query(std::string("SELECT e.tenant_id, e.session_id, e.seq, "
                               "octet_length(e.payload) FROM events e") +
                       where + " ORDER BY " + kOrder + " LIMIT 1000",
                   p));
    if (sizes.rows() == 0) return Status::OK();
    int n = 1;
    for (int64_t bytes = sizes.Int(0, 3);
         n < sizes.rows() && bytes + sizes.Int(n, 3) <= kPayloadPageBytes;
         ++n) {
      bytes += sizes.Int(n, 3);
    }
    std::vector<std::string> last{std::string(sizes.Text(n - 1, 0)),
                                  std::string(sizes.Text(n - 1, 1)),
                                  std::string(sizes.Text(n - 1, 2))};
    PgParams q;
    q.Text(last[0]).Text(last[1]).Text(last[2]);
    std::string range = std::string(" WHERE (") + kOrder +
                        ") <= ($1, $2, $3::bigint)";
    if (after) {
      range += std::string(" AND (") + kOrder + ") > ($4, $5, $6::bigint)";
      q.Text((*after)[0]).Text((*after)[1]).Text((*after)[2]);
    }
    ACPSTORE_ASSIGN_OR_RETURN(
        PgResult page,
        conn.Query(std::string("SELECT e.tenant_id, e.session_id, e.seq, "
                               "e.payload FROM events e") +
                       range + " ORDER BY " + kOrder,
                   q));
    for (int i = 0; i < page.rows(); ++i) {
      ++out->event_payloads_checked;
      if (IsValidStoredPayload(page.Text(i, 3))) continue;
      AddDamaged("events (" + std::string(page.Text(i, 0)) + ", " +
                     std::string(page.Text(i, 1)) + ", " +
                     std::string(page.Text(i, 2)) +
                     "): its payload is not valid JSON",
                 out);
    }
    after = std::move(last);
  }
}

// Every column pg_write.cc derives from a record is compared with it, by
// the check every read of the engine makes (pg_rows.h).
Status DecodeAll(PgConn& conn, PgCheckReport* out) {
  ACPSTORE_RETURN_IF_ERROR(DecodeTable(
      conn, "sessions",
      "SELECT s.tenant_id, s.session_id, " + std::string(kSessionColumns) +
          " FROM sessions s",
      "s.tenant_id, s.session_id", 2,
      [](const PgResult& r, int i, int col,
         const std::string& where) -> RowVerdict {
        Result<Session> row = DecodeSessionRecord(r, i, col);
        if (!row.ok()) return Undecodable("session", where, row.error());
        // The engine's own check of every session row it reads.
        return SessionRowDisagreement(r, i, col, *row);
      },
      out));
  ACPSTORE_RETURN_IF_ERROR(DecodeTable(
      conn, "actions",
      "SELECT a.tenant_id, a.action_id, " + std::string(kActionColumns) +
          " FROM actions a",
      "a.tenant_id, a.action_id", 2,
      [](const PgResult& r, int i, int col,
         const std::string& where) -> RowVerdict {
        Result<Action> a = DecodeActionRecord(r, i, col);
        if (!a.ok()) return Undecodable("action", where, a.error());
        return ActionRowDisagreement(r, i, col, *a);
      },
      out));
  ACPSTORE_RETURN_IF_ERROR(DecodeTable(
      conn, "pauses",
      "SELECT p.tenant_id, p.session_id, p.pause_id, " +
          std::string(kPauseColumns) + " FROM pauses p",
      "p.tenant_id, p.session_id, p.pause_id", 3,
      [](const PgResult& r, int i, int col,
         const std::string& where) -> RowVerdict {
        Result<Pause> p = DecodePauseRecord(r, i, col);
        if (!p.ok()) return Undecodable("pause", where, p.error());
        return PauseRowDisagreement(r, i, col, *p);
      },
      out));
  return CheckEventPayloads(conn, out);
}

Status HoldsSchema(PgConn& conn, const std::string& schema) {
  ACPSTORE_ASSIGN_OR_RETURN(
      PgResult exists,
      conn.Run("SELECT to_regclass('schema_version') IS NOT NULL"));
  if (exists.Text(0, 0) != "t") {
    return Status::NotFound("the database has no acpstore schema \"" + schema +
                            "\" (run `acpstore migrate` or start a server)");
  }
  return Status::OK();
}

Result<PgCheckReport> CheckIn(PgConn& conn, const std::string& schema,
                              bool decode_records) {
  PgCheckReport out;
  out.schema = schema;
  out.known_schema_version = KnownSchemaVersion();
  ACPSTORE_RETURN_IF_ERROR(HoldsSchema(conn, schema));
  ACPSTORE_ASSIGN_OR_RETURN(
      PgResult v, conn.Run("SELECT coalesce(max(version), 0) FROM schema_version"));
  out.schema_version = static_cast<int>(v.Int(0, 0));
  // Its tables may mean something else to the release that wrote them:
  // refused, as a server refuses it (SPEC §3), never reported on.
  if (out.schema_version > out.known_schema_version) {
    return NewerSchema(schema, out.schema_version);
  }
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

Status MustHoldSchema(const std::string& url, const std::string& schema) {
  ACPSTORE_ASSIGN_OR_RETURN(std::unique_ptr<PgConn> conn,
                            PgConn::Connect(url, schema));
  return HoldsSchema(*conn, schema);
}

Status MustHoldCurrentSchema(const std::string& url, const std::string& schema,
                             const std::string& tool) {
  ACPSTORE_ASSIGN_OR_RETURN(std::unique_ptr<PgConn> conn,
                            PgConn::Connect(url, schema));
  ACPSTORE_RETURN_IF_ERROR(HoldsSchema(*conn, schema));
  ACPSTORE_ASSIGN_OR_RETURN(
      PgResult v,
      conn->Run("SELECT coalesce(max(version), 0) FROM schema_version"));
  const int version = static_cast<int>(v.Int(0, 0));
  const int known = KnownSchemaVersion();
  if (version > known) return NewerSchema(schema, version);
  if (version < known) {
    return Status::Conflict(
               "the database schema \"" + schema + "\" is at version " +
               std::to_string(version) + ", older than this acpstore's " +
               std::to_string(known) + ": run `acpstore migrate --postgres-url "
               "URL --postgres-schema " + schema + "` first (" + tool +
               " does not migrate a schema, and has changed nothing)")
        .With("schemaVersion", static_cast<int64_t>(version));
  }
  return Status::OK();
}

}  // namespace acpstore::postgres
