// SSE subscriber caps. See subscriber_caps.h.

#include "server/subscriber_caps.h"

#include "acpstore/status.h"

namespace acpstore::server {

SubscriberSlot::~SubscriberSlot() { caps_->Release(key_); }

Result<std::unique_ptr<SubscriberSlot>> SubscriberCaps::Acquire(
    const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  if (total_ >= max_total_) {
    return Status::ResourceExhausted("too many event streams on this server")
        .With("limit", static_cast<int64_t>(max_total_));
  }
  size_t& mine = per_key_[key];
  if (mine >= max_per_key_) {
    return Status::ResourceExhausted("too many event streams for this key")
        .With("limit", static_cast<int64_t>(max_per_key_));
  }
  ++mine;
  ++total_;
  return std::make_unique<SubscriberSlot>(this, key);
}

size_t SubscriberCaps::total() const {
  std::lock_guard<std::mutex> lock(mu_);
  return total_;
}

void SubscriberCaps::Release(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  --total_;
  auto it = per_key_.find(key);
  if (it != per_key_.end() && --it->second == 0) per_key_.erase(it);
}

}  // namespace acpstore::server
