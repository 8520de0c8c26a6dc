// SqliteDb and SqliteStmt (sqlite_db.h).

#include "sqlite_db.h"

#include <sqlite3.h>

#include <utility>

namespace acpstore::bench {

SqliteStmt::~SqliteStmt() {
  if (stmt_ != nullptr) sqlite3_finalize(stmt_);
}

SqliteStmt::SqliteStmt(SqliteStmt&& other) noexcept
    : db_(other.db_), stmt_(std::exchange(other.stmt_, nullptr)) {}

SqliteStmt& SqliteStmt::operator=(SqliteStmt&& other) noexcept {
  if (this != &other) {
    if (stmt_ != nullptr) sqlite3_finalize(stmt_);
    db_ = other.db_;
    stmt_ = std::exchange(other.stmt_, nullptr);
  }
  return *this;
}

void SqliteStmt::BindText(int i, std::string_view text) {
  sqlite3_bind_text(stmt_, i, text.data(), static_cast<int>(text.size()),
                    SQLITE_STATIC);
}

void SqliteStmt::BindBlob(int i, std::string_view blob) {
  sqlite3_bind_blob(stmt_, i, blob.data(), static_cast<int>(blob.size()),
                    SQLITE_STATIC);
}

void SqliteStmt::BindInt(int i, int64_t value) {
  sqlite3_bind_int64(stmt_, i, value);
}

Status SqliteStmt::Step(bool* row) {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) {
    *row = true;
    return Status::OK();
  }
  *row = false;
  return rc == SQLITE_DONE ? Status::OK() : Error("step");
}

Status SqliteStmt::Run() {
  bool row = true;
  while (row) ACPSTORE_RETURN_IF_ERROR(Step(&row));
  return Status::OK();
}

int64_t SqliteStmt::ColumnInt(int i) const {
  return sqlite3_column_int64(stmt_, i);
}

std::string_view SqliteStmt::ColumnText(int i) const {
  const void* p = sqlite3_column_blob(stmt_, i);
  int n = sqlite3_column_bytes(stmt_, i);
  return p == nullptr ? std::string_view()
                      : std::string_view(static_cast<const char*>(p),
                                         static_cast<size_t>(n));
}

size_t SqliteStmt::ColumnBytes(int i) const {
  return static_cast<size_t>(sqlite3_column_bytes(stmt_, i));
}

void SqliteStmt::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

Status SqliteStmt::Error(const char* what) const {
  return Status::IoError(std::string("sqlite ") + what + ": " +
                         (db_ != nullptr ? sqlite3_errmsg(db_) : "no db"));
}

SqliteDb::~SqliteDb() {
  if (db_ != nullptr) sqlite3_close(db_);
}

Status SqliteDb::Open(const std::string& path, const std::string& synchronous) {
  if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) {
    return Status::IoError("sqlite open " + path + ": " +
                           (db_ != nullptr ? sqlite3_errmsg(db_) : "?"));
  }
  ACPSTORE_RETURN_IF_ERROR(Exec("PRAGMA journal_mode=WAL"));
  return Exec("PRAGMA synchronous=" + synchronous);
}

Status SqliteDb::Exec(const std::string& sql) {
  char* msg = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &msg) != SQLITE_OK) {
    Status s =
        Status::IoError("sqlite " + sql + ": " + (msg != nullptr ? msg : "?"));
    sqlite3_free(msg);
    return s;
  }
  return Status::OK();
}

Status SqliteDb::Prepare(const std::string& sql, SqliteStmt* stmt) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &raw, nullptr) != SQLITE_OK) {
    return Status::IoError("sqlite prepare " + sql + ": " +
                           sqlite3_errmsg(db_));
  }
  *stmt = SqliteStmt(db_, raw);
  return Status::OK();
}

int64_t SqliteDb::Changes() const { return sqlite3_changes64(db_); }

}  // namespace acpstore::bench
