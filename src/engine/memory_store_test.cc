// Scenarios for MemoryStore that exercise the engine core end to end
// (decide -> apply -> notify). The full behavioural contract is the
// conformance suite in tests/; these cover the core's trickier paths.

#include "engine/memory_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "acpstore/blocking_store.h"

namespace acpstore::engine {
namespace {

constexpr TimestampMs kStart = 1779504960000;

class MemoryStoreTest : public ::testing::Test {
 protected:
  MemoryStoreTest() : clock_(kStart) {}

  void Open(StoreOptions options = {}) {
    options.engine = Engine::kMemory;
    options.clock = &clock_;
    options.maintenance_interval_ms = 0;
    store_ = std::make_unique<MemoryStore>(options);
    db_ = std::make_unique<BlockingStore>(*store_);
  }
  void SetUp() override { Open(); }

  Session NewSessionWithId(const std::string& id, const Scope& scope) {
    NewSession req;
    req.id = id;
    auto s = db_->CreateSession(scope, req);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? *s : Session{};
  }
  NewEvent Ev(std::optional<std::string> client_id = std::nullopt) {
    NewEvent e;
    e.event_type = "message.delta";
    e.payload = R"({ "text" : "hi" })";
    e.client_event_id = std::move(client_id);
    return e;
  }
  void Run(const Scope& scope, const std::string& id) {
    ASSERT_TRUE(db_->TransitionSession(scope, id, SessionEvent::kRunStarted).ok());
  }

  ManualClock clock_;
  Scope alice_{"t", "alice", Scope::Access::kOwner};
  Scope bob_{"t", "bob", Scope::Access::kOwner};
  Scope reader_{"t", "r", Scope::Access::kTenantRead};
  Scope admin_{"t", "adm", Scope::Access::kTenantWrite};
  std::unique_ptr<MemoryStore> store_;
  std::unique_ptr<BlockingStore> db_;
};

TEST_F(MemoryStoreTest, PayloadIsStoredCanonicalAndSeqsAreDense) {
  NewSessionWithId("s", alice_);
  auto e1 = db_->Append(alice_, "s", Ev());
  auto e2 = db_->Append(alice_, "s", Ev());
  ASSERT_TRUE(e1.ok()) << e1.status();
  EXPECT_EQ(e1->seq, 1u);
  EXPECT_EQ(e2->seq, 2u);
  EXPECT_EQ(e1->payload, R"({"text":"hi"})");
  EXPECT_EQ(e1->EventId(), "t:alice:s:1");
  EXPECT_EQ(db_->GetSession(alice_, "s")->events.last_seq, 2u);
}

// Issue 14's two hints from the HTTP server: a payload its scanner found
// canonical is kept without canonicalising again, within the limits (past
// them, the full path words the error); and a caller that reads only what
// the store assigned may get the new events back without their payloads,
// while the stored events keep them.
TEST_F(MemoryStoreTest, ServerHintsSkipWorkButNotTheRules) {
  StoreOptions options;
  options.limits.max_json_depth = 2;
  Open(options);
  NewSessionWithId("s", alice_);
  AppendRequest req;
  req.events.push_back(Ev());
  req.events[0].payload = R"({"a":[1]})";
  req.events[0].canonical_payload_nesting = 2;
  req.result_without_payloads = true;
  auto r = db_->AppendEvents(alice_, "s", req);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->events.size(), 1u);
  EXPECT_EQ(r->events[0].seq, 1u);
  EXPECT_EQ(r->events[0].payload, "");
  auto page = db_->ListEvents(alice_, "s", 0, 10);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->events.size(), 1u);
  EXPECT_EQ(page->events[0].payload, R"({"a":[1]})");

  AppendRequest deep;
  deep.events.push_back(Ev());
  deep.events[0].payload = R"({"a":{"b":[1]}})";
  deep.events[0].canonical_payload_nesting = 3;
  auto refused = db_->AppendEvents(alice_, "s", deep);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.error().message().find("events[0].payload"),
            std::string::npos)
      << refused.error().message();
}

TEST_F(MemoryStoreTest, RetriedClientEventIdReturnsOriginalEvenWithStaleSeq) {
  NewSessionWithId("s", alice_);
  AppendRequest first;
  first.events = {Ev("c1")};
  first.expected_last_seq = 0;
  ASSERT_TRUE(db_->AppendEvents(alice_, "s", first).ok());
  // Same request again: expectedLastSeq is stale now, but it is a retry.
  auto again = db_->AppendEvents(alice_, "s", first);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE(again->any_created);
  EXPECT_EQ(again->events[0].seq, 1u);
  // A new event with a stale expectation conflicts and names lastSeq.
  AppendRequest stale;
  stale.events = {Ev("c2")};
  stale.expected_last_seq = 0;
  auto conflict = db_->AppendEvents(alice_, "s", stale);
  ASSERT_FALSE(conflict.ok());
  EXPECT_EQ(conflict.error().code(), StatusCode::kSeqConflict);
  ASSERT_NE(conflict.error().Detail("lastSeq"), nullptr);
  EXPECT_EQ(std::get<int64_t>(conflict.error().Detail("lastSeq")->value), 1);
}

TEST_F(MemoryStoreTest, BatchMixingRetriesAndNewEventsIsAtomicAndOrdered) {
  NewSessionWithId("s", alice_);
  AppendRequest req;
  req.events = {Ev("a")};
  ASSERT_TRUE(db_->AppendEvents(alice_, "s", req).ok());
  req.events = {Ev("b"), Ev("a"), Ev("c")};
  auto r = db_->AppendEvents(alice_, "s", req);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->created, (std::vector<bool>{true, false, true}));
  EXPECT_EQ(r->events[0].seq, 2u);
  EXPECT_EQ(r->events[1].seq, 1u);
  EXPECT_EQ(r->events[2].seq, 3u);
}

TEST_F(MemoryStoreTest, CountRetentionAdvancesFirstSeqAndFlagsTruncation) {
  StoreOptions o;
  o.retention.max_events_per_session = 3;
  Open(o);
  NewSessionWithId("s", alice_);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(db_->Append(alice_, "s", Ev()).ok());
  auto page = db_->ListEvents(alice_, "s", 0, 100);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->first_seq, 3u);
  EXPECT_EQ(page->last_seq, 5u);
  EXPECT_TRUE(page->truncated);
  EXPECT_EQ(page->events.front().seq, 3u);
  EXPECT_FALSE(db_->ListEvents(alice_, "s", 2, 100)->truncated);
  EXPECT_EQ(store_->Stats().events_dropped_retention, 2u);
}

TEST_F(MemoryStoreTest, ExpiredLeaseIsSweptByTheNextLeaseWithBackoff) {
  StoreOptions o;
  o.leases.max_attempts = 2;
  o.leases.initial_backoff_ms = 1000;
  Open(o);
  NewSessionWithId("s", alice_);
  NewAction na;
  na.session_id = "s";
  na.action_id = "a1";
  ASSERT_TRUE(db_->EnqueueAction(alice_, na).ok());
  LeaseRequest lr;
  lr.lease_ms = 5000;
  auto first = db_->LeaseAction(alice_, lr);
  ASSERT_TRUE(first.ok() && first->has_value());
  EXPECT_EQ((*first)->lease_token.size(), 32u);
  EXPECT_EQ(db_->GetAction(alice_, "a1")->lease_token, "");

  clock_.Advance(5000);  // expired; swept lazily, requeued 1 s out
  auto none = db_->LeaseAction(alice_, lr);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  EXPECT_EQ(db_->GetAction(alice_, "a1")->available_at, clock_.NowMs() + 1000);
  // The old token is stale once swept.
  auto hb = db_->HeartbeatAction(alice_, "a1", (*first)->lease_token, 5000);
  EXPECT_EQ(hb.error().code(), StatusCode::kStaleLease);

  clock_.Advance(1000);
  auto second = db_->LeaseAction(alice_, lr);
  ASSERT_TRUE(second.ok() && second->has_value());
  EXPECT_EQ((*second)->attempt_count, 2u);
  EXPECT_NE((*second)->lease_token, (*first)->lease_token);

  clock_.Advance(5000);  // second expiry: out of attempts
  auto report = db_->RunMaintenance();
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->leases_dead_lettered, 1u);
  auto dead = db_->GetAction(alice_, "a1");
  EXPECT_EQ(dead->status, ActionStatus::kFailed);
  EXPECT_EQ(dead->error_metadata, R"({"reason":"lease_expired"})");
}

TEST_F(MemoryStoreTest, LeaseTakesOnlyTheCallersActions) {
  NewSessionWithId("sa", alice_);
  NewSessionWithId("sb", bob_);
  NewAction na;
  na.session_id = "sb";
  ASSERT_TRUE(db_->EnqueueAction(bob_, na).ok());
  LeaseRequest lr;
  EXPECT_FALSE(db_->LeaseAction(alice_, lr)->has_value());
  EXPECT_TRUE(db_->LeaseAction(admin_, lr)->has_value());
}

TEST_F(MemoryStoreTest, IdempotentEnqueueReplaysOrConflicts) {
  NewSessionWithId("s", alice_);
  NewAction na;
  na.session_id = "s";
  na.idempotency_key = "k";
  na.metadata = R"({"b":1,"a":2})";
  auto first = db_->EnqueueAction(alice_, na);
  ASSERT_TRUE(first.ok()) << first.status();
  na.metadata = R"({"a":2,"b":1})";  // same map, other key order
  auto again = db_->EnqueueAction(alice_, na);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->action.action_id, first->action.action_id);
  na.type = ActionType::kApprove;
  EXPECT_EQ(db_->EnqueueAction(alice_, na).error().code(),
            StatusCode::kIdempotencyConflict);
}

TEST_F(MemoryStoreTest, ScopesConfineReadsAndWrites) {
  NewSessionWithId("s", alice_);
  EXPECT_EQ(db_->GetSession(bob_, "s").error().code(), StatusCode::kNotFound);
  EXPECT_TRUE(db_->GetSession(reader_, "s").ok());
  EXPECT_EQ(db_->Append(reader_, "s", Ev()).error().code(),
            StatusCode::kForbidden);
  EXPECT_EQ(db_->Append(bob_, "s", Ev()).error().code(),
            StatusCode::kNotFound);
  EXPECT_TRUE(db_->Append(admin_, "s", Ev()).ok());
  // The event belongs to the session's owner, not to the admin.
  EXPECT_EQ(db_->ListEvents(alice_, "s", 0, 10)->events[0].owner_key_id,
            "alice");
  Scope other_tenant{"t2", "alice", Scope::Access::kTenantWrite};
  EXPECT_EQ(db_->GetSession(other_tenant, "s").error().code(),
            StatusCode::kNotFound);
  // Ids are unique per tenant, across owners.
  NewSession dup;
  dup.id = "s";
  EXPECT_EQ(db_->CreateSession(bob_, dup).error().code(),
            StatusCode::kConflict);
}

TEST_F(MemoryStoreTest, PauseInterveneResumeIsIdempotentByKey) {
  NewSessionWithId("s", alice_);
  Run(alice_, "s");
  PauseRequest pr{"needs review", "ops", "pk", std::nullopt};
  auto paused = db_->PauseSession(alice_, "s", pr);
  ASSERT_TRUE(paused.ok()) << paused.status();
  EXPECT_EQ(paused->session.status, SessionStatus::kPaused);
  auto replay = db_->PauseSession(alice_, "s", pr);
  ASSERT_TRUE(replay.ok());
  EXPECT_FALSE(replay->created);
  EXPECT_EQ(replay->pause.pause_id, paused->pause.pause_id);
  pr.idempotency_key = "other";
  EXPECT_EQ(db_->PauseSession(alice_, "s", pr).error().code(),
            StatusCode::kAlreadyPaused);

  auto start = db_->StartIntervention(alice_, "s", {"human", "i1"});
  ASSERT_TRUE(start.ok()) << start.status();
  EXPECT_EQ(start->session.status, SessionStatus::kIntervening);
  EXPECT_FALSE(db_->StartIntervention(alice_, "s", {"human", "i1"})->created);
  auto done = db_->CompleteIntervention(alice_, "s", {"i1", "human", "do X"});
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->pause.status, PauseStatus::kPaused);
  EXPECT_FALSE(
      db_->CompleteIntervention(alice_, "s", {"i1", "human", "do X"})->created);

  auto resumed = db_->ResumeSession(alice_, "s", {"ops", "r1", std::nullopt});
  ASSERT_TRUE(resumed.ok());
  EXPECT_EQ(resumed->session.status, SessionStatus::kRunning);
  EXPECT_EQ(resumed->pause.status, PauseStatus::kResumed);
  EXPECT_FALSE(
      db_->ResumeSession(alice_, "s", {"ops", "r1", std::nullopt})->created);
  EXPECT_EQ(db_->ResumeSession(alice_, "s", {"ops", "r2", std::nullopt})
                .error()
                .code(),
            StatusCode::kNotPaused);
  EXPECT_EQ(db_->GetPause(alice_, "s")->pause_id, paused->pause.pause_id);
}

TEST_F(MemoryStoreTest, RawTransitionOutOfPausedEndsTheActivePause) {
  NewSessionWithId("s", alice_);
  Run(alice_, "s");
  ASSERT_TRUE(db_->PauseSession(alice_, "s", {"r", "ops", {}, {}}).ok());
  ASSERT_TRUE(
      db_->TransitionSession(alice_, "s", SessionEvent::kResumeRequested).ok());
  EXPECT_EQ(db_->GetPause(alice_, "s")->status, PauseStatus::kResumed);
  // So pausing again works.
  EXPECT_TRUE(db_->PauseSession(alice_, "s", {"r", "ops", {}, {}}).ok());
}

TEST_F(MemoryStoreTest, SubscriptionSwitchesFromReplayToLiveWithoutGap) {
  NewSessionWithId("s", alice_);
  ASSERT_TRUE(db_->Append(alice_, "s", Ev()).ok());
  std::atomic<int> ready{0};
  SubscribeOptions so;
  so.on_ready = [&] { ++ready; };
  auto sub = store_->Subscribe(alice_, "s", so);
  ASSERT_TRUE(sub.ok());
  std::vector<EventSeq> seen;
  auto drain = [&] {
    while (true) {
      auto page = (*sub)->Next(1);
      ASSERT_TRUE(page.ok());
      if (page->events.empty()) return;
      for (const auto& e : page->events) seen.push_back(e.seq);
    }
  };
  drain();
  ready = 0;
  ASSERT_TRUE(db_->Append(alice_, "s", Ev()).ok());
  ASSERT_TRUE(db_->Append(alice_, "s", Ev()).ok());
  EXPECT_EQ(ready.load(), 1);
  drain();
  EXPECT_EQ(seen, (std::vector<EventSeq>{1, 2, 3}));
  EXPECT_EQ(store_->Stats().subscriptions, 1u);

  ASSERT_TRUE(
      db_->TransitionSession(alice_, "s", SessionEvent::kRuntimeFailed).ok());
  ASSERT_TRUE(db_->DeleteSession(alice_, "s").ok());
  EXPECT_GE(ready.load(), 2);
  EXPECT_EQ((*sub)->Next(10).error().code(), StatusCode::kNotFound);
  // Re-creating the id does not revive the old subscription.
  NewSessionWithId("s", alice_);
  EXPECT_EQ((*sub)->Next(10).error().code(), StatusCode::kNotFound);
}

TEST_F(MemoryStoreTest, MaintenanceAppliesTimeRetention) {
  StoreOptions o;
  o.retention.terminal_event_retention_ms = 1000;
  o.retention.session_retention_ms = 5000;
  Open(o);
  NewSessionWithId("s", alice_);
  ASSERT_TRUE(db_->Append(alice_, "s", Ev()).ok());
  ASSERT_TRUE(
      db_->TransitionSession(alice_, "s", SessionEvent::kCloseRequested).ok());
  auto closed =
      db_->TransitionSession(alice_, "s", SessionEvent::kCloseCompleted);
  ASSERT_TRUE(closed.ok());
  EXPECT_EQ(closed->closed_at, kStart);

  clock_.Advance(1000);
  auto r1 = db_->RunMaintenance();
  EXPECT_EQ(r1->events_dropped, 1u);
  auto info = db_->GetSession(alice_, "s")->events;
  EXPECT_EQ(info.retained, 0u);
  EXPECT_EQ(info.first_seq, 2u);

  clock_.Advance(4000);
  auto r2 = db_->RunMaintenance();
  EXPECT_EQ(r2->sessions_deleted, 1u);
  EXPECT_EQ(db_->GetSession(alice_, "s").error().code(), StatusCode::kNotFound);
}

TEST_F(MemoryStoreTest, ListSessionsPagesNewestFirst) {
  for (int i = 0; i < 5; ++i) {
    NewSessionWithId("s" + std::to_string(i), alice_);
    clock_.Advance(10);
  }
  NewSessionWithId("theirs", bob_);
  SessionQuery q;
  q.limit = 2;
  std::vector<std::string> ids;
  for (int page = 0; page < 5; ++page) {
    auto r = db_->ListSessions(alice_, q);
    ASSERT_TRUE(r.ok()) << r.status();
    for (const auto& s : r->sessions) ids.push_back(s.id);
    if (!r->next_cursor) break;
    q.cursor = *r->next_cursor;
  }
  EXPECT_EQ(ids, (std::vector<std::string>{"s4", "s3", "s2", "s1", "s0"}));
  q.cursor = "garbage!";
  EXPECT_EQ(db_->ListSessions(alice_, q).error().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(MemoryStoreTest, DeleteNeedsATerminalSession) {
  NewSessionWithId("s", alice_);
  EXPECT_EQ(db_->DeleteSession(alice_, "s").code(), StatusCode::kConflict);
}

TEST_F(MemoryStoreTest, ConcurrentWritersGetDenseSeqsAndASubscriberSeesAll) {
  NewSessionWithId("s", alice_);
  auto sub = store_->Subscribe(alice_, "s", {});
  ASSERT_TRUE(sub.ok());
  constexpr int kThreads = 4;
  constexpr int kPerThread = 200;
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        ASSERT_TRUE(db_->Append(alice_, "s", Ev()).ok());
      }
    });
  }
  std::vector<EventSeq> seen;
  while (seen.size() < kThreads * kPerThread) {
    auto page = (*sub)->Next(64);
    ASSERT_TRUE(page.ok());
    for (const auto& e : page->events) seen.push_back(e.seq);
    if (page->events.empty()) std::this_thread::yield();
  }
  for (auto& w : writers) w.join();
  for (size_t i = 0; i < seen.size(); ++i) ASSERT_EQ(seen[i], i + 1);
}

TEST_F(MemoryStoreTest, BackgroundMaintenanceSweepsExpiredLeases) {
  StoreOptions o;
  o.engine = Engine::kMemory;
  o.clock = &clock_;
  o.maintenance_interval_ms = 5;
  o.leases.max_attempts = 1;
  auto store = OpenStore(o);
  ASSERT_TRUE(store.ok());
  BlockingStore db(**store);
  NewSession ns;
  ns.id = "s";
  ASSERT_TRUE(db.CreateSession(alice_, ns).ok());
  NewAction na;
  na.session_id = "s";
  na.action_id = "a";
  ASSERT_TRUE(db.EnqueueAction(alice_, na).ok());
  ASSERT_TRUE(db.LeaseAction(alice_, LeaseRequest{})->has_value());
  clock_.Advance(60000);
  // The maintenance thread sweeps on its own schedule: wait for its result,
  // with a deadline for a loaded sanitizer run.
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (db.GetAction(alice_, "a")->status != ActionStatus::kFailed &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(db.GetAction(alice_, "a")->status, ActionStatus::kFailed);
}

// The postgres engine itself is tested in tests/postgres/; here only what
// OpenStore answers without a database.
TEST(OpenStoreTest, PostgresNeedsAUrlAndAReachableDatabase) {
  StoreOptions o;
  o.engine = Engine::kPostgres;
  EXPECT_EQ(OpenStore(o).error().code(), StatusCode::kInvalidArgument);
  // A Unix socket directory that does not exist: refused at once, offline.
  o.postgres_url = "host=/nonexistent-acpstore-socket-dir port=1 dbname=x";
  EXPECT_EQ(OpenStore(o).error().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace acpstore::engine
