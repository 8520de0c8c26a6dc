// A small RAII wrapper over one SQLite connection and its prepared
// statements, for the peers of the queue and replay workloads (the append
// peer keeps its own in sqlite_peer.cc). Errors become Status values with
// SQLite's message.
//
// Thread-safety: none, as an SQLite connection used without its own
// mutex: callers serialise every use of one SqliteDb and its statements.
// Lifetime: statements must be destroyed before their SqliteDb.

#ifndef ACPSTORE_BENCH_SQLITE_DB_H_
#define ACPSTORE_BENCH_SQLITE_DB_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "acpstore/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace acpstore::bench {

class SqliteStmt {
 public:
  SqliteStmt() = default;
  SqliteStmt(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~SqliteStmt();
  SqliteStmt(SqliteStmt&& other) noexcept;
  SqliteStmt& operator=(SqliteStmt&& other) noexcept;
  SqliteStmt(const SqliteStmt&) = delete;
  SqliteStmt& operator=(const SqliteStmt&) = delete;

  // Parameters are 1-based; text and blobs are not copied (SQLITE_STATIC):
  // they must live until Reset().
  void BindText(int i, std::string_view text);
  void BindBlob(int i, std::string_view blob);
  void BindInt(int i, int64_t value);
  // Steps once: true with a row, false when done; an error as Status.
  Status Step(bool* row);
  // Steps to the end, expecting no row.
  Status Run();
  int64_t ColumnInt(int i) const;
  std::string_view ColumnText(int i) const;
  size_t ColumnBytes(int i) const;
  void Reset();

 private:
  Status Error(const char* what) const;
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

class SqliteDb {
 public:
  SqliteDb() = default;
  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  // Opens (creating) `path` in WAL mode with PRAGMA synchronous =
  // `synchronous` ("FULL" or "NORMAL").
  Status Open(const std::string& path, const std::string& synchronous);
  Status Exec(const std::string& sql);
  Status Prepare(const std::string& sql, SqliteStmt* stmt);
  // Rows changed by the last statement.
  int64_t Changes() const;

 private:
  sqlite3* db_ = nullptr;
};

}  // namespace acpstore::bench

#endif  // ACPSTORE_BENCH_SQLITE_DB_H_
