// SystemClock: the wall clock (CLOCK_REALTIME) in milliseconds.
//
// Thread-safety: stateless, safe from any thread. Lifetime: the instance is
// a function-local static that is never destroyed, so it stays valid for
// objects destroyed during static teardown.

#include <time.h>

#include "acpstore/clock.h"

namespace acpstore {
namespace {

class RealtimeClock final : public Clock {
 public:
  TimestampMs NowMs() const override {
    struct timespec ts;
    // CLOCK_REALTIME cannot fail with a valid pointer; timestamps are
    // wall-clock by contract (SPEC §2), so no monotonic clock here.
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<TimestampMs>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
  }
};

}  // namespace

Clock* SystemClock() {
  static RealtimeClock* const kClock = new RealtimeClock();
  return kClock;
}

}  // namespace acpstore
