// PayloadCache: LRU eviction by bytes, capacity changes, oversize events,
// evicted events handed back to the caller, and a randomized comparison
// with a model LRU.

#include "engine/payload_cache.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <list>
#include <random>
#include <utility>

namespace acpstore::engine {
namespace {

std::shared_ptr<const Event> Ev(size_t payload_bytes) {
  auto e = std::make_shared<Event>();
  e->payload.assign(payload_bytes, 'p');
  return e;
}

TEST(PayloadCacheTest, EvictsLeastRecentlyUsedFirst) {
  const size_t one = PayloadCache::Charge(*Ev(100));
  PayloadCache cache(3 * one);
  cache.Insert(1, Ev(100));
  cache.Insert(2, Ev(100));
  cache.Insert(3, Ev(100));
  ASSERT_NE(cache.Lookup(1), nullptr);  // 1 is now the most recent
  cache.Insert(4, Ev(100));
  EXPECT_EQ(cache.Lookup(2), nullptr);
  EXPECT_NE(cache.Lookup(1), nullptr);
  EXPECT_NE(cache.Lookup(3), nullptr);
  EXPECT_NE(cache.Lookup(4), nullptr);
  EXPECT_EQ(cache.bytes(), 3 * one);
}

TEST(PayloadCacheTest, ShrinkingTheCapacityEvicts) {
  const size_t one = PayloadCache::Charge(*Ev(10));
  PayloadCache cache(10 * one);
  for (uint64_t k = 0; k < 10; ++k) cache.Insert(k, Ev(10));
  cache.SetCapacity(2 * one);
  EXPECT_EQ(cache.bytes(), 2 * one);
  EXPECT_NE(cache.Lookup(9), nullptr);
  EXPECT_EQ(cache.Lookup(0), nullptr);
  cache.SetCapacity(0);
  EXPECT_EQ(cache.bytes(), 0u);
}

TEST(PayloadCacheTest, AnEventLargerThanTheCapacityIsNotCached) {
  PayloadCache cache(1000);
  cache.Insert(1, Ev(5000));
  EXPECT_EQ(cache.Lookup(1), nullptr);
  EXPECT_EQ(cache.bytes(), 0u);
}

TEST(PayloadCacheTest, EvictedEventsGoToTheCallerWhoDropsThem) {
  const size_t one = PayloadCache::Charge(*Ev(100));
  PayloadCache cache(2 * one);
  std::weak_ptr<const Event> first;
  {
    auto e = Ev(100);
    first = e;
    cache.Insert(1, std::move(e));
  }
  cache.Insert(2, Ev(100));
  PayloadCache::Released released;
  cache.Insert(3, Ev(100), &released);
  ASSERT_EQ(released.size(), 1u);
  EXPECT_EQ(released[0].get(), first.lock().get());
  EXPECT_EQ(cache.Lookup(1), nullptr);
  EXPECT_FALSE(first.expired());  // the caller still holds it
  released.clear();
  EXPECT_TRUE(first.expired());
  EXPECT_EQ(cache.bytes(), 2 * one);

  // Shrinking hands back likewise, least recent first.
  cache.SetCapacity(0, &released);
  ASSERT_EQ(released.size(), 2u);
  EXPECT_EQ(cache.bytes(), 0u);
  EXPECT_EQ(cache.entries(), 0u);
}

TEST(PayloadCacheTest, ReinsertingAKeyReplacesItsEntry) {
  const size_t small = PayloadCache::Charge(*Ev(10));
  const size_t large = PayloadCache::Charge(*Ev(500));
  PayloadCache cache(10 * large);
  cache.Insert(7, Ev(10));
  cache.Insert(7, Ev(500));
  EXPECT_EQ(cache.entries(), 1u);
  EXPECT_EQ(cache.bytes(), large);
  EXPECT_EQ(cache.Lookup(7)->payload.size(), 500u);
  EXPECT_NE(small, large);
}

TEST(PayloadCacheTest, SteadyEvictionKeepsTheMostRecentWithinTheBound) {
  // Every insert evicts one entry at steady state, as durable appends do.
  const size_t one = PayloadCache::Charge(*Ev(100));
  PayloadCache cache(1000 * one);
  auto key = [](uint64_t k) {
    return PayloadCache::Key(k / 4096, (k % 4096) * 2600);
  };
  for (uint64_t k = 0; k < 50000; ++k) cache.Insert(key(k), Ev(100));
  EXPECT_EQ(cache.entries(), 1000u);
  EXPECT_EQ(cache.bytes(), 1000 * one);
  EXPECT_NE(cache.Lookup(key(49999)), nullptr);
  EXPECT_NE(cache.Lookup(key(49000)), nullptr);
  EXPECT_EQ(cache.Lookup(key(48999)), nullptr);
}

// The reference: the plainest LRU by bytes (a list in recency order,
// searched linearly).
class ModelLru {
 public:
  explicit ModelLru(uint64_t capacity) : capacity_(capacity) {}
  bool Lookup(uint64_t key) {
    auto it = std::find_if(lru_.begin(), lru_.end(),
                           [&](const auto& e) { return e.first == key; });
    if (it == lru_.end()) return false;
    lru_.splice(lru_.begin(), lru_, it);
    return true;
  }
  void Insert(uint64_t key, size_t charge) {
    auto it = std::find_if(lru_.begin(), lru_.end(),
                           [&](const auto& e) { return e.first == key; });
    if (it != lru_.end()) {
      bytes_ -= it->second;
      lru_.erase(it);
    }
    if (charge > capacity_) return;
    lru_.emplace_front(key, charge);
    bytes_ += charge;
    Evict();
  }
  void SetCapacity(uint64_t capacity) {
    capacity_ = capacity;
    Evict();
  }
  uint64_t bytes() const { return bytes_; }
  size_t size() const { return lru_.size(); }

 private:
  void Evict() {
    while (bytes_ > capacity_ && !lru_.empty()) {
      bytes_ -= lru_.back().second;
      lru_.pop_back();
    }
  }
  uint64_t capacity_;
  uint64_t bytes_ = 0;
  std::list<std::pair<uint64_t, size_t>> lru_;
};

TEST(PayloadCacheTest, BehavesLikeAPlainLruUnderRandomOperations) {
  std::mt19937_64 rng(14);
  const uint64_t unit = PayloadCache::Charge(*Ev(0));
  PayloadCache cache(300 * unit);
  ModelLru model(300 * unit);
  for (int step = 0; step < 100000; ++step) {
    // Few distinct keys, so lookups hit, reinserts happen and probe runs
    // wrap around the table; keys share low bits as journal offsets do.
    const uint64_t key = PayloadCache::Key(rng() % 3, (rng() % 400) * 64);
    const int op = static_cast<int>(rng() % 100);
    if (op < 50) {
      const size_t payload = rng() % 200;
      cache.Insert(key, Ev(payload));
      model.Insert(key, PayloadCache::Charge(*Ev(payload)));
    } else if (op < 98) {
      ASSERT_EQ(cache.Lookup(key) != nullptr, model.Lookup(key))
          << "step " << step;
    } else {
      const uint64_t capacity = (rng() % 400) * unit;
      cache.SetCapacity(capacity);
      model.SetCapacity(capacity);
    }
    ASSERT_EQ(cache.bytes(), model.bytes()) << "step " << step;
    ASSERT_EQ(cache.entries(), model.size()) << "step " << step;
    ASSERT_LE(cache.bytes(), cache.capacity());
  }
}

}  // namespace
}  // namespace acpstore::engine
