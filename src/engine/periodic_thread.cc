// PeriodicThread: see periodic_thread.h.

#include "engine/periodic_thread.h"

#include <utility>

#include "base/thread_name.h"

namespace acpstore::engine {

PeriodicThread::PeriodicThread(std::string name,
                               std::chrono::milliseconds interval,
                               std::function<void()> task)
    : interval_(interval), task_(std::move(task)) {
  thread_ = std::thread([this, name = std::move(name)] {
    base::NameThisThread(name);
    Loop();
  });
}

PeriodicThread::~PeriodicThread() { Stop(); }

void PeriodicThread::Stop() {
  {
    base::MutexLock lock(&mu_);
    stopping_ = true;
  }
  cv_.SignalAll();
  if (thread_.joinable()) thread_.join();
}

void PeriodicThread::Loop() {
  while (true) {
    {
      base::MutexLock lock(&mu_);
      auto deadline = std::chrono::steady_clock::now() + interval_;
      while (!stopping_ && std::chrono::steady_clock::now() < deadline) {
        cv_.WaitUntil(&mu_, deadline);
      }
      if (stopping_) return;
    }
    task_();
  }
}

}  // namespace acpstore::engine
