// SseAuthWatch: see sse_auth_watch.h.

#include "server/sse_auth_watch.h"

#include <utility>
#include <vector>

namespace acpstore::server {

SseAuthWatch::Registration::Registration(Registration&& other) noexcept
    : watch_(std::exchange(other.watch_, nullptr)), it_(other.it_) {}

SseAuthWatch::Registration::~Registration() {
  if (watch_ == nullptr) return;
  std::lock_guard<std::mutex> lock(watch_->mu_);
  watch_->streams_.erase(it_);
}

bool SseAuthWatch::Registration::TakeRecheck() {
  return watch_ != nullptr && it_->recheck.exchange(false);
}

SseAuthWatch::Registration SseAuthWatch::Add(
    std::shared_ptr<ReadySignal> ready) {
  std::lock_guard<std::mutex> lock(mu_);
  streams_.emplace_back();
  streams_.back().ready = std::move(ready);
  return Registration(this, std::prev(streams_.end()));
}

void SseAuthWatch::Poll(uint64_t revision) {
  std::vector<std::shared_ptr<ReadySignal>> wake;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const bool moved = polled_ && revision != revision_;
    polled_ = true;
    revision_ = revision;
    if (!moved) return;
    wake.reserve(streams_.size());
    for (Stream& s : streams_) {
      s.recheck.store(true);
      wake.push_back(s.ready);
    }
  }
  // Outside the lock: a waker posts to the stream's strand.
  for (const auto& ready : wake) ready->Notify();
}

size_t SseAuthWatch::size() {
  std::lock_guard<std::mutex> lock(mu_);
  return streams_.size();
}

}  // namespace acpstore::server
