// ReadySignal. See http_message.h.

#include "server/http_message.h"

#include <utility>

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
  std::function<void()> deliver;  // called with no lock held
  {
    std::lock_guard<std::mutex> lock(mu_);
    waker_ = std::move(waker);
    if (waker_ && pending_) deliver = waker_;
    pending_ = false;
  }
  if (deliver) deliver();
}

}  // namespace acpstore::server
