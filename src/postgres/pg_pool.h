// PgPool: up to `size` connections to one database (--postgres-pool,
// default 8), opened lazily and reused. A caller borrows one for a whole
// transaction; a connection that broke is dropped on return, so the next
// borrow reconnects (SPEC §10: the server reconnects on its own).
//
// Thread-safety: every method may be called from any thread. Borrow waits
// while every connection is lent out. Lifetime: the pool must outlive its
// leases.

#ifndef ACPSTORE_POSTGRES_PG_POOL_H_
#define ACPSTORE_POSTGRES_PG_POOL_H_

#include <cstddef>
#include <memory>
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

  PgPool(std::string url, std::string schema, size_t size);

  // kUnavailable when a new connection is needed and cannot be opened.
  Result<Lease> Borrow() EXCLUDES(mu_);

  const std::string& url() const { return url_; }
  size_t size() const { return size_; }
  const std::string& schema() const { return schema_; }

 private:
  void Return(std::unique_ptr<PgConn> conn) EXCLUDES(mu_);

  const std::string url_;
  const std::string schema_;
  const size_t size_;
  base::Mutex mu_;
  base::CondVar cv_;
  std::vector<std::unique_ptr<PgConn>> idle_ GUARDED_BY(mu_);
  size_t open_ GUARDED_BY(mu_) = 0;  // idle + lent out
};

}  // namespace acpstore::postgres

#endif  // ACPSTORE_POSTGRES_PG_POOL_H_
