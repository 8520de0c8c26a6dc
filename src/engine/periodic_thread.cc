// PeriodicThread: see periodic_thread.h.

#include "engine/periodic_thread.h"

#include <utility>

namespace acpstore::engine {

PeriodicThread::PeriodicThread(std::chrono::milliseconds interval,
                               std::function<void()> task)
    : interval_(interval), task_(std::move(task)) {
  thread_ = std::thread([this] { Loop(); });
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
