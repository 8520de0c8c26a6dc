// Two PgStores on one database behave as one store (SPEC §10): seqs stay
// gap-free under concurrent appends from both, a lease taken on one is
// completed on the other, no action is leased twice, live events appended
// through one reach a subscription on the other (also after its
// notification connection was cut), concurrent creates of one id conflict,
// and a schema newer than this build is refused.
//
// Each test uses its own schema in the database of scripts/test.sh
// (pg_test_env.h); without that database every test fails.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "acpstore/blocking_store.h"
#include "acpstore/store.h"
#include "pg_test_env.h"
#include "pg_test_sql.h"

namespace acpstore {
namespace {

const Scope kAlice{"t1", "alice", Scope::Access::kOwner};

class TwoStoresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const ::testing::TestInfo* info =
        ::testing::UnitTest::GetInstance()->current_test_info();
    schema_ = pgtest::SchemaFor(std::string("two_stores.") + info->name() +
                                "." + std::to_string(::getpid()));
    a_ = Open();
    b_ = Open();
    ASSERT_NE(a_, nullptr);
    ASSERT_NE(b_, nullptr);
    db_a_ = std::make_unique<BlockingStore>(*a_);
    db_b_ = std::make_unique<BlockingStore>(*b_);
  }

  void TearDown() override {
    db_a_.reset();
    db_b_.reset();
    a_.reset();
    b_.reset();
    Sql("DROP SCHEMA IF EXISTS \"" + schema_ + "\" CASCADE");
  }

  std::unique_ptr<Store> Open() {
    StoreOptions options;
    options.maintenance_interval_ms = 0;
    Status s = pgtest::UsePostgres(&options, schema_);
    EXPECT_TRUE(s.ok()) << s;
    if (!s.ok()) return nullptr;
    Result<std::unique_ptr<Store>> store = OpenStore(options);
    EXPECT_TRUE(store.ok()) << store.status();
    if (!store.ok()) return nullptr;
    return std::move(*store);
  }

  // Runs one statement on a connection of its own; returns the first
  // column of the first row, if any.
  std::string Sql(const std::string& sql) {
    Result<std::string> url = pgtest::TestPostgresUrl();
    if (!url.ok()) return "";
    return pgtest::FirstValue(*url, sql);
  }

  std::string schema_;
  std::unique_ptr<Store> a_, b_;
  std::unique_ptr<BlockingStore> db_a_, db_b_;
};

TEST_F(TwoStoresTest, ConcurrentAppendsFromBothStaySeqGapFree) {
  ASSERT_TRUE(db_a_->CreateSession(kAlice, {.id = "s-1"}).ok());
  constexpr int kThreadsPerStore = 3;
  constexpr int kAppendsPerThread = 40;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2 * kThreadsPerStore; ++t) {
    BlockingStore* db = t % 2 == 0 ? db_a_.get() : db_b_.get();
    threads.emplace_back([db, t, &failures] {
      for (int i = 0; i < kAppendsPerThread; ++i) {
        std::string payload = "{\"t\":" + std::to_string(t) +
                              ",\"i\":" + std::to_string(i) + "}";
        if (!db->Append(kAlice, "s-1",
                        {.event_type = "note", .payload = payload})
                 .ok()) {
          failures.fetch_add(1);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_EQ(failures.load(), 0);

  const uint64_t total = 2 * kThreadsPerStore * kAppendsPerThread;
  std::set<std::string> payloads;
  EventSeq after = 0;
  for (;;) {
    Result<EventPage> page = db_b_->ListEvents(kAlice, "s-1", after, 1000);
    ASSERT_TRUE(page.ok()) << page.status();
    if (page->events.empty()) break;
    for (const Event& e : page->events) {
      ASSERT_EQ(e.seq, after + 1) << "a gap or a duplicate seq";
      after = e.seq;
      payloads.insert(e.payload);
    }
  }
  EXPECT_EQ(after, total);
  EXPECT_EQ(payloads.size(), total);
  EXPECT_EQ(db_a_->GetSession(kAlice, "s-1")->events.last_seq, total);
}

TEST_F(TwoStoresTest, ConcurrentAppendsShareTransactions) {
  constexpr int kSessions = 8;
  constexpr int kAppends = 400;
  for (int i = 0; i < kSessions; ++i) {
    ASSERT_TRUE(db_a_->CreateSession(kAlice, {.id = "s-" + std::to_string(i)}).ok());
  }
  const StoreStats before = a_->Stats();
  // Posted without waiting, as the HTTP server does: the commit threads
  // find them queued together.
  std::mutex mu;
  std::condition_variable cv;
  int finished = 0, failed = 0;
  for (int i = 0; i < kAppends; ++i) {
    AppendRequest req;
    req.events.push_back({.event_type = "note", .payload = std::to_string(i)});
    a_->AppendEvents(kAlice, "s-" + std::to_string(i % kSessions),
                     std::move(req), [&](Result<AppendResult> r) {
                       std::lock_guard<std::mutex> lock(mu);
                       ++finished;
                       if (!r.ok()) ++failed;
                       cv.notify_all();
                     });
  }
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return finished == kAppends; });
  }
  EXPECT_EQ(failed, 0);
  const StoreStats after = a_->Stats();
  const uint64_t commits = after.fsyncs - before.fsyncs;
  EXPECT_EQ(after.group_commit_records - before.group_commit_records,
            static_cast<uint64_t>(kAppends));
  EXPECT_LT(commits, static_cast<uint64_t>(kAppends)) << "no append shared a commit";
  std::printf("[ figure   ] %d appends in %llu transactions\n", kAppends,
              static_cast<unsigned long long>(commits));
  for (int i = 0; i < kSessions; ++i) {
    Result<Session> s = db_b_->GetSession(kAlice, "s-" + std::to_string(i));
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(s->events.last_seq, static_cast<EventSeq>(kAppends / kSessions));
    EXPECT_EQ(s->events.retained, static_cast<uint64_t>(kAppends / kSessions));
  }
}

// Appends to ONE session that share a transaction decide in memory
// against what the earlier ones of the batch decided (decision 0017):
// each sees the counter the previous one advanced, a clientEventId one of
// them stored, and expectedLastSeq against the seq before it. Posted
// without waiting, so that they queue together. Appends in flight at once
// have no order (two batches of one session may take its row lock either
// way round), so every check holds in any order:
//   i % 4 == 0: a new event with clientEventId c-i;
//   i % 4 == 1: the same event again (a retry): one of the pair creates it,
//               both answer the same seq;
//   i % 4 == 2: expectedLastSeq = i / 2: stored as lastSeq + 1 if it held,
//               else a seq_conflict;
//   i % 4 == 3: an expectedLastSeq never reached: always a seq_conflict.
TEST_F(TwoStoresTest, AppendsToOneSessionInOneBatchSeeEachOther) {
  ASSERT_TRUE(db_a_->CreateSession(kAlice, {.id = "s-1"}).ok());
  constexpr int kAppends = 400;
  std::mutex mu;
  std::condition_variable cv;
  int finished = 0;
  std::vector<Result<AppendResult>> results(kAppends,
                                            Status::Internal("not finished"));
  const StoreStats before = a_->Stats();
  for (int i = 0; i < kAppends; ++i) {
    AppendRequest req;
    NewEvent e{.event_type = "note", .payload = std::to_string(i)};
    switch (i % 4) {
      case 0:
        e.client_event_id = "c-" + std::to_string(i);
        break;
      case 1:
        e.client_event_id = "c-" + std::to_string(i - 1);
        e.payload = std::to_string(i - 1);
        break;
      case 2:
        req.expected_last_seq = static_cast<EventSeq>(i / 2);
        break;
      default:
        req.expected_last_seq = 1000000;
    }
    req.events.push_back(std::move(e));
    a_->AppendEvents(kAlice, "s-1", std::move(req),
                     [&, i](Result<AppendResult> r) {
                       std::lock_guard<std::mutex> lock(mu);
                       results[i] = std::move(r);
                       ++finished;
                       cv.notify_all();
                     });
  }
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return finished == kAppends; });
  }
  const StoreStats after = a_->Stats();
  std::printf("[ figure   ] %d appends to one session in %llu transactions\n",
              kAppends,
              static_cast<unsigned long long>(after.fsyncs - before.fsyncs));
  std::map<EventSeq, std::string> created;  // seq -> payload
  int conditional_stored = 0;
  for (int i = 0; i < kAppends; ++i) {
    const Result<AppendResult>& r = results[i];
    if (i % 4 == 3 || (i % 4 == 2 && !r.ok())) {
      ASSERT_FALSE(r.ok()) << i;
      EXPECT_EQ(r.status().code(), StatusCode::kSeqConflict) << i << r.status();
      continue;
    }
    ASSERT_TRUE(r.ok()) << i << ": " << r.status();
    ASSERT_EQ(r->events.size(), 1u);
    const Event& e = r->events[0];
    if (i % 4 == 2) {
      ++conditional_stored;
      EXPECT_TRUE(r->created[0]) << i;
      EXPECT_EQ(e.seq, static_cast<EventSeq>(i / 2) + 1) << i;
    }
    if (i % 4 == 1) {
      const Result<AppendResult>& first = results[i - 1];
      ASSERT_TRUE(first.ok()) << i - 1 << ": " << first.status();
      EXPECT_EQ(first->events[0].seq, e.seq) << i;
      EXPECT_NE(first->created[0], r->created[0])
          << i << ": exactly one of the pair creates the event";
    }
    if (r->created[0]) {
      EXPECT_TRUE(created.emplace(e.seq, e.payload).second)
          << "seq " << e.seq << " answered twice";
    }
  }
  // Stored once each, gap-free, as answered; the counters agree (read
  // through the other store).
  Result<EventPage> page = db_b_->ListEvents(kAlice, "s-1", 0, 1000);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->events.size(), created.size());
  EXPECT_EQ(created.size(), static_cast<size_t>(kAppends / 4) +
                                static_cast<size_t>(conditional_stored));
  for (size_t k = 0; k < page->events.size(); ++k) {
    const Event& e = page->events[k];
    EXPECT_EQ(e.seq, k + 1);
    EXPECT_EQ(e.payload, created[e.seq]) << e.seq;
  }
  Result<Session> s = db_b_->GetSession(kAlice, "s-1");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->events.first_seq, 1u);
  EXPECT_EQ(s->events.last_seq, static_cast<EventSeq>(created.size()));
  EXPECT_EQ(s->events.retained, static_cast<uint64_t>(created.size()));
  // A retry after the batches still dedupes against the stored rows.
  AppendRequest retry;
  retry.events.push_back(
      {.event_type = "note", .payload = "4", .client_event_id = "c-4"});
  Result<AppendResult> again =
      db_b_->AppendEvents(kAlice, "s-1", std::move(retry));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE(again->any_created);
  EXPECT_EQ(again->events[0].seq, results[4]->events[0].seq);
}

TEST_F(TwoStoresTest, ClientEventIdDedupesAcrossStores) {
  ASSERT_TRUE(db_a_->CreateSession(kAlice, {.id = "s-1"}).ok());
  Result<Event> first = db_a_->Append(
      kAlice, "s-1", {.event_type = "note", .payload = "1", .client_event_id = "c-1"});
  ASSERT_TRUE(first.ok());
  AppendRequest retry;
  retry.events.push_back(
      {.event_type = "note", .payload = "1", .client_event_id = "c-1"});
  Result<AppendResult> again = db_b_->AppendEvents(kAlice, "s-1", std::move(retry));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE(again->any_created);
  EXPECT_EQ(again->events.at(0).seq, first->seq);
}

// Each store's append batches decide against the session rows they last
// committed (pg_session_cache.h, decision 0022). Appends through B make
// A's cached row of the session stale, every time: A's next appends must
// still get the next seqs (no gap, no duplicate), see B's clientEventIds
// (a retry through A of an event appended through B is answered, not
// stored again), and check expectedLastSeq against the real counter.
// Other changes to the row (a transition, a delete and re-create) too.
TEST_F(TwoStoresTest, AStaleCachedSessionRowIsNeverTrusted) {
  ASSERT_TRUE(db_a_->CreateSession(kAlice, {.id = "s-1"}).ok());
  std::map<EventSeq, std::string> stored;  // seq -> payload, as answered
  auto append = [&](BlockingStore* db, const std::string& payload,
                    std::optional<std::string> client_id,
                    std::optional<EventSeq> expected) {
    AppendRequest req;
    req.expected_last_seq = expected;
    req.events.push_back(
        {.event_type = "note", .payload = payload, .client_event_id = client_id});
    return db->AppendEvents(kAlice, "s-1", std::move(req));
  };
  for (int round = 0; round < 20; ++round) {
    const std::string r = std::to_string(round);
    // A twice (the second from A's cache), then B once: A's row is stale.
    for (int k = 0; k < 2; ++k) {
      const std::string p = "\"a" + r + "." + std::to_string(k) + "\"";
      Result<AppendResult> a = append(db_a_.get(), p, "a-" + r + "-" + std::to_string(k),
                                      std::nullopt);
      ASSERT_TRUE(a.ok()) << a.status();
      ASSERT_TRUE(a->created[0]);
      EXPECT_TRUE(stored.emplace(a->events[0].seq, p).second)
          << "seq " << a->events[0].seq << " answered twice";
    }
    // A retries its own first event, its cached row fresh: the row does
    // not know the event's clientEventId, the database does.
    {
      const std::string p = "\"a" + r + ".0\"";
      Result<AppendResult> again = append(db_a_.get(), p, "a-" + r + "-0", std::nullopt);
      ASSERT_TRUE(again.ok()) << again.status();
      EXPECT_FALSE(again->any_created) << "round " << round;
      EXPECT_EQ(again->events[0].payload, p);
    }
    const std::string pb = "\"b" + r + "\"";
    Result<AppendResult> b = append(db_b_.get(), pb, "b-" + r, std::nullopt);
    ASSERT_TRUE(b.ok()) << b.status();
    EXPECT_TRUE(stored.emplace(b->events[0].seq, pb).second);
    const EventSeq last = b->events[0].seq;
    switch (round % 4) {
      case 0: {  // A retries B's event: answered, not stored again
        Result<AppendResult> again = append(db_a_.get(), pb, "b-" + r, std::nullopt);
        ASSERT_TRUE(again.ok()) << again.status();
        EXPECT_FALSE(again->any_created);
        EXPECT_EQ(again->events[0].seq, last);
        break;
      }
      case 1: {  // A's stale row says last_seq - 1: B's seq is the truth
        Result<AppendResult> stale = append(db_a_.get(), "\"x\"", std::nullopt, last - 1);
        ASSERT_FALSE(stale.ok());
        EXPECT_EQ(stale.status().code(), StatusCode::kSeqConflict);
        const std::string p = "\"c" + r + "\"";
        Result<AppendResult> fresh = append(db_a_.get(), p, std::nullopt, last);
        ASSERT_TRUE(fresh.ok()) << fresh.status();
        EXPECT_EQ(fresh->events[0].seq, last + 1);
        stored.emplace(fresh->events[0].seq, p);
        break;
      }
      default:
        break;
    }
  }
  // Gap-free and as answered, read through either store.
  Result<EventPage> page = db_b_->ListEvents(kAlice, "s-1", 0, 1000);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->events.size(), stored.size());
  for (size_t k = 0; k < page->events.size(); ++k) {
    EXPECT_EQ(page->events[k].seq, k + 1);
    EXPECT_EQ(page->events[k].payload, stored[k + 1]) << k + 1;
  }
  Result<Session> s = db_a_->GetSession(kAlice, "s-1");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->events.last_seq, static_cast<EventSeq>(stored.size()));
  EXPECT_EQ(s->events.retained, static_cast<uint64_t>(stored.size()));

  // The row changed without a new seq: B ends the session, so A's cached
  // (running) row must not let an append through that B's would refuse.
  ASSERT_TRUE(db_a_->Append(kAlice, "s-1", {.event_type = "note", .payload = "1"}).ok());
  ASSERT_TRUE(db_b_->TransitionSession(kAlice, "s-1", SessionEvent::kRuntimeFailed).ok());
  Result<Event> after_end = db_b_->Append(kAlice, "s-1", {.event_type = "note", .payload = "2"});
  Result<Event> through_a = db_a_->Append(kAlice, "s-1", {.event_type = "note", .payload = "2"});
  ASSERT_EQ(through_a.ok(), after_end.ok()) << through_a.status() << " vs " << after_end.status();
  if (!after_end.ok()) {
    EXPECT_EQ(through_a.status().code(), after_end.status().code()) << through_a.status();
  }
  // Deleted and created again through B: A's row of the old session is of
  // another incarnation; the new one starts at seq 1.
  ASSERT_TRUE(db_a_->Append(kAlice, "s-1", {.event_type = "note", .payload = "3"}).ok() ||
              !after_end.ok());
  ASSERT_TRUE(db_b_->DeleteSession(kAlice, "s-1").ok());
  ASSERT_TRUE(db_b_->CreateSession(kAlice, {.id = "s-1"}).ok());
  Result<Event> first = db_a_->Append(kAlice, "s-1", {.event_type = "note", .payload = "4"});
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->seq, 1u);
}

// A cached batch sends each session's guard with its writes (decision
// 0028): a session whose appends were all refused against the cached row
// still has its row checked, so a refusal from a stale row is never
// answered. And a cached batch of several events, one of them already
// stored, answers it as stored.
TEST_F(TwoStoresTest, ARefusalFromAStaleCachedRowIsNeverAnswered) {
  ASSERT_TRUE(db_a_->CreateSession(kAlice, {.id = "s-1"}).ok());
  auto append = [&](BlockingStore* db, std::vector<NewEvent> events,
                    std::optional<EventSeq> expected) {
    AppendRequest req;
    req.expected_last_seq = expected;
    req.events = std::move(events);
    return db->AppendEvents(kAlice, "s-1", std::move(req));
  };
  for (int round = 0; round < 10; ++round) {
    const std::string r = std::to_string(round);
    // Twice through A: the second decides against A's cached row.
    Result<AppendResult> a1 = append(db_a_.get(), {{.event_type = "note", .payload = "1"}},
                                     std::nullopt);
    ASSERT_TRUE(a1.ok()) << a1.status();
    Result<AppendResult> a2 = append(
        db_a_.get(), {{.event_type = "note", .payload = "2", .client_event_id = "a-" + r}},
        a1->events[0].seq);
    ASSERT_TRUE(a2.ok()) << a2.status();
    // B moves the row: A's cached last_seq is one behind now.
    Result<AppendResult> b = append(db_b_.get(), {{.event_type = "note", .payload = "3"}},
                                    std::nullopt);
    ASSERT_TRUE(b.ok()) << b.status();
    const EventSeq last = b->events[0].seq;
    // A's cached row would refuse this (its last_seq is last - 1): the
    // database's counter accepts it.
    Result<AppendResult> a3 = append(db_a_.get(), {{.event_type = "note", .payload = "4"}}, last);
    ASSERT_TRUE(a3.ok()) << "round " << round << ": " << a3.status();
    EXPECT_EQ(a3->events[0].seq, last + 1);
    // From A's fresh cached row, a new event and a stored one (appended
    // above through A): the stored one is answered, the new one stored.
    Result<AppendResult> a4 = append(
        db_a_.get(),
        {{.event_type = "note", .payload = "5", .client_event_id = "n-" + r},
         {.event_type = "note", .payload = "2", .client_event_id = "a-" + r}},
        std::nullopt);
    ASSERT_TRUE(a4.ok()) << a4.status();
    ASSERT_EQ(a4->events.size(), 2u);
    EXPECT_TRUE(a4->created[0]);
    EXPECT_FALSE(a4->created[1]);
    EXPECT_EQ(a4->events[0].seq, last + 2);
    EXPECT_EQ(a4->events[1].seq, a2->events[0].seq);
  }
  Result<EventPage> page = db_b_->ListEvents(kAlice, "s-1", 0, 1000);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->events.size(), 50u);
  for (size_t k = 0; k < page->events.size(); ++k) {
    EXPECT_EQ(page->events[k].seq, k + 1);
  }
}

TEST_F(TwoStoresTest, LeaseTakenOnOneIsCompletedOnTheOther) {
  ASSERT_TRUE(db_a_->CreateSession(kAlice, {.id = "s-1"}).ok());
  ASSERT_TRUE(db_a_->EnqueueAction(kAlice, {.session_id = "s-1"}).ok());
  Result<std::optional<Action>> leased =
      db_a_->LeaseAction(kAlice, {.lease_ms = 60000});
  ASSERT_TRUE(leased.ok()) << leased.status();
  ASSERT_TRUE(leased->has_value());
  const Action& a = **leased;

  Result<Action> beat =
      db_b_->HeartbeatAction(kAlice, a.action_id, a.lease_token, 60000);
  ASSERT_TRUE(beat.ok()) << beat.status();
  Result<Action> done =
      db_b_->CompleteAction(kAlice, a.action_id, a.lease_token, std::nullopt);
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(done->status, ActionStatus::kCompleted);
  EXPECT_EQ(db_a_->GetAction(kAlice, a.action_id)->status,
            ActionStatus::kCompleted);
}

TEST_F(TwoStoresTest, NoActionIsLeasedTwiceByConcurrentLeasers) {
  ASSERT_TRUE(db_a_->CreateSession(kAlice, {.id = "s-1"}).ok());
  constexpr int kActions = 40;
  for (int i = 0; i < kActions; ++i) {
    ASSERT_TRUE(db_a_->EnqueueAction(kAlice, {.session_id = "s-1"}).ok());
  }
  std::mutex mu;
  std::vector<std::string> leased_ids;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    BlockingStore* db = t % 2 == 0 ? db_a_.get() : db_b_.get();
    threads.emplace_back([db, &mu, &leased_ids] {
      for (;;) {
        Result<std::optional<Action>> r =
            db->LeaseAction(kAlice, {.lease_ms = 60000});
        if (!r.ok() || !r->has_value()) return;
        std::lock_guard<std::mutex> lock(mu);
        leased_ids.push_back((*r)->action_id);
      }
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::string> unique(leased_ids.begin(), leased_ids.end());
  EXPECT_EQ(leased_ids.size(), static_cast<size_t>(kActions));
  EXPECT_EQ(unique.size(), static_cast<size_t>(kActions));
}

TEST_F(TwoStoresTest, ConcurrentCreatesOfOneIdConflict) {
  std::atomic<int> created{0}, conflicts{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    BlockingStore* db = t % 2 == 0 ? db_a_.get() : db_b_.get();
    threads.emplace_back([db, &created, &conflicts] {
      Result<Session> r = db->CreateSession(kAlice, {.id = "same"});
      if (r.ok()) created.fetch_add(1);
      if (r.status().code() == StatusCode::kConflict) conflicts.fetch_add(1);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(created.load(), 1);
  EXPECT_EQ(conflicts.load(), 3);
}

// Waits for a subscription on one store to deliver `want` events appended
// through the other; returns them.
std::vector<Event> Collect(Subscription* sub, std::mutex* mu,
                           std::condition_variable* cv, bool* ready,
                           size_t want, std::chrono::milliseconds timeout) {
  std::vector<Event> got;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (got.size() < want && std::chrono::steady_clock::now() < deadline) {
    Result<EventPage> page = sub->Next(100);
    if (!page.ok()) break;
    if (!page->events.empty()) {
      for (Event& e : page->events) got.push_back(std::move(e));
      continue;
    }
    std::unique_lock<std::mutex> lock(*mu);
    cv->wait_until(lock, deadline, [&] { return *ready; });
    *ready = false;
  }
  return got;
}

TEST_F(TwoStoresTest, LiveEventsAppendedOnOneReachASubscriptionOnTheOther) {
  ASSERT_TRUE(db_a_->CreateSession(kAlice, {.id = "s-1"}).ok());
  std::mutex mu;
  std::condition_variable cv;
  bool ready = false;
  Result<std::unique_ptr<Subscription>> sub = b_->Subscribe(
      kAlice, "s-1", {.after = 0, .on_ready = [&] {
                        std::lock_guard<std::mutex> lock(mu);
                        ready = true;
                        cv.notify_all();
                      }});
  ASSERT_TRUE(sub.ok()) << sub.status();
  ASSERT_TRUE((*sub)->Next(100).ok());  // caught up: arms the waiter

  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(db_a_->Append(kAlice, "s-1", {.event_type = "note", .payload = "1"}).ok());
  std::vector<Event> got =
      Collect(sub->get(), &mu, &cv, &ready, 1, std::chrono::seconds(5));
  auto latency = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].seq, 1u);
  // SPEC §10: within 100 ms (p99, idle database); allow a loaded CI box,
  // but not the once-a-second recheck (up to 1 s), which would hide a
  // notification path that sends nothing (decision 0032).
  EXPECT_LT(latency, std::chrono::milliseconds(500));
  std::printf("[ figure   ] append on one store to delivery on the other: %lld us\n",
              static_cast<long long>(
                  std::chrono::duration_cast<std::chrono::microseconds>(latency)
                      .count()));
}

TEST_F(TwoStoresTest, LostNotificationConnectionIsReestablishedAndTheGapRead) {
  ASSERT_TRUE(db_a_->CreateSession(kAlice, {.id = "s-1"}).ok());
  std::mutex mu;
  std::condition_variable cv;
  bool ready = false;
  Result<std::unique_ptr<Subscription>> sub = b_->Subscribe(
      kAlice, "s-1", {.after = 0, .on_ready = [&] {
                        std::lock_guard<std::mutex> lock(mu);
                        ready = true;
                        cv.notify_all();
                      }});
  ASSERT_TRUE(sub.ok()) << sub.status();
  ASSERT_TRUE((*sub)->Next(100).ok());

  // Cut both listener connections of this schema, append while they are
  // down, and expect the subscription to catch up once they are back.
  // Only this test's (other tests may run beside it on the database).
  EXPECT_EQ(Sql("SELECT count(pg_terminate_backend(pid)) FROM "
                "pg_stat_activity WHERE application_name = "
                "'acpstore-listener:" + schema_ + "'"),
            "2");
  ASSERT_TRUE(db_a_->Append(kAlice, "s-1", {.event_type = "note", .payload = "1"}).ok());
  ASSERT_TRUE(db_a_->Append(kAlice, "s-1", {.event_type = "note", .payload = "2"}).ok());
  std::vector<Event> got =
      Collect(sub->get(), &mu, &cv, &ready, 2, std::chrono::seconds(10));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].seq, 1u);
  EXPECT_EQ(got[1].seq, 2u);
}

// Every pooled connection closed at once (a PostgreSQL restart, an
// operator's pg_terminate_backend): a read took one dead connection, then
// another, and answered unavailable, which ended a live SSE stream (found
// by a probe). It now goes on until a connection works. The store's
// connections are named "acpstore:<schema>" in pg_stat_activity.
TEST_F(TwoStoresTest, AReadOutlivesEveryPooledConnectionClosedAtOnce) {
  ASSERT_TRUE(db_a_->CreateSession(kAlice, {.id = "s-1"}).ok());
  ASSERT_TRUE(db_a_->Append(kAlice, "s-1", {.event_type = "note", .payload = "1"}).ok());
  // Concurrent reads leave several idle connections in each pool.
  std::vector<std::thread> readers;
  for (int t = 0; t < 8; ++t) {
    readers.emplace_back([&] {
      for (int i = 0; i < 100; ++i) {
        EXPECT_TRUE(db_b_->GetSession(kAlice, "s-1").ok());
        EXPECT_TRUE(db_a_->ListEvents(kAlice, "s-1", 0, 100).ok());
      }
    });
  }
  for (std::thread& r : readers) r.join();
  const std::string mine =
      "FROM pg_stat_activity WHERE application_name = 'acpstore:" + schema_ + "'";
  ASSERT_GE(std::stoi(Sql("SELECT count(*) " + mine)), 4);
  ASSERT_NE(Sql("SELECT count(pg_terminate_backend(pid)) " + mine), "0");
  Result<Session> s = db_b_->GetSession(kAlice, "s-1");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->events.last_seq, 1u);
  Result<EventPage> page = db_a_->ListEvents(kAlice, "s-1", 0, 100);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->events.size(), 1u);
}

// Decision 0013: a commit NOTIFYs after its COMMIT, so a server that dies
// between the two never sends it. Such a commit - here written through SQL
// directly, as the engine writes an append, and never notified - still
// reaches a subscriber: its server's listener re-reads the subscribed
// sessions' rows every PgListener::kRecheckMs (1 s).
TEST_F(TwoStoresTest, ACommitWhoseNotificationNeverCameStillReachesSubscribers) {
  ASSERT_TRUE(db_a_->CreateSession(kAlice, {.id = "s-1"}).ok());
  ASSERT_TRUE(db_a_->Append(kAlice, "s-1", {.event_type = "note", .payload = "1"}).ok());
  std::mutex mu;
  std::condition_variable cv;
  bool ready = false;
  Result<std::unique_ptr<Subscription>> sub = b_->Subscribe(
      kAlice, "s-1", {.after = 1, .on_ready = [&] {
                        std::lock_guard<std::mutex> lock(mu);
                        ready = true;
                        cv.notify_all();
                      }});
  ASSERT_TRUE(sub.ok()) << sub.status();
  Result<EventPage> first = (*sub)->Next(100);  // caught up: arms the waiter
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(first->events.empty());

  const std::string q = "\"" + schema_ + "\".";
  Sql("BEGIN; INSERT INTO " + q +
      "events (tenant_id, session_id, seq, event_type, occurred_at, "
      "ingested_at, payload) VALUES ('t1', 's-1', 2, 'note', 1, 1, '2'); "
      "UPDATE " + q +
      "sessions SET last_seq = 2, retained = retained + 1, "
      "payload_bytes = payload_bytes + 1 WHERE tenant_id = 't1' AND "
      "session_id = 's-1'; COMMIT");
  ASSERT_EQ(Sql("SELECT last_seq FROM " + q +
                "sessions WHERE tenant_id = 't1' AND session_id = 's-1'"),
            "2");
  std::vector<Event> got =
      Collect(sub->get(), &mu, &cv, &ready, 1, std::chrono::seconds(10));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].seq, 2u);
  EXPECT_EQ(got[0].payload, "2");
}

TEST_F(TwoStoresTest, SchemaNewerThanThisBuildIsRefused) {
  Sql("INSERT INTO \"" + schema_ +
      "\".schema_version (version, name) VALUES (9999, 'from the future')");
  StoreOptions options;
  options.maintenance_interval_ms = 0;
  ASSERT_TRUE(pgtest::UsePostgres(&options, schema_).ok());
  Result<std::unique_ptr<Store>> store = OpenStore(options);
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find("newer than this acpstore knows"),
            std::string::npos)
      << store.status();
  // SPEC §3, format compatibility: both versions named.
  EXPECT_NE(store.status().message().find("is at version 9999"),
            std::string::npos)
      << store.status();
  const std::string message(store.status().message());
  const size_t known = message.find("knows (");
  ASSERT_NE(known, std::string::npos) << message;
  const int supported = std::atoi(message.c_str() + known + 7);
  EXPECT_GE(supported, 2) << message;
  EXPECT_LT(supported, 9999) << message;
}

TEST_F(TwoStoresTest, MaintenanceOnBothSweepsEachExpiredLeaseOnce) {
  ASSERT_TRUE(db_a_->CreateSession(kAlice, {.id = "s-1"}).ok());
  // A lease that ended long ago (lease_ms is relative to the system clock).
  ASSERT_TRUE(db_a_->EnqueueAction(kAlice, {.session_id = "s-1"}).ok());
  ASSERT_TRUE(db_a_->LeaseAction(kAlice, {.lease_ms = 1000}).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  Result<MaintenanceReport> ra = Status::Internal("not run");
  Result<MaintenanceReport> rb = Status::Internal("not run");
  std::thread ta([&] { ra = db_a_->RunMaintenance(); });
  std::thread tb([&] { rb = db_b_->RunMaintenance(); });
  ta.join();
  tb.join();
  ASSERT_TRUE(ra.ok()) << ra.status();
  ASSERT_TRUE(rb.ok()) << rb.status();
  EXPECT_EQ(ra->leases_requeued + rb->leases_requeued, 1u);
}

// Schema version 5 has no events -> sessions foreign key (its check was a
// query per appended row): a session's events are deleted by the statement
// that deletes the session, whichever path deletes it. These tests count
// event rows without a session row ("orphans") after each path.
class EventsWithoutForeignKeyTest : public TwoStoresTest {
 protected:
  std::string Table(const std::string& name) const {
    return "\"" + schema_ + "\"." + name;
  }
  std::string Orphans() {
    return Sql("SELECT count(*) FROM " + Table("events") +
               " e WHERE NOT EXISTS (SELECT 1 FROM " + Table("sessions") +
               " s WHERE s.tenant_id = e.tenant_id AND s.session_id = "
               "e.session_id)");
  }
  std::string EventRows(const std::string& session) {
    return Sql("SELECT count(*) FROM " + Table("events") +
               " WHERE session_id = '" + session + "'");
  }
  void AppendN(BlockingStore& db, const std::string& session, int n) {
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE(db.Append(kAlice, session,
                            {.event_type = "note",
                             .payload = "{\"i\":" + std::to_string(i) + "}"})
                      .ok());
    }
  }
};

TEST_F(EventsWithoutForeignKeyTest, TheSchemaHasNoEventsForeignKey) {
  EXPECT_EQ(Sql("SELECT count(*) FROM pg_constraint WHERE conrelid = '" +
                Table("events") + "'::regclass AND contype = 'f'"),
            "0");
}

TEST_F(EventsWithoutForeignKeyTest, DeletingASessionDeletesItsEvents) {
  ASSERT_TRUE(db_a_->CreateSession(kAlice, {.id = "s-1"}).ok());
  ASSERT_TRUE(db_a_->CreateSession(kAlice, {.id = "s-2"}).ok());
  AppendN(*db_a_, "s-1", 5);
  AppendN(*db_b_, "s-2", 3);
  ASSERT_EQ(EventRows("s-1"), "5");
  ASSERT_TRUE(
      db_b_->TransitionSession(kAlice, "s-1", SessionEvent::kRuntimeFailed)
          .ok());
  ASSERT_TRUE(db_b_->DeleteSession(kAlice, "s-1").ok());
  EXPECT_EQ(EventRows("s-1"), "0");
  EXPECT_EQ(EventRows("s-2"), "3");  // another session's events stay
  EXPECT_EQ(Orphans(), "0");
  // The id made again starts a new stream at seq 1: no old row is in its
  // way (the primary key is (tenant, session, seq)) or read back.
  ASSERT_TRUE(db_a_->CreateSession(kAlice, {.id = "s-1"}).ok());
  Result<Event> e = db_a_->Append(kAlice, "s-1",
                                  {.event_type = "note", .payload = "{\"new\":1}"});
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->seq, 1u);
  Result<EventPage> page = db_b_->ListEvents(kAlice, "s-1", 0, 100);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->events.size(), 1u);
  EXPECT_EQ(page->events[0].payload, "{\"new\":1}");
}

TEST_F(EventsWithoutForeignKeyTest, SessionRetentionDeletesTheEventsToo) {
  StoreOptions options;
  options.maintenance_interval_ms = 0;
  options.retention.session_retention_ms = 1;
  options.retention.terminal_event_retention_ms = 0;  // only the session path
  ASSERT_TRUE(pgtest::UsePostgres(&options, schema_).ok());
  Result<std::unique_ptr<Store>> keeper = OpenStore(options);
  ASSERT_TRUE(keeper.ok()) << keeper.status();
  BlockingStore db(**keeper);
  ASSERT_TRUE(db.CreateSession(kAlice, {.id = "old"}).ok());
  ASSERT_TRUE(db.CreateSession(kAlice, {.id = "live"}).ok());
  AppendN(db, "old", 4);
  AppendN(db, "live", 2);
  ASSERT_TRUE(
      db.TransitionSession(kAlice, "old", SessionEvent::kRuntimeFailed).ok());
  // Ended 1 ms ago at the earliest: sweep until the pass deletes it.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  uint64_t deleted = 0;
  while (deleted == 0 && std::chrono::steady_clock::now() < deadline) {
    Result<MaintenanceReport> r = db.RunMaintenance();
    ASSERT_TRUE(r.ok()) << r.status();
    deleted += r->sessions_deleted;
  }
  ASSERT_EQ(deleted, 1u);
  EXPECT_EQ(db.GetSession(kAlice, "old").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(EventRows("old"), "0");
  EXPECT_EQ(EventRows("live"), "2");
  EXPECT_EQ(Orphans(), "0");
}

// Appends through one store race the session's deletion through the
// other: each append either lands before the delete (and goes with it) or
// finds no session; no event row outlives its session.
TEST_F(EventsWithoutForeignKeyTest, AppendsRacingADeleteLeaveNoOrphans) {
  for (int round = 0; round < 5; ++round) {
    const std::string id = "race-" + std::to_string(round);
    ASSERT_TRUE(db_a_->CreateSession(kAlice, {.id = id}).ok());
    std::atomic<bool> stop{false};
    std::atomic<int> appended{0}, refused{0}, other{0};
    std::vector<std::thread> writers;
    for (int t = 0; t < 4; ++t) {
      writers.emplace_back([&, t] {
        for (int i = 0; !stop.load(); ++i) {
          Result<Event> e = db_b_->Append(
              kAlice, id,
              {.event_type = "note",
               .payload = "{\"t\":" + std::to_string(t) + ",\"i\":" +
                          std::to_string(i) + "}"});
          if (e.ok()) {
            appended.fetch_add(1);
          } else if (e.status().code() == StatusCode::kNotFound) {
            refused.fetch_add(1);  // the session is gone
            return;
          } else {
            other.fetch_add(1);
          }
        }
      });
    }
    // Delete once some appends have landed.
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (appended.load() < 20 && other.load() == 0 &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    EXPECT_GE(appended.load(), 20);
    ASSERT_TRUE(
        db_a_->TransitionSession(kAlice, id, SessionEvent::kRuntimeFailed)
            .ok());
    ASSERT_TRUE(db_a_->DeleteSession(kAlice, id).ok());
    EXPECT_EQ(db_b_->Append(kAlice, id, {.event_type = "note", .payload = "{}"})
                  .status()
                  .code(),
              StatusCode::kNotFound);
    // A writer stops at its first kNotFound (the flag stops one that
    // failed otherwise).
    stop.store(true);
    for (auto& w : writers) w.join();
    EXPECT_EQ(other.load(), 0);
    EXPECT_EQ(EventRows(id), "0") << "round " << round;
  }
  EXPECT_EQ(Orphans(), "0");
}

}  // namespace
}  // namespace acpstore
