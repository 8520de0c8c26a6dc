// Mutex, MutexLock and CondVar: std::mutex / std::condition_variable with
// clang thread-safety annotations (base/thread_annotations.h), so
// GUARDED_BY(mu_) members are checked at compile time under clang.
//
// Thread-safety: these are the synchronisation primitives. Lifetime: a
// Mutex must outlive every MutexLock holding it and every CondVar wait on it.
//
//   class Registry {
//     void Add(Item item) EXCLUDES(mu_) {
//       base::MutexLock lock(&mu_);
//       items_.push_back(std::move(item));
//       cv_.SignalAll();
//     }
//     base::Mutex mu_;
//     base::CondVar cv_;
//     std::vector<Item> items_ GUARDED_BY(mu_);
//   };

#ifndef ACPSTORE_BASE_MUTEX_H_
#define ACPSTORE_BASE_MUTEX_H_

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "base/thread_annotations.h"

namespace acpstore::base {

class CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() ACQUIRE() { mu_.lock(); }
  void Unlock() RELEASE() { mu_.unlock(); }
  bool TryLock() TRY_ACQUIRE(true) { return mu_.try_lock(); }
  // Documents (and tells the analysis) that the caller holds the lock;
  // std::mutex cannot check ownership, so this does nothing at run time.
  void AssertHeld() ASSERT_CAPABILITY(this) {}

 private:
  friend class CondVar;
  std::mutex mu_;
};

// Holds `mu` from construction to destruction.
class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ACQUIRE(mu) : mu_(mu) { mu_->Lock(); }
  ~MutexLock() RELEASE() { mu_->Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* const mu_;
};

// A condition variable. The mutex is passed to each wait (as in Abseil)
// rather than stored, so clang can check that the caller holds it.
// Waits may wake spuriously: always wait in a loop on the predicate.
class CondVar {
 public:
  CondVar() = default;
  CondVar(const CondVar&) = delete;
  CondVar& operator=(const CondVar&) = delete;

  // Releases `mu` while blocked; holds it again on return.
  void Wait(Mutex* mu) REQUIRES(mu) {
    std::unique_lock<std::mutex> lock(mu->mu_, std::adopt_lock);
    cv_.wait(lock);
    lock.release();
  }

  // As Wait, but gives up at `deadline`. Returns false on timeout.
  template <typename Clock, typename Duration>
  bool WaitUntil(Mutex* mu,
                 const std::chrono::time_point<Clock, Duration>& deadline)
      REQUIRES(mu) {
    std::unique_lock<std::mutex> lock(mu->mu_, std::adopt_lock);
    const bool woken =
        cv_.wait_until(lock, deadline) == std::cv_status::no_timeout;
    lock.release();
    return woken;
  }

  // As Wait, but gives up after `timeout`. Returns false on timeout.
  template <typename Rep, typename Period>
  bool WaitFor(Mutex* mu, const std::chrono::duration<Rep, Period>& timeout)
      REQUIRES(mu) {
    return WaitUntil(mu, std::chrono::steady_clock::now() + timeout);
  }

  void Signal() { cv_.notify_one(); }
  void SignalAll() { cv_.notify_all(); }

 private:
  std::condition_variable cv_;
};

}  // namespace acpstore::base

#endif  // ACPSTORE_BASE_MUTEX_H_
