// Conformance scenarios for batches, clientEventId dedupe, conditional
// appends (expectedLastSeq) and concurrent appenders (SPEC §2.2, §5.2).

#include <set>
#include <string>
#include <thread>
#include <vector>

#include "store_conformance.h"

namespace acpstore::conformance {
namespace {

using ::testing::ElementsAre;

NewEvent Note(std::string payload,
              std::optional<std::string> client_event_id = std::nullopt) {
  return {.event_type = "note",
          .payload = std::move(payload),
          .client_event_id = std::move(client_event_id)};
}

AppendRequest Batch(std::vector<NewEvent> events,
                    std::optional<EventSeq> expected_last_seq = std::nullopt) {
  AppendRequest req;
  req.events = std::move(events);
  req.expected_last_seq = expected_last_seq;
  return req;
}

std::vector<EventSeq> Seqs(const std::vector<Event>& events) {
  std::vector<EventSeq> seqs;
  for (const Event& e : events) seqs.push_back(e.seq);
  return seqs;
}

// ----------------------------------------------------------------- batches

TEST_P(StoreConformance, BatchAppendsInOrder) {
  CreateSession("s-1");
  AppendResult r = Must(db().AppendEvents(
      kAlice, "s-1", Batch({Note("\"a\""), Note("\"b\""), Note("\"c\"")})));
  EXPECT_THAT(Seqs(r.events), ElementsAre(1u, 2u, 3u));
  EXPECT_THAT(r.created, ElementsAre(true, true, true));
  EXPECT_TRUE(r.any_created);
  EXPECT_EQ(r.events[2].payload, "\"c\"");
}

TEST_P(StoreConformance, BatchWithOneBadEventStoresNothing) {
  CreateSession("s-1");
  AppendN("s-1", 2);
  EXPECT_THAT(
      db().AppendEvents(kAlice, "s-1",
                        Batch({Note("1", "c-1"), Note("{bad"), Note("3")})),
      FailsOnField(StatusCode::kInvalidArgument, "payload"));
  EventStreamInfo info = Get("s-1").events;
  EXPECT_EQ(info.last_seq, 2u);
  EXPECT_EQ(info.retained, 2u);
  // c-1 was not stored either: appending it now creates it.
  AppendResult r =
      Must(db().AppendEvents(kAlice, "s-1", Batch({Note("1", "c-1")})));
  EXPECT_TRUE(r.any_created);
  EXPECT_EQ(r.events[0].seq, 3u);
}

TEST_P(StoreConformance, BatchOverMaxBatchEventsIsRefused) {
  options().limits.max_batch_events = 4;
  CreateSession("s-1");
  EXPECT_OK(db().AppendEvents(
      kAlice, "s-1", Batch({Note("1"), Note("2"), Note("3"), Note("4")})));
  Result<AppendResult> r = db().AppendEvents(
      kAlice, "s-1",
      Batch({Note("1"), Note("2"), Note("3"), Note("4"), Note("5")}));
  // A count limit: SPEC does not fix 400 vs 413, only that it is refused.
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(r.status().code() == StatusCode::kInvalidArgument ||
              r.status().code() == StatusCode::kPayloadTooLarge)
      << r.status();
  EXPECT_EQ(Get("s-1").events.last_seq, 4u);
}

TEST_P(StoreConformance, EmptyBatchIsRefused) {
  CreateSession("s-1");
  EXPECT_THAT(db().AppendEvents(kAlice, "s-1", Batch({})),
              FailsWith(StatusCode::kInvalidArgument));
}

TEST_P(StoreConformance, BatchWithRepeatedClientEventIdIsRefused) {
  CreateSession("s-1");
  EXPECT_THAT(db().AppendEvents(kAlice, "s-1",
                                Batch({Note("1", "c-1"), Note("2", "c-1")})),
              FailsOnField(StatusCode::kInvalidArgument, "clientEventId"));
  EXPECT_EQ(Get("s-1").events.last_seq, 0u);
}

// ------------------------------------------------------------------ dedupe

TEST_P(StoreConformance, RepeatedClientEventIdReturnsTheOriginal) {
  CreateSession("s-1");
  Event first = Append("s-1", Note(R"({"v":1})", "c-1"));
  Advance(100);
  AppendResult again = Must(db().AppendEvents(
      kAlice, "s-1", Batch({Note(R"({"v":"changed"})", "c-1")})));
  ASSERT_EQ(again.events.size(), 1u);
  EXPECT_FALSE(again.any_created);
  EXPECT_THAT(again.created, ElementsAre(false));
  EXPECT_EQ(again.events[0].seq, first.seq);
  EXPECT_EQ(again.events[0].payload, R"({"v":1})");
  EXPECT_EQ(again.events[0].ingested_at, kT0);
  EXPECT_EQ(Get("s-1").events.last_seq, 1u);
  EXPECT_EQ(Append("s-1", Note("2")).seq, 2u);  // no seq was consumed
}

TEST_P(StoreConformance, BatchMixingStoredAndNewClientEventIds) {
  CreateSession("s-1");
  Append("s-1", Note("1", "c-1"));
  AppendResult r = Must(db().AppendEvents(
      kAlice, "s-1", Batch({Note("1", "c-1"), Note("2", "c-2"), Note("3")})));
  EXPECT_THAT(Seqs(r.events), ElementsAre(1u, 2u, 3u));
  EXPECT_THAT(r.created, ElementsAre(false, true, true));
  EXPECT_TRUE(r.any_created);
}

TEST_P(StoreConformance, ClientEventIdIsScopedToItsSession) {
  CreateSession("s-1");
  CreateSession("s-2");
  AppendN("s-2", 2);
  Append("s-1", Note("1", "c-1"));
  AppendResult r =
      Must(db().AppendEvents(kAlice, "s-2", Batch({Note("1", "c-1")})));
  EXPECT_TRUE(r.any_created);
  EXPECT_EQ(r.events[0].seq, 3u);
  EXPECT_EQ(r.events[0].session_id, "s-2");
}

// ------------------------------------------------------- expected last seq

TEST_P(StoreConformance, ExpectedLastSeqMismatchIsSeqConflict) {
  CreateSession("s-1");
  AppendN("s-1", 3);
  Result<AppendResult> r = db().AppendEvents(
      kAlice, "s-1", Batch({Note("\"x\""), Note("\"y\"")}, 2));
  EXPECT_THAT(r, FailsWith(StatusCode::kSeqConflict));
  EXPECT_EQ(DetailInt(r.status(), "lastSeq"), 3);
  EXPECT_EQ(Get("s-1").events.last_seq, 3u);

  EXPECT_THAT(db().AppendEvents(kAlice, "s-1", Batch({Note("1")}, 4)),
              FailsWith(StatusCode::kSeqConflict));
  AppendResult ok =
      Must(db().AppendEvents(kAlice, "s-1", Batch({Note("1")}, 3)));
  EXPECT_EQ(ok.events[0].seq, 4u);
}

TEST_P(StoreConformance, ExpectedLastSeqZeroOnAnEmptyStream) {
  CreateSession("s-1");
  EXPECT_OK(db().AppendEvents(kAlice, "s-1", Batch({Note("1")}, 0)));
  EXPECT_THAT(db().AppendEvents(kAlice, "s-1", Batch({Note("1")}, 0)),
              FailsWith(StatusCode::kSeqConflict));
}

// records.h: expectedLastSeq is checked after clientEventId dedupe, so a
// client retrying a conditional append it already made succeeds.
TEST_P(StoreConformance, RetryOfStoredConditionalAppendSucceeds) {
  CreateSession("s-1");
  Must(db().AppendEvents(kAlice, "s-1", Batch({Note("1", "c-1")}, 0)));
  AppendResult retry =
      Must(db().AppendEvents(kAlice, "s-1", Batch({Note("1", "c-1")}, 0)));
  EXPECT_FALSE(retry.any_created);
  EXPECT_EQ(retry.events[0].seq, 1u);
}

// -------------------------------------------------------------- concurrency

TEST_P(StoreConformance, ConcurrentAppendersGetDenseUniqueSeqs) {
  CreateSession("s-1");
  constexpr int kThreads = 4;
  constexpr int kPerThread = 50;
  BlockingStore& store = db();
  {
    std::vector<std::jthread> writers;
    for (int t = 0; t < kThreads; ++t) {
      writers.emplace_back([&store, t] {
        for (int i = 0; i < kPerThread; ++i) {
          std::string payload = "{\"t\":" + std::to_string(t) +
                                ",\"i\":" + std::to_string(i) + "}";
          EXPECT_OK(store.Append(kAlice, "s-1",
                                 {.event_type = "note", .payload = payload}));
        }
      });
    }
  }
  EventPage page = List("s-1", 0);
  ASSERT_EQ(page.events.size(), size_t{kThreads * kPerThread});
  std::set<std::string> payloads;
  for (size_t i = 0; i < page.events.size(); ++i) {
    EXPECT_EQ(page.events[i].seq, i + 1);
    payloads.insert(page.events[i].payload);
  }
  EXPECT_EQ(payloads.size(), size_t{kThreads * kPerThread});
}

}  // namespace
}  // namespace acpstore::conformance
