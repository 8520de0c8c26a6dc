// SubscriptionHub connects the commit path to live Subscriptions. A
// subscription is pull-based (store.h): Next() reads events after its
// cursor straight from the engine's state through a SubscriptionSource, so
// nothing is buffered per subscriber. The hub only remembers who waits on
// which session and calls their on_ready after a commit touched it.
//
// No lost wake-up: Next() arms its waiter *before* reading. A commit that
// lands after the read finds the waiter armed and fires on_ready; one that
// landed before the read is in the page. A commit may fire on_ready
// spuriously (allowed by the contract).
//
// Thread-safety: every method may be called from any thread. Notify must
// be called without the engine's state lock (it runs user callbacks).
// on_ready must not destroy its own Subscription (it would wait for
// itself). Lifetime: the hub must outlive every Subscription it made.

#ifndef ACPSTORE_ENGINE_SUBSCRIPTION_HUB_H_
#define ACPSTORE_ENGINE_SUBSCRIPTION_HUB_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "acpstore/store.h"
#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "record/mutation.h"

namespace acpstore::engine {

// Where a subscription reads from: the engine, under its own lock.
class SubscriptionSource {
 public:
  virtual ~SubscriptionSource() = default;
  // Events of the session incarnation `incarnation` with seq > after, at
  // most `limit` and `max_bytes` of payload (event_log.h PageTakes);
  // kNotFound once that incarnation is gone (deleted).
  virtual Result<EventPage> ReadSubscriptionPage(std::string_view tenant_id,
                                                 std::string_view session_id,
                                                 uint64_t incarnation,
                                                 EventSeq after,
                                                 uint32_t limit,
                                                 uint64_t max_bytes) = 0;
  // The same page with shared events. The default copies
  // ReadSubscriptionPage's; an engine that keeps events behind
  // shared_ptr (the file engine's cache) hands those out instead.
  virtual Result<SharedEventPage> ReadSharedSubscriptionPage(
      std::string_view tenant_id, std::string_view session_id,
      uint64_t incarnation, EventSeq after, uint32_t limit,
      uint64_t max_bytes) {
    Result<EventPage> page = ReadSubscriptionPage(
        tenant_id, session_id, incarnation, after, limit, max_bytes);
    if (!page.ok()) return page.error();
    return SharedEventPage::FromCopies(std::move(*page));
  }
};

class SubscriptionHub {
 public:
  SubscriptionHub() = default;
  SubscriptionHub(const SubscriptionHub&) = delete;
  SubscriptionHub& operator=(const SubscriptionHub&) = delete;

  // `source` is borrowed and must outlive the subscription.
  std::unique_ptr<Subscription> Subscribe(SubscriptionSource* source,
                                          std::string tenant_id,
                                          std::string session_id,
                                          uint64_t incarnation,
                                          SubscribeOptions options);

  // Wakes the armed subscribers of each session key (keys.h TenantKey).
  void Notify(const std::vector<std::string>& session_keys) EXCLUDES(mu_);
  // Wakes every armed subscriber: after a gap in what the engine heard
  // (the postgres engine's notification connection was lost), each reads
  // again from its cursor.
  void NotifyAll() EXCLUDES(mu_);

  size_t size() const;
  // The session keys that have subscribers now (the postgres engine polls
  // their rows for commits whose notification never came).
  std::vector<std::string> Keys() const EXCLUDES(mu_);

  // The sessions whose subscribers a committed Mutation concerns: those it
  // appended to or deleted.
  static std::vector<std::string> SessionsToNotify(
      const record::Mutation& mutation);

 private:
  struct Waiter;
  class HubSubscription;

  void Remove(const std::string& session_key, const Waiter* waiter)
      EXCLUDES(mu_);

  mutable base::Mutex mu_;
  std::unordered_map<std::string, std::vector<std::shared_ptr<Waiter>>>
      waiters_ GUARDED_BY(mu_);
  size_t count_ GUARDED_BY(mu_) = 0;
};

}  // namespace acpstore::engine

#endif  // ACPSTORE_ENGINE_SUBSCRIPTION_HUB_H_
