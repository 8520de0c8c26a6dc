// SubscriptionHub and the Subscription it hands out: see
// subscription_hub.h.

#include "engine/subscription_hub.h"

#include <algorithm>
#include <atomic>
#include <type_traits>
#include <utility>
#include <variant>

#include "engine/event_log.h"
#include "engine/keys.h"

namespace acpstore::engine {

struct SubscriptionHub::Waiter {
  explicit Waiter(std::function<void()> cb) : on_ready(std::move(cb)) {}

  const std::function<void()> on_ready;
  // Set by Next() before it reads; cleared by the Notify that fires.
  std::atomic<bool> armed{true};
  // Held while on_ready runs, so the destructor of the subscription waits
  // out a callback in flight and none starts after it.
  base::Mutex callback_mu;
  bool closed GUARDED_BY(callback_mu) = false;
};

class SubscriptionHub::HubSubscription final : public Subscription {
 public:
  HubSubscription(SubscriptionHub* hub, SubscriptionSource* source,
                  std::string tenant_id, std::string session_id,
                  uint64_t incarnation, EventSeq after,
                  std::shared_ptr<Waiter> waiter)
      : hub_(hub),
        source_(source),
        tenant_id_(std::move(tenant_id)),
        session_id_(std::move(session_id)),
        key_(TenantKey(tenant_id_, session_id_)),
        incarnation_(incarnation),
        waiter_(std::move(waiter)),
        cursor_(after) {}

  ~HubSubscription() override {
    hub_->Remove(key_, waiter_.get());
    base::MutexLock lock(&waiter_->callback_mu);
    waiter_->closed = true;
  }

  Result<EventPage> Next(size_t max_events) override {
    waiter_->armed.store(true);
    Result<EventPage> page = source_->ReadSubscriptionPage(
        tenant_id_, session_id_, incarnation_, cursor_.load(),
        Limit(max_events), kNoByteCap);
    if (!page.ok()) return page;
    Advance(*page);
    return page;
  }

  Result<SharedEventPage> NextShared(size_t max_events,
                                     uint64_t max_bytes) override {
    waiter_->armed.store(true);
    Result<SharedEventPage> page = source_->ReadSharedSubscriptionPage(
        tenant_id_, session_id_, incarnation_, cursor_.load(),
        Limit(max_events), max_bytes);
    if (!page.ok()) return page;
    Advance(*page);
    return page;
  }

  EventSeq cursor() const override { return cursor_.load(); }

 private:
  static uint32_t Limit(size_t max_events) {
    return static_cast<uint32_t>(std::clamp<size_t>(max_events, 1, 1000));
  }
  static EventSeq SeqOf(const Event& e) { return e.seq; }
  static EventSeq SeqOf(const std::shared_ptr<const Event>& e) { return e->seq; }
  // Moves the cursor past `page` (an EventPage or a SharedEventPage). Past
  // a retention gap the cursor moves to its far side, so the gap is
  // reported once.
  template <typename Page>
  void Advance(const Page& page) {
    EventSeq cursor = cursor_.load();
    if (page.truncated) cursor = std::max(cursor, page.first_seq - 1);
    if (!page.events.empty()) cursor = SeqOf(page.events.back());
    cursor_.store(cursor);
  }

  SubscriptionHub* const hub_;
  SubscriptionSource* const source_;
  const std::string tenant_id_;
  const std::string session_id_;
  const std::string key_;
  const uint64_t incarnation_;
  const std::shared_ptr<Waiter> waiter_;
  // Written only by Next(); atomic so cursor() may be read from elsewhere.
  std::atomic<EventSeq> cursor_;
};

std::unique_ptr<Subscription> SubscriptionHub::Subscribe(
    SubscriptionSource* source, std::string tenant_id, std::string session_id,
    uint64_t incarnation, SubscribeOptions options) {
  auto waiter = std::make_shared<Waiter>(std::move(options.on_ready));
  std::string key = TenantKey(tenant_id, session_id);
  {
    base::MutexLock lock(&mu_);
    waiters_[key].push_back(waiter);
    ++count_;
  }
  return std::make_unique<HubSubscription>(
      this, source, std::move(tenant_id), std::move(session_id), incarnation,
      options.after, std::move(waiter));
}

void SubscriptionHub::Remove(const std::string& session_key,
                             const Waiter* waiter) {
  base::MutexLock lock(&mu_);
  auto it = waiters_.find(session_key);
  if (it == waiters_.end()) return;
  auto& list = it->second;
  auto pos = std::find_if(list.begin(), list.end(),
                          [&](const auto& w) { return w.get() == waiter; });
  if (pos == list.end()) return;
  list.erase(pos);
  --count_;
  if (list.empty()) waiters_.erase(it);
}

void SubscriptionHub::Notify(const std::vector<std::string>& session_keys) {
  if (session_keys.empty()) return;
  std::vector<std::shared_ptr<Waiter>> ready;
  {
    base::MutexLock lock(&mu_);
    for (const auto& key : session_keys) {
      auto it = waiters_.find(key);
      if (it == waiters_.end()) continue;
      for (const auto& w : it->second) {
        if (w->armed.exchange(false)) ready.push_back(w);
      }
    }
  }
  // Outside mu_: a callback may subscribe or unsubscribe others.
  for (const auto& w : ready) {
    base::MutexLock lock(&w->callback_mu);
    if (!w->closed && w->on_ready) w->on_ready();
  }
}

std::vector<std::string> SubscriptionHub::Keys() const {
  std::vector<std::string> keys;
  base::MutexLock lock(&mu_);
  keys.reserve(waiters_.size());
  for (const auto& kv : waiters_) keys.push_back(kv.first);
  return keys;
}

void SubscriptionHub::NotifyAll() {
  std::vector<std::string> keys;
  {
    base::MutexLock lock(&mu_);
    keys.reserve(waiters_.size());
    for (const auto& kv : waiters_) keys.push_back(kv.first);
  }
  Notify(keys);
}

size_t SubscriptionHub::size() const {
  base::MutexLock lock(&mu_);
  return count_;
}

std::vector<std::string> SubscriptionHub::SessionsToNotify(
    const record::Mutation& mutation) {
  std::vector<std::string> keys;
  for (const auto& op : mutation.ops) {
    std::visit(
        [&keys](const auto& o) {
          using T = std::decay_t<decltype(o)>;
          if constexpr (std::is_same_v<T, record::AppendEventsOp> ||
                        std::is_same_v<T, record::DeleteSessionOp>) {
            keys.push_back(TenantKey(o.tenant_id, o.session_id));
          }
        },
        op);
  }
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

}  // namespace acpstore::engine
