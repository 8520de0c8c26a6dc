// PayloadCache: see payload_cache.h.

#include "engine/payload_cache.h"

#include <cassert>
#include <utility>

namespace acpstore::engine {

namespace {

constexpr size_t kMinSlots = 64;
// Below this many slab nodes the slab is never compacted: a few KiB.
constexpr size_t kMinCompactNodes = 1024;

// Keys are (segment << 32 | offset), and entries come and go mostly in
// journal order. Neighbouring records get neighbouring slots (the offset in
// units of 64 bytes; no record is shorter), so inserting and evicting walk
// the table nearly in order instead of missing the CPU cache at random;
// the live entries span a window of the journal at least 64 times longer
// than they number, which wraps around the table evenly. The segment
// number is scrambled so that segments start at unrelated slots.
size_t Hash(uint64_t key, size_t mask) {
  return static_cast<size_t>((key >> 32) * 0x9E3779B97F4A7C15ull +
                             ((key & 0xffffffffu) >> 6)) &
         mask;
}

}  // namespace

PayloadCache::PayloadCache(uint64_t capacity_bytes)
    : capacity_(capacity_bytes) {
  base::MutexLock lock(&mu_);
  slots_.assign(kMinSlots, Slot{});
}

size_t PayloadCache::Charge(const Event& e) {
  return kEntryOverhead + e.payload.size() + e.session_id.size() +
         e.tenant_id.size() + e.owner_key_id.size() + e.event_type.size() +
         (e.client_event_id ? e.client_event_id->size() : 0) +
         (e.backend_run_id ? e.backend_run_id->size() : 0) +
         (e.payload_ref ? e.payload_ref->size() : 0);
}

size_t PayloadCache::FindSlotLocked(uint64_t key) const {
  const size_t mask = slots_.size() - 1;
  size_t slot = Hash(key, mask);
  while (slots_[slot].node != kNone && slots_[slot].key != key) {
    slot = (slot + 1) & mask;
  }
  return slot;
}

void PayloadCache::EraseSlotLocked(size_t slot) {
  // Backward-shift deletion: pull later members of the probe run into the
  // hole so every lookup still finds its key before an empty slot.
  const size_t mask = slots_.size() - 1;
  size_t hole = slot;
  size_t next = (hole + 1) & mask;
  while (slots_[next].node != kNone) {
    const size_t home = Hash(slots_[next].key, mask);
    // Moves unless `home` lies cyclically in (hole, next].
    if (((next - home) & mask) >= ((next - hole) & mask)) {
      slots_[hole] = slots_[next];
      hole = next;
    }
    next = (next + 1) & mask;
  }
  slots_[hole] = Slot{};
}

void PayloadCache::LinkFrontLocked(uint32_t n) {
  nodes_[n].prev = kNone;
  nodes_[n].next = head_;
  if (head_ != kNone) nodes_[head_].prev = n;
  head_ = n;
  if (tail_ == kNone) tail_ = n;
}

void PayloadCache::UnlinkLocked(uint32_t n) {
  Node& node = nodes_[n];
  if (node.prev != kNone) {
    nodes_[node.prev].next = node.next;
  } else {
    head_ = node.next;
  }
  if (node.next != kNone) {
    nodes_[node.next].prev = node.prev;
  } else {
    tail_ = node.prev;
  }
}

uint32_t PayloadCache::AllocNodeLocked() {
  if (free_ != kNone) {
    const uint32_t n = free_;
    free_ = nodes_[n].next;
    return n;
  }
  nodes_.emplace_back();
  return static_cast<uint32_t>(nodes_.size() - 1);
}

void PayloadCache::RemoveLocked(uint32_t n, size_t slot, Released* released) {
  EraseSlotLocked(slot);
  UnlinkLocked(n);
  Node& node = nodes_[n];
  bytes_ -= node.charge;
  --entries_;
  if (released != nullptr) {
    released->push_back(std::move(node.event));
  } else {
    node.event.reset();
  }
  node.next = free_;
  free_ = n;
}

void PayloadCache::RebuildLocked(size_t slots, bool compact) {
  if (compact) {
    std::vector<Node> nodes;
    nodes.reserve(entries_);
    // Least recent first, each linked in front: the LRU order is kept.
    uint32_t n = tail_;
    head_ = tail_ = kNone;
    while (n != kNone) {
      const uint32_t prev = nodes_[n].prev;
      nodes.push_back(std::move(nodes_[n]));
      const uint32_t m = static_cast<uint32_t>(nodes.size() - 1);
      nodes[m].prev = kNone;
      nodes[m].next = head_;
      if (head_ != kNone) nodes[head_].prev = m;
      head_ = m;
      if (tail_ == kNone) tail_ = m;
      n = prev;
    }
    nodes_ = std::move(nodes);
    free_ = kNone;
  }
  slots_.assign(slots, Slot{});
  const size_t mask = slots - 1;
  for (uint32_t n = head_; n != kNone; n = nodes_[n].next) {
    size_t slot = Hash(nodes_[n].key, mask);
    while (slots_[slot].node != kNone) slot = (slot + 1) & mask;
    slots_[slot] = Slot{nodes_[n].key, n};
  }
}

std::shared_ptr<const Event> PayloadCache::Lookup(uint64_t key) {
  base::MutexLock lock(&mu_);
  const uint32_t n = slots_[FindSlotLocked(key)].node;
  if (n == kNone) {
    ++misses_;
    return nullptr;
  }
  ++hits_;
  if (head_ != n) {
    UnlinkLocked(n);
    LinkFrontLocked(n);
  }
  return nodes_[n].event;
}

void PayloadCache::Insert(uint64_t key, std::shared_ptr<const Event> event,
                          Released* released) {
  const size_t charge = Charge(*event);
  Released local;  // dropped after the lock, when the caller gave none
  Released* out = released != nullptr ? released : &local;
  {
    base::MutexLock lock(&mu_);
    size_t slot = FindSlotLocked(key);
    if (slots_[slot].node != kNone) {
      RemoveLocked(slots_[slot].node, slot, out);
      slot = FindSlotLocked(key);
    }
    if (charge > capacity_) {
      out->push_back(std::move(event));
      return;
    }
    if (2 * (entries_ + 1) > slots_.size()) {
      RebuildLocked(2 * slots_.size(), false);
      slot = FindSlotLocked(key);
    }
    const uint32_t n = AllocNodeLocked();
    Node& node = nodes_[n];
    node.key = key;
    node.event = std::move(event);
    node.charge = charge;
    LinkFrontLocked(n);
    slots_[slot] = Slot{key, n};
    ++entries_;
    bytes_ += charge;
    EvictLocked(out);
  }
}

void PayloadCache::SetCapacity(uint64_t capacity_bytes, Released* released) {
  Released local;
  base::MutexLock lock(&mu_);
  capacity_ = capacity_bytes;
  EvictLocked(released != nullptr ? released : &local);
  MaybeShrinkLocked();
  // `local` is destroyed after the lock (declared before it).
}

void PayloadCache::Clear() {
  std::vector<Node> nodes;
  base::MutexLock lock(&mu_);
  nodes.swap(nodes_);  // its events are dropped after the lock
  slots_.assign(kMinSlots, Slot{});
  free_ = head_ = tail_ = kNone;
  entries_ = 0;
  bytes_ = 0;
}

void PayloadCache::EvictLocked(Released* released) {
  while (bytes_ > capacity_ && tail_ != kNone) {
    RemoveLocked(tail_, FindSlotLocked(nodes_[tail_].key), released);
  }
}

void PayloadCache::MaybeShrinkLocked() {
  // After the capacity fell (pending writes took the memory budget), give
  // back the slab and the table a larger cache needed; a quarter keeps the
  // work amortised over the inserts that filled them.
  if (nodes_.size() >= kMinCompactNodes && 4 * entries_ < nodes_.size()) {
    size_t slots = kMinSlots;
    while (slots < 2 * entries_) slots *= 2;
    RebuildLocked(slots, true);
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
  return entries_;
}

size_t PayloadCache::slab_nodes() const {
  base::MutexLock lock(&mu_);
  return nodes_.size();
}

}  // namespace acpstore::engine
