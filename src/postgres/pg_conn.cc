// PgConn, PgResult, PgParams: see pg_conn.h.

#include "postgres/pg_conn.h"

#include <libpq-fe.h>

#include <cstdlib>
#include <string>
#include <utility>

namespace acpstore::postgres {

// ------------------------------------------------------------------ result

PgResult& PgResult::operator=(PgResult&& other) noexcept {
  if (this != &other) {
    if (r_ != nullptr) PQclear(r_);
    r_ = other.r_;
    other.r_ = nullptr;
  }
  return *this;
}

PgResult::~PgResult() {
  if (r_ != nullptr) PQclear(r_);
}

int PgResult::rows() const { return r_ == nullptr ? 0 : PQntuples(r_); }

bool PgResult::IsNull(int row, int col) const {
  return PQgetisnull(r_, row, col) != 0;
}

std::string_view PgResult::Text(int row, int col) const {
  return std::string_view(PQgetvalue(r_, row, col),
                          static_cast<size_t>(PQgetlength(r_, row, col)));
}

std::optional<std::string> PgResult::OptText(int row, int col) const {
  if (IsNull(row, col)) return std::nullopt;
  return std::string(Text(row, col));
}

int64_t PgResult::Int(int row, int col) const {
  return std::strtoll(PQgetvalue(r_, row, col), nullptr, 10);
}

std::optional<int64_t> PgResult::OptInt(int row, int col) const {
  if (IsNull(row, col)) return std::nullopt;
  return Int(row, col);
}

std::string PgResult::Bytes(int row, int col) const {
  size_t n = 0;
  unsigned char* raw = PQunescapeBytea(
      reinterpret_cast<const unsigned char*>(PQgetvalue(r_, row, col)), &n);
  if (raw == nullptr) return std::string();
  std::string out(reinterpret_cast<const char*>(raw), n);
  PQfreemem(raw);
  return out;
}

int64_t PgResult::Affected() const {
  const char* n = PQcmdTuples(r_);
  return n == nullptr || *n == '\0' ? 0 : std::strtoll(n, nullptr, 10);
}

// ------------------------------------------------------------------ params

PgParams& PgParams::Text(std::string_view v) {
  const std::string& s = storage_.emplace_back(v);
  values_.push_back(s.c_str());
  lengths_.push_back(static_cast<int>(s.size()));
  formats_.push_back(0);
  return *this;
}

PgParams& PgParams::Int(int64_t v) { return Text(std::to_string(v)); }

PgParams& PgParams::Bytes(std::string_view v) {
  const std::string& s = storage_.emplace_back(v);
  values_.push_back(s.data());
  lengths_.push_back(static_cast<int>(s.size()));
  formats_.push_back(1);
  return *this;
}

PgParams& PgParams::Null() {
  values_.push_back(nullptr);
  lengths_.push_back(0);
  formats_.push_back(0);
  return *this;
}

// -------------------------------------------------------------- connection

namespace {
constexpr const char* kDefaultConnectTimeoutSeconds = "10";
}  // namespace

bool IsConnectionError(std::string_view sqlstate) {
  // 08: connection exception; 57P01-57P03: admin shutdown, crash
  // shutdown, cannot connect now.
  return sqlstate.starts_with("08") || sqlstate == "57P01" ||
         sqlstate == "57P02" || sqlstate == "57P03";
}

Result<std::unique_ptr<PgConn>> PgConn::Connect(const std::string& url,
                                                const std::string& schema) {
  // libpq waits for a connection forever unless told otherwise (a host
  // that drops packets would hang the start, or a request): 10 s unless
  // the URL sets connect_timeout, which wins (a later keyword overrides,
  // and the URL is expanded in place of `dbname`).
  const char* const keys[] = {"connect_timeout", "dbname", nullptr};
  const char* const values[] = {kDefaultConnectTimeoutSeconds, url.c_str(),
                                nullptr};
  pg_conn* c = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  if (c == nullptr || PQstatus(c) != CONNECTION_OK) {
    std::string why = c != nullptr ? PQerrorMessage(c) : "out of memory";
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) {
      why.pop_back();
    }
    if (c != nullptr) PQfinish(c);
    return Status::Unavailable("cannot connect to PostgreSQL: " + why);
  }
  std::unique_ptr<PgConn> conn(new PgConn(c));
  // Durability (SPEC §10): acknowledgements follow a synchronous commit;
  // whatever the server's default, this connection never lowers it.
  // Notices (e.g. "schema already exists, skipping") are not errors and
  // must not reach stderr.
  std::string setup =
      "SET synchronous_commit = on; SET client_min_messages = warning; "
      "SET search_path TO " + conn->QuoteIdentifier(schema);
  ACPSTORE_RETURN_IF_ERROR(conn->Run(setup).status());
  return conn;
}

PgConn::~PgConn() { PQfinish(conn_); }

bool PgConn::healthy() const {
  return !lost_ && PQstatus(conn_) == CONNECTION_OK;
}

std::string PgConn::QuoteIdentifier(std::string_view name) const {
  char* q = PQescapeIdentifier(conn_, name.data(), name.size());
  if (q == nullptr) return "\"\"";
  std::string out(q);
  PQfreemem(q);
  return out;
}

Result<PgResult> PgConn::Check(pg_result* r) {
  PgResult result(r);
  ExecStatusType st = r == nullptr ? PGRES_FATAL_ERROR : PQresultStatus(r);
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
    last_sqlstate_.clear();
    return result;
  }
  const char* state =
      r == nullptr ? nullptr : PQresultErrorField(r, PG_DIAG_SQLSTATE);
  last_sqlstate_ = state != nullptr ? state : "";
  // Every error the server sends carries a SQLSTATE; one without was made
  // by libpq, and when a statement fails that way the connection is gone
  // ("server closed the connection unexpectedly" after an immediate
  // shutdown; PQstatus may not say so yet). Whether a COMMIT cut off like
  // that happened is unknown, as for any lost connection.
  if (state == nullptr) lost_ = true;
  std::string msg = r != nullptr ? PQresultErrorMessage(r) : "";
  if (msg.empty()) msg = PQerrorMessage(conn_);
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) {
    msg.pop_back();
  }
  if (!healthy() || IsConnectionError(last_sqlstate_)) {
    return Status::Unavailable("the database is unreachable: " + msg);
  }
  return Status::Internal("database statement failed: " + msg);
}

Result<PgResult> PgConn::Run(std::string_view sql) {
  std::string text(sql);
  return Check(PQexec(conn_, text.c_str()));
}

Result<PgResult> PgConn::Exec(const PgStatement& stmt,
                              const PgParams& params) {
  if (!prepared_.contains(stmt.name)) {
    ACPSTORE_RETURN_IF_ERROR(
        Check(PQprepare(conn_, stmt.name, stmt.sql, 0, nullptr)).status());
    prepared_.insert(stmt.name);
  }
  return Check(PQexecPrepared(conn_, stmt.name, params.size(), params.values(),
                              params.lengths(), params.formats(),
                              /*resultFormat=*/0));
}

Result<PgResult> PgConn::Query(std::string_view sql, const PgParams& params) {
  std::string text(sql);
  return Check(PQexecParams(conn_, text.c_str(), params.size(), nullptr,
                            params.values(), params.lengths(),
                            params.formats(), /*resultFormat=*/0));
}

}  // namespace acpstore::postgres
