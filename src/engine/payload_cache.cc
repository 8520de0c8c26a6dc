// PayloadCache: see payload_cache.h.

#include "engine/payload_cache.h"

#include <utility>

namespace acpstore::engine {

PayloadCache::PayloadCache(uint64_t capacity_bytes)
    : capacity_(capacity_bytes) {}

size_t PayloadCache::Charge(const Event& e) {
  return kEntryOverhead + e.payload.size() + e.session_id.size() +
         e.tenant_id.size() + e.owner_key_id.size() + e.event_type.size() +
         (e.client_event_id ? e.client_event_id->size() : 0) +
         (e.backend_run_id ? e.backend_run_id->size() : 0) +
         (e.payload_ref ? e.payload_ref->size() : 0);
}

std::shared_ptr<const Event> PayloadCache::Lookup(uint64_t key) {
  base::MutexLock lock(&mu_);
  std::list<Entry>::iterator* it = map_.Find(key);
  if (it == nullptr) {
    ++misses_;
    return nullptr;
  }
  ++hits_;
  lru_.splice(lru_.begin(), lru_, *it);
  return (*it)->event;
}

void PayloadCache::Insert(uint64_t key, std::shared_ptr<const Event> event,
                          Released* released) {
  const size_t charge = Charge(*event);
  base::MutexLock lock(&mu_);
  if (charge > capacity_) {
    // Not cached; an older entry under the key goes (a location's bytes
    // never change, but the caller asked for this event, not that one).
    if (std::list<Entry>::iterator* it = map_.Find(key)) {
      bytes_ -= (*it)->charge;
      if (released != nullptr) released->push_back(std::move((*it)->event));
      lru_.erase(*it);
      map_.Erase(key);
    }
    return;
  }
  // The list first: if either allocation throws, the list and the map
  // still agree (the map never holds an iterator the list does not).
  lru_.push_front(Entry{key, std::move(event), charge});
  std::pair<std::list<Entry>::iterator*, bool> slot;
  try {
    slot = map_.TryEmplace(key, lru_.begin());
  } catch (...) {
    lru_.pop_front();
    throw;
  }
  if (!slot.second) {  // a refresh: the older entry goes
    std::list<Entry>::iterator old = *slot.first;
    bytes_ -= old->charge;
    if (released != nullptr) released->push_back(std::move(old->event));
    lru_.erase(old);
    *slot.first = lru_.begin();
  }
  bytes_ += charge;
  EvictLocked(released);
}

void PayloadCache::SetCapacity(uint64_t capacity_bytes, Released* released) {
  base::MutexLock lock(&mu_);
  capacity_ = capacity_bytes;
  EvictLocked(released);
  // A cache shrunk for pending writes gives back its index's memory too.
  map_.ShrinkIfSparse();
}

void PayloadCache::Clear() {
  base::MutexLock lock(&mu_);
  lru_.clear();
  map_.Clear();
  bytes_ = 0;
}

void PayloadCache::EvictLocked(Released* released) {
  while (bytes_ > capacity_ && !lru_.empty()) {
    bytes_ -= lru_.back().charge;
    if (released != nullptr) released->push_back(std::move(lru_.back().event));
    map_.Erase(lru_.back().key);
    lru_.pop_back();
  }
}

uint64_t PayloadCache::bytes() const {
  base::MutexLock lock(&mu_);
  return bytes_;
}

uint64_t PayloadCache::capacity() const {
  base::MutexLock lock(&mu_);
  return capacity_;
}

uint64_t PayloadCache::hits() const {
  base::MutexLock lock(&mu_);
  return hits_;
}

uint64_t PayloadCache::misses() const {
  base::MutexLock lock(&mu_);
  return misses_;
}

size_t PayloadCache::entries() const {
  base::MutexLock lock(&mu_);
  return map_.size();
}

}  // namespace acpstore::engine
