// CommitQueue: the postgres engine's write path off the caller's thread,
// with group commit (SPEC §10). Mutations are queued as Jobs; a few worker
// threads take them in order. A worker that takes an append also takes
// every other append waiting behind it (up to kMaxBatch) and runs them all
// in ONE transaction, so concurrent appends share a commit, as the file
// engine's appends share an fdatasync (at most kAppendBatches such
// batches run at once); nothing waits on purpose, so a lone
// append commits at once. The batch is an AppendBatch (pg_append_batch.h):
// BEGIN and the locking read of each of its sessions go out together,
// each append decides against what the earlier ones of the batch decided
// (in memory, so a session's later appends wait for nothing), and the
// writes go out with the COMMIT - two round trips per batch, however many
// appends each session has in it (decision 0017). Each job is completed
// only after COMMIT returned
// (synchronous_commit on). Then the batch's notifications (one per
// session it appended to) go to `publish`, the server's notification
// connection (pg_listener.h, decisions 0013 and 0032), which sends them
// off this thread: a NOTIFY inside the transaction would make PostgreSQL
// commit the batches one at a time, and one on the commit thread would
// hold it from the next batch for a round trip. If any job of a batch
// meets a database error, the batch is rolled back and each job runs
// again in a transaction of its own (`run`), so one bad request never
// fails the others. A batch runs its
// jobs in `lock_order` order (see CommitJob), not arrival order. After
// its COMMIT, a batch names the sessions whose transcript is due for a
// checkpoint to the queue's Checkpointer (pg_checkpointer.h; transcripts
// on only), which folds them in transactions of their own.
//
// A batch whose every session's row is in the queue's SessionCache (what
// this server's batches last committed to it) runs in ONE round trip
// instead: decided against the cached rows, each guarded in the
// transaction so that a row another server (or another path) changed
// since rolls it back; then it runs the two-round-trip way above
// (pg_session_cache.h, pg_append_batch.h, decision 0022). Every batch puts
// the rows it committed back into the cache.
//
// One session's appends run in one batch at a time: an append whose
// session a running batch holds waits in the queue (and joins the next
// batch) rather than taking a lane of its own to wait there for the row
// lock that batch holds. So a session whose row is locked elsewhere (a
// stalled transaction of another server) holds at most one lane, for at
// most the connection's lock_timeout, and every other session's appends
// keep the other lanes (decision 0039). A batch that failed on such a
// timeout runs its jobs alone with a short lock wait (kAloneLockWaitMs):
// the others commit, and the locked session's answer 503 (its later
// appends in the batch at once, with the same answer) - never a second
// full wait for each.
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
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "acpstore/status.h"
#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "postgres/pg_append_batch.h"
#include "postgres/pg_checkpointer.h"
#include "postgres/pg_conn.h"
#include "postgres/pg_pool.h"
#include "postgres/pg_session_cache.h"

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
  // session's appends keep their order): the row each one locks. (The
  // batch locks its rows in one statement, in this order: AppendBatch.)
  std::string lock_order;
  // Appends: what the batch loads for the job (AppendBatch::Begin), and
  // the job run inside the batch: decide against batch.state(), write with
  // batch.Write. Like run, it may run again and starts from scratch.
  AppendTarget target;
  std::function<Status(AppendBatch&)> run_in_batch;
  // Adds the notification payloads (pg_write.h) of what the last run()
  // wrote; called once after its COMMIT, before finish.
  std::function<void(std::vector<std::string>*)> notes;
};

class CommitQueue {
 public:
  static constexpr size_t kMaxBatch = 256;
  // Batches of appends running at once (each on its own connection). Their
  // commits no longer queue for PostgreSQL's notification lock (the NOTIFY
  // follows the COMMIT), so PostgreSQL flushes concurrent batches' commits
  // together. Four (same-run medians of 3 at 16/64 writers on a loaded
  // machine, appends/s: 2 lanes 2,216/5,065, 4 lanes 3,441/6,459, 8 lanes
  // 3,042/6,090 - 8 is 4 with the default pool's 4 commit threads;
  // docs/benchmarks.md, decision 0013). Other mutations are not limited.
  static constexpr size_t kAppendBatches = 4;

  // `transact` runs one job alone in a transaction with the engine's
  // retry rules (PgStore::InTransaction).
  using Transact = std::function<Status(const std::function<Status(PgConn&)>&)>;

  // Takes committed appends' notifications (pg_notify_payload.h lines);
  // must not block on the database.
  using Publish = std::function<void(const std::vector<std::string>&)>;

  // `channel`: the store's NOTIFY channel (pg_notify_payload.h), for what a
  // transaction notifies itself (a deleted session). `transcripts`: when a
  // batch checkpoints a transcript (pg_transcripts.h).
  // `lock_timeout_ms`: the pool's (PgSessionLimits), 0 if none.
  CommitQueue(PgPool* pool, Transact transact, size_t workers,
              std::string channel, Publish publish,
              TranscriptConfig transcripts, int64_t lock_timeout_ms = 0);

  // After a batch failed on a lock (or statement) timeout: the lock wait of
  // each of its jobs run alone, at most (the batch waited the full
  // lock_timeout already; a row free by now is taken at once).
  static constexpr int64_t kAloneLockWaitMs = 250;
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
  // Cumulative: append batches committed in one round trip from cached
  // rows, and cached attempts rolled back (a row had moved, a
  // clientEventId was stored already) before running the slow way.
  uint64_t cached_commits() const { return cached_commits_.load(); }
  uint64_t cached_fallbacks() const { return cached_fallbacks_.load(); }
  // Background transcript checkpoints; null with transcripts off.
  const Checkpointer* checkpointer() const { return checkpoints_.get(); }

 private:
  enum class Cached { kNotRun, kCommitted, kFinished };
  void Loop() EXCLUDES(mu_);
  // Whether a worker may take `job` now: any but an append while
  // kAppendBatches batches of appends run already, or while a running
  // batch holds its session (busy_).
  bool Runnable(const CommitJob& job) const REQUIRES(mu_);
  // The first job a worker may take.
  std::deque<CommitJob>::iterator FirstRunnable() REQUIRES(mu_);
  void RunBatch(std::vector<CommitJob>& jobs);
  // Each job alone in a transaction of its own (transact_), after its
  // batch failed; `timed_out`: the batch failed on a lock timeout.
  void RunAlone(std::vector<CommitJob>& jobs, bool timed_out);
  // The batch's transaction up to (not including) its COMMIT; `settled`
  // receives its rows for the cache, to put there once it committed, and
  // `due` the sessions to checkpoint then.
  Status RunAppends(PgConn& c, std::vector<CommitJob>& jobs,
                    std::vector<CachedSession>* settled,
                    std::vector<DueCheckpoint>* due);
  // The batch in one round trip, COMMIT included, if every session of it
  // is cached: kCommitted (`due` as above); kNotRun if not cached or
  // rolled back (run it the slow way); kFinished if the connection was
  // lost after the COMMIT was sent (each job finished with that failure:
  // whether it committed is unknown).
  // *timed_out: it was rolled back on a lock (or statement) timeout,
  // which the slow way would only meet again.
  Cached RunCached(PgConn& c, std::vector<CommitJob>& jobs,
                   std::vector<DueCheckpoint>* due, bool* timed_out);
  // After the COMMIT of a batch of appends: count it, post its due
  // checkpoints, complete the jobs, then publish their notifications.
  void Acknowledge(std::vector<CommitJob>& jobs,
                   std::vector<DueCheckpoint> due);
  void CountBatch(size_t n);

  PgPool* const pool_;
  const Transact transact_;
  const std::string channel_;
  const Publish publish_;
  const TranscriptConfig transcripts_;
  const int64_t alone_lock_wait_ms_;
  base::Mutex mu_;
  base::CondVar cv_;
  std::deque<CommitJob> queue_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;
  size_t append_batches_ GUARDED_BY(mu_) = 0;  // running now
  // The sessions (CommitJob::lock_order) of the append batches running now.
  std::set<std::string> busy_ GUARDED_BY(mu_);
  std::atomic<uint64_t> append_commits_{0};
  std::atomic<uint64_t> appends_committed_{0};
  std::atomic<uint64_t> batch_log2_[kBatchBuckets] = {};
  std::atomic<uint64_t> cached_commits_{0};
  std::atomic<uint64_t> cached_fallbacks_{0};
  SessionCache sessions_;
  std::vector<std::thread> workers_;
  // Destroyed after the workers joined (the destructor's body), so it
  // runs every checkpoint the last batches posted.
  std::unique_ptr<Checkpointer> checkpoints_;
};

}  // namespace acpstore::postgres

#endif  // ACPSTORE_POSTGRES_PG_COMMIT_QUEUE_H_
