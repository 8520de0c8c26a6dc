// PayloadCache: LRU eviction by bytes, capacity changes, oversize events.

#include "engine/payload_cache.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace acpstore::engine
