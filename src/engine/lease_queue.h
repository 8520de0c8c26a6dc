// LeaseQueue orders the queued actions for leasing by (available_at,
// created_at, insertion order) -- SPEC §2.3 -- in several views at once, so
// a lease asked for by one owner or for one session walks only the actions
// it may take instead of the whole tenant:
//   ForTenant(t), ForOwner(t, o), ForSession(t, s).
// Every action is in all three of its views while it is queued.
//
// T is the engine's action entry; the queue stores pointers and never
// dereferences them, so entries must be removed before they are destroyed.
//
// Thread-safety: none; guarded by the owning state's lock. Lifetime: owned
// by the state.

#ifndef ACPSTORE_ENGINE_LEASE_QUEUE_H_
#define ACPSTORE_ENGINE_LEASE_QUEUE_H_

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>

#include "acpstore/clock.h"
#include "engine/keys.h"

namespace acpstore::engine {

struct LeaseOrder {
  TimestampMs available_at = 0;
  TimestampMs created_at = 0;
  uint64_t insertion = 0;  // unique per action

  friend bool operator<(const LeaseOrder& a, const LeaseOrder& b) {
    return std::tie(a.available_at, a.created_at, a.insertion) <
           std::tie(b.available_at, b.created_at, b.insertion);
  }
  friend bool operator==(const LeaseOrder&, const LeaseOrder&) = default;
};

template <typename T>
class LeaseQueue {
 public:
  struct Entry {
    LeaseOrder order;
    T* item;
    friend bool operator<(const Entry& a, const Entry& b) {
      return a.order < b.order;
    }
  };
  using View = std::set<Entry>;

  static std::string TenantView(std::string_view tenant) {
    return TenantKey("t", tenant);
  }
  static std::string OwnerView(std::string_view tenant,
                               std::string_view owner) {
    return TenantKey("o", TenantKey(tenant, owner));
  }
  static std::string SessionView(std::string_view tenant,
                                 std::string_view session) {
    return TenantKey("s", TenantKey(tenant, session));
  }

  void Add(std::string_view tenant, std::string_view owner,
           std::string_view session, const LeaseOrder& order, T* item) {
    views_[TenantView(tenant)].insert(Entry{order, item});
    views_[OwnerView(tenant, owner)].insert(Entry{order, item});
    views_[SessionView(tenant, session)].insert(Entry{order, item});
    ++size_;
  }

  void Remove(std::string_view tenant, std::string_view owner,
              std::string_view session, const LeaseOrder& order) {
    bool removed = EraseFrom(TenantView(tenant), order);
    EraseFrom(OwnerView(tenant, owner), order);
    EraseFrom(SessionView(tenant, session), order);
    if (removed) --size_;
  }

  // The first item of `view` in lease order that is available at `now`
  // and satisfies `accept(const T&)`; nullptr if none.
  template <typename Pred>
  T* FindFirst(const std::string& view, TimestampMs now, Pred accept) const {
    auto it = views_.find(view);
    if (it == views_.end()) return nullptr;
    for (const Entry& e : it->second) {
      // Ordered by available_at first: nothing later can be eligible.
      if (e.order.available_at > now) return nullptr;
      if (accept(static_cast<const T&>(*e.item))) return e.item;
    }
    return nullptr;
  }

  size_t size() const { return size_; }

 private:
  bool EraseFrom(const std::string& view, const LeaseOrder& order) {
    auto it = views_.find(view);
    if (it == views_.end()) return false;
    bool erased = it->second.erase(Entry{order, nullptr}) > 0;
    if (it->second.empty()) views_.erase(it);
    return erased;
  }

  std::unordered_map<std::string, View> views_;
  size_t size_ = 0;
};

}  // namespace acpstore::engine

#endif  // ACPSTORE_ENGINE_LEASE_QUEUE_H_
