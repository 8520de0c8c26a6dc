// CommitQueue: the postgres engine's write path off the caller's thread,
// with group commit (SPEC §10). Mutations are queued as Jobs; a few worker
// threads take them in order. A worker that takes an append also takes
// every other append waiting behind it (up to kMaxBatch) and runs them all
// in ONE transaction, so concurrent appends share a commit, as the file
// engine's appends share an fdatasync (at most kAppendBatches such
// batches run at once); nothing waits on purpose, so a lone
// append commits at once. Round trips (PgConn's pipelining): BEGIN and
// every job's prefetch (the session row each append locks, first job of a
// session only, in lock_order) go out together; each
// job's writes ride with the next statement that waits; the last ones
// with the COMMIT - two round trips for a batch of appends to distinct
// sessions. Each job is completed only after COMMIT returned
// (synchronous_commit on). If any job of a batch meets a database error,
// the batch is rolled back and each job runs again in a transaction of its
// own, so one bad request never fails the others. A batch runs its jobs in
// `lock_order` order (see CommitJob), not arrival order.
//
// Thread-safety: Post may be called from any thread. Jobs and their
// finish callbacks run on the worker threads. Lifetime: the destructor
// runs every job already posted, then joins the workers.

#ifndef ACPSTORE_POSTGRES_PG_COMMIT_QUEUE_H_
#define ACPSTORE_POSTGRES_PG_COMMIT_QUEUE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "acpstore/status.h"
#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "postgres/pg_conn.h"
#include "postgres/pg_pool.h"

namespace acpstore::postgres {

struct CommitJob {
  // Runs inside an open transaction, possibly beside other jobs, and again
  // if the transaction is retried, so it must start from scratch each time.
  // Returns only database failures: a refusal of the request (a decider's
  // answer) is the job's own result, kept by the job, and returns OK.
  std::function<Status(PgConn&)> run;
  // Once: OK after the COMMIT that made the job durable, or the failure.
  std::function<void(Status)> finish;
  bool append = false;  // may share a transaction with other appends
  // Appends sharing a transaction run sorted by this key (stable: one
  // session's appends keep their order): the row each one locks, so every
  // batch, on every server, takes its row locks in one order and two
  // batches can never deadlock (which PostgreSQL would break only after
  // deadlock_timeout, a second, every time).
  std::string lock_order;
  // Appends: prefetch(conn) queues the first read of run() - the row that
  // lock_order names - (PgConn::Prefetch) so that it goes out with the
  // batch's BEGIN. Only the first job of a lock_order in a batch
  // prefetches: a later one must read what the earlier wrote.
  std::function<Status(PgConn&)> prefetch;
};

class CommitQueue {
 public:
  static constexpr size_t kMaxBatch = 256;
  // Batches of appends running at once. PostgreSQL commits transactions
  // that NOTIFY one at a time (a database-wide lock held through the WAL
  // flush), so more lanes only split the waiting appends into smaller
  // batches that queue for that lock; two let one batch execute while the
  // other commits. (Same-run medians of 3 at 16/64 writers on a loaded
  // machine: 1 lane 1,389/2,360 appends/s, 2 lanes 959/3,030, 4 lanes
  // 506/1,732; docs/benchmarks.md.) Other mutations are not limited.
  static constexpr size_t kAppendBatches = 2;

  // `transact` runs one job alone in a transaction with the engine's
  // retry rules (PgStore::InTransaction).
  using Transact = std::function<Status(const std::function<Status(PgConn&)>&)>;

  CommitQueue(PgPool* pool, Transact transact, size_t workers);
  ~CommitQueue();
  CommitQueue(const CommitQueue&) = delete;
  CommitQueue& operator=(const CommitQueue&) = delete;

  void Post(CommitJob job) EXCLUDES(mu_);

  // Cumulative: transactions that carried appends, and the appends in them.
  uint64_t append_commits() const { return append_commits_.load(); }
  uint64_t appends_committed() const { return appends_committed_.load(); }
  // batch_log2[i]: append transactions of [2^i, 2^(i+1)) appends.
  uint64_t batch_log2(size_t i) const { return batch_log2_[i].load(); }
  static constexpr size_t kBatchBuckets = 16;

 private:
  void Loop() EXCLUDES(mu_);
  // The first job a worker may take: any but an append while
  // kAppendBatches batches of appends run already.
  std::deque<CommitJob>::iterator FirstRunnable() REQUIRES(mu_);
  void RunBatch(std::vector<CommitJob>& jobs);
  static Status Begin(PgConn& c, std::vector<CommitJob>& jobs);
  void CountBatch(size_t n);

  PgPool* const pool_;
  const Transact transact_;
  base::Mutex mu_;
  base::CondVar cv_;
  std::deque<CommitJob> queue_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;
  size_t append_batches_ GUARDED_BY(mu_) = 0;  // running now
  std::atomic<uint64_t> append_commits_{0};
  std::atomic<uint64_t> appends_committed_{0};
  std::atomic<uint64_t> batch_log2_[kBatchBuckets] = {};
  std::vector<std::thread> workers_;
};

}  // namespace acpstore::postgres

#endif  // ACPSTORE_POSTGRES_PG_COMMIT_QUEUE_H_
