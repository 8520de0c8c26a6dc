// CommitQueue: see pg_commit_queue.h.

#include "postgres/pg_commit_queue.h"

#include <algorithm>
#include <bit>
#include <utility>

namespace acpstore::postgres {

CommitQueue::CommitQueue(PgPool* pool, Transact transact, size_t workers)
    : pool_(pool), transact_(std::move(transact)) {
  if (workers == 0) workers = 1;
  for (size_t i = 0; i < workers; ++i) {
    workers_.emplace_back([this] { Loop(); });
  }
}

CommitQueue::~CommitQueue() {
  {
    base::MutexLock lock(&mu_);
    stopping_ = true;
  }
  cv_.SignalAll();
  for (std::thread& t : workers_) t.join();
}

void CommitQueue::Post(CommitJob job) {
  {
    base::MutexLock lock(&mu_);
    queue_.push_back(std::move(job));
  }
  cv_.Signal();
}

void CommitQueue::Loop() {
  for (;;) {
    std::vector<CommitJob> jobs;
    {
      base::MutexLock lock(&mu_);
      while (queue_.empty() && !stopping_) cv_.Wait(&mu_);
      if (queue_.empty()) return;  // stopping, and everything ran
      jobs.push_back(std::move(queue_.front()));
      queue_.pop_front();
      if (jobs.front().append) {
        // Every append waiting now rides along; other jobs keep their place.
        for (auto it = queue_.begin();
             it != queue_.end() && jobs.size() < kMaxBatch;) {
          if (it->append) {
            jobs.push_back(std::move(*it));
            it = queue_.erase(it);
          } else {
            ++it;
          }
        }
      }
    }
    // Row locks in one global order (CommitJob::lock_order).
    std::stable_sort(jobs.begin(), jobs.end(),
                     [](const CommitJob& a, const CommitJob& b) {
                       return a.lock_order < b.lock_order;
                     });
    RunBatch(jobs);
  }
}

void CommitQueue::CountBatch(size_t n) {
  append_commits_.fetch_add(1);
  appends_committed_.fetch_add(n);
  size_t bucket = std::bit_width(n) - 1;
  if (bucket >= kBatchBuckets) bucket = kBatchBuckets - 1;
  batch_log2_[bucket].fetch_add(1);
}

void CommitQueue::RunBatch(std::vector<CommitJob>& jobs) {
  if (jobs.size() > 1) {
    // One transaction for all: BEGIN, every job, COMMIT.
    Result<PgPool::Lease> lease = pool_->Borrow();
    if (lease.ok()) {
      PgConn& c = **lease;
      Status s = c.Run("BEGIN").status();
      for (size_t i = 0; s.ok() && i < jobs.size(); ++i) s = jobs[i].run(c);
      if (s.ok()) {
        Result<PgResult> commit = c.Run("COMMIT");
        if (commit.ok()) {
          CountBatch(jobs.size());
          for (CommitJob& j : jobs) j.finish(Status::OK());
          return;
        }
        if (!c.healthy()) {
          // Lost while committing: whether it committed is unknown, so
          // running the jobs again could apply them twice.
          for (CommitJob& j : jobs) j.finish(commit.status());
          return;
        }
      } else if (c.healthy()) {
        (void)c.Run("ROLLBACK");
      }
    }
    // Fall through: each job alone, so one failure stays its own.
  }
  for (CommitJob& j : jobs) {
    Status s = transact_(j.run);
    if (s.ok() && j.append) CountBatch(1);
    j.finish(std::move(s));
  }
}

}  // namespace acpstore::postgres
