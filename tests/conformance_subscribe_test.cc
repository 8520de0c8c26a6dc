// Conformance scenarios for subscriptions (store.h Subscription, SPEC §5.2
// stream): replay then live with no gap and no duplicate, on_ready, the
// one-time truncated flag, and the end of a deleted session.

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store_conformance.h"

namespace acpstore::conformance {
namespace {

using ::testing::ElementsAre;

// Counts on_ready calls so a consumer can wait for the next one.
// Thread-safety: Callback() runs on store threads, the rest on the test's.
// Lifetime: must outlive every subscription given its callback.
class ReadySignal {
 public:
  std::function<void()> Callback() {
    return [this] {
      {
        std::lock_guard<std::mutex> lock(mu_);
        ++generation_;
      }
      cv_.notify_all();
    };
  }
  uint64_t generation() {
    std::lock_guard<std::mutex> lock(mu_);
    return generation_;
  }
  // True once on_ready has been called after generation `seen`.
  bool WaitPast(uint64_t seen,
                std::chrono::seconds timeout = std::chrono::seconds(10)) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return generation_ > seen; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t generation_ = 0;
};

std::vector<EventSeq> Seqs(const EventPage& page) {
  std::vector<EventSeq> seqs;
  for (const Event& e : page.events) seqs.push_back(e.seq);
  return seqs;
}

TEST_P(StoreConformance, SubscriptionReplaysFromItsCursor) {
  CreateSession("s-1");
  AppendN("s-1", 4);
  auto sub = Must(store().Subscribe(kAlice, "s-1", {.after = 1}));
  EXPECT_EQ(sub->cursor(), 1u);

  EventPage page = Must(sub->Next(2));
  EXPECT_THAT(Seqs(page), ElementsAre(2u, 3u));
  EXPECT_FALSE(page.truncated);
  EXPECT_EQ(sub->cursor(), 3u);
  EXPECT_THAT(Seqs(Must(sub->Next(100))), ElementsAre(4u));
  EXPECT_TRUE(Must(sub->Next(100)).events.empty());  // caught up
  EXPECT_EQ(sub->cursor(), 4u);
}

constexpr uint64_t kNoCap = ~uint64_t{0};

// NextShared is Next without copies: the same events, the same cursor,
// the same one-time truncation report; a second subscription's Next
// agrees with it field by field.
TEST_P(StoreConformance, SubscriptionNextSharedMatchesNext) {
  options().retention.max_events_per_session = 5;
  CreateSession("s-1");
  AppendN("s-1", 8);  // 1..3 dropped
  auto shared_sub = Must(store().Subscribe(kAlice, "s-1", {.after = 0}));
  auto copy_sub = Must(store().Subscribe(kAlice, "s-1", {.after = 0}));

  SharedEventPage first = Must(shared_sub->NextShared(2, kNoCap));
  EventPage reference = Must(copy_sub->Next(2));
  EXPECT_TRUE(first.truncated);
  EXPECT_EQ(first.first_seq, reference.first_seq);
  EXPECT_EQ(first.last_seq, reference.last_seq);
  ASSERT_EQ(first.events.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    ASSERT_NE(first.events[i], nullptr);
    EXPECT_EQ(first.events[i]->EventId(), reference.events[i].EventId());
    EXPECT_EQ(first.events[i]->payload, reference.events[i].payload);
    EXPECT_EQ(first.events[i]->ingested_at, reference.events[i].ingested_at);
  }
  EXPECT_EQ(shared_sub->cursor(), 5u);

  SharedEventPage rest = Must(shared_sub->NextShared(100, kNoCap));
  EXPECT_FALSE(rest.truncated);
  ASSERT_EQ(rest.events.size(), 3u);
  EXPECT_EQ(rest.events.back()->seq, 8u);
  EXPECT_TRUE(Must(shared_sub->NextShared(100, kNoCap)).events.empty());
  EXPECT_EQ(shared_sub->cursor(), 8u);
}

// A page of NextShared stops before its payloads pass max_bytes, with at
// least one event (the SSE stream asks for the room left in its buffer: a
// replay of large events read 256 of them at once, found by a probe). The
// cursor moves past exactly what was returned, so paging by bytes loses
// and repeats nothing.
TEST_P(StoreConformance, SubscriptionNextSharedStopsAtMaxBytes) {
  CreateSession("s-1");
  const std::string text(998, 'x');  // canonical payload: 1,000 bytes
  for (int i = 0; i < 6; ++i) {
    Append("s-1", {.event_type = "note", .payload = "\"" + text + "\""});
  }
  auto sub = Must(store().Subscribe(kAlice, "s-1", {.after = 0}));

  SharedEventPage two = Must(sub->NextShared(100, 2999));
  ASSERT_EQ(two.events.size(), 2u);
  EXPECT_EQ(two.events.back()->seq, 2u);
  EXPECT_EQ(sub->cursor(), 2u);
  SharedEventPage three = Must(sub->NextShared(100, 3000));
  ASSERT_EQ(three.events.size(), 3u);
  EXPECT_EQ(three.events.front()->seq, 3u);
  // A cap below one event's size still makes progress, one at a time.
  SharedEventPage one = Must(sub->NextShared(100, 1));
  ASSERT_EQ(one.events.size(), 1u);
  EXPECT_EQ(one.events.front()->seq, 6u);
  EXPECT_TRUE(Must(sub->NextShared(100, 1)).events.empty());
  EXPECT_EQ(sub->cursor(), 6u);
}

TEST_P(StoreConformance, SubscriptionCallsOnReadyForANewEvent) {
  CreateSession("s-1");
  ReadySignal ready;
  auto sub = Must(store().Subscribe(
      kAlice, "s-1", {.after = 0, .on_ready = ready.Callback()}));
  uint64_t seen = ready.generation();
  ASSERT_TRUE(Must(sub->Next(10)).events.empty());

  Append("s-1", {.event_type = "note", .payload = R"({"n":1})"});
  ASSERT_TRUE(ready.WaitPast(seen)) << "on_ready never fired";
  EventPage page = Must(sub->Next(10));
  ASSERT_EQ(page.events.size(), 1u);
  EXPECT_EQ(page.events[0].payload, R"({"n":1})");
  EXPECT_EQ(page.events[0].EventId(), "t1:alice:s-1:1");
}

// A writer thread appends while the test thread consumes: replay and live
// events together are exactly 2..kLast, in order, once each.
TEST_P(StoreConformance, SubscriptionSwitchesFromReplayToLiveWithoutGapOrDup) {
  constexpr EventSeq kLast = 203;
  CreateSession("s-1");
  AppendN("s-1", 3);
  ReadySignal ready;
  auto sub = Must(store().Subscribe(
      kAlice, "s-1", {.after = 1, .on_ready = ready.Callback()}));

  BlockingStore& store = db();
  std::jthread writer([&store] {
    for (EventSeq seq = 4; seq <= kLast; ++seq) {
      EXPECT_OK(
          store.Append(kAlice, "s-1",
                       {.event_type = "note", .payload = std::to_string(seq)}));
    }
  });

  std::vector<EventSeq> got;
  while (got.empty() || got.back() < kLast) {
    uint64_t seen = ready.generation();
    Result<EventPage> page = sub->Next(7);
    ASSERT_OK(page);
    EXPECT_LE(page->events.size(), 7u);
    for (const Event& e : page->events) {
      got.push_back(e.seq);
      std::string expected_payload =
          e.seq <= 3 ? "{\"i\":" + std::to_string(e.seq - 1) + "}"
                     : std::to_string(e.seq);
      EXPECT_EQ(e.payload, expected_payload);
    }
    if (page->events.empty()) {
      ASSERT_TRUE(ready.WaitPast(seen)) << "stalled after " << got.size();
    }
  }
  writer.join();

  std::vector<EventSeq> expected;
  for (EventSeq seq = 2; seq <= kLast; ++seq) expected.push_back(seq);
  EXPECT_EQ(got, expected);
  EXPECT_TRUE(Must(sub->Next(10)).events.empty());
}

TEST_P(StoreConformance, SubscriptionReportsTruncationOnce) {
  options().retention.max_events_per_session = 5;
  CreateSession("s-1");
  AppendN("s-1", 8);  // 1..3 dropped

  auto sub = Must(store().Subscribe(kAlice, "s-1", {.after = 0}));
  EventPage first = Must(sub->Next(2));
  EXPECT_TRUE(first.truncated);
  EXPECT_THAT(Seqs(first), ElementsAre(4u, 5u));
  EXPECT_EQ(first.first_seq, 4u);
  EventPage second = Must(sub->Next(10));
  EXPECT_FALSE(second.truncated);
  EXPECT_THAT(Seqs(second), ElementsAre(6u, 7u, 8u));

  // A resume point of firstSeq - 1 lost nothing.
  auto exact = Must(store().Subscribe(kAlice, "s-1", {.after = 3}));
  EventPage page = Must(exact->Next(10));
  EXPECT_FALSE(page.truncated);
  EXPECT_THAT(Seqs(page), ElementsAre(4u, 5u, 6u, 7u, 8u));
}

TEST_P(StoreConformance, SubscriptionOvertakenByRetentionIsTruncated) {
  options().retention.max_events_per_session = 5;
  CreateSession("s-1");
  AppendN("s-1", 2);
  auto sub = Must(store().Subscribe(kAlice, "s-1", {.after = 0}));
  AppendN("s-1", 6);  // 1..3 dropped before the first Next
  EventPage page = Must(sub->Next(100));
  EXPECT_TRUE(page.truncated);
  EXPECT_THAT(Seqs(page), ElementsAre(4u, 5u, 6u, 7u, 8u));
}

TEST_P(StoreConformance, SubscriptionEndsWhenItsSessionIsDeleted) {
  SessionIn(SessionStatus::kClosed, "s-1");
  AppendN("s-1", 3);
  auto replaying = Must(store().Subscribe(kAlice, "s-1", {.after = 0}));
  auto caught_up = Must(store().Subscribe(kAlice, "s-1", {.after = 3}));
  ASSERT_TRUE(Must(caught_up->Next(10)).events.empty());

  MustOk(db().DeleteSession(kAlice, "s-1"));

  EXPECT_THAT(replaying->Next(10), FailsWith(StatusCode::kNotFound));
  EXPECT_THAT(caught_up->Next(10), FailsWith(StatusCode::kNotFound));
}

TEST_P(StoreConformance, SubscribeOutsideScopeIsNotFound) {
  CreateSession("s-1", kAlice);
  EXPECT_THAT(store().Subscribe(kAlice, "nope", {}),
              FailsWith(StatusCode::kNotFound));
  EXPECT_THAT(store().Subscribe(kBob, "s-1", {}),
              FailsWith(StatusCode::kNotFound));
  EXPECT_THAT(store().Subscribe(kStranger, "s-1", {}),
              FailsWith(StatusCode::kNotFound));
  EXPECT_OK(store().Subscribe(kReader, "s-1", {}));  // reading is allowed
}

}  // namespace
}  // namespace acpstore::conformance
