// CommitQueue: see pg_commit_queue.h.

#include "postgres/pg_commit_queue.h"

#include <algorithm>
#include <bit>
#include <map>
#include <string>
#include <utility>

#include "base/thread_name.h"

namespace acpstore::postgres {

CommitQueue::CommitQueue(PgPool* pool, Transact transact, size_t workers,
                         std::string channel, Publish publish,
                         TranscriptConfig transcripts,
                         int64_t lock_timeout_ms)
    : pool_(pool),
      transact_(std::move(transact)),
      channel_(std::move(channel)),
      publish_(std::move(publish)),
      transcripts_(transcripts),
      alone_lock_wait_ms_(lock_timeout_ms > 0
                              ? std::min(lock_timeout_ms, kAloneLockWaitMs)
                              : kAloneLockWaitMs) {
  if (transcripts_.on()) {
    checkpoints_ =
        std::make_unique<Checkpointer>(transact_, transcripts_, &sessions_);
  }
  if (workers == 0) workers = 1;
  for (size_t i = 0; i < workers; ++i) {
    workers_.emplace_back([this] {
      base::NameThisThread("acp-pg-commit");
      Loop();
    });
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
  bool runnable;
  {
    base::MutexLock lock(&mu_);
    // An append while every lane is busy waits for the lane: the thread
    // that frees it takes it or wakes one for it (Loop). Waking an idle
    // thread now would only put it back to sleep.
    // Likewise an append whose session a running batch holds: that
    // batch's thread takes it when it is done.
    runnable = Runnable(job);
    queue_.push_back(std::move(job));
  }
  if (runnable) cv_.Signal();
}

bool CommitQueue::Runnable(const CommitJob& job) const {
  return !job.append || (append_batches_ < kAppendBatches &&
                         !busy_.contains(job.lock_order));
}

std::deque<CommitJob>::iterator CommitQueue::FirstRunnable() {
  return std::find_if(queue_.begin(), queue_.end(),
                      [this](const CommitJob& j) REQUIRES(mu_) {
                        return Runnable(j);
                      });
}

void CommitQueue::Loop() {
  for (;;) {
    std::vector<CommitJob> jobs;
    {
      base::MutexLock lock(&mu_);
      auto first = FirstRunnable();
      while (first == queue_.end()) {
        if (stopping_ && queue_.empty()) return;  // everything ran
        cv_.Wait(&mu_);
        first = FirstRunnable();
      }
      jobs.push_back(std::move(*first));
      queue_.erase(first);
      if (jobs.front().append) {
        ++append_batches_;
        busy_.insert(jobs.front().lock_order);
        // Every append waiting now rides along, but those of a session
        // another batch holds (they would wait for its row lock; they
        // join the next batch); other jobs keep their place.
        for (auto it = queue_.begin();
             it != queue_.end() && jobs.size() < kMaxBatch;) {
          if (it->append && (busy_.insert(it->lock_order).second ||
                             std::any_of(jobs.begin(), jobs.end(),
                                         [&](const CommitJob& j) {
                                           return j.lock_order ==
                                                  it->lock_order;
                                         }))) {
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
    const bool append = jobs.front().append;
    RunBatch(jobs);
    if (append) {
      bool held_back;
      {
        base::MutexLock lock(&mu_);
        --append_batches_;
        for (const CommitJob& j : jobs) busy_.erase(j.lock_order);
        // Appends that waited for a lane, or for this batch's sessions:
        // this thread takes the first runnable job itself - with every
        // runnable append, if it is one - so an idle thread is woken only
        // when that job is another kind and appends are left for it.
        // Otherwise nobody waits for this lane, and waking every idle
        // thread (as SignalAll did) only put each back to sleep: a
        // wake-up and a sleep per idle thread per batch.
        auto next = FirstRunnable();
        held_back = next != queue_.end() && !next->append &&
                    std::any_of(next, queue_.end(),
                                [this](const CommitJob& j) REQUIRES(mu_) {
                                  return j.append && Runnable(j);
                                });
      }
      if (held_back) cv_.Signal();
    }
  }
}

void CommitQueue::CountBatch(size_t n) {
  append_commits_.fetch_add(1);
  appends_committed_.fetch_add(n);
  size_t bucket = std::bit_width(n) - 1;
  if (bucket >= kBatchBuckets) bucket = kBatchBuckets - 1;
  batch_log2_[bucket].fetch_add(1);
}

namespace {

std::vector<const AppendTarget*> TargetsOf(const std::vector<CommitJob>& jobs) {
  std::vector<const AppendTarget*> targets;
  targets.reserve(jobs.size());
  for (const CommitJob& j : jobs) targets.push_back(&j.target);
  return targets;
}

}  // namespace

Status CommitQueue::RunAppends(PgConn& c, std::vector<CommitJob>& jobs,
                               std::vector<CachedSession>* settled,
                               std::vector<DueCheckpoint>* due) {
  AppendBatch batch(c, channel_, transcripts_);
  ACPSTORE_RETURN_IF_ERROR(batch.Begin(TargetsOf(jobs)));
  for (CommitJob& j : jobs) ACPSTORE_RETURN_IF_ERROR(j.run_in_batch(batch));
  ACPSTORE_RETURN_IF_ERROR(batch.Flush());
  *settled = batch.Settled();
  *due = batch.due();
  return Status::OK();
}

CommitQueue::Cached CommitQueue::RunCached(PgConn& c,
                                           std::vector<CommitJob>& jobs,
                                           std::vector<DueCheckpoint>* due,
                                           bool* timed_out) {
  const std::vector<const AppendTarget*> targets = TargetsOf(jobs);
  std::vector<std::pair<std::string, std::string>> keys;
  for (const auto& [key, ids] : SessionsOf(targets)) keys.push_back(key);
  std::optional<std::vector<CachedSession>> rows = sessions_.TakeAll(keys);
  if (!rows) return Cached::kNotRun;
  AppendBatch batch(c, channel_, transcripts_);
  Status s = batch.BeginCached(targets, std::move(*rows));
  for (CommitJob& j : jobs) {
    if (!s.ok()) break;
    s = j.run_in_batch(batch);
  }
  if (s.ok()) s = batch.Flush();
  if (s.ok()) s = batch.CommitCached();
  if (s.ok()) {
    cached_commits_.fetch_add(1);
    sessions_.Put(batch.Settled());
    *due = batch.due();
    return Cached::kCommitted;
  }
  if (!c.healthy() && batch.commit_sent()) {
    for (CommitJob& j : jobs) j.finish(s);
    return Cached::kFinished;
  }
  // A guard failed (or anything else did): nothing was committed. The
  // slow way reads the rows afresh; its jobs start from scratch.
  *timed_out = IsTimeoutError(c.last_sqlstate());
  cached_fallbacks_.fetch_add(1);
  batch.RollBack();
  return Cached::kNotRun;
}

void CommitQueue::Acknowledge(std::vector<CommitJob>& jobs,
                              std::vector<DueCheckpoint> due) {
  CountBatch(jobs.size());
  // Committed: the checkpoints see the appends that made them due.
  if (checkpoints_ != nullptr) checkpoints_->Post(std::move(due));
  std::vector<std::string> notes;
  for (CommitJob& j : jobs) {
    if (j.notes) j.notes(&notes);
  }
  // Acknowledged at once: durable now, whatever the NOTIFY does.
  for (CommitJob& j : jobs) j.finish(Status::OK());
  publish_(notes);
}

void CommitQueue::RunBatch(std::vector<CommitJob>& jobs) {
  if (!jobs.front().append) return RunAlone(jobs, /*timed_out=*/false);
  bool timed_out = false;
  {
    // One transaction for all: BEGIN, every job, COMMIT. The lease goes
    // back to the pool at the end of this block, before the jobs run
    // alone (each borrows one).
    Result<PgPool::Lease> lease = pool_->Borrow();
    if (lease.ok()) {
      PgConn& c = **lease;
      std::vector<DueCheckpoint> due;
      switch (RunCached(c, jobs, &due, &timed_out)) {
        case Cached::kCommitted:
          Acknowledge(jobs, std::move(due));
          return;
        case Cached::kFinished:
          return;
        case Cached::kNotRun:
          break;
      }
      // A row of the batch locked elsewhere timed the cached way out: the
      // slow way would wait for it as long again.
      if (!timed_out) {
        std::vector<CachedSession> settled;
        Status s = c.healthy()
                       ? RunAppends(c, jobs, &settled, &due)
                       : Status::Unavailable("the connection was lost");
        timed_out = !s.ok() && IsTimeoutError(c.last_sqlstate());
        if (s.ok()) {
          Result<PgResult> commit = c.Run("COMMIT");
          if (commit.ok()) {
            sessions_.Put(std::move(settled));
            Acknowledge(jobs, std::move(due));
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
    }
  }
  RunAlone(jobs, timed_out);
}

void CommitQueue::RunAlone(std::vector<CommitJob>& jobs, bool timed_out) {
  // Each job alone, so one failure stays its own. After a lock timeout a
  // job waits for its row only briefly (the batch waited the full time),
  // and a session whose row is still locked answers every later job of
  // its own in the batch with the same failure at once: a locked session
  // costs the batch one lock_timeout, not one per append (decision 0039).
  std::map<std::string, Status> locked;  // by CommitJob::lock_order
  const std::string short_wait =
      "SET LOCAL lock_timeout = " + std::to_string(alone_lock_wait_ms_);
  for (CommitJob& j : jobs) {
    Status s;
    if (auto it = locked.find(j.lock_order); timed_out && it != locked.end()) {
      s = it->second;
    } else if (timed_out) {
      bool lock_failed = false;
      s = transact_([&](PgConn& c) -> Status {
        ACPSTORE_RETURN_IF_ERROR(c.Run(short_wait).status());
        Status run = j.run(c);
        lock_failed = !run.ok() && IsTimeoutError(c.last_sqlstate());
        return run;
      });
      if (lock_failed && !s.ok()) locked.emplace(j.lock_order, s);
    } else {
      s = transact_(j.run);
    }
    if (s.ok() && j.append) {
      CountBatch(1);
      // Alone, the job's transaction does not know its session's tail
      // (pg_store.cc): the Checkpointer checkpoints it if it is due, as
      // the batch would have named it.
      if (checkpoints_ != nullptr) {
        checkpoints_->Post({DueCheckpoint{.tenant_id = j.target.tenant_id,
                                          .session_id = j.target.session_id,
                                          .through = ~EventSeq{0},
                                          .if_due = true}});
      }
    }
    std::vector<std::string> notes;
    if (s.ok() && j.notes) j.notes(&notes);
    j.finish(std::move(s));
    publish_(notes);
  }
}

}  // namespace acpstore::postgres
