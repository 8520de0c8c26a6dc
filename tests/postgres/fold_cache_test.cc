// FoldCache (src/postgres/pg_fold_cache.h, decision 0029) on its own, no
// database: a checkpoint gets an entry only when it is exactly what the
// session's row says the database holds (incarnation, folded_seq, and
// runs of this server's committed appends covering everything after it up
// to last_seq); batches reporting out of order are put in order, gaps and
// a new incarnation never let a partial tail through; past its byte bound
// the least recently used entries go.

#include "postgres/pg_fold_cache.h"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <string>
#include <vector>

namespace acpstore::postgres {
namespace {

// A run of `session`'s appends: seqs [first, last], every one of a folded
// type with a payload of `payload_bytes` bytes.
AppendedRun Appends(const std::string& session, EventSeq first, EventSeq last,
                uint64_t incarnation = 1, size_t payload_bytes = 10) {
  AppendedRun r{.tenant_id = "t",
                .session_id = session,
                .incarnation = incarnation,
                .first_seq = first,
                .last_seq = last,
                .events = {}};
  for (EventSeq s = first; s <= last; ++s) {
    r.events.push_back(FoldEvent{.seq = s,
                                 .event_type = "message.delta",
                                 .occurred_at = 1,
                                 .payload = std::string(payload_bytes, 'x')});
  }
  return r;
}

StoredCheckpoint Stored(const std::string& head) {
  StoredCheckpoint s;
  s.has_head = true;
  s.head = head;
  return s;
}

std::vector<EventSeq> Seqs(const std::vector<FoldEvent>& events) {
  std::vector<EventSeq> out;
  for (const FoldEvent& e : events) out.push_back(e.seq);
  return out;
}

TEST(FoldCacheTest, ACheckpointTakesTheFoldAndTheEventsAfterIt) {
  FoldCache cache(1 << 20);
  cache.Appended({Appends("s", 1, 4)});
  // Every event since seq 1 appended here: no fold needed (no head row).
  std::optional<FoldCache::Hot> fresh = cache.Take("t", "s", 1, 0, 1, 4);
  ASSERT_TRUE(fresh);
  EXPECT_FALSE(fresh->stored.has_head);
  EXPECT_EQ(Seqs(fresh->tail), (std::vector<EventSeq>{1, 2, 3, 4}));
  cache.Checkpointed("t", "s", 1, 4, Stored("h4"));
  cache.Appended({Appends("s", 5, 6)});
  cache.Appended({Appends("s", 7, 9)});
  std::optional<FoldCache::Hot> hot = cache.Take("t", "s", 1, 4, 1, 9);
  ASSERT_TRUE(hot);
  EXPECT_EQ(hot->stored.head, "h4");
  EXPECT_EQ(Seqs(hot->tail), (std::vector<EventSeq>{5, 6, 7, 8, 9}));
  // Taken: until the checkpoint's result is put back, nothing to take.
  EXPECT_FALSE(cache.Take("t", "s", 1, 4, 1, 9));
  cache.Checkpointed("t", "s", 1, 9, Stored("h9"));
  cache.Appended({Appends("s", 10, 10)});
  hot = cache.Take("t", "s", 1, 9, 1, 10);
  ASSERT_TRUE(hot);
  EXPECT_EQ(hot->stored.head, "h9");
  EXPECT_EQ(Seqs(hot->tail), (std::vector<EventSeq>{10}));
  EXPECT_EQ(cache.hits(), 3u);
  EXPECT_EQ(cache.misses(), 1u);
}

TEST(FoldCacheTest, AnythingButExactlyTheRowsStateReadsTheDatabase) {
  FoldCache cache(1 << 20);
  cache.Checkpointed("t", "s", 1, 4, Stored("h4"));
  cache.Appended({Appends("s", 5, 8)});
  EXPECT_FALSE(cache.Take("t", "s", 2, 4, 1, 8));  // another incarnation
  EXPECT_FALSE(cache.Take("t", "s", 1, 6, 1, 8));  // checkpointed elsewhere
  EXPECT_FALSE(cache.Take("t", "s", 1, 4, 1, 9));  // another server appended 9
  EXPECT_FALSE(cache.Take("t", "s", 1, 4, 1, 7));  // the row is behind the log
  EXPECT_TRUE(cache.Take("t", "s", 1, 4, 1, 8));
}

// Appends of skipped types while nothing is unfolded move the row's
// folded_seq past the fold without touching the tables: still the fold,
// unless one of those events is gone.
TEST(FoldCacheTest, SkippedEventsPastTheFoldStillLetItServe) {
  FoldCache cache(1 << 20);
  cache.Checkpointed("t", "s", 1, 4, Stored("h4"));
  AppendedRun skipped = Appends("s", 5, 6);
  skipped.events.clear();  // of types the fold skips
  cache.Appended({skipped});
  cache.Appended({Appends("s", 7, 8)});
  EXPECT_FALSE(cache.Take("t", "s", 1, 6, 6, 8));  // 5 was dropped
  std::optional<FoldCache::Hot> hot = cache.Take("t", "s", 1, 6, 1, 8);
  ASSERT_TRUE(hot);
  EXPECT_EQ(hot->stored.head, "h4");
  EXPECT_EQ(Seqs(hot->tail), (std::vector<EventSeq>{7, 8}));
}

TEST(FoldCacheTest, AGapInTheLogIsNeverFoldedOver) {
  FoldCache cache(1 << 20);
  cache.Checkpointed("t", "s", 1, 4, Stored("h4"));
  cache.Appended({Appends("s", 5, 6)});
  // Seq 7 was appended by another server (or a batch whose COMMIT's
  // outcome was unknown): the log restarts at 8.
  cache.Appended({Appends("s", 8, 9)});
  EXPECT_FALSE(cache.Take("t", "s", 1, 4, 1, 9));
  // The next checkpoint (a database read) folds through 9: the log after
  // it serves again.
  cache.Checkpointed("t", "s", 1, 9, Stored("h9"));
  cache.Appended({Appends("s", 10, 11)});
  std::optional<FoldCache::Hot> hot = cache.Take("t", "s", 1, 9, 1, 11);
  ASSERT_TRUE(hot);
  EXPECT_EQ(Seqs(hot->tail), (std::vector<EventSeq>{10, 11}));
}

TEST(FoldCacheTest, BatchesReportingOutOfOrderAreFoldedInOrder) {
  FoldCache cache(1 << 20);
  cache.Checkpointed("t", "s", 1, 4, Stored("h4"));
  // Batch 7..8 reports before batch 5..6, which committed first.
  cache.Appended({Appends("s", 7, 8)});
  cache.Appended({Appends("s", 5, 6)});
  std::optional<FoldCache::Hot> in_order = cache.Take("t", "s", 1, 4, 1, 8);
  ASSERT_TRUE(in_order);
  EXPECT_EQ(Seqs(in_order->tail), (std::vector<EventSeq>{5, 6, 7, 8}));
  // A checkpoint that read through 8 reports before the batch of 5..8
  // does: the late batch is behind the fold and changes nothing.
  cache.Checkpointed("t", "s", 1, 8, Stored("h8"));
  cache.Appended({Appends("s", 5, 8)});
  cache.Appended({Appends("s", 9, 9)});
  std::optional<FoldCache::Hot> hot = cache.Take("t", "s", 1, 8, 1, 9);
  ASSERT_TRUE(hot);
  EXPECT_EQ(Seqs(hot->tail), (std::vector<EventSeq>{9}));
}

TEST(FoldCacheTest, ANewIncarnationForgetsTheOldOne) {
  FoldCache cache(1 << 20);
  cache.Checkpointed("t", "s", 1, 4, Stored("old"));
  cache.Appended({Appends("s", 5, 6)});
  // Deleted and created again: its appends start at 1 again.
  cache.Appended({Appends("s", 1, 6, /*incarnation=*/2)});
  EXPECT_FALSE(cache.Take("t", "s", 1, 4, 1, 6));
  EXPECT_FALSE(cache.Take("t", "s", 2, 4, 1, 6));
  cache.Checkpointed("t", "s", 2, 6, Stored("new"));
  cache.Appended({Appends("s", 7, 7, 2)});
  std::optional<FoldCache::Hot> hot = cache.Take("t", "s", 2, 6, 1, 7);
  ASSERT_TRUE(hot);
  EXPECT_EQ(hot->stored.head, "new");
}

TEST(FoldCacheTest, PastItsBoundTheLeastRecentlyUsedGo) {
  // Each entry: a fold and 10 events of 1,000 bytes, over 10 KB; room for
  // about three.
  FoldCache cache(40 << 10);
  for (int s = 0; s < 8; ++s) {
    const std::string id = "s" + std::to_string(s);
    cache.Checkpointed("t", id, 1, 0, Stored("h"));
    cache.Appended({Appends(id, 1, 10, 1, 1000)});
    EXPECT_LE(cache.bytes(), uint64_t{40} << 10);
  }
  EXPECT_LT(cache.size(), 8u);
  EXPECT_GE(cache.size(), 2u);
  // The oldest went; the newest are whole.
  EXPECT_FALSE(cache.Take("t", "s0", 1, 0, 1, 10));
  std::optional<FoldCache::Hot> hot = cache.Take("t", "s7", 1, 0, 1, 10);
  ASSERT_TRUE(hot);
  EXPECT_EQ(hot->tail.size(), 10u);
  // An entry larger than the whole bound is not kept.
  cache.Appended({Appends("big", 1, 1, 1, 64 << 10)});
  EXPECT_LE(cache.bytes(), uint64_t{40} << 10);
}

// The byte count is kept as runs come, are pruned and taken, never
// recounted: after any sequence it is what a cache holding only what is
// left counts.
TEST(FoldCacheTest, TheByteCountFollowsWhatIsLeft) {
  FoldCache a(1 << 20), b(1 << 20);
  a.Checkpointed("t", "s", 1, 0, Stored("h0"));
  a.Appended({Appends("s", 1, 5, 1, 100)});
  a.Appended({Appends("s", 6, 10, 1, 100)});
  EXPECT_GT(a.bytes(), uint64_t{10} * 100);
  // A checkpoint read at 7 (another boundary): [1, 5] goes, [6, 10]
  // keeps 8..10.
  a.Checkpointed("t", "s", 1, 7, Stored("h7"));
  b.Checkpointed("t", "s", 1, 7, Stored("h7"));
  b.Appended({Appends("s", 8, 10, 1, 100)});
  EXPECT_EQ(a.bytes(), b.bytes());
  // Taken: only the entry itself is left, in both.
  const uint64_t before = a.bytes();
  ASSERT_TRUE(a.Take("t", "s", 1, 7, 1, 10));
  ASSERT_TRUE(b.Take("t", "s", 1, 7, 1, 10));
  EXPECT_EQ(a.bytes(), b.bytes());
  EXPECT_LT(a.bytes(), before - 3 * 100);
  // A log past its length bound is dropped, its bytes with it.
  a.Checkpointed("t", "s", 1, 10, Stored("h10"));
  b.Checkpointed("t", "s", 1, 10, Stored("h10"));
  a.Appended({Appends("s", 11, 10 + FoldCache::kMaxLogEvents + 1, 1, 1)});
  EXPECT_EQ(a.bytes(), b.bytes());
}

TEST(FoldCacheTest, ALogPastItsLengthBoundIsDropped) {
  FoldCache cache(uint64_t{1} << 30);
  cache.Checkpointed("t", "s", 1, 0, Stored("h"));
  cache.Appended({Appends("s", 1, FoldCache::kMaxLogEvents + 1, 1, 1)});
  EXPECT_FALSE(cache.Take("t", "s", 1, 0, 1, FoldCache::kMaxLogEvents + 1));
}

// A checkpoint whose row counts a batch that committed but has not
// reported yet (in flight) waits for its report; one that was abandoned
// (rolled back, outcome unknown) makes it read the database. The wait is
// long here (10 s) so that the test does not depend on scheduling: the
// report ends it.
TEST(FoldCacheTest, ACheckpointWaitsForARunInFlightAndReadsIfItIsAbandoned) {
  FoldCache cache(1 << 20, std::chrono::seconds(10));
  cache.Checkpointed("t", "s", 1, 4, Stored("h4"));
  cache.Appended({Appends("s", 5, 6)});
  cache.Committing({Appends("s", 7, 8)});
  // A run in flight after the row's last_seq is not waited for.
  EXPECT_TRUE(cache.Take("t", "s", 1, 4, 1, 6));
  cache.Checkpointed("t", "s", 1, 6, Stored("h6"));
  auto taken = std::async(std::launch::async,
                          [&] { return cache.Take("t", "s", 1, 6, 1, 8); });
  cache.Appended({Appends("s", 7, 8)});
  std::optional<FoldCache::Hot> hot = taken.get();
  ASSERT_TRUE(hot);
  EXPECT_EQ(Seqs(hot->tail), (std::vector<EventSeq>{7, 8}));
  cache.Checkpointed("t", "s", 1, 8, Stored("h8"));
  cache.Committing({Appends("s", 9, 9)});
  auto missed = std::async(std::launch::async,
                           [&] { return cache.Take("t", "s", 1, 8, 1, 9); });
  cache.Abandoned({Appends("s", 9, 9)});
  EXPECT_FALSE(missed.get());
}

}  // namespace
}  // namespace acpstore::postgres
