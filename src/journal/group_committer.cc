// GroupCommitter: the writer thread's loop, batching and failure windows.
// See group_committer.h.

#include "journal/group_committer.h"

#include <chrono>
#include <future>

namespace acpstore::journal {

GroupCommitter::GroupCommitter(std::unique_ptr<JournalWriter> writer,
                               GroupCommitOptions options)
    : options_(options), writer_(std::move(writer)) {
  health_ = writer_->failure();
  stats_ = writer_->stats();
  thread_ = std::thread([this] { Run(); });
}

GroupCommitter::~GroupCommitter() { (void)Close(); }

void GroupCommitter::Submit(RecordType type, std::string_view payload,
                            CommitCallback done) {
  std::string record;
  record.reserve(kHeaderSize + payload.size());
  AppendRecord(&record, type, payload);
  SubmitFramed(std::move(record), std::move(done));
}

void GroupCommitter::SubmitFramed(std::string record, CommitCallback done) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!closing_) {
      pending_.push_back(Pending{std::move(record), std::move(done), nullptr});
      cv_.notify_one();
      return;
    }
  }
  done(Status::Unavailable("journal is closed"));
}

Result<JournalPosition> GroupCommitter::Flush() {
  std::promise<Result<JournalPosition>> promise;
  std::future<Result<JournalPosition>> future = promise.get_future();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closing_) return Status::Unavailable("journal is closed");
    pending_.push_back(Pending{
        "", nullptr, [&promise](Result<JournalPosition> r) {
          promise.set_value(std::move(r));
        }});
    cv_.notify_one();
  }
  return future.get();
}

Status GroupCommitter::Close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return close_status_;
    closed_ = closing_ = true;
    cv_.notify_one();
  }
  thread_.join();  // drains everything queued before closing_ was set
  Status s = writer_->Close();
  std::lock_guard<std::mutex> lock(mu_);
  close_status_ = s;
  health_ = writer_->failure();
  stats_ = writer_->stats();
  return s;
}

JournalStats GroupCommitter::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

Status GroupCommitter::health() const {
  std::lock_guard<std::mutex> lock(mu_);
  return health_;
}

void GroupCommitter::PublishStats() {
  std::lock_guard<std::mutex> lock(mu_);
  stats_ = writer_->stats();
  health_ = writer_->failure();
}

void GroupCommitter::Run() {
  using Clock = std::chrono::steady_clock;
  const bool interval = options_.sync == SyncMode::kInterval;
  const auto period = std::chrono::milliseconds(
      std::max<int64_t>(1, options_.sync_interval_ms));
  auto next_sync = Clock::now() + period;
  for (;;) {
    std::vector<Pending> batch;
    bool sync_due = false;
    {
      std::unique_lock<std::mutex> lock(mu_);
      auto ready = [this] { return !pending_.empty() || closing_; };
      if (interval) {
        cv_.wait_until(lock, next_sync, ready);
        sync_due = Clock::now() >= next_sync;
      } else {
        cv_.wait(lock, ready);
      }
      if (pending_.empty() && closing_) break;
      size_t bytes = 0;
      while (!pending_.empty()) {
        const size_t next = pending_.front().record.size();
        if (!batch.empty() && bytes + next > options_.max_batch_bytes) break;
        bytes += next;
        batch.push_back(std::move(pending_.front()));
        pending_.pop_front();
      }
    }
    if (!batch.empty()) ProcessBatch(std::move(batch));
    if (sync_due) {
      // A failure here is recorded by the writer: every later write fails.
      (void)writer_->Sync();
      PublishStats();
      next_sync = Clock::now() + period;
    }
  }
}

void GroupCommitter::ProcessBatch(std::vector<Pending> batch) {
  std::vector<std::string_view> records;
  records.reserve(batch.size());
  bool flush = false;
  for (const Pending& p : batch) {
    if (p.flushed) {
      flush = true;
    } else {
      records.push_back(p.record);
    }
  }
  std::vector<RecordLocation> locations;
  Status s = writer_->Append(records, &locations);
  if (s.ok() && (options_.sync == SyncMode::kAlways || flush)) {
    s = writer_->Sync();
  }
  PublishStats();
  if (!s.ok()) {
    FailWindow(std::move(batch), s);
    return;
  }
  const JournalPosition durable = writer_->synced_end();
  size_t i = 0;
  for (Pending& p : batch) {
    if (p.flushed) {
      p.flushed(durable);
    } else {
      p.done(locations[i++]);
    }
  }
}

void GroupCommitter::FailWindow(std::vector<Pending> batch,
                                const Status& status) {
  std::vector<Pending> failing = std::move(batch);
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (Pending& p : pending_) failing.push_back(std::move(p));
      pending_.clear();
    }
    if (failing.empty()) return;
    for (Pending& p : failing) {
      if (p.flushed) {
        p.flushed(status);
      } else {
        p.done(status);
      }
    }
    // Records submitted while those ran may have been decided before the
    // failure was known: they fail too, until a round submits nothing.
    failing.clear();
  }
}

}  // namespace acpstore::journal
