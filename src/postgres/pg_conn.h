// PgConn: one libpq connection with its prepared statements, and PgResult,
// the rows a statement returned. Every statement is sent with text
// parameters (bytea and bytea[] ones in binary) and returns text columns.
//
// Errors are values: a statement that fails returns kUnavailable when the
// connection is lost (the pool then drops the connection) and kInternal
// otherwise; last_sqlstate() names the SQLSTATE so callers can retry a
// serialization failure or map a unique violation.
//
// Pipelining (libpq pipeline mode; any server): Send and SendCommand queue
// a statement whose rows nobody reads, Prefetch one whose rows a later Exec
// of the same statement with the same parameters takes; nothing waits
// until a statement needs its answer (Exec, Run, Query, Flush), which goes
// out with everything queued in one round trip. A queued statement's
// failure is that later call's failure (with its SQLSTATE), so a
// transaction's writes fail it at the latest at COMMIT. A COMMIT or
// ROLLBACK that an earlier failure skipped still ends the transaction.
// Prefetched rows are forgotten at the next Run (BEGIN, COMMIT, ROLLBACK),
// so they never outlive their transaction.
//
// Thread-safety: none; a connection is used by one thread at a time (the
// pool hands it out). Lifetime: closes the connection when destroyed.

#ifndef ACPSTORE_POSTGRES_PG_CONN_H_
#define ACPSTORE_POSTGRES_PG_CONN_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "acpstore/result.h"
#include "acpstore/status.h"

struct pg_conn;
struct pg_result;

namespace acpstore::postgres {

// SQLSTATEs the engine reacts to.
inline constexpr std::string_view kUniqueViolation = "23505";
inline constexpr std::string_view kSerializationFailure = "40001";
inline constexpr std::string_view kDeadlockDetected = "40P01";
// lock_timeout expired (PgSessionLimits::lock_timeout_ms).
inline constexpr std::string_view kLockNotAvailable = "55P03";
// statement_timeout expired, or the statement was cancelled.
inline constexpr std::string_view kQueryCanceled = "57014";

// Bounds PostgreSQL applies to one connection (SET at connect; decision
// 0039), so that a transaction stuck elsewhere cannot wedge this one, nor
// one of this connection's wedge the others. 0 leaves the server's own
// setting (PostgreSQL's default: none).
struct PgSessionLimits {
  // lock_timeout: a statement waiting this long for a lock (a row another
  // transaction holds FOR UPDATE) fails with kLockNotAvailable, which
  // Check maps to kUnavailable; the connection stays usable.
  int64_t lock_timeout_ms = 0;
  // idle_in_transaction_session_timeout: PostgreSQL closes this
  // connection once it stays this long inside a transaction without a
  // statement running, ending the transaction and releasing its locks (a
  // frozen or half-connected server's locks are released then).
  int64_t idle_in_transaction_timeout_ms = 0;
};

class PgResult {
 public:
  PgResult() = default;
  explicit PgResult(pg_result* r) : r_(r) {}
  PgResult(PgResult&& other) noexcept : r_(other.r_) { other.r_ = nullptr; }
  PgResult& operator=(PgResult&& other) noexcept;
  PgResult(const PgResult&) = delete;
  PgResult& operator=(const PgResult&) = delete;
  ~PgResult();

  int rows() const;
  bool IsNull(int row, int col) const;
  std::string_view Text(int row, int col) const;
  std::optional<std::string> OptText(int row, int col) const;
  int64_t Int(int row, int col) const;
  std::optional<int64_t> OptInt(int row, int col) const;
  // A bytea column, unescaped from its hex text form.
  std::string Bytes(int row, int col) const;
  // Rows changed by an INSERT/UPDATE/DELETE.
  int64_t Affected() const;

 private:
  pg_result* r_ = nullptr;
};

// Parameters of one statement; strings are copied, so temporaries are fine.
// Movable, not copyable: values() points into the object's own storage,
// which a move keeps (std::deque moves its blocks) and a copy would not.
class PgParams {
 public:
  PgParams() = default;
  PgParams(PgParams&&) = default;
  PgParams& operator=(PgParams&&) = default;
  PgParams(const PgParams&) = delete;
  PgParams& operator=(const PgParams&) = delete;

  PgParams& Text(std::string_view v);
  PgParams& Int(int64_t v);
  PgParams& Bytes(std::string_view v);  // bytea, sent binary
  // A bytea[] of `items` (one dimension, no NULLs), sent binary: one
  // parameter for many rows (`unnest($n::bytea[])`) without hex-escaping
  // each element into an array literal.
  PgParams& BytesArray(const std::vector<std::string>& items);
  PgParams& Null();
  PgParams& OptText(const std::optional<std::string>& v) {
    return v ? Text(*v) : Null();
  }
  PgParams& OptInt(const std::optional<int64_t>& v) {
    return v ? Int(*v) : Null();
  }

  int size() const { return static_cast<int>(values_.size()); }
  const char* const* values() const { return values_.data(); }
  const int* lengths() const { return lengths_.data(); }
  const int* formats() const { return formats_.data(); }

 private:
  std::deque<std::string> storage_;  // stable addresses
  std::vector<const char*> values_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
};

// A statement prepared once per connection under `name` on first use.
struct PgStatement {
  const char* name;
  const char* sql;
};

class PgConn {
 public:
  // Connects with `url` (a libpq connection string or URI) and sets the
  // search_path to `schema` (created by the migrator, pg_migrate.h) and
  // `limits`. TCP keepalives are on (idle 30 s, then a probe every 10 s,
  // given up after 3: a database host that vanished is noticed in about a
  // minute) unless the URL sets them. kUnavailable when the database
  // cannot be reached.
  static Result<std::unique_ptr<PgConn>> Connect(
      const std::string& url, const std::string& schema,
      const PgSessionLimits& limits = PgSessionLimits{});
  ~PgConn();
  PgConn(const PgConn&) = delete;
  PgConn& operator=(const PgConn&) = delete;

  // A statement without parameters (BEGIN, COMMIT, DDL, ...).
  Result<PgResult> Run(std::string_view sql);
  // A prepared statement with parameters.
  Result<PgResult> Exec(const PgStatement& stmt, const PgParams& params);
  // An unprepared statement with parameters.
  Result<PgResult> Query(std::string_view sql, const PgParams& params);

  // Pipelining (above). kUnavailable if the connection broke.
  Status Send(const PgStatement& stmt, const PgParams& params);
  Status SendCommand(std::string_view sql);
  Status Prefetch(const PgStatement& stmt, const PgParams& params);
  // Waits for everything queued; the first failure among it.
  Status Flush();
  // The rows a Prefetch of stmt with these parameters read, if a round
  // trip has brought them and nothing took them yet; never sends anything
  // (unlike Exec, which would run the statement again).
  std::optional<PgResult> TakeFetched(const PgStatement& stmt,
                                      const PgParams& params);

  // False once the connection broke (libpq says so, or a statement failed
  // with an error libpq made up itself, which it does only when it lost
  // the server); the pool drops it.
  bool healthy() const;
  const std::string& last_sqlstate() const { return last_sqlstate_; }
  // `name` quoted as an SQL identifier.
  std::string QuoteIdentifier(std::string_view name) const;
  pg_conn* raw() { return conn_; }

 private:
  // A queued statement, in the order its results come back.
  struct Queued {
    enum Kind { kPrepare, kDiscard, kPrefetch, kWanted } kind;
    std::string key;  // kPrepare: the name; kPrefetch: PrefetchKey
  };
  struct Prefetched {
    std::string key;
    PgResult rows;
  };

  explicit PgConn(pg_conn* conn) : conn_(conn) {}
  Result<PgResult> Check(pg_result* r);
  static std::string PrefetchKey(const PgStatement& stmt,
                                 const PgParams& params);
  // Queues stmt (preparing it first if this connection has not).
  Status Queue(const PgStatement& stmt, const PgParams& params,
               Queued::Kind kind, std::string key);
  Status QueueFailed();
  // Sends a Sync and reads every queued result; the kWanted one (if any)
  // or the first failure.
  Result<PgResult> Drain();
  // The prefetched rows of `key`, taken; nullopt if none.
  std::optional<PgResult> TakePrefetched(const std::string& key);

  pg_conn* conn_;
  std::unordered_set<std::string> prepared_;
  std::string last_sqlstate_;
  std::vector<Queued> queued_;
  std::vector<Prefetched> prefetched_;
  bool lost_ = false;  // a client-side error ended a statement, or
                       // a pipeline lost track of its results
};

// The SQLSTATE class of lost connections and server shutdowns: the
// statement may be retried on a new connection once it is back.
bool IsConnectionError(std::string_view sqlstate);

// A timeout PostgreSQL enforced (lock_timeout, statement_timeout): nothing
// of the statement happened; the connection is fine and the request may be
// tried again later (kUnavailable, like an unreachable database).
bool IsTimeoutError(std::string_view sqlstate);

}  // namespace acpstore::postgres

#endif  // ACPSTORE_POSTGRES_PG_CONN_H_
