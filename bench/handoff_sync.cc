// RunHandoffSync (peers.h): the floor of a group commit behind an
// asynchronous append API, driven as the engine is.

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>
#include <utility>

#include "load.h"
#include "peers.h"
#include "report.h"

namespace acpstore::bench {
namespace {

// The one thread that writes. Writers queue a record and its completion;
// each round the committer takes everything queued, writes it with
// write(2) and one fdatasync, then runs each completion (the writers'
// wake-ups) on its own thread, as the engine's commit thread does. What
// it leaves out on purpose: deciding, indexing, encoding, checksums.
class Committer {
 public:
  Committer(int fd, size_t record_bytes)
      : fd_(fd), record_bytes_(record_bytes), thread_([this] { Run(); }) {}
  ~Committer() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
  Committer(const Committer&) = delete;
  Committer& operator=(const Committer&) = delete;

  void Submit(std::string_view payload, Completion<AppendResult> done) {
    bool wake;
    {
      std::lock_guard<std::mutex> lock(mu_);
      // The record: the payload cut or padded to the journal's bytes per
      // event, as RunRawSync writes them.
      const size_t n = std::min(payload.size(), record_bytes_);
      pending_.append(payload.data(), n);
      pending_.append(record_bytes_ - n, ' ');
      waiting_.push_back(std::move(done));
      wake = idle_;
    }
    if (wake) cv_.notify_one();
  }

  uint64_t syncs() const { return syncs_.load(); }

 private:
  void Run() {
    std::string buffer;
    std::vector<Completion<AppendResult>> batch;
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mu_);
        idle_ = true;
        cv_.wait(lock, [this] { return stopping_ || !waiting_.empty(); });
        idle_ = false;
        if (waiting_.empty()) return;  // stopping, nothing left
        buffer.swap(pending_);
        batch.swap(waiting_);
      }
      Status s = WriteAndSync(buffer);
      for (Completion<AppendResult>& done : batch) {
        if (s.ok()) {
          done(AppendResult{});
        } else {
          done(s);
        }
      }
      buffer.clear();
      batch.clear();
    }
  }

  Status WriteAndSync(const std::string& buffer) {
    for (size_t off = 0; off < buffer.size();) {
      ssize_t n = ::write(fd_, buffer.data() + off, buffer.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        return Status::IoError(std::string("write: ") + std::strerror(errno));
      }
      off += static_cast<size_t>(n);
    }
    if (::fdatasync(fd_) != 0) {
      return Status::IoError(std::string("fdatasync: ") +
                             std::strerror(errno));
    }
    syncs_.fetch_add(1);
    return Status::OK();
  }

  const int fd_;
  const size_t record_bytes_;
  std::mutex mu_;
  std::condition_variable cv_;
  // Guarded by mu_:
  std::string pending_;
  std::vector<Completion<AppendResult>> waiting_;
  bool idle_ = false;
  bool stopping_ = false;
  std::atomic<uint64_t> syncs_{0};
  std::thread thread_;  // last: starts once the rest is built
};

}  // namespace

PeerResult RunHandoffSync(const HandoffSpec& spec) {
  PeerResult result;
  const std::string path = spec.dir + "/handoff.log";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    result.error =
        Status::IoError("open " + path + ": " + std::strerror(errno));
    return result;
  }
  std::vector<std::string> sessions;
  for (int w = 0; w < spec.writers; ++w) {
    sessions.push_back("w" + std::to_string(w));
  }
  LoadResult load;
  uint64_t syncs = 0;
  {
    Committer committer(fd, spec.record_bytes);
    LoadSpec load_spec{
        .sessions = &sessions,
        .payloads = spec.payloads,
        .writers = spec.writers,
        .events = spec.max_events,
        .max_seconds = spec.max_seconds,
        .pick_session = [](uint64_t, int w) { return size_t(w); },
        .wait = spec.wait};
    const double cpu0 = ProcessCpuSeconds();
    load = DriveAppends(
        [&committer](uint64_t, int, const std::string&, AppendRequest req,
                     Completion<AppendResult> done) {
          committer.Submit(req.events.front().payload, std::move(done));
        },
        load_spec);
    result.cpu_seconds = ProcessCpuSeconds() - cpu0;
    syncs = committer.syncs();
  }
  ::close(fd);
  ::unlink(path.c_str());
  result.events = load.events;
  result.seconds = load.seconds;
  result.latencies_us = std::move(load.latencies_us);
  result.syncs = syncs;
  result.error = std::move(load.error);
  return result;
}

}  // namespace acpstore::bench
