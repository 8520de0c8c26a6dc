// Tests for StoreState: Apply keeps every index in step with the records.

#include "engine/state.h"

#include <gtest/gtest.h>

#include "engine/client_id_index_test_util.h"
#include "engine/decide.h"
#include "engine/memory_event_log.h"

namespace acpstore::engine {
namespace {

Scope Owner(std::string owner) {
  return Scope{"t", std::move(owner), Scope::Access::kOwner};
}
Scope Admin() { return Scope{"t", "admin", Scope::Access::kTenantWrite}; }

Session S(std::string id, std::string owner, TimestampMs updated) {
  Session s;
  s.id = std::move(id);
  s.tenant_id = "t";
  s.owner_key_id = std::move(owner);
  s.created_at = updated;
  s.updated_at = updated;
  return s;
}

Action A(std::string id, std::string session, std::string owner,
         TimestampMs created) {
  Action a;
  a.action_id = std::move(id);
  a.session_id = std::move(session);
  a.tenant_id = "t";
  a.owner_key_id = std::move(owner);
  a.created_at = created;
  a.available_at = created;
  a.updated_at = created;
  return a;
}

class StoreStateTest : public ::testing::Test {
 protected:
  void Apply(record::Mutation m) { ASSERT_TRUE(state_.Apply(std::move(m)).ok()); }
  std::vector<std::string> SessionIds(const Scope& scope) {
    std::vector<std::string> ids;
    state_.ScanSessions(scope, nullptr, [&](const SessionEntry& e) {
      ids.push_back(e.session.id);
      return true;
    });
    return ids;
  }
  StoreState state_{MemoryEventLog::Factory()};
};

TEST_F(StoreStateTest, ListingFollowsUpdatedAtAcrossUpserts) {
  record::Mutation m;
  m.UpsertSession(S("a", "o1", 10));
  m.UpsertSession(S("b", "o1", 20));
  m.UpsertSession(S("c", "o2", 30));
  Apply(std::move(m));
  EXPECT_EQ(SessionIds(Admin()), (std::vector<std::string>{"c", "b", "a"}));
  EXPECT_EQ(SessionIds(Owner("o1")), (std::vector<std::string>{"b", "a"}));

  record::Mutation touch;
  touch.UpsertSession(S("a", "o1", 40));
  Apply(std::move(touch));
  EXPECT_EQ(SessionIds(Admin()), (std::vector<std::string>{"a", "c", "b"}));
  EXPECT_EQ(state_.counters().sessions_by_status[0], 3u);
}

TEST_F(StoreStateTest, OwnerScopeDoesNotFindAnotherOwnersSession) {
  record::Mutation m;
  m.UpsertSession(S("a", "o1", 10));
  Apply(std::move(m));
  EXPECT_NE(state_.FindSession(Owner("o1"), "a"), nullptr);
  EXPECT_EQ(state_.FindSession(Owner("o2"), "a"), nullptr);
  EXPECT_NE(state_.FindSession(Admin(), "a"), nullptr);
  EXPECT_EQ(state_.FindSession(Scope{"t2", "o1", Scope::Access::kOwner}, "a"),
            nullptr);
}

TEST_F(StoreStateTest, DeletingASessionTakesItsActionsAndIndexes) {
  record::Mutation m;
  m.UpsertSession(S("s", "o", 1));
  Action a = A("a1", "s", "o", 2);
  a.idempotency_key = "k";
  m.UpsertAction(a);
  Apply(std::move(m));
  ASSERT_NE(state_.FindActionByIdempotencyKey("t", "s", "k"), nullptr);
  ASSERT_NE(state_.NextLeasable(Admin(), nullptr, {}, 10), nullptr);

  record::Mutation del;
  del.DeleteSession("t", "s");
  Apply(std::move(del));
  EXPECT_EQ(state_.action_count(), 0u);
  EXPECT_EQ(state_.FindActionByIdempotencyKey("t", "s", "k"), nullptr);
  EXPECT_EQ(state_.NextLeasable(Admin(), nullptr, {}, 10), nullptr);
}

TEST_F(StoreStateTest, LeasedActionLeavesTheQueueForTheExpiryIndex) {
  record::Mutation m;
  m.UpsertSession(S("s", "o", 1));
  Action a = A("a1", "s", "o", 2);
  m.UpsertAction(a);
  Apply(std::move(m));
  a.status = ActionStatus::kLeased;
  a.leased_until = 100;
  a.lease_token = "tok";
  record::Mutation lease;
  lease.UpsertAction(a);
  Apply(std::move(lease));
  EXPECT_EQ(state_.NextLeasable(Admin(), nullptr, {}, 1000), nullptr);
  EXPECT_TRUE(state_.ExpiredLeases(99).empty());
  ASSERT_EQ(state_.ExpiredLeases(100).size(), 1u);
  EXPECT_EQ(StoreState::View(*state_.FindActionInTenant("t", "a1")).lease_token,
            "");
}

TEST_F(StoreStateTest, AppendRejectsASeqThatSkips) {
  record::Mutation m;
  m.UpsertSession(S("s", "o", 1));
  Apply(std::move(m));
  Event e;
  e.seq = 2;
  record::Mutation bad;
  bad.AppendEvents("t", "s", {e});
  EXPECT_FALSE(state_.Apply(std::move(bad)).ok());
}

Event E(EventSeq seq, std::optional<std::string> client_id,
        std::string payload = "{}") {
  Event e;
  e.session_id = "s";
  e.tenant_id = "t";
  e.owner_key_id = "o";
  e.seq = seq;
  e.client_event_id = std::move(client_id);
  e.payload = std::move(payload);
  return e;
}

// The seq FindClientEvent answers with, 0 for none.
EventSeq FoundSeq(const StoreState& state, const SessionEntry& s,
                  std::string_view id) {
  Result<std::optional<Event>> r = state.FindClientEvent(s, id);
  EXPECT_TRUE(r.ok()) << r.error();
  if (!r.ok() || !*r) return 0;
  EXPECT_EQ((*r)->client_event_id, std::optional<std::string>(id));
  return (*r)->seq;
}

TEST_F(StoreStateTest, ClientEventIdOfADroppedEventNoLongerDedupes) {
  record::Mutation m;
  m.UpsertSession(S("s", "o", 1));
  m.AppendEvents("t", "s", {E(1, "c1")});
  Apply(std::move(m));
  const SessionEntry* s = state_.FindSessionInTenant("t", "s");
  EXPECT_EQ(FoundSeq(state_, *s, "c1"), 1u);
  EXPECT_EQ(FoundSeq(state_, *s, "c2"), 0u);
  record::Mutation drop;
  drop.DropEvents("t", "s", 1);
  Apply(std::move(drop));
  EXPECT_EQ(FoundSeq(state_, *s, "c1"), 0u);
  EXPECT_EQ(state_.counters().events_retained, 0u);
  EXPECT_EQ(state_.counters().events_dropped_retention, 1u);
  // The id may be used again, and then dedupes to the new event.
  record::Mutation again;
  again.AppendEvents("t", "s", {E(2, "c1")});
  Apply(std::move(again));
  EXPECT_EQ(FoundSeq(state_, *s, "c1"), 2u);
}

// Two ids with the same 32-bit tag: each finds its own event, never the
// other's, whichever was stored first.
TEST(StoreStateClientIdTest, CollidingIdsNeverAnswerWithTheOtherEvent) {
  const ClientIdKey key{1, 2};
  StoreState state(MemoryEventLog::Factory(), key);
  auto [a, b] = CollidingClientIds(key);
  ASSERT_EQ(ClientIdTag(key, a), ClientIdTag(key, b));
  record::Mutation m;
  m.UpsertSession(S("s", "o", 1));
  m.AppendEvents("t", "s", {E(1, a, "{\"v\":\"a\"}"), E(2, std::nullopt)});
  ASSERT_TRUE(state.Apply(std::move(m)).ok());
  const SessionEntry* s = state.FindSessionInTenant("t", "s");
  EXPECT_EQ(FoundSeq(state, *s, b), 0u) << "b must not dedupe to a's event";
  record::Mutation more;
  more.AppendEvents("t", "s", {E(3, b, "{\"v\":\"b\"}")});
  ASSERT_TRUE(state.Apply(std::move(more)).ok());
  EXPECT_EQ(FoundSeq(state, *s, a), 1u);
  EXPECT_EQ(FoundSeq(state, *s, b), 3u);
  // Once a's event is dropped, only b's remains.
  record::Mutation drop;
  drop.DropEvents("t", "s", 2);
  ASSERT_TRUE(state.Apply(std::move(drop)).ok());
  EXPECT_EQ(FoundSeq(state, *s, a), 0u);
  EXPECT_EQ(FoundSeq(state, *s, b), 3u);
}

TEST(StoreStateClientIdTest, KeyCanBeSetOnlyWhileEmpty) {
  StoreState state(MemoryEventLog::Factory(), ClientIdKey{1, 2});
  EXPECT_TRUE(state.SetClientIdKey(ClientIdKey{3, 4}).ok());
  EXPECT_EQ(state.client_id_key(), (ClientIdKey{3, 4}));
  record::Mutation m;
  m.UpsertSession(S("s", "o", 1));
  ASSERT_TRUE(state.Apply(std::move(m)).ok());
  EXPECT_FALSE(state.SetClientIdKey(ClientIdKey{5, 6}).ok());
}

TEST(StoreStateClientIdTest, IndexBytesAreCountedAndReturnedOnDelete) {
  StoreState state(MemoryEventLog::Factory(), ClientIdKey{1, 2});
  record::Mutation m;
  m.UpsertSession(S("s", "o", 1));
  std::vector<Event> events;
  for (EventSeq seq = 1; seq <= 1000; ++seq) {
    events.push_back(E(seq, "c" + std::to_string(seq)));
  }
  m.AppendEvents("t", "s", std::move(events));
  ASSERT_TRUE(state.Apply(std::move(m)).ok());
  const uint64_t bytes = state.counters().client_id_index_bytes;
  EXPECT_GT(bytes, 0u);
  EXPECT_LE(bytes, 16u * 1000);
  EXPECT_EQ(bytes,
            state.FindSessionInTenant("t", "s")->client_ids.memory_bytes());
  Session closed = S("s", "o", 2);
  closed.status = SessionStatus::kClosed;
  record::Mutation del;
  del.UpsertSession(closed);
  del.DeleteSession("t", "s");
  ASSERT_TRUE(state.Apply(std::move(del)).ok());
  EXPECT_EQ(state.counters().client_id_index_bytes, 0u);
}

TEST_F(StoreStateTest, EndedSessionsAreIndexedByEndTime) {
  Session s = S("s", "o", 1);
  s.status = SessionStatus::kClosed;
  s.closed_at = 50;
  record::Mutation m;
  m.UpsertSession(s);
  Apply(std::move(m));
  EXPECT_TRUE(state_.SessionsEndedBy(49).empty());
  EXPECT_EQ(state_.SessionsEndedBy(50).size(), 1u);
  EXPECT_TRUE(state_.SessionsWithEventsEndedBy(50).empty());
}

// A log that, like the file engine's, hides from Read() the events not yet
// acknowledged (waiting for their fdatasync) but still has them for Get().
class UnacknowledgedTailLog : public EventLog {
 public:
  explicit UnacknowledgedTailLog(EventSeq* visible_through,
                                 EventSeq damaged = 0)
      : visible_through_(visible_through), damaged_(damaged) {}
  EventStreamInfo Info() const override { return log_.Info(); }
  void Append(Event event) override { log_.Append(std::move(event)); }
  uint64_t DropThrough(EventSeq seq) override { return log_.DropThrough(seq); }
  uint64_t AdvanceTo(EventSeq seq) override { return log_.AdvanceTo(seq); }
  Status Read(EventSeq after, size_t limit, uint64_t max_bytes,
              std::vector<Event>* out) const override {
    std::vector<Event> all;
    ACPSTORE_RETURN_IF_ERROR(log_.Read(after, limit, max_bytes, &all));
    for (Event& e : all) {
      // As FileEventLog::Read: the events before a damaged one, then
      // data_loss.
      if (e.seq == damaged_) return Status::DataLoss("event checksum");
      if (e.seq <= *visible_through_) out->push_back(std::move(e));
    }
    return Status::OK();
  }
  Result<Event> Get(EventSeq seq) const override {
    if (seq == damaged_) return Status::DataLoss("event checksum");
    return log_.Get(seq);
  }

 private:
  MemoryEventLog log_;
  EventSeq* visible_through_;
  EventSeq damaged_;
};

// One session "s" whose log is an UnacknowledgedTailLog, with message
// deltas "part1 " .. "part<n> " (seqs 1..n) folded.
std::unique_ptr<StoreState> StateWithDeltas(EventSeq n, EventSeq* visible_through,
                                            EventSeq damaged = 0) {
  auto state = std::make_unique<StoreState>([=](const Session&) {
    return std::unique_ptr<EventLog>(
        std::make_unique<UnacknowledgedTailLog>(visible_through, damaged));
  });
  state->set_transcript_limits(transcript::Limits{});
  record::Mutation create;
  create.UpsertSession(S("s", "alice", 1));
  EXPECT_TRUE(state->Apply(std::move(create)).ok());
  std::vector<Event> events;
  for (EventSeq seq = 1; seq <= n; ++seq) {
    Event e;
    e.seq = seq;
    e.event_type = "message.delta";
    e.occurred_at = 1;
    e.payload = R"({"messageId":"m","text":"part)" + std::to_string(seq) + R"( "})";
    events.push_back(std::move(e));
  }
  record::Mutation append;
  append.AppendEvents("t", "s", events);
  EXPECT_TRUE(state->Apply(std::move(append)).ok());
  return state;
}

// Decision 0033: a fold that finds its transcript damaged rebuilds it from
// the session's retained events, and the appends before it may still wait
// for their fdatasync (invisible to Read): the rebuild takes those from
// Get, so the transcript is whole and complete, and counted as damage.
TEST(StoreStateRebuildTest, ARebuildFoldsEventsNotYetAcknowledged) {
  EventSeq visible_through = 6;
  std::unique_ptr<StoreState> state = StateWithDeltas(6, &visible_through);
  visible_through = 2;  // 3..6 still wait for their fdatasync

  ASSERT_TRUE(state->RebuildDamagedTranscript("t", "s").ok());
  const SessionEntry* e = state->FindSessionInTenant("t", "s");
  ASSERT_NE(e, nullptr);
  EXPECT_TRUE(e->transcript.complete());
  EXPECT_EQ(e->transcript.folded_seq(), 6u);
  ASSERT_EQ(e->transcript.size(), 1u);
  EXPECT_EQ(e->transcript.at(e->transcript.first_index()).text,
            "part1 part2 part3 part4 part5 part6 ");
  EXPECT_EQ(state->counters().transcripts_rebuilt, 1u);
}

// An event that cannot be read (its checksum) is the only one a rebuild
// leaves out: the events before it in the same read are folded, not
// dropped with it (they were, up to a page of 1000, found by a review).
TEST(StoreStateRebuildTest, ARebuildSkipsOnlyTheEventItCannotRead) {
  EventSeq visible_through = 8;
  std::unique_ptr<StoreState> state =
      StateWithDeltas(8, &visible_through, /*damaged=*/5);
  ASSERT_TRUE(state->RebuildDamagedTranscript("t", "s").ok());
  const SessionEntry* e = state->FindSessionInTenant("t", "s");
  ASSERT_NE(e, nullptr);
  EXPECT_FALSE(e->transcript.complete());
  EXPECT_EQ(e->transcript.folded_seq(), 8u);
  ASSERT_EQ(e->transcript.size(), 1u);
  EXPECT_EQ(e->transcript.at(e->transcript.first_index()).text,
            "part1 part2 part3 part4 part6 part7 part8 ");
}

// Postgres counts drops from the decision (it keeps no StoreState); the
// memory and file engines from Apply. Both must agree: a stream under its
// cap, one batch passing it, one longer than the cap, one after a
// retention pass dropped everything.
TEST_F(StoreStateTest, AnAppendDecisionCountsTheDropsApplyCounts) {
  record::Mutation m;
  m.UpsertSession(S("s", "o", 1));
  Apply(std::move(m));
  StoreOptions options;
  options.retention.max_events_per_session = 5;
  const DecideContext ctx{10, &options};
  auto append = [&](size_t n) {
    AppendRequest req;
    for (size_t i = 0; i < n; ++i) {
      NewEvent e;
      e.event_type = "x";
      e.payload = "{}";
      req.events.push_back(std::move(e));
    }
    Result<Decision<AppendResult>> d =
        DecideAppendEvents(state_, ctx, Owner("o"), "s", std::move(req));
    EXPECT_TRUE(d.ok()) << d.error();
    if (!d.ok()) return std::pair<uint64_t, uint64_t>{0, 0};
    const uint64_t before = state_.counters().events_dropped_retention;
    const uint64_t decided = d->events_dropped;
    Apply(std::move(d->mutation));
    return std::pair<uint64_t, uint64_t>{
        decided, state_.counters().events_dropped_retention - before};
  };
  for (size_t n : {3, 1, 4, 12, 2}) {
    const auto [decided, applied] = append(n);
    EXPECT_EQ(decided, applied) << n << " events";
  }
  EXPECT_EQ(state_.counters().events_dropped_retention, 22u - 5u);
  record::Mutation all;
  all.DropEvents("t", "s", 22);
  Apply(std::move(all));
  const auto [decided, applied] = append(7);
  EXPECT_EQ(decided, 2u);
  EXPECT_EQ(applied, 2u);
}

}  // namespace
}  // namespace acpstore::engine
