// Tests for StoreState: Apply keeps every index in step with the records.

#include "engine/state.h"

#include <gtest/gtest.h>

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

TEST_F(StoreStateTest, ClientEventIdOfADroppedEventNoLongerDedupes) {
  record::Mutation m;
  m.UpsertSession(S("s", "o", 1));
  Event e;
  e.seq = 1;
  e.client_event_id = "c1";
  m.AppendEvents("t", "s", {e});
  Apply(std::move(m));
  const SessionEntry* s = state_.FindSessionInTenant("t", "s");
  EXPECT_EQ(state_.FindClientEvent(*s, "c1"), std::optional<EventSeq>(1));
  record::Mutation drop;
  drop.DropEvents("t", "s", 1);
  Apply(std::move(drop));
  EXPECT_EQ(state_.FindClientEvent(*s, "c1"), std::nullopt);
  EXPECT_EQ(state_.counters().events_retained, 0u);
  EXPECT_EQ(state_.counters().events_dropped_retention, 1u);
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

}  // namespace
}  // namespace acpstore::engine
