// Unit tests: shared SSE frames (sse_frame_cache.h).

#include "server/sse_frame_cache.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "server/sse_frames.h"

namespace acpstore::server {
namespace {

std::shared_ptr<const Event> Shared(Event e) {
  return std::make_shared<const Event>(std::move(e));
}

Event MakeEvent(std::string session, EventSeq seq, std::string payload) {
  Event e;
  e.session_id = std::move(session);
  e.tenant_id = "t";
  e.owner_key_id = "k";
  e.seq = seq;
  e.event_type = "tool.started";
  e.occurred_at = 1700000000000 + static_cast<TimestampMs>(seq);
  e.ingested_at = e.occurred_at + 1;
  e.payload = std::move(payload);
  return e;
}

std::string Direct(const Event& e) {
  std::string out;
  SseFrames::AppendEvent(e, &out);
  return out;
}

// What a stream does with a frame, as a string: appends Frame()'s bytes
// to *out and tells whether they came from the cache.
bool AppendFrame(SseFrameCache& cache, const std::shared_ptr<const Event>& event,
                 std::string* out) {
  bool from_cache = false;
  out->append(*cache.Frame(event, &from_cache));
  return from_cache;
}

TEST(SseFrameCache, SecondStreamGetsTheSameBytesFromTheCache) {
  SseFrameCache cache;
  const Event e = MakeEvent("s", 7, R"({"tool":"bash"})");
  const auto shared = Shared(e);
  std::string a = "prefix";
  std::string b;
  std::string c;
  EXPECT_FALSE(AppendFrame(cache, shared, &a));
  EXPECT_TRUE(AppendFrame(cache, shared, &b));
  // An equal event in another object (read again by the engine) hits too.
  EXPECT_TRUE(AppendFrame(cache, Shared(e), &c));
  EXPECT_EQ(a, "prefix" + Direct(e));
  EXPECT_EQ(b, Direct(e));
  EXPECT_EQ(c, Direct(e));
  EXPECT_GT(cache.bytes(), Direct(e).size());
}

// A session deleted and created again under the same id starts its seqs
// over; the cache must not serve the old event's frame.
TEST(SseFrameCache, AnotherEventWithTheSameSessionAndSeqIsAMiss) {
  SseFrameCache cache;
  const Event old_event = MakeEvent("s", 1, R"({"n":1})");
  Event new_event = old_event;
  new_event.payload = R"({"n":2})";
  std::string out;
  EXPECT_FALSE(AppendFrame(cache, Shared(old_event), &out));
  out.clear();
  EXPECT_FALSE(AppendFrame(cache, Shared(new_event), &out));
  EXPECT_EQ(out, Direct(new_event));

  Event other_tenant = new_event;
  other_tenant.tenant_id = "t2";
  out.clear();
  EXPECT_FALSE(AppendFrame(cache, Shared(other_tenant), &out));
  EXPECT_EQ(out, Direct(other_tenant));
}

TEST(SseFrameCache, LargeFramesAreNotKept) {
  SseFrameCache cache(SseFrameCacheOptions{.slots = 16, .max_frame_bytes = 100});
  const Event e = MakeEvent("s", 1, "\"" + std::string(200, 'x') + "\"");
  const auto shared = Shared(e);
  std::string out;
  EXPECT_FALSE(AppendFrame(cache, shared, &out));
  EXPECT_FALSE(AppendFrame(cache, shared, &out));
  EXPECT_EQ(out, Direct(e) + Direct(e));
  EXPECT_EQ(cache.bytes(), 0u);
}

// A full cache stays within its cap and still takes the newest frames:
// older entries make room.
TEST(SseFrameCache, FullCacheStaysUnderTheCapAndKeepsTheNewest) {
  const size_t cap = 64 * 1024;  // 4 KiB per shard: a few entries each
  SseFrameCache cache(SseFrameCacheOptions{
      .slots = 256, .max_frame_bytes = 4096, .max_total_bytes = cap});
  for (EventSeq seq = 1; seq <= 2000; ++seq) {
    const auto e = Shared(MakeEvent("s", seq, "\"" + std::string(300, 'p') + "\""));
    std::string out;
    ASSERT_FALSE(AppendFrame(cache, e, &out)) << seq;
    ASSERT_EQ(out, Direct(*e));
    ASSERT_LE(cache.bytes(), cap);
    // The stream after it gets the frame from the cache.
    out.clear();
    ASSERT_TRUE(AppendFrame(cache, e, &out)) << seq;
    ASSERT_EQ(out, Direct(*e));
  }
  EXPECT_GT(cache.bytes(), cap / 2);
}

// Frame() hands every stream the one shared object (nothing copied), and
// a frame a stream still holds stays valid after the cache evicted it.
TEST(SseFrameCache, FrameIsSharedAndOutlivesItsEviction) {
  const size_t cap = 64 * 1024;  // 4 KiB per shard: a few entries each
  SseFrameCache cache(SseFrameCacheOptions{
      .slots = 256, .max_frame_bytes = 1024, .max_total_bytes = cap});
  const auto e = Shared(MakeEvent("s", 1, "\"" + std::string(300, 'p') + "\""));
  bool from_cache = true;
  const std::shared_ptr<const std::string> first = cache.Frame(e, &from_cache);
  EXPECT_FALSE(from_cache);
  std::shared_ptr<const std::string> second = cache.Frame(e, &from_cache);
  EXPECT_TRUE(from_cache);
  EXPECT_EQ(first.get(), second.get());
  EXPECT_EQ(*first, Direct(*e));
  second.reset();
  // Evict it: many more frames than a shard holds.
  for (EventSeq seq = 2; seq <= 2000; ++seq) {
    (void)cache.Frame(Shared(MakeEvent("s", seq, "\"" + std::string(300, 'q') + "\"")),
                      &from_cache);
    ASSERT_LE(cache.bytes(), cap);
  }
  EXPECT_EQ(first.use_count(), 1);  // the cache let it go; we still hold it
  EXPECT_EQ(*first, Direct(*e));
  // Too large to keep: built, handed out, not cached.
  const auto big = Shared(MakeEvent("s", 999, "\"" + std::string(2000, 'x') + "\""));
  const auto big_frame = cache.Frame(big, &from_cache);
  EXPECT_FALSE(from_cache);
  EXPECT_EQ(*big_frame, Direct(*big));
  EXPECT_FALSE(cache.Frame(big, &from_cache) == big_frame);
}

// Many streams on two sessions, as the I/O threads would: every frame is
// the one SseFrames builds, and most are shared.
TEST(SseFrameCache, ConcurrentStreamsGetCorrectFrames) {
  SseFrameCache cache;
  std::vector<std::shared_ptr<const Event>> events;
  for (EventSeq seq = 1; seq <= 200; ++seq) {
    events.push_back(Shared(MakeEvent(seq % 2 ? "a" : "b", seq,
                                      R"({"i":)" + std::to_string(seq) + "}")));
  }
  std::vector<std::thread> streams;
  std::vector<int> wrong(8, 0);
  std::vector<size_t> hits(8, 0);
  for (int t = 0; t < 8; ++t) {
    streams.emplace_back([&, t] {
      for (const auto& e : events) {
        std::string out;
        if (AppendFrame(cache, e, &out)) ++hits[t];
        if (out != Direct(*e)) ++wrong[t];
      }
    });
  }
  for (std::thread& s : streams) s.join();
  for (int w : wrong) EXPECT_EQ(w, 0);
  size_t total_hits = 0;
  for (size_t h : hits) total_hits += h;
  EXPECT_GE(total_hits, 7u * events.size() / 2);
}

}  // namespace
}  // namespace acpstore::server
