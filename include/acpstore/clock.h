// Clock is the store's only source of time, so tests can move time by hand
// (lease expiry, retention windows) instead of sleeping.
//
// Thread-safety: implementations must be safe to call from any thread.

#ifndef ACPSTORE_CLOCK_H_
#define ACPSTORE_CLOCK_H_

#include <atomic>
#include <cstdint>

namespace acpstore {

// Milliseconds since the Unix epoch, UTC. Every timestamp in acpstore has
// this unit; the HTTP layer renders it as "2026-05-23T02:56:00.123Z".
using TimestampMs = int64_t;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimestampMs NowMs() const = 0;
};

// The process-wide wall clock (CLOCK_REALTIME). Lives forever.
Clock* SystemClock();

// A clock that only moves when told to. For tests.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimestampMs start_ms) : now_ms_(start_ms) {}
  TimestampMs NowMs() const override { return now_ms_.load(); }
  void Set(TimestampMs ms) { now_ms_.store(ms); }
  void Advance(int64_t delta_ms) { now_ms_.fetch_add(delta_ms); }

 private:
  std::atomic<TimestampMs> now_ms_;
};

}  // namespace acpstore

#endif  // ACPSTORE_CLOCK_H_
