// Conformance: transcripts (SPEC §13). Folded in the same mutation as the
// append, readable at once, independent of event retention, capped per
// session, deleted with the session; the persistent engines keep them
// across a reopen. Suites StoreTranscripts / StoreTranscriptPersistence
// (store_conformance.h says why they are separate).

#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "store_conformance.h"

namespace acpstore::conformance {
namespace {

using ::testing::ElementsAre;

// Postgres counts stored checkpoints in its stats, and checkpoints in the
// background after the append's COMMIT (decision 0020): the stats once
// `ok` holds of them, waiting at most 30 s (the other engines' hold at
// once); the last stats read otherwise.
StoreStats StatsWhen(Store& store,
                     const std::function<bool(const StoreStats&)>& ok) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(30);
  StoreStats s = store.Stats();
  while (!ok(s) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    s = store.Stats();
  }
  return s;
}

NewEvent Ev(std::string type, std::string payload) {
  NewEvent e;
  e.event_type = std::move(type);
  e.payload = std::move(payload);
  return e;
}

// Shaped like Aegis's mapper output: the raw ACP frame rides along.
NewEvent Delta(const std::string& text, const std::string& type = "message.delta") {
  return Ev(type,
            R"({"acp":{"method":"session/update","params":{"update":{"content":{"text":"FRAME"}}}},"text":")" +
                text + "\"}");
}

// Appends `n` deltas "d<k>;" in batches of up to 500; returns their text.
std::string AppendDeltas(BlockingStore& db, const Scope& scope,
                         const std::string& session, int first, int n) {
  std::string all;
  for (int at = 0; at < n;) {
    AppendRequest req;
    for (int k = 0; k < 500 && at < n; ++k, ++at) {
      const std::string text = "d" + std::to_string(first + at) + ";";
      all += text;
      req.events.push_back(Delta(text));
    }
    auto r = db.AppendEvents(scope, session, std::move(req));
    EXPECT_TRUE(r.ok()) << r.error();
  }
  return all;
}

}  // namespace

TEST_P(StoreTranscripts, FoldsAppendedEventsAtOnce) {
  CreateSession("s");
  Append("s", Ev("thinking.delta", R"({"acp":{},"text":"hmm"})"));
  Append("s", Delta("Hel"));
  Append("s", Delta("lo"));
  Append("s", Ev("tool.started",
                 R"({"acp":{},"input":{"path":"a"},"kind":"read","title":"Read a","toolCallId":"t1"})"));
  Append("s", Ev("note", R"({"x":1})"));
  Append("s", Ev("tool.completed",
                 R"({"acp":{},"status":"completed","text":"A","toolCallId":"t1"})"));
  Append("s", Ev("usage.updated", R"({"acp":{},"inputTokens":7})"));
  Append("s", Ev("turn.completed", R"({"acp":{},"stopReason":"end_turn"})"));
  auto page = Must(db().ReadTranscript(kAlice, "s", TranscriptQuery{}));
  ASSERT_EQ(page.entries.size(), 5u);
  EXPECT_EQ(page.entries[0].kind, "thought");
  EXPECT_EQ(page.entries[0].text, "hmm");
  EXPECT_EQ(page.entries[1].kind, "assistant");
  EXPECT_EQ(page.entries[1].text, "Hello");
  EXPECT_EQ(page.entries[1].first_seq, 2u);
  EXPECT_EQ(page.entries[1].last_seq, 3u);
  EXPECT_EQ(page.entries[2].kind, "tool");
  EXPECT_EQ(page.entries[2].index, 3u);
  EXPECT_EQ(page.entries[2].title, "Read a");
  EXPECT_EQ(page.entries[2].input, R"({"path":"a"})");
  EXPECT_EQ(page.entries[2].text, "A");
  EXPECT_EQ(page.entries[2].status, "completed");
  EXPECT_EQ(page.entries[2].last_seq, 6u);
  EXPECT_EQ(page.entries[3].kind, "usage");
  EXPECT_EQ(page.entries[4].kind, "turn_end");
  EXPECT_EQ(page.entries[4].fields, R"({"stopReason":"end_turn"})");
  EXPECT_TRUE(page.complete);
  EXPECT_EQ(page.folded_seq, 8u);
  EXPECT_EQ(page.first_index, 1u);
  EXPECT_EQ(page.end_index, 6u);
  EXPECT_EQ(page.next, 5u);
  ASSERT_EQ(page.usage.size(), 1u);
  EXPECT_EQ(page.usage[0].first, "inputTokens");
  EXPECT_EQ(page.usage[0].second, 7);
  for (const TranscriptEntry& e : page.entries) {
    EXPECT_EQ(e.text.find("FRAME"), std::string::npos);
  }
}

TEST_P(StoreTranscripts, PagesFiltersByKindAndRefusesBadQueries) {
  CreateSession("s");
  for (int i = 0; i < 5; ++i) {
    Append("s", Ev("message.delta",
                   R"({"messageId":"m)" + std::to_string(i) + R"(","text":"x"})"));
    Append("s", Ev("turn.completed", R"({"stopReason":"end_turn"})"));
  }
  TranscriptQuery q;
  q.limit = 3;
  auto first = Must(db().ReadTranscript(kAlice, "s", q));
  ASSERT_EQ(first.entries.size(), 3u);
  EXPECT_EQ(first.next, 3u);
  q.after = first.next;
  q.kinds = {"assistant"};
  auto second = Must(db().ReadTranscript(kAlice, "s", q));
  ASSERT_EQ(second.entries.size(), 3u);
  EXPECT_EQ(second.entries[0].index, 5u);
  EXPECT_EQ(second.entries[2].index, 9u);
  EXPECT_EQ(second.next, 9u);
  q.kinds = {"nope"};
  EXPECT_THAT(db().ReadTranscript(kAlice, "s", q),
              FailsOnField(StatusCode::kInvalidArgument, "kind"));
  q.kinds = {};
  q.limit = 0;
  EXPECT_THAT(db().ReadTranscript(kAlice, "s", q),
              FailsOnField(StatusCode::kInvalidArgument, "limit"));
  q.limit = 10;
  EXPECT_THAT(db().ReadTranscript(kAlice, "missing", q),
              FailsWith(StatusCode::kNotFound));
  // Another owner's session answers like a missing one.
  EXPECT_THAT(db().ReadTranscript(kBob, "s", q),
              FailsWith(StatusCode::kNotFound));
  EXPECT_OK(db().ReadTranscript(kReader, "s", q));
  // Entries changed after seq 8: the ones from seq 9 and 10.
  q.changed_after_seq = 8;
  auto changed = Must(db().ReadTranscript(kAlice, "s", q));
  ASSERT_EQ(changed.entries.size(), 2u);
  EXPECT_EQ(changed.entries[0].index, 9u);
}

// A transcript page also stops before its entries' text passes
// max_page_bytes, with at least one entry; `next` is the last entry
// returned, so paging on from it reads every entry once.
TEST_P(StoreTranscripts, APageStopsAtMaxPageBytes) {
  options().max_page_bytes = 2500;
  CreateSession("s");
  const std::string text(1000, 'a');
  for (int i = 0; i < 5; ++i) {
    Append("s", Ev("message.delta", R"({"messageId":"m)" + std::to_string(i) +
                                        R"(","text":")" + text + "\"}"));
  }
  std::vector<uint64_t> sizes;
  std::vector<uint64_t> indexes;
  TranscriptQuery q;
  q.limit = 1000;
  for (int pages = 0; pages < 10; ++pages) {
    auto page = Must(db().ReadTranscript(kAlice, "s", q));
    sizes.push_back(page.entries.size());
    for (const TranscriptEntry& e : page.entries) indexes.push_back(e.index);
    q.after = page.next;
    if (page.next + 1 >= page.end_index) break;
  }
  // Each entry counts its text and messageId (1,002 bytes): two a page.
  EXPECT_THAT(sizes, ElementsAre(2u, 2u, 1u));
  EXPECT_THAT(indexes, ElementsAre(1u, 2u, 3u, 4u, 5u));
}

TEST_P(StoreTranscripts, SurviveEventRetention) {
  options().retention.max_events_per_session = 1000;
  CreateSession("s");
  const std::string all = AppendDeltas(db(), kAlice, "s", 0, 5000);
  auto events = List("s", 0, 10);
  EXPECT_GT(events.first_seq, 4000u);  // retention dropped the old events
  auto page = Must(db().ReadTranscript(kAlice, "s", TranscriptQuery{}));
  ASSERT_EQ(page.entries.size(), 1u);
  EXPECT_EQ(page.entries[0].text, all);
  EXPECT_EQ(page.entries[0].first_seq, 1u);
  EXPECT_EQ(page.entries[0].last_seq, 5000u);
  EXPECT_TRUE(page.complete);
}

TEST_P(StoreTranscripts, TheCapDropsOldestEntriesAndSaysSo) {
  options().transcript_max_bytes = 4096;
  // Postgres counts stored checkpoints in its stats (decision 0020): one at
  // every folded append here, so the stats below are the whole fold's.
  options().postgres_transcript_checkpoint_events = 1;
  CreateSession("s");
  for (int i = 0; i < 100; ++i) {
    Append("s", Ev("message.delta", R"({"messageId":"m)" + std::to_string(i) +
                                        R"(","text":"0123456789"})"));
  }
  auto page = Must(db().ReadTranscript(kAlice, "s", TranscriptQuery{}));
  EXPECT_FALSE(page.complete);
  EXPECT_GT(page.first_index, 1u);
  EXPECT_EQ(page.end_index, 101u);
  ASSERT_FALSE(page.entries.empty());
  EXPECT_EQ(page.entries[0].index, page.first_index);
  EXPECT_EQ(page.entries.back().id, "m99");
  // Indexes stay: entry i is still message m(i-1).
  EXPECT_EQ(page.entries[0].id, "m" + std::to_string(page.first_index - 1));
  const StoreStats stats = StatsWhen(store(), [](const StoreStats& st) {
    return st.transcripts_incomplete == 1 && st.memory_transcript_bytes > 0;
  });
  EXPECT_GT(stats.memory_transcript_bytes, 0u);
  EXPECT_LE(stats.memory_transcript_bytes, 4096u);
  EXPECT_EQ(stats.transcripts_incomplete, 1u);
}

// Every entry over the cap: the page is empty, and its `next` tells a
// reader paging with after=next that it has read everything (it stayed at
// `after` and the reader asked again forever: found by a probe).
TEST_P(StoreTranscripts, ATranscriptTheCapEmptiedEndsItsPaging) {
  options().transcript_max_bytes = 100;
  options().postgres_transcript_checkpoint_events = 1;
  CreateSession("s");
  const std::string long_text(150, 'x');
  Append("s", Ev("message.delta",
                 R"({"messageId":"m1","text":")" + long_text + R"("})"));
  Append("s", Ev("turn.completed", R"({"stopReason":"end_turn"})"));
  Append("s", Ev("message.delta",
                 R"({"messageId":"m2","text":")" + long_text + R"("})"));
  auto page = Must(db().ReadTranscript(kAlice, "s", TranscriptQuery{}));
  EXPECT_FALSE(page.complete);
  EXPECT_TRUE(page.entries.empty());
  EXPECT_EQ(page.first_index, page.end_index);
  EXPECT_GE(page.next + 1, page.end_index);
}

TEST_P(StoreTranscripts, ToolResultsAreCutAtTheToolCap) {
  options().transcript_max_tool_bytes = 8;
  CreateSession("s");
  Append("s", Ev("tool.completed",
                 R"({"output":"0123456789abcdef","toolCallId":"t"})"));
  auto page = Must(db().ReadTranscript(kAlice, "s", TranscriptQuery{}));
  ASSERT_EQ(page.entries.size(), 1u);
  EXPECT_EQ(page.entries[0].text, "01234567");
  EXPECT_TRUE(page.entries[0].text_cut);
  EXPECT_FALSE(page.entries[0].started);
}

TEST_P(StoreTranscripts, DeletedWithTheirSession) {
  options().postgres_transcript_checkpoint_events = 1;  // stats: as above
  SessionIn(SessionStatus::kClosed, "s");
  Append("s", Delta("bye"));
  EXPECT_GT(StatsWhen(store(),
                      [](const StoreStats& st) {
                        return st.memory_transcript_bytes > 0;
                      })
                .memory_transcript_bytes,
            0u);
  EXPECT_OK(db().DeleteSession(kAlice, "s"));
  EXPECT_EQ(store().Stats().memory_transcript_bytes, 0u);
  CreateSession("s");
  auto page = Must(db().ReadTranscript(kAlice, "s", TranscriptQuery{}));
  EXPECT_TRUE(page.entries.empty());
  EXPECT_EQ(page.end_index, 1u);
}

// Off is not "unavailable" (503, which clients retry) but kNotImplemented
// (501, never retried), with a detail saying why (decision 0036). Checked
// after the query and the session, in that order, on every engine.
TEST_P(StoreTranscripts, OffWhenTheCapIsZero) {
  options().transcript_max_bytes = 0;
  CreateSession("s");
  Append("s", Delta("x"));
  Result<TranscriptPage> off =
      db().ReadTranscript(kAlice, "s", TranscriptQuery{});
  ASSERT_THAT(off, FailsWith(StatusCode::kNotImplemented));
  const StatusDetail* reason = off.error().Detail("reason");
  ASSERT_NE(reason, nullptr);
  EXPECT_EQ(std::get<std::string>(reason->value), "transcripts_off");
  // An unknown session is not found whatever the configuration.
  EXPECT_THAT(db().ReadTranscript(kAlice, "nope", TranscriptQuery{}),
              FailsWith(StatusCode::kNotFound));
  // A bad query is refused as such first (postgres said "off" to it).
  TranscriptQuery bogus;
  bogus.kinds = {"bogus"};
  EXPECT_THAT(db().ReadTranscript(kAlice, "s", bogus),
              FailsWith(StatusCode::kInvalidArgument));
  EXPECT_EQ(store().Stats().memory_transcript_bytes, 0u);
}

TEST_P(StoreTranscriptPersistence, KeptAcrossReopenAfterRetention) {
  options().retention.max_events_per_session = 1000;
  options().snapshot_every_bytes = 64 << 10;  // snapshots mid-run too
  CreateSession("s");
  std::string all = AppendDeltas(db(), kAlice, "s", 0, 3000);
  Append("s", Ev("tool.started", R"({"title":"open","toolCallId":"t1"})"));
  Reopen();
  // The open tool is still open: its completion pairs with it.
  Append("s", Ev("tool.completed", R"({"text":"done","toolCallId":"t1"})"));
  all += AppendDeltas(db(), kAlice, "s", 3000, 10);
  Reopen();
  auto page = Must(db().ReadTranscript(kAlice, "s", TranscriptQuery{}));
  ASSERT_EQ(page.entries.size(), 3u);
  EXPECT_EQ(page.entries[0].text + page.entries[2].text, all);
  EXPECT_EQ(page.entries[1].kind, "tool");
  EXPECT_EQ(page.entries[1].text, "done");
  EXPECT_TRUE(page.entries[1].started);
  EXPECT_TRUE(page.complete);
  EXPECT_GT(List("s", 0, 10).first_seq, 2000u);
}

// Found by a probe: two open tools whose toolCallIds share their first
// KiB were one key, and the first one's completion went into the second
// one's entry.
namespace {

void AppendToSession(BlockingStore& db, const Scope& scope, const std::string& type,
                     const std::string& payload) {
  AppendRequest req;
  req.events.push_back(Ev(type, payload));
  auto r = db.AppendEvents(scope, "s", std::move(req));
  ASSERT_TRUE(r.ok()) << r.error();
}

// Two such starts and the first one's completion, in session "s".
void FoldTwoLongToolCallIds(BlockingStore& db, const Scope& scope,
                            const std::string& p) {
  AppendToSession(db, scope, "tool.started", R"({"title":"one","toolCallId":")" + p + R"(-ONE"})");
  AppendToSession(db, scope, "tool.started", R"({"title":"two","toolCallId":")" + p + R"(-TWO"})");
  AppendToSession(db, scope, "tool.completed",
                  R"({"text":"result of ONE","toolCallId":")" + p + R"(-ONE"})");
  auto page = db.ReadTranscript(scope, "s", TranscriptQuery{});
  ASSERT_TRUE(page.ok()) << page.error();
  ASSERT_EQ(page->entries.size(), 2u);
  EXPECT_TRUE(page->entries[0].completed);
  EXPECT_EQ(page->entries[0].text, "result of ONE");
  EXPECT_FALSE(page->entries[1].completed);
  EXPECT_NE(page->entries[0].id, page->entries[1].id);
  EXPECT_EQ(page->entries[0].id.substr(0, 980), p.substr(0, 980));
  EXPECT_LE(page->entries[0].id.size(), 1024u);
}

void CompleteTheSecondLongToolCallId(BlockingStore& db, const Scope& scope,
                                     const std::string& p) {
  AppendToSession(db, scope, "tool.completed",
                  R"({"text":"result of TWO","toolCallId":")" + p + R"(-TWO"})");
  auto page = db.ReadTranscript(scope, "s", TranscriptQuery{});
  ASSERT_TRUE(page.ok()) << page.error();
  ASSERT_EQ(page->entries.size(), 2u);
  EXPECT_EQ(page->entries[0].text, "result of ONE");
  EXPECT_TRUE(page->entries[1].completed);
  EXPECT_EQ(page->entries[1].text, "result of TWO");
}

}  // namespace

TEST_P(StoreTranscripts, LongToolCallIdsSharingTheirFirstKibibyteStayApart) {
  const std::string p(1100, 'p');
  CreateSession("s");
  FoldTwoLongToolCallIds(db(), kAlice, p);
  CompleteTheSecondLongToolCallId(db(), kAlice, p);
}

// The open tools are rebuilt from the stored entries after a reopen.
TEST_P(StoreTranscriptPersistence, LongToolCallIdsStayApartAcrossAReopen) {
  const std::string p(1100, 'p');
  CreateSession("s");
  FoldTwoLongToolCallIds(db(), kAlice, p);
  Reopen();
  CompleteTheSecondLongToolCallId(db(), kAlice, p);
}

}  // namespace acpstore::conformance
