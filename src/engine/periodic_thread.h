// PeriodicThread runs a task every interval on its own thread until
// stopped: the engines' background maintenance. The interval is wall time
// (a steady clock), not the store's injectable Clock: tests that move a
// ManualClock call RunMaintenance themselves.
//
// Thread-safety: Stop() may be called from any thread but the task's own.
// Lifetime: the destructor stops and joins.

#ifndef ACPSTORE_ENGINE_PERIODIC_THREAD_H_
#define ACPSTORE_ENGINE_PERIODIC_THREAD_H_

#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include "base/mutex.h"
#include "base/thread_annotations.h"

namespace acpstore::engine {

class PeriodicThread {
 public:
  // `name`: the thread's (base/thread_name.h).
  PeriodicThread(std::string name, std::chrono::milliseconds interval,
                 std::function<void()> task);
  ~PeriodicThread();
  PeriodicThread(const PeriodicThread&) = delete;
  PeriodicThread& operator=(const PeriodicThread&) = delete;

  // Returns once the task is not running and never will again.
  void Stop();

 private:
  void Loop();

  const std::chrono::milliseconds interval_;
  const std::function<void()> task_;
  base::Mutex mu_;
  base::CondVar cv_;
  bool stopping_ GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace acpstore::engine

#endif  // ACPSTORE_ENGINE_PERIODIC_THREAD_H_
