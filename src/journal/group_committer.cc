// GroupCommitter: the writer thread's loop, batching and failure windows.
// See group_committer.h.

#include "journal/group_committer.h"

#include <chrono>
#include <future>

#include "base/thread_name.h"

namespace acpstore::journal {

GroupCommitter::GroupCommitter(std::unique_ptr<JournalWriter> writer,
                               GroupCommitOptions options)
    : options_(options), writer_(std::move(writer)) {
  PublishStats();
  thread_ = std::thread([this] {
    base::NameThisThread("acp-journal");
    Run();
  });
}

GroupCommitter::~GroupCommitter() { (void)Close(); }

namespace {

Status TooLarge(uint64_t payload_bytes) {
  return Status::PayloadTooLarge(
      "journal record payload of " + std::to_string(payload_bytes) +
      " bytes exceeds the limit of " + std::to_string(kMaxPayloadBytes));
}

}  // namespace

void GroupCommitter::Submit(RecordType type, std::string_view payload,
                            CommitCallback done) {
  if (payload.size() > kMaxPayloadBytes) {
    Enqueue(Pending{"", std::move(done), nullptr, TooLarge(payload.size())});
    return;
  }
  std::string record;
  record.reserve(kHeaderSize + payload.size());
  AppendRecord(&record, type, payload);
  SubmitFramed(std::move(record), std::move(done));
}

void GroupCommitter::SubmitFramed(std::string record, CommitCallback done) {
  Status refused;
  if (record.size() < kHeaderSize) {
    refused = Status::InvalidArgument("journal record shorter than a header");
  } else if (record.size() - kHeaderSize > kMaxPayloadBytes) {
    refused = TooLarge(record.size() - kHeaderSize);
  }
  // A refused record is failed by the writer thread like an aborted one,
  // never inline: callers submit under their own locks.
  Enqueue(Pending{refused.ok() ? std::move(record) : std::string(),
                  std::move(done), nullptr, std::move(refused)});
}

void GroupCommitter::Enqueue(Pending pending) {
  {
    base::MutexLock lock(&mu_);
    if (!closing_) {
      pending_.push_back(std::move(pending));
      cv_.Signal();
      return;
    }
  }
  Complete(pending, Status::Unavailable("journal is closed"));
  if (BatchListener* l = listener()) l->OnBatchEnd();
}

void GroupCommitter::SetBatchListener(BatchListener* listener) {
  base::MutexLock lock(&mu_);
  listener_ = listener;
}

BatchListener* GroupCommitter::listener() {
  base::MutexLock lock(&mu_);
  return listener_;
}

Result<JournalPosition> GroupCommitter::Flush() {
  std::promise<Result<JournalPosition>> promise;
  std::future<Result<JournalPosition>> future = promise.get_future();
  {
    base::MutexLock lock(&mu_);
    if (closing_) return Status::Unavailable("journal is closed");
    pending_.push_back(Pending{"", nullptr,
                               [&promise](Result<JournalPosition> r) {
                                 promise.set_value(std::move(r));
                               },
                               Status::OK()});
    cv_.Signal();
  }
  return future.get();
}

void GroupCommitter::AbortQueued(const Status& why) {
  base::MutexLock lock(&mu_);
  for (Pending& p : pending_) {
    if (p.aborted.ok() && !p.flushed) p.aborted = why;
  }
}

Status GroupCommitter::Close() {
  {
    base::MutexLock lock(&mu_);
    if (closed_) return close_status_;
    closed_ = closing_ = true;
    cv_.Signal();
  }
  thread_.join();  // drains everything queued before closing_ was set
  Status s = writer_->Close();
  PublishStats();
  base::MutexLock lock(&mu_);
  close_status_ = s;
  return s;
}

JournalStats GroupCommitter::stats() const {
  base::MutexLock lock(&mu_);
  return stats_;
}

Status GroupCommitter::health() const {
  base::MutexLock lock(&mu_);
  return health_;
}

void GroupCommitter::PublishStats() {
  base::MutexLock lock(&mu_);
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
    std::vector<Pending> aborted;
    bool sync_due = false;
    BatchListener* listener = nullptr;
    {
      base::MutexLock lock(&mu_);
      while (pending_.empty() && !closing_) {
        if (!interval) {
          cv_.Wait(&mu_);
        } else if (!cv_.WaitUntil(&mu_, next_sync)) {
          break;  // time for the background fdatasync
        }
      }
      sync_due = interval && Clock::now() >= next_sync;
      listener = listener_;
      if (pending_.empty() && closing_) break;
      // Aborted records are failed on their own, so their completions can
      // abort what was queued behind them before any of it is written.
      while (!pending_.empty() && !pending_.front().aborted.ok()) {
        aborted.push_back(std::move(pending_.front()));
        pending_.pop_front();
      }
      size_t bytes = 0;
      while (aborted.empty() && !pending_.empty() &&
             pending_.front().aborted.ok()) {
        const size_t next = pending_.front().record.size();
        if (!batch.empty() && bytes + next > options_.max_batch_bytes) break;
        bytes += next;
        batch.push_back(std::move(pending_.front()));
        pending_.pop_front();
      }
    }
    for (Pending& p : aborted) Complete(p, p.aborted);
    if (listener != nullptr && !aborted.empty()) listener->OnBatchEnd();
    if (!batch.empty()) ProcessBatch(batch, listener);
    if (sync_due) {
      // A failure here is recorded by the writer: every later write fails.
      (void)writer_->Sync();
      PublishStats();
      next_sync = Clock::now() + period;
    }
  }
}

void GroupCommitter::ProcessBatch(const std::vector<Pending>& batch,
                                  BatchListener* listener) {
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
  // Records first, then the listener, then Flush waiters: a Flush returns
  // only once the caller has finished every record before it (the file
  // engine's snapshot window is filled at its batch end).
  size_t i = 0;
  for (const Pending& p : batch) {
    if (p.flushed) continue;
    if (s.ok()) {
      p.done(locations[i++]);
    } else {
      p.done(s);
    }
  }
  if (listener != nullptr && !records.empty()) listener->OnBatchEnd();
  if (!flush) return;
  for (const Pending& p : batch) {
    if (!p.flushed) continue;
    if (s.ok()) {
      p.flushed(writer_->synced_end());
    } else {
      p.flushed(s);
    }
  }
}

void GroupCommitter::Complete(Pending& p, const Status& failure) {
  if (p.flushed) {
    p.flushed(failure);
  } else {
    p.done(failure);
  }
}

}  // namespace acpstore::journal
