// DriveAppends (load.h).

#include "load.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>
#include <utility>

#include "acpstore/blocking_store.h"
#include "payloads.h"

namespace acpstore::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;

// One writer's wait for its single in-flight append: a futex word, not a
// promise per call nor a mutex and condition variable. Signalling a
// condition variable under its mutex woke the writer straight into that
// mutex, held by the engine's thread: one more sleep and wake per append,
// which the peers' drivers (plain blocking calls) never pay. The word:
// kPending, kDone, or (LoadSpec::Wait::kSleep only) kSleeping: the writer
// is, or is about to be, in FUTEX_WAIT, and the callback wakes it only
// then. kSpinThenSleep uses std::atomic wait and notify on the same word
// (load.h says when each pays). The word is written after the status, so
// the engine's thread may still be inside the wake-up when the writer has
// already returned: `in_flight` counts such callbacks, and DriveAppends
// waits for it to reach zero before the waiters go.
class Waiter {
 public:
  Waiter(std::atomic<int>* in_flight, LoadSpec::Wait mode)
      : in_flight_(in_flight), spin_(mode == LoadSpec::Wait::kSpinThenSleep) {}

  Completion<AppendResult> Callback() {
    return [this](Result<AppendResult> r) {
      in_flight_->fetch_add(1, std::memory_order_relaxed);
      status_ = r.ok() ? Status::OK() : r.error();
      if (spin_) {
        word_.store(kDone, std::memory_order_release);
        word_.notify_one();
      } else if (word_.exchange(kDone, std::memory_order_release) ==
                 kSleeping) {
        Futex(FUTEX_WAKE_PRIVATE, 0);
      }
      in_flight_->fetch_sub(1, std::memory_order_release);
    };
  }
  Status Wait() {
    if (spin_) {
      word_.wait(kPending, std::memory_order_acquire);
    } else {
      for (;;) {
        uint32_t v = word_.load(std::memory_order_acquire);
        if (v == kDone) break;
        if (v == kPending &&
            !word_.compare_exchange_strong(v, kSleeping,
                                           std::memory_order_acquire)) {
          continue;  // done meanwhile
        }
        Futex(FUTEX_WAIT_PRIVATE, kSleeping);  // returns at once if changed
      }
    }
    word_.store(kPending, std::memory_order_relaxed);
    return std::move(status_);
  }

 private:
  static constexpr uint32_t kPending = 0, kDone = 1, kSleeping = 2;

  void Futex(int op, uint32_t expected) {
    // FUTEX_WAKE wakes at most one (the only) waiter; FUTEX_WAIT sleeps
    // only while the word still holds `expected`.
    ::syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word_), op,
              op == FUTEX_WAKE_PRIVATE ? 1u : expected, nullptr, nullptr, 0);
  }

  std::atomic<int>* in_flight_;
  const bool spin_;
  std::atomic<uint32_t> word_{kPending};
  static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t) &&
                std::atomic<uint32_t>::is_always_lock_free);
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
  return DriveAppends(std::vector<Store*>{&store}, spec);
}

LoadResult DriveAppends(const std::vector<Store*>& stores,
                        const LoadSpec& spec) {
  return DriveAppends(
      [&stores, &spec](uint64_t n, int w, const std::string& session,
                       AppendRequest req, Completion<AppendResult> done) {
        Store& store = *stores[spec.pick_store ? spec.pick_store(n, w) : 0];
        store.AppendEvents(spec.scope, session, std::move(req),
                           std::move(done));
      },
      spec);
}

LoadResult DriveAppends(const SubmitAppend& submit, const LoadSpec& spec) {
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

  std::atomic<int> callbacks_in_flight{0};
  std::deque<Waiter> waiters;  // outlive the writers: see Waiter
  for (int w = 0; w < spec.writers; ++w) {
    waiters.emplace_back(&callbacks_in_flight, spec.wait);
  }
  auto writer = [&](int w) {
    Waiter& waiter = waiters[static_cast<size_t>(w)];
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
      submit(n, w, sessions[session], std::move(req), waiter.Callback());
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
  // Every callback began before its writer returned from Wait; let the
  // last ones leave notify_one before the waiters are destroyed.
  while (callbacks_in_flight.load(std::memory_order_acquire) != 0) {
    std::this_thread::yield();
  }

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
