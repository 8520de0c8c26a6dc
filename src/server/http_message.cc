// ReadySignal. See http_message.h.

#include "server/http_message.h"

namespace acpstore::server {

void ReadySignal::Notify() {
  std::function<void()> waker;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!waker_) {
      pending_ = true;
      return;
    }
    waker = waker_;
  }
  // Outside the lock: the waker posts to an executor and must not be able
  // to deadlock against SetWaker.
  waker();
}

void ReadySignal::SetWaker(std::function<void()> waker) {
  bool deliver = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    waker_ = waker;
    deliver = waker_ && pending_;
    pending_ = false;
  }
  if (deliver) waker();
}

}  // namespace acpstore::server
