// Conformance scenarios for the action queue outside leasing (SPEC §2.3,
// §5.3): enqueue, ids, idempotency keys, cancel, listing and scope. Leases
// are in conformance_leases_test.cc.

#include <set>
#include <string>
#include <vector>

#include "store_conformance.h"

namespace acpstore::conformance {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

NewAction Prompt(std::string session_id) {
  NewAction req;
  req.session_id = std::move(session_id);
  return req;
}

NewAction Keyed(std::string session_id, std::string key, ActionType type,
                std::optional<std::string> metadata) {
  NewAction req;
  req.session_id = std::move(session_id);
  req.idempotency_key = std::move(key);
  req.type = type;
  req.metadata = std::move(metadata);
  return req;
}

// Follows next_cursor to the end.
std::vector<std::string> AllPages(BlockingStore& db, const Scope& scope,
                                  ActionQuery query) {
  std::vector<std::string> ids;
  for (int pages = 0; pages < 100; ++pages) {
    Result<ActionPage> page = db.ListActions(scope, query);
    EXPECT_OK(page);
    if (!page.ok()) return ids;
    EXPECT_LE(page->actions.size(), query.limit);
    for (const Action& a : page->actions) {
      ids.push_back(a.action_id);
      EXPECT_TRUE(a.lease_token.empty());
    }
    if (!page->next_cursor.has_value()) return ids;
    query.cursor = *page->next_cursor;
  }
  ADD_FAILURE() << "paging did not end";
  return ids;
}

// ----------------------------------------------------------------- enqueue

TEST_P(StoreConformance, EnqueueActionWithDefaults) {
  SessionIn(SessionStatus::kRunning, "s-1");
  Advance(3);
  NewAction req = Prompt("s-1");
  req.approval_id = "ap-1";
  req.control_request_id = "cr-1";
  req.metadata = R"({"b":2,"a":"x"})";
  EnqueueResult r = Must(db().EnqueueAction(kAlice, std::move(req)));
  const Action& a = r.action;

  EXPECT_TRUE(r.created);
  EXPECT_TRUE(IsUuidV4(a.action_id)) << a.action_id;
  EXPECT_EQ(a.session_id, "s-1");
  EXPECT_EQ(a.tenant_id, "t1");
  EXPECT_EQ(a.owner_key_id, "alice");
  EXPECT_EQ(a.type, ActionType::kPrompt);
  EXPECT_EQ(a.status, ActionStatus::kQueued);
  EXPECT_EQ(a.created_at, kT0 + 3);
  EXPECT_EQ(a.available_at, kT0 + 3);
  EXPECT_EQ(a.updated_at, kT0 + 3);
  EXPECT_EQ(a.attempt_count, 0u);
  EXPECT_FALSE(a.leased_until.has_value());
  EXPECT_TRUE(a.lease_token.empty());
  EXPECT_EQ(a.approval_id, "ap-1");
  EXPECT_EQ(a.control_request_id, "cr-1");
  EXPECT_EQ(a.metadata, R"({"a":"x","b":2})");
  EXPECT_FALSE(a.completed_at.has_value());

  Action got = GetAction(a.action_id);
  EXPECT_EQ(got.status, ActionStatus::kQueued);
  EXPECT_EQ(got.metadata, a.metadata);
}

TEST_P(StoreConformance, EnqueueKeepsClientActionIdAndAvailableAt) {
  CreateSession("s-1");
  NewAction req = Prompt("s-1");
  req.action_id = "act-1";
  req.type = ActionType::kDriverTransfer;
  req.available_at = kT0 + 60'000;
  Action a = Enqueue(std::move(req));
  EXPECT_EQ(a.action_id, "act-1");
  EXPECT_EQ(a.type, ActionType::kDriverTransfer);
  EXPECT_EQ(a.available_at, kT0 + 60'000);
  EXPECT_EQ(a.created_at, kT0);
}

TEST_P(StoreConformance, EnqueueDuplicateActionIdIsConflictInTheTenant) {
  CreateSession("a-1", kAlice);
  CreateSession("b-1", kBob);
  NewAction first = Prompt("a-1");
  first.action_id = "act-1";
  Enqueue(first);
  EXPECT_THAT(db().EnqueueAction(kAlice, first),
              FailsWith(StatusCode::kConflict));
  NewAction bobs = Prompt("b-1");
  bobs.action_id = "act-1";
  EXPECT_THAT(db().EnqueueAction(kBob, bobs), FailsWith(StatusCode::kConflict));
  // Another tenant does not learn the id exists.
  CreateSession("x-1", kStranger);
  NewAction theirs = Prompt("x-1");
  theirs.action_id = "act-1";
  EXPECT_OK(db().EnqueueAction(kStranger, theirs));
}

TEST_P(StoreConformance, EnqueueRefusesBadIds) {
  CreateSession("s-1");
  for (const std::string& bad :
       {std::string(""), std::string(257, 'a'), std::string("a\x01") + "b",
        std::string("a\xc2\x9f") + "b"}) {
    SCOPED_TRACE(testing::PrintToString(bad));
    NewAction id = Prompt("s-1");
    id.action_id = bad;
    EXPECT_THAT(db().EnqueueAction(kAlice, id),
                FailsOnField(StatusCode::kInvalidArgument, "actionId"));
    NewAction approval = Prompt("s-1");
    approval.approval_id = bad;
    EXPECT_THAT(db().EnqueueAction(kAlice, approval),
                FailsOnField(StatusCode::kInvalidArgument, "approvalId"));
    NewAction control = Prompt("s-1");
    control.control_request_id = bad;
    EXPECT_THAT(db().EnqueueAction(kAlice, control),
                FailsOnField(StatusCode::kInvalidArgument, "controlRequestId"));
    NewAction key = Prompt("s-1");
    key.idempotency_key = bad;
    EXPECT_THAT(db().EnqueueAction(kAlice, key),
                FailsOnField(StatusCode::kInvalidArgument, "idempotencyKey"));
  }
  EXPECT_THAT(Must(db().ListActions(kAlice, {})).actions, IsEmpty());
}

TEST_P(StoreConformance, EnqueueForSessionOutsideScopeIsNotFound) {
  CreateSession("a-1", kAlice);
  EXPECT_THAT(db().EnqueueAction(kAlice, Prompt("nope")),
              FailsWith(StatusCode::kNotFound));
  EXPECT_THAT(db().EnqueueAction(kBob, Prompt("a-1")),
              FailsWith(StatusCode::kNotFound));
  EXPECT_THAT(db().EnqueueAction(kStranger, Prompt("a-1")),
              FailsWith(StatusCode::kNotFound));
  EXPECT_EQ(Enqueue(Prompt("a-1"), kAdmin).owner_key_id, "alice");
}

TEST_P(StoreConformance, GetActionOutsideScopeIsNotFound) {
  CreateSession("a-1", kAlice);
  Action a = Enqueue("a-1");
  EXPECT_THAT(db().GetAction(kAlice, "nope"), FailsWith(StatusCode::kNotFound));
  EXPECT_THAT(db().GetAction(kBob, a.action_id),
              FailsWith(StatusCode::kNotFound));
  EXPECT_THAT(db().GetAction(kStranger, a.action_id),
              FailsWith(StatusCode::kNotFound));
  EXPECT_OK(db().GetAction(kReader, a.action_id));
}

// ------------------------------------------------------------- idempotency

TEST_P(StoreConformance, IdempotencyKeyReplayReturnsTheSameAction) {
  CreateSession("s-1");
  EnqueueResult first = Must(db().EnqueueAction(
      kAlice, Keyed("s-1", "k-1", ActionType::kApprove, R"({"a":1,"b":2})")));
  Advance(10);
  // Same content, spelled differently: metadata compares canonically.
  EnqueueResult again =
      Must(db().EnqueueAction(kAlice, Keyed("s-1", "k-1", ActionType::kApprove,
                                            R"({ "b":2, "a":1 })")));
  EXPECT_TRUE(first.created);
  EXPECT_FALSE(again.created);
  EXPECT_EQ(again.action.action_id, first.action.action_id);
  EXPECT_EQ(again.action.created_at, kT0);
  EXPECT_EQ(Must(db().ListActions(kAlice, {})).actions.size(), 1u);
}

TEST_P(StoreConformance, IdempotencyKeyReplayReturnsTheActionAsItIsNow) {
  CreateSession("s-1");
  Action a = Must(db().EnqueueAction(
                      kAlice, Keyed("s-1", "k-1", ActionType::kPrompt, {})))
                 .action;
  Must(db().CompleteAction(kAlice, a.action_id, Lease().lease_token));
  EnqueueResult replay = Must(
      db().EnqueueAction(kAlice, Keyed("s-1", "k-1", ActionType::kPrompt, {})));
  EXPECT_FALSE(replay.created);
  EXPECT_EQ(replay.action.action_id, a.action_id);
  EXPECT_EQ(replay.action.status, ActionStatus::kCompleted);
  EXPECT_TRUE(replay.action.lease_token.empty());
}

TEST_P(StoreConformance, IdempotencyKeyWithDifferentContentIsConflict) {
  CreateSession("s-1");
  Must(db().EnqueueAction(
      kAlice, Keyed("s-1", "k-1", ActionType::kApprove, R"({"a":1})")));
  EXPECT_THAT(
      db().EnqueueAction(
          kAlice, Keyed("s-1", "k-1", ActionType::kReject, R"({"a":1})")),
      FailsWith(StatusCode::kIdempotencyConflict));
  EXPECT_THAT(
      db().EnqueueAction(
          kAlice, Keyed("s-1", "k-1", ActionType::kApprove, R"({"a":2})")),
      FailsWith(StatusCode::kIdempotencyConflict));
  EXPECT_THAT(
      db().EnqueueAction(kAlice, Keyed("s-1", "k-1", ActionType::kApprove, {})),
      FailsWith(StatusCode::kIdempotencyConflict));
  EXPECT_EQ(Must(db().ListActions(kAlice, {})).actions.size(), 1u);
}

TEST_P(StoreConformance, IdempotencyKeyIsScopedToItsSession) {
  CreateSession("s-1");
  CreateSession("s-2");
  Action a = Must(db().EnqueueAction(
                      kAlice, Keyed("s-1", "k-1", ActionType::kPrompt, {})))
                 .action;
  EnqueueResult b = Must(
      db().EnqueueAction(kAlice, Keyed("s-2", "k-1", ActionType::kPrompt, {})));
  EXPECT_TRUE(b.created);
  EXPECT_NE(b.action.action_id, a.action_id);
}

// ------------------------------------------------------------------ cancel

TEST_P(StoreConformance, CancelFromQueuedAndFromLeased) {
  CreateSession("s-1");
  Action queued = Enqueue("s-1");
  Advance(5);
  Action cancelled =
      Must(db().CancelAction(kAlice, queued.action_id, R"({"why":"user"})"));
  EXPECT_EQ(cancelled.status, ActionStatus::kCancelled);
  EXPECT_EQ(cancelled.cancelled_at, kT0 + 5);
  EXPECT_EQ(cancelled.error_metadata, R"({"why":"user"})");
  EXPECT_FALSE(TryLease().has_value());  // a cancelled action is not leased

  Action second = Enqueue("s-1");
  Action leased = Lease();
  ASSERT_EQ(leased.action_id, second.action_id);
  Action stopped = Must(db().CancelAction(kAlice, second.action_id));
  EXPECT_EQ(stopped.status, ActionStatus::kCancelled);
  EXPECT_FALSE(stopped.leased_until.has_value());
  // The worker that held the lease cannot finish it any more (stale lease
  // or invalid transition: SPEC names neither for this case).
  EXPECT_FALSE(
      db().CompleteAction(kAlice, second.action_id, leased.lease_token).ok());
  EXPECT_EQ(GetAction(second.action_id).status, ActionStatus::kCancelled);
}

TEST_P(StoreConformance, CancelOfTerminalActionIsInvalidTransition) {
  CreateSession("s-1");
  Action a = Enqueue("s-1");
  Must(db().CancelAction(kAlice, a.action_id));
  EXPECT_THAT(db().CancelAction(kAlice, a.action_id),
              FailsWith(StatusCode::kInvalidTransition));

  Action b = Enqueue("s-1");
  Action lb = Lease();
  Must(db().CompleteAction(kAlice, b.action_id, lb.lease_token));
  EXPECT_THAT(db().CancelAction(kAlice, b.action_id),
              FailsWith(StatusCode::kInvalidTransition));

  Action c = Enqueue("s-1");
  Action lc = Lease();
  Must(db().FailAction(kAlice, c.action_id, lc.lease_token, {}, false));
  EXPECT_THAT(db().CancelAction(kAlice, c.action_id),
              FailsWith(StatusCode::kInvalidTransition));
  EXPECT_EQ(GetAction(b.action_id).status, ActionStatus::kCompleted);
}

TEST_P(StoreConformance, CancelMissingActionIsNotFound) {
  EXPECT_THAT(db().CancelAction(kAlice, "nope"),
              FailsWith(StatusCode::kNotFound));
}

// ----------------------------------------------------------------- listing

TEST_P(StoreConformance, ListActionsBySessionAndStatusWithPaging) {
  CreateSession("s-1");
  CreateSession("s-2");
  std::vector<std::string> s1;
  for (int i = 0; i < 5; ++i) {
    s1.push_back(Enqueue("s-1").action_id);
    Enqueue("s-2");
    Advance(1);
  }
  // Newest created first.
  ActionQuery by_session;
  by_session.session_id = "s-1";
  by_session.limit = 2;
  EXPECT_THAT(AllPages(db(), kAlice, by_session),
              ElementsAre(s1[4], s1[3], s1[2], s1[1], s1[0]));

  ActionQuery everything;
  everything.limit = 3;
  std::vector<std::string> all = AllPages(db(), kAlice, everything);
  EXPECT_EQ(all.size(), 10u);
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()).size(), 10u);

  Action leased = Lease({.session_id = "s-1"});  // the oldest of s-1
  ASSERT_EQ(leased.action_id, s1[0]);
  Must(db().CancelAction(kAlice, s1[1]));
  ActionQuery leased_or_cancelled;
  leased_or_cancelled.session_id = "s-1";
  leased_or_cancelled.statuses = {ActionStatus::kLeased,
                                  ActionStatus::kCancelled};
  EXPECT_THAT(AllPages(db(), kAlice, leased_or_cancelled),
              UnorderedElementsAre(s1[0], s1[1]));
  ActionQuery queued;
  queued.session_id = "s-1";
  queued.statuses = {ActionStatus::kQueued};
  queued.limit = 1;
  EXPECT_THAT(AllPages(db(), kAlice, queued), ElementsAre(s1[4], s1[3], s1[2]));
}

TEST_P(StoreConformance, ListActionsCursorIsStableWhileActionsAreEnqueued) {
  CreateSession("s-1");
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(Enqueue("s-1").action_id);
    Advance(1);
  }
  ActionQuery q;
  q.limit = 2;
  ActionPage first = Must(db().ListActions(kAlice, q));
  ASSERT_TRUE(first.next_cursor.has_value());
  Enqueue("s-1");
  Enqueue("s-1");
  q.cursor = *first.next_cursor;
  EXPECT_THAT(AllPages(db(), kAlice, q), ElementsAre(ids[2], ids[1], ids[0]));
}

TEST_P(StoreConformance, ListActionsLimitIsOneToOneThousand) {
  ActionQuery q;
  q.limit = 0;
  EXPECT_THAT(db().ListActions(kAlice, q),
              FailsOnField(StatusCode::kInvalidArgument, "limit"));
  q.limit = 1001;
  EXPECT_THAT(db().ListActions(kAlice, q),
              FailsOnField(StatusCode::kInvalidArgument, "limit"));
}

TEST_P(StoreConformance, ListActionsShowsOnlyTheCallersScope) {
  CreateSession("a-1", kAlice);
  CreateSession("b-1", kBob);
  Action mine = Enqueue("a-1", ActionType::kPrompt, kAlice);
  Advance(1);
  Action bobs = Enqueue("b-1", ActionType::kPrompt, kBob);
  EXPECT_THAT(AllPages(db(), kAlice, {}), ElementsAre(mine.action_id));
  EXPECT_THAT(AllPages(db(), kReader, {}),
              ElementsAre(bobs.action_id, mine.action_id));
  EXPECT_THAT(AllPages(db(), kStranger, {}), IsEmpty());
}

}  // namespace
}  // namespace acpstore::conformance
