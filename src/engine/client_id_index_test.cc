// Tests for ClientIdIndex and its keyed hash: SipHash reference vectors,
// stable tags, several seqs under one tag, stale entries, the sweep, a
// randomized comparison with a plain multimap, and the memory bound.

#include "engine/client_id_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "engine/client_id_index_test_util.h"
#include "engine/file_event_log.h"

namespace acpstore::engine {
namespace {

std::vector<EventSeq> Candidates(const ClientIdIndex& index, uint32_t tag,
                                 EventSeq first_retained) {
  std::vector<EventSeq> out;
  index.ForEachCandidate(tag, first_retained, [&](EventSeq seq) {
    out.push_back(seq);
    return true;
  });
  std::sort(out.begin(), out.end());
  return out;
}

// Key bytes 00 01 .. 0f, as in the SipHash paper's test vectors.
const ClientIdKey kReferenceKey{0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull};

TEST(ClientIdHashTest, SipHashMatchesTheReferenceVectors) {
  EXPECT_EQ(SipHash24(kReferenceKey, ""), 0x726fdb47dd0e0e31ull);
  std::string fifteen;
  for (int i = 0; i < 15; ++i) fifteen.push_back(static_cast<char>(i));
  EXPECT_EQ(SipHash24(kReferenceKey, fifteen), 0xa129ca6149be45e5ull);
}

TEST(ClientIdHashTest, TagsAreStableAndDependOnTheKey) {
  // Snapshots store tags: these values must never change.
  EXPECT_EQ(ClientIdTag(ClientIdKey{1, 2}, "retry-1"), 0x47b3e05au);
  EXPECT_NE(ClientIdTag(ClientIdKey{1, 2}, "retry-1"),
            ClientIdTag(ClientIdKey{1, 3}, "retry-1"));
  EXPECT_NE(ClientIdKey::Random(), ClientIdKey::Random());
}

TEST(ClientIdHashTest, CollidingIdsAreFoundAndDistinct) {
  const ClientIdKey key{1, 2};
  auto [a, b] = CollidingClientIds(key);
  EXPECT_NE(a, b);
  EXPECT_EQ(ClientIdTag(key, a), ClientIdTag(key, b));
}

TEST(ClientIdIndexTest, EmptyIndexHoldsNoMemoryAndFindsNothing) {
  ClientIdIndex index;
  EXPECT_EQ(index.memory_bytes(), 0u);
  EXPECT_TRUE(Candidates(index, 7, 1).empty());
}

TEST(ClientIdIndexTest, SeveralSeqsUnderOneTagAreAllCandidates) {
  ClientIdIndex index;
  index.Insert(7, 1, 1);
  index.Insert(9, 2, 1);
  index.Insert(7, 3, 1);
  index.Insert(7, 4, 1);
  EXPECT_EQ(Candidates(index, 7, 1), (std::vector<EventSeq>{1, 3, 4}));
  EXPECT_EQ(Candidates(index, 9, 1), (std::vector<EventSeq>{2}));
  EXPECT_TRUE(Candidates(index, 8, 1).empty());
}

TEST(ClientIdIndexTest, StaleEntriesAreNeverCandidates) {
  ClientIdIndex index;
  index.Insert(7, 1, 1);
  index.Insert(7, 2, 1);
  EXPECT_EQ(Candidates(index, 7, 2), (std::vector<EventSeq>{2}));
  EXPECT_TRUE(Candidates(index, 7, 3).empty());
  // An event already dropped when inserted is not kept.
  index.Insert(5, 2, 3);
  EXPECT_TRUE(Candidates(index, 5, 1).empty());
}

TEST(ClientIdIndexTest, SweepFreesEntriesOfDroppedEvents) {
  ClientIdIndex index;
  for (EventSeq seq = 1; seq <= 1000; ++seq) index.Insert(seq * 7919, seq, 1);
  const size_t full = index.memory_bytes();
  index.Sweep(2);  // one stale entry: not worth a rebuild
  EXPECT_EQ(index.size(), 1000u);
  index.Sweep(901);
  EXPECT_EQ(index.size(), 100u);
  EXPECT_LT(index.memory_bytes(), full / 4);
  EXPECT_EQ(Candidates(index, 950 * 7919, 901), (std::vector<EventSeq>{950}));
  index.Sweep(1001);
  EXPECT_EQ(index.size(), 0u);
  EXPECT_EQ(index.memory_bytes(), 0u);
}

TEST(ClientIdIndexTest, SeqsMoreThan4GiBApartKeepTheNewestWindow) {
  ClientIdIndex index;
  index.Insert(7, 1, 1);
  const EventSeq far = (EventSeq{1} << 32) + 5;
  index.Insert(7, far, 1);
  EXPECT_EQ(Candidates(index, 7, 1), (std::vector<EventSeq>{far}));
}

// Random inserts over a few tags (so collisions are common), moving
// first_retained forward and sweeping, checked against a multimap.
TEST(ClientIdIndexTest, AgreesWithAMultimapUnderRandomOps) {
  std::mt19937_64 rng(42);
  ClientIdIndex index;
  std::multimap<uint32_t, EventSeq> reference;
  EventSeq next = 1, first = 1;
  for (int step = 0; step < 20000; ++step) {
    if (rng() % 4 != 0) {
      const uint32_t tag = static_cast<uint32_t>(rng() % 64) * 0x9e3779b9u;
      if (rng() % 3 != 0) {
        index.Insert(tag, next, first);
        reference.emplace(tag, next);
      }
      ++next;
    } else {
      first = std::min<EventSeq>(next, first + rng() % 40);
      index.Sweep(first);
    }
    if (step % 97 == 0) {
      for (uint32_t t = 0; t < 64; ++t) {
        const uint32_t tag = t * 0x9e3779b9u;
        std::vector<EventSeq> want;
        auto [lo, hi] = reference.equal_range(tag);
        for (auto it = lo; it != hi; ++it) {
          if (it->second >= first) want.push_back(it->second);
        }
        std::sort(want.begin(), want.end());
        ASSERT_EQ(Candidates(index, tag, first), want) << "step " << step;
      }
    }
  }
}

// SPEC §4: at most 32 bytes per retained event. The file engine's event
// index takes 16; this index must take at most 16 per entry on top.
TEST(ClientIdIndexTest, MemoryPerEntryStaysWithin16Bytes) {
  static_assert(sizeof(ClientIdIndex::Slot) == 8);
  static_assert(sizeof(IndexEntry) + 2 * sizeof(ClientIdIndex::Slot) <= 32);
  // A constant per session: the smallest table.
  constexpr size_t kPerSession = 64;
  ClientIdIndex index;
  size_t worst_permille = 0;
  for (EventSeq seq = 1; seq <= 200000; ++seq) {
    index.Insert(static_cast<uint32_t>(seq * 2654435761u), seq, 1);
    ASSERT_LE(index.memory_bytes(), 16 * index.size() + kPerSession)
        << "after " << seq << " entries";
    if (seq >= 1000) {
      worst_permille =
          std::max(worst_permille, index.memory_bytes() * 1000 / index.size());
    }
  }
  // A sliding window (a capped session: one in, one dropped) keeps the
  // bound per retained entry, stale ones included.
  EventSeq first = 1;
  for (EventSeq seq = 200001; seq <= 600000; ++seq) {
    index.Insert(static_cast<uint32_t>(seq * 2654435761u), seq, first);
    first = seq - 200000 + 1;
    index.Sweep(first);
    ASSERT_LE(index.memory_bytes(), 16 * 200000 + kPerSession)
        << "at seq " << seq;
  }
  std::printf("worst bytes per entry (>= 1000 entries): %zu.%03zu\n",
              worst_permille / 1000, worst_permille % 1000);
}

}  // namespace
}  // namespace acpstore::engine
