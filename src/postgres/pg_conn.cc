// PgConn, PgResult, PgParams: see pg_conn.h.

#include "postgres/pg_conn.h"

#include <libpq-fe.h>

#include <cstdlib>
#include <string>
#include <utility>

#include "postgres/pg_notify_payload.h"

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

namespace {
void PutBigEndian32(std::string* out, uint32_t v) {
  const char bytes[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                         static_cast<char>(v >> 8), static_cast<char>(v)};
  out->append(bytes, 4);
}
}  // namespace

// PostgreSQL's binary array format (what array_recv reads), every integer
// a big-endian int32: the dimension count (1; 0 for an empty array), a
// has-NULLs flag (0), the element type's OID (17, bytea); per dimension
// its length and lower bound (1); then each element as its length and its
// bytes (bytea's binary form is the bytes themselves).
PgParams& PgParams::BytesArray(const std::vector<std::string>& items) {
  constexpr uint32_t kByteaOid = 17;
  size_t total = 20;
  for (const std::string& item : items) total += 4 + item.size();
  std::string& s = storage_.emplace_back();
  s.reserve(total);
  PutBigEndian32(&s, items.empty() ? 0 : 1);
  PutBigEndian32(&s, 0);
  PutBigEndian32(&s, kByteaOid);
  if (!items.empty()) {
    PutBigEndian32(&s, static_cast<uint32_t>(items.size()));
    PutBigEndian32(&s, 1);
    for (const std::string& item : items) {
      PutBigEndian32(&s, static_cast<uint32_t>(item.size()));
      s += item;
    }
  }
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

// What a client of the HTTP API reads when the database fails it: libpq's
// own text (the socket path, host and port, "FATAL: ...") stays in the
// message, for the server's log, /readyz and the tools (SPEC §10).
constexpr std::string_view kUnreachableForClients =
    "the database is unreachable";

Status UnavailableWithLibpqText(const std::string& message) {
  return Status::Unavailable(message).With(kClientMessageDetail,
                                           kUnreachableForClients);
}

// libpq's messages end with a newline (sometimes a space).
std::string Trimmed(std::string msg) {
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) {
    msg.pop_back();
  }
  return msg;
}
}  // namespace

bool IsConnectionError(std::string_view sqlstate) {
  // 08: connection exception; 57P01-57P03: admin shutdown, crash
  // shutdown, cannot connect now.
  return sqlstate.starts_with("08") || sqlstate == "57P01" ||
         sqlstate == "57P02" || sqlstate == "57P03";
}

bool IsTimeoutError(std::string_view sqlstate) {
  return sqlstate == kLockNotAvailable || sqlstate == kQueryCanceled;
}

Result<std::unique_ptr<PgConn>> PgConn::Connect(
    const std::string& url, const std::string& schema,
    const PgSessionLimits& limits) {
  // Before connecting: PostgreSQL would truncate a longer name, or refuse
  // the notification channel derived from it, only later.
  ACPSTORE_RETURN_IF_ERROR(CheckSchemaName(schema));
  // libpq waits for a connection forever unless told otherwise (a host
  // that drops packets would hang the start, or a request): 10 s unless
  // the URL sets connect_timeout, which wins (a later keyword overrides,
  // and the URL is expanded in place of `dbname`).
  // An operator (and a test) can tell the store's connections apart in
  // pg_stat_activity: "acpstore:<schema>" unless the URL names the
  // application itself (the fallback yields to it).
  // PostgreSQL keeps 63 bytes of it and says so in a NOTICE that would
  // reach stderr (the notice processor below is not installed yet).
  const std::string application = ("acpstore:" + schema).substr(0, 63);
  // TCP keepalives (decision 0039): a database host that vanished
  // (powered off, a network partition: nothing answers, nothing resets)
  // would leave a connection waiting for an answer for as long as the
  // kernel's defaults say, about two hours. Probing after 30 s idle, every
  // 10 s, 3 times, notices it in about a minute; the URL's own keepalive
  // settings win, as they follow. Unix sockets ignore them.
  const char* const keys[] = {"connect_timeout",
                              "fallback_application_name",
                              "keepalives",
                              "keepalives_idle",
                              "keepalives_interval",
                              "keepalives_count",
                              "dbname",
                              nullptr};
  const char* const values[] = {kDefaultConnectTimeoutSeconds,
                                application.c_str(),
                                "1",
                                "30",
                                "10",
                                "3",
                                url.c_str(),
                                nullptr};
  pg_conn* c = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  if (c == nullptr || PQstatus(c) != CONNECTION_OK) {
    std::string why =
        Trimmed(c != nullptr ? PQerrorMessage(c) : "out of memory");
    if (c != nullptr) PQfinish(c);
    return UnavailableWithLibpqText("cannot connect to PostgreSQL: " + why);
  }
  // libpq hands the server's messages outside a query (a FATAL while the
  // connection is idle, e.g. at a PostgreSQL shutdown) to a notice
  // processor that prints to stderr by default. The loss shows up as an
  // error on the connection's next use, which the engine reports itself;
  // a raw line on stderr would only bypass the server's log format.
  PQsetNoticeProcessor(c, [](void*, const char*) {}, nullptr);
  std::unique_ptr<PgConn> conn(new PgConn(c));
  // Durability (SPEC §10): acknowledgements follow a synchronous commit;
  // whatever the server's default, this connection never lowers it.
  // Notices (e.g. "schema already exists, skipping") are not errors and
  // must not reach stderr.
  std::string setup =
      "SET synchronous_commit = on; SET client_min_messages = warning; "
      "SET search_path TO " + conn->QuoteIdentifier(schema);
  // The bounds of decision 0039, in this session's settings: every
  // statement and transaction on the connection keeps them (a SET LOCAL
  // may lower one for a transaction).
  if (limits.lock_timeout_ms > 0) {
    setup += "; SET lock_timeout = " + std::to_string(limits.lock_timeout_ms);
  }
  if (limits.idle_in_transaction_timeout_ms > 0) {
    setup += "; SET idle_in_transaction_session_timeout = " +
             std::to_string(limits.idle_in_transaction_timeout_ms);
  }
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
  msg = Trimmed(std::move(msg));
  if (!healthy() || IsConnectionError(last_sqlstate_)) {
    return UnavailableWithLibpqText("the database is unreachable: " + msg);
  }
  if (IsTimeoutError(last_sqlstate_)) {
    // A row another transaction holds (another server's, maybe one that
    // froze) or a statement_timeout: nothing happened, the connection is
    // fine, and a retry after a while may find the row free (decision
    // 0039). 503 with Retry-After rather than a hang.
    return Status::Unavailable(
               "the database did not answer in time (" +
               std::string(last_sqlstate_ == kLockNotAvailable
                               ? "a row this request needs is locked by "
                                 "another transaction"
                               : "the statement was cancelled") +
               "): " + msg)
        .With(kClientMessageDetail,
              last_sqlstate_ == kLockNotAvailable
                  ? "a row this request needs is locked by another "
                    "transaction (another server's, maybe one that stopped "
                    "answering); try again later"
                  : "the database did not answer in time; try again later");
  }
  return Status::Internal("database statement failed: " + msg);
}

Result<PgResult> PgConn::Run(std::string_view sql) {
  std::string text(sql);
  if (!queued_.empty()) {
    const bool ends = sql == "COMMIT" || sql == "ROLLBACK";
    if (sql == "ROLLBACK") {
      // Sent behind a failed statement it would be skipped: read the
      // queue first, then roll back below.
      (void)Drain();
    } else {
      if (lost_) return UnavailableWithLibpqText("the database connection was lost");
      if (PQsendQueryParams(conn_, text.c_str(), 0, nullptr, nullptr, nullptr,
                            nullptr, 0) != 1) {
        return QueueFailed();
      }
      queued_.push_back({Queued::kWanted, ""});
      Result<PgResult> r = Drain();
      prefetched_.clear();
      if (!r.ok() && ends && healthy() &&
          PQtransactionStatus(conn_) == PQTRANS_INERROR) {
        // An earlier failure skipped the COMMIT: end the transaction as a
        // failed COMMIT would have, keeping that failure's SQLSTATE.
        const std::string state = last_sqlstate_;
        PQclear(PQexec(conn_, "ROLLBACK"));
        last_sqlstate_ = state;
      }
      return r;
    }
  }
  prefetched_.clear();
  if (lost_) return UnavailableWithLibpqText("the database connection was lost");
  return Check(PQexec(conn_, text.c_str()));
}

// -------------------------------------------------------------- pipelining

std::string PgConn::PrefetchKey(const PgStatement& stmt,
                                const PgParams& params) {
  std::string key = stmt.name;
  for (int i = 0; i < params.size(); ++i) {
    key.push_back('\0');
    if (params.values()[i] == nullptr) {
      key.push_back('N');
      continue;
    }
    key.push_back(params.formats()[i] != 0 ? 'B' : 'T');
    key.append(params.values()[i], static_cast<size_t>(params.lengths()[i]));
  }
  return key;
}

Status PgConn::QueueFailed() {
  // The pipeline's state is unknown now: never use this connection again.
  lost_ = true;
  queued_.clear();
  prefetched_.clear();
  return UnavailableWithLibpqText("the database is unreachable: " +
                                  Trimmed(PQerrorMessage(conn_)));
}

Status PgConn::Queue(const PgStatement& stmt, const PgParams& params,
                     Queued::Kind kind, std::string key) {
  if (lost_) return UnavailableWithLibpqText("the database connection was lost");
  if (PQpipelineStatus(conn_) == PQ_PIPELINE_OFF &&
      PQenterPipelineMode(conn_) != 1) {
    return QueueFailed();
  }
  if (!prepared_.contains(stmt.name)) {
    if (PQsendPrepare(conn_, stmt.name, stmt.sql, 0, nullptr) != 1) {
      return QueueFailed();
    }
    prepared_.insert(stmt.name);
    queued_.push_back({Queued::kPrepare, stmt.name});
  }
  if (PQsendQueryPrepared(conn_, stmt.name, params.size(), params.values(),
                          params.lengths(), params.formats(),
                          /*resultFormat=*/0) != 1) {
    return QueueFailed();
  }
  queued_.push_back({kind, std::move(key)});
  return Status::OK();
}

Status PgConn::Send(const PgStatement& stmt, const PgParams& params) {
  return Queue(stmt, params, Queued::kDiscard, "");
}

Status PgConn::SendCommand(std::string_view sql) {
  if (lost_) return UnavailableWithLibpqText("the database connection was lost");
  if (PQpipelineStatus(conn_) == PQ_PIPELINE_OFF &&
      PQenterPipelineMode(conn_) != 1) {
    return QueueFailed();
  }
  std::string text(sql);
  if (PQsendQueryParams(conn_, text.c_str(), 0, nullptr, nullptr, nullptr,
                        nullptr, 0) != 1) {
    return QueueFailed();
  }
  queued_.push_back({Queued::kDiscard, ""});
  return Status::OK();
}

Status PgConn::Prefetch(const PgStatement& stmt, const PgParams& params) {
  return Queue(stmt, params, Queued::kPrefetch, PrefetchKey(stmt, params));
}

Status PgConn::Flush() {
  if (queued_.empty()) return Status::OK();
  return Drain().status();
}

std::optional<PgResult> PgConn::TakeFetched(const PgStatement& stmt,
                                            const PgParams& params) {
  return TakePrefetched(PrefetchKey(stmt, params));
}

std::optional<PgResult> PgConn::TakePrefetched(const std::string& key) {
  for (auto it = prefetched_.begin(); it != prefetched_.end(); ++it) {
    if (it->key == key) {
      PgResult rows = std::move(it->rows);
      prefetched_.erase(it);
      return rows;
    }
  }
  return std::nullopt;
}

Result<PgResult> PgConn::Drain() {
  if (PQpipelineSync(conn_) != 1) return QueueFailed();
  std::optional<PgResult> wanted;
  std::optional<Status> failure;
  std::string failure_state;
  for (const Queued& q : queued_) {
    pg_result* r = PQgetResult(conn_);
    if (r == nullptr) return QueueFailed();  // lost mid-pipeline
    // Every statement's results end with a null.
    while (pg_result* extra = PQgetResult(conn_)) PQclear(extra);
    const ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_PIPELINE_ABORTED) {  // behind a failure
      // Skipped, so a statement prepared here is not: prepare it again
      // at its next use.
      if (q.kind == Queued::kPrepare) prepared_.erase(q.key);
      PQclear(r);
      continue;
    }
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
      if (q.kind == Queued::kPrepare) prepared_.erase(q.key);
      Status s = Check(r).status();
      if (!failure) {
        failure = std::move(s);
        failure_state = last_sqlstate_;
      }
      continue;
    }
    if (q.kind == Queued::kPrefetch) {
      prefetched_.push_back({q.key, PgResult(r)});
    } else if (q.kind == Queued::kWanted) {
      wanted.emplace(r);
    } else {
      PQclear(r);
    }
  }
  queued_.clear();
  pg_result* sync = PQgetResult(conn_);
  const bool synced =
      sync != nullptr && PQresultStatus(sync) == PGRES_PIPELINE_SYNC;
  if (sync != nullptr) PQclear(sync);
  if (!synced || PQexitPipelineMode(conn_) != 1) return QueueFailed();
  if (failure) {
    last_sqlstate_ = failure_state;
    return *std::move(failure);
  }
  last_sqlstate_.clear();
  if (wanted) return std::move(*wanted);
  return PgResult();
}

Result<PgResult> PgConn::Exec(const PgStatement& stmt,
                              const PgParams& params) {
  if (!queued_.empty() || !prefetched_.empty()) {
    // Prefetched rows were read for exactly this statement (its first use
    // in the transaction); statements queued since touch other rows.
    const std::string key = PrefetchKey(stmt, params);
    if (std::optional<PgResult> rows = TakePrefetched(key)) {
      return std::move(*rows);
    }
    bool pending = false;
    for (const Queued& q : queued_) {
      pending = pending || (q.kind == Queued::kPrefetch && q.key == key);
    }
    if (pending) {
      ACPSTORE_RETURN_IF_ERROR(Drain().status());
      if (std::optional<PgResult> rows = TakePrefetched(key)) {
        return std::move(*rows);
      }
    } else if (!queued_.empty()) {
      ACPSTORE_RETURN_IF_ERROR(Queue(stmt, params, Queued::kWanted, ""));
      return Drain();
    }
  }
  if (lost_) return UnavailableWithLibpqText("the database connection was lost");
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
  ACPSTORE_RETURN_IF_ERROR(Flush());
  if (lost_) return UnavailableWithLibpqText("the database connection was lost");
  std::string text(sql);
  return Check(PQexecParams(conn_, text.c_str(), params.size(), nullptr,
                            params.values(), params.lengths(),
                            params.formats(), /*resultFormat=*/0));
}

}  // namespace acpstore::postgres
