// PgPool: see pg_pool.h.

#include "postgres/pg_pool.h"

#include <utility>

namespace acpstore::postgres {

PgPool::PgPool(std::string url, std::string schema, size_t size,
               std::optional<std::chrono::milliseconds> max_wait,
               PgSessionLimits limits)
    : url_(std::move(url)), schema_(std::move(schema)),
      size_(size == 0 ? 1 : size), max_wait_(max_wait), limits_(limits) {}

Result<PgPool::Lease> PgPool::Borrow() {
  {
    base::MutexLock lock(&mu_);
    if (max_wait_) {
      const auto deadline = std::chrono::steady_clock::now() + *max_wait_;
      while (idle_.empty() && open_ >= size_) {
        if (!cv_.WaitUntil(&mu_, deadline) && idle_.empty() &&
            open_ >= size_) {
          return Status::Unavailable(
              "every database connection of the pool is in use");
        }
      }
    } else {
      while (idle_.empty() && open_ >= size_) cv_.Wait(&mu_);
    }
    if (!idle_.empty()) {
      std::unique_ptr<PgConn> conn = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(conn));
    }
    ++open_;  // reserve the slot; connect without the lock
  }
  Result<std::unique_ptr<PgConn>> conn = PgConn::Connect(url_, schema_, limits_);
  if (!conn.ok()) {
    base::MutexLock lock(&mu_);
    --open_;
    cv_.Signal();
    return std::move(conn).error();
  }
  return Lease(this, std::move(*conn));
}

void PgPool::Return(std::unique_ptr<PgConn> conn) {
  base::MutexLock lock(&mu_);
  if (conn->healthy()) {
    idle_.push_back(std::move(conn));
  } else {
    --open_;  // dropped: the next borrow reconnects
  }
  cv_.Signal();
}

}  // namespace acpstore::postgres
