// SubscriberCaps bounds open SSE streams in total and per API key (SPEC
// §6); a stream over either cap is refused with kResourceExhausted (429).
// A SubscriberSlot holds one place until it is destroyed.
//
// Thread-safety: all methods may be called from any thread. Lifetime: the
// caps must outlive every slot (the Server owns both orders correctly:
// streams end before the caps are destroyed).

#ifndef ACPSTORE_SERVER_SUBSCRIBER_CAPS_H_
#define ACPSTORE_SERVER_SUBSCRIBER_CAPS_H_

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "acpstore/result.h"

namespace acpstore::server {

class SubscriberCaps;

class SubscriberSlot {
 public:
  SubscriberSlot(SubscriberCaps* caps, std::string key)
      : caps_(caps), key_(std::move(key)) {}
  SubscriberSlot(const SubscriberSlot&) = delete;
  SubscriberSlot& operator=(const SubscriberSlot&) = delete;
  ~SubscriberSlot();

 private:
  SubscriberCaps* caps_;
  std::string key_;
};

class SubscriberCaps {
 public:
  SubscriberCaps(size_t max_total, size_t max_per_key)
      : max_total_(max_total), max_per_key_(max_per_key) {}

  // `key` identifies the API key (tenant and key id).
  Result<std::unique_ptr<SubscriberSlot>> Acquire(const std::string& key);
  size_t total() const;

 private:
  friend class SubscriberSlot;
  void Release(const std::string& key);

  const size_t max_total_;
  const size_t max_per_key_;
  mutable std::mutex mu_;
  size_t total_ = 0;                                 // guarded by mu_
  std::unordered_map<std::string, size_t> per_key_;  // guarded by mu_
};

}  // namespace acpstore::server

#endif  // ACPSTORE_SERVER_SUBSCRIBER_CAPS_H_
