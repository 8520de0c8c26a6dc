// PgPool: up to `size` connections to one database (--postgres-pool,
// default 8), opened lazily and reused. A caller borrows one for a whole
// transaction; a connection that broke is dropped on return, so the next
// borrow reconnects (SPEC §10: the server reconnects on its own).
//
// A caller must never borrow while it holds a lease of the same pool: with
// every connection held by such callers, each waits for another's for ever
// (a pool of 2 deadlocked POST /v1/keys that way).
//
// Thread-safety: every method may be called from any thread. Borrow waits
// while every connection is lent out: for ever, or at most max_wait when
// one is given (then it fails with kUnavailable, so a caller that cannot
// get a connection answers 503 rather than hanging). Lifetime: the pool
// must outlive its leases.

#ifndef ACPSTORE_POSTGRES_PG_POOL_H_
#define ACPSTORE_POSTGRES_PG_POOL_H_

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "acpstore/result.h"
#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "postgres/pg_conn.h"

namespace acpstore::postgres {

class PgPool {
 public:
  class Lease {
   public:
    Lease(PgPool* pool, std::unique_ptr<PgConn> conn)
        : pool_(pool), conn_(std::move(conn)) {}
    Lease(Lease&&) = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (conn_) pool_->Return(std::move(conn_));
    }
    PgConn* operator->() { return conn_.get(); }
    PgConn& operator*() { return *conn_; }

   private:
    PgPool* pool_;
    std::unique_ptr<PgConn> conn_;
  };

  // `max_wait`: how long Borrow waits for a connection to come back;
  // std::nullopt waits for ever. Every connection is opened with `limits`
  // (PgConn::Connect).
  PgPool(std::string url, std::string schema, size_t size,
         std::optional<std::chrono::milliseconds> max_wait = std::nullopt,
         PgSessionLimits limits = PgSessionLimits{});

  // kUnavailable when a new connection is needed and cannot be opened, or
  // every connection stayed lent out for max_wait.
  Result<Lease> Borrow() EXCLUDES(mu_);

  const std::string& url() const { return url_; }
  size_t size() const { return size_; }
  const std::string& schema() const { return schema_; }
  const PgSessionLimits& limits() const { return limits_; }

 private:
  void Return(std::unique_ptr<PgConn> conn) EXCLUDES(mu_);

  const std::string url_;
  const std::string schema_;
  const size_t size_;
  const std::optional<std::chrono::milliseconds> max_wait_;
  const PgSessionLimits limits_;
  base::Mutex mu_;
  base::CondVar cv_;
  std::vector<std::unique_ptr<PgConn>> idle_ GUARDED_BY(mu_);
  size_t open_ GUARDED_BY(mu_) = 0;  // idle + lent out
};

}  // namespace acpstore::postgres

#endif  // ACPSTORE_POSTGRES_PG_POOL_H_
