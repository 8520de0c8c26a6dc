// U64Map against std::unordered_map as the reference: random operations
// over key sets shaped like the payload cache's (consecutive offsets in a
// few segments), keys that crowd one run of slots, and the empty slot's
// marker used as a key.

#include "base/u64_map.h"

#include <gtest/gtest.h>

#include <random>
#include <unordered_map>
#include <vector>

namespace acpstore::base {
namespace {

// Checks every key of `reference` and a few absent ones.
void ExpectSame(U64Map<uint64_t>& map,
                const std::unordered_map<uint64_t, uint64_t>& reference,
                std::mt19937_64& rng) {
  ASSERT_EQ(map.size(), reference.size());
  for (const auto& [key, value] : reference) {
    uint64_t* found = map.Find(key);
    ASSERT_NE(found, nullptr) << key;
    EXPECT_EQ(*found, value) << key;
  }
  for (int i = 0; i < 64; ++i) {
    const uint64_t key = rng();
    if (reference.count(key) == 0) {
      EXPECT_EQ(map.Find(key), nullptr) << key;
    }
  }
}

TEST(U64MapTest, AgreesWithUnorderedMapUnderRandomOperations) {
  std::mt19937_64 rng(20261206);
  U64Map<uint64_t> map;
  std::unordered_map<uint64_t, uint64_t> reference;
  // Keys as the payload cache makes them: segment << 32 | offset, offsets
  // growing by a record's size, plus a few arbitrary keys and ~0.
  auto pick_key = [&]() -> uint64_t {
    switch (rng() % 8) {
      case 0:
        return rng();
      case 1:
        return ~uint64_t{0};
      default:
        return (((rng() % 4) + 1) << 32) | ((rng() % 5000) * 2608);
    }
  };
  for (int step = 0; step < 200000; ++step) {
    const uint64_t key = pick_key();
    switch (rng() % 3) {
      case 0: {
        const uint64_t value = rng();
        auto [slot, inserted] = map.TryEmplace(key, value);
        auto [it, ref_inserted] = reference.try_emplace(key, value);
        ASSERT_EQ(inserted, ref_inserted) << key;
        ASSERT_EQ(*slot, it->second) << key;
        *slot = it->second = value;  // overwrite both through the pointer
        break;
      }
      case 1:
        ASSERT_EQ(map.Erase(key), reference.erase(key) == 1) << key;
        break;
      default: {
        uint64_t* found = map.Find(key);
        auto it = reference.find(key);
        ASSERT_EQ(found != nullptr, it != reference.end()) << key;
        if (found != nullptr) {
          ASSERT_EQ(*found, it->second);
        }
      }
    }
    if (step % 20000 == 0) ExpectSame(map, reference, rng);
  }
  ExpectSame(map, reference, rng);
  map.Clear();
  EXPECT_EQ(map.size(), 0u);
  EXPECT_EQ(map.capacity(), 0u);
  EXPECT_EQ(map.Find(reference.begin()->first), nullptr);
}

// Keys that all hash near one another form one long run; erasing any of
// them must leave every other key findable (the backward shift), also
// when the run wraps from the table's last slot to its first.
TEST(U64MapTest, ErasingAnyKeyOfARunKeepsTheRestFindable) {
  // Keys sharing a home slot in a 64-slot table (24 entries make one),
  // found by search: slot 5, and slot 63, whose run wraps around to 0.
  auto home = [](uint64_t key) { return (key * 0x9E3779B97F4A7C15ull) >> 58; };
  for (uint64_t target_home : {uint64_t{5}, uint64_t{63}}) {
    std::vector<uint64_t> crowd;
    for (uint64_t k = 1000; crowd.size() < 12; ++k) {
      if (home(k) == target_home) crowd.push_back(k);
    }
    for (size_t victim = 0; victim < crowd.size(); ++victim) {
      U64Map<uint64_t> map;
      // 12 crowded keys and 12 others: 24 entries, 64 slots.
      for (uint64_t k : crowd) map.TryEmplace(k, k * 3);
      for (uint64_t k = 0; k < 12; ++k) map.TryEmplace(k, k * 3);
      ASSERT_EQ(map.capacity(), 64u);
      ASSERT_TRUE(map.Erase(crowd[victim]));
      EXPECT_FALSE(map.Erase(crowd[victim]));
      EXPECT_EQ(map.Find(crowd[victim]), nullptr);
      for (size_t i = 0; i < crowd.size(); ++i) {
        if (i == victim) continue;
        uint64_t* v = map.Find(crowd[i]);
        ASSERT_NE(v, nullptr) << "home " << target_home << " victim "
                              << victim << " key " << i;
        EXPECT_EQ(*v, crowd[i] * 3);
      }
      for (uint64_t k = 0; k < 12; ++k) {
        ASSERT_NE(map.Find(k), nullptr);
        EXPECT_EQ(*map.Find(k), k * 3);
      }
      EXPECT_EQ(map.size(), 23u);
    }
  }
}

// A table of 16-32 slots churned by random inserts and erases: its runs
// cross the end of the table all the time, which a large table seldom
// does. Every key is checked after every step.
TEST(U64MapTest, ASmallTableChurnedAtRandomLosesNothing) {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 500; ++round) {
    U64Map<uint64_t> map;
    std::unordered_map<uint64_t, uint64_t> reference;
    std::vector<uint64_t> keys;
    for (int i = 0; i < 12; ++i) keys.push_back(rng());
    for (int step = 0; step < 200; ++step) {
      const uint64_t key = keys[rng() % keys.size()];
      if (rng() % 2 == 0) {
        map.TryEmplace(key, step);
        reference.try_emplace(key, step);
      } else {
        ASSERT_EQ(map.Erase(key), reference.erase(key) == 1);
      }
      ASSERT_LE(map.capacity(), 32u);
      for (uint64_t k : keys) {
        uint64_t* v = map.Find(k);
        auto it = reference.find(k);
        ASSERT_EQ(v != nullptr, it != reference.end())
            << "round " << round << " step " << step;
        if (v != nullptr) {
          ASSERT_EQ(*v, it->second);
        }
      }
    }
  }
}

TEST(U64MapTest, ASparseTableShrinksAndKeepsItsKeys) {
  U64Map<uint64_t> map;
  for (uint64_t k = 0; k < 1000; ++k) map.TryEmplace(k * 7919, k);
  ASSERT_EQ(map.capacity(), 2048u);
  map.ShrinkIfSparse();  // half full: nothing to give back
  EXPECT_EQ(map.capacity(), 2048u);
  for (uint64_t k = 0; k < 1000; ++k) {
    if (k % 10 != 0) map.Erase(k * 7919);
  }
  ASSERT_EQ(map.size(), 100u);
  map.ShrinkIfSparse();  // 100 of 2048: down to 256, at most half full
  EXPECT_EQ(map.capacity(), 256u);
  for (uint64_t k = 0; k < 1000; ++k) {
    uint64_t* v = map.Find(k * 7919);
    if (k % 10 == 0) {
      ASSERT_NE(v, nullptr) << k;
      EXPECT_EQ(*v, k);
    } else {
      EXPECT_EQ(v, nullptr) << k;
    }
  }
  map.ShrinkIfSparse();  // 100 of 256: not sparse enough to rebuild
  EXPECT_EQ(map.capacity(), 256u);
}

TEST(U64MapTest, TheEmptyMarkerIsAKeyLikeAnyOther) {
  U64Map<int> map;
  const uint64_t max = ~uint64_t{0};
  EXPECT_EQ(map.Find(max), nullptr);
  EXPECT_FALSE(map.Erase(max));
  EXPECT_TRUE(map.TryEmplace(max, 7).second);
  EXPECT_FALSE(map.TryEmplace(max, 8).second);
  EXPECT_EQ(*map.Find(max), 7);
  EXPECT_EQ(map.size(), 1u);
  EXPECT_EQ(map.capacity(), 0u);  // kept beside the table
  EXPECT_TRUE(map.Erase(max));
  EXPECT_EQ(map.Find(max), nullptr);
  EXPECT_TRUE(map.empty());
}

TEST(U64MapTest, GrowsToStayAtMostHalfFull) {
  U64Map<int> map;
  for (uint64_t k = 0; k < 1000; ++k) {
    map.TryEmplace(k << 32, 1);
    EXPECT_LE(map.size() * 2, map.capacity());
  }
  EXPECT_EQ(map.capacity(), 2048u);
  for (uint64_t k = 0; k < 1000; ++k) ASSERT_NE(map.Find(k << 32), nullptr);
}

}  // namespace
}  // namespace acpstore::base
