// DriveAppends (load.h).

#include "load.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <utility>

#include "acpstore/blocking_store.h"
#include "payloads.h"

namespace acpstore::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;

// One writer's wait for its single in-flight append: lighter than a
// promise per call, so the driver does not dominate small appends.
class Waiter {
 public:
  Completion<AppendResult> Callback() {
    return [this](Result<AppendResult> r) {
      std::lock_guard<std::mutex> lock(mu_);
      status_ = r.ok() ? Status::OK() : r.error();
      done_ = true;
      cv_.notify_one();
    };
  }
  Status Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return done_; });
    done_ = false;
    return std::move(status_);
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  Status status_;
};

}  // namespace

Status CreateSessions(Store& store, const Scope& scope,
                      const std::vector<std::string>& ids) {
  BlockingStore db(store);
  for (const std::string& id : ids) {
    Result<Session> s = db.CreateSession(scope, NewSession{.id = id});
    if (!s.ok()) return s.error();
  }
  return Status::OK();
}

LoadResult DriveAppends(Store& store, const LoadSpec& spec) {
  const std::vector<std::string>& sessions = *spec.sessions;
  const std::vector<std::string>* payloads = spec.payloads;
  const std::vector<NewEvent>* stream = spec.events_stream;
  std::atomic<uint64_t> claimed{0};
  std::atomic<uint64_t> acknowledged{0};
  std::atomic<bool> stop{false};
  std::mutex error_mu;
  Status first_error;
  std::vector<std::vector<uint32_t>> latencies(spec.writers);
  const SteadyClock::time_point start = SteadyClock::now();
  const auto deadline =
      spec.max_seconds > 0
          ? start + std::chrono::duration_cast<SteadyClock::duration>(
                        std::chrono::duration<double>(spec.max_seconds))
          : SteadyClock::time_point::max();

  auto writer = [&](int w) {
    Waiter waiter;
    std::vector<uint32_t>& mine = latencies[w];
    mine.reserve(spec.events / spec.writers + 1);
    uint64_t k = 0;  // this writer's appends so far
    while (!stop.load(std::memory_order_relaxed)) {
      uint64_t n = claimed.fetch_add(1);
      if (n >= spec.events) break;
      size_t session =
          spec.pick_session ? spec.pick_session(n, w) : n % sessions.size();
      AppendRequest req;
      if (stream != nullptr) {
        req.events.push_back((*stream)[k++ % stream->size()]);
      } else {
        req.events.push_back(
            NewEvent{.event_type = ToolEventType(n),
                     .payload = (*payloads)[n % payloads->size()]});
      }
      SteadyClock::time_point t0 = SteadyClock::now();
      store.AppendEvents(spec.scope, sessions[session], std::move(req),
                         waiter.Callback());
      Status s = waiter.Wait();
      SteadyClock::time_point t1 = SteadyClock::now();
      if (!s.ok()) {
        std::lock_guard<std::mutex> lock(error_mu);
        if (first_error.ok()) first_error = std::move(s);
        stop = true;
        break;
      }
      mine.push_back(static_cast<uint32_t>(
          std::chrono::duration_cast<std::chrono::microseconds>(t1 - t0)
              .count()));
      uint64_t done = acknowledged.fetch_add(1) + 1;
      if (spec.at_checkpoint) {
        for (uint64_t c : spec.checkpoints) {
          if (c == done) {
            spec.at_checkpoint(
                done, std::chrono::duration<double>(t1 - start).count());
          }
        }
      }
      if (t1 >= deadline) stop = true;
    }
  };

  std::vector<std::thread> threads;
  for (int w = 0; w < spec.writers; ++w) threads.emplace_back(writer, w);
  for (std::thread& t : threads) t.join();

  LoadResult result;
  result.seconds =
      std::chrono::duration<double>(SteadyClock::now() - start).count();
  result.events = acknowledged.load();
  for (auto& v : latencies) {
    result.latencies_us.insert(result.latencies_us.end(), v.begin(), v.end());
  }
  result.error = std::move(first_error);
  return result;
}

}  // namespace acpstore::bench
