// Conformance scenarios for leasing actions (SPEC §2.3): eligibility and
// order, filters, lease tokens, heartbeat, complete, fail (with and without
// retry), the expiry sweep with its backoff and dead letter, and scope.

#include <string>

#include "store_conformance.h"

namespace acpstore::conformance {
namespace {

using ::testing::HasSubstr;

NewAction At(std::string session_id, std::string id,
             std::optional<TimestampMs> available_at = std::nullopt,
             ActionType type = ActionType::kPrompt) {
  NewAction req;
  req.session_id = std::move(session_id);
  req.action_id = std::move(id);
  req.available_at = available_at;
  req.type = type;
  return req;
}

// ---------------------------------------------------------- order, filters

TEST_P(StoreConformance, LeaseTakesEligibleActionsBySmallestAvailableCreated) {
  CreateSession("s-1");
  Enqueue(At("s-1", "late", kT0 + 5000));
  Enqueue(At("s-1", "first"));
  Enqueue(At("s-1", "second"));  // same times as "first": insertion order
  Advance(10);
  Enqueue(At("s-1", "third"));           // available kT0 + 10
  Enqueue(At("s-1", "backdated", kT0));  // available kT0, created later

  EXPECT_EQ(Lease().action_id, "first");
  EXPECT_EQ(Lease().action_id, "second");
  EXPECT_EQ(Lease().action_id, "backdated");
  EXPECT_EQ(Lease().action_id, "third");
  EXPECT_FALSE(TryLease().has_value()) << "'late' is not available yet";

  clock().Set(kT0 + 4999);
  EXPECT_FALSE(TryLease().has_value());
  clock().Set(kT0 + 5000);
  EXPECT_EQ(Lease().action_id, "late");
}

TEST_P(StoreConformance, LeaseFiltersBySessionAndTypes) {
  CreateSession("s-1");
  CreateSession("s-2");
  Enqueue(At("s-1", "p1", {}, ActionType::kPrompt));
  Enqueue(At("s-1", "a1", {}, ActionType::kApprove));
  Enqueue(At("s-2", "p2", {}, ActionType::kPrompt));

  EXPECT_FALSE(TryLease({.session_id = "s-2", .types = {ActionType::kApprove}})
                   .has_value());
  EXPECT_EQ(Lease({.session_id = "s-2"}).action_id, "p2");
  EXPECT_EQ(
      Lease({.types = {ActionType::kReject, ActionType::kApprove}}).action_id,
      "a1");
  // A filter naming no session of the caller finds nothing; whether that is
  // an empty lease or kNotFound SPEC leaves open.
  Result<std::optional<Action>> unknown =
      db().LeaseAction(kAlice, {.session_id = "nope"});
  if (unknown.ok()) {
    EXPECT_FALSE(unknown->has_value());
  } else {
    EXPECT_THAT(unknown, FailsWith(StatusCode::kNotFound));
  }
  EXPECT_EQ(Lease().action_id, "p1");
}

TEST_P(StoreConformance, LeaseWithNothingEligibleReturnsNothing) {
  EXPECT_FALSE(TryLease().has_value());
  CreateSession("s-1");
  Enqueue(At("s-1", "future", kT0 + 1000));
  EXPECT_FALSE(TryLease().has_value());
  Enqueue(At("s-1", "now"));
  Lease();
  EXPECT_FALSE(TryLease().has_value()) << "a leased action is not eligible";
}

TEST_P(StoreConformance, LeaseMsIsOneSecondToOneHour) {
  CreateSession("s-1");
  Enqueue(At("s-1", "a"));
  Enqueue(At("s-1", "b"));
  EXPECT_THAT(db().LeaseAction(kAlice, {.lease_ms = 999}),
              FailsOnField(StatusCode::kInvalidArgument, "leaseMs"));
  EXPECT_THAT(db().LeaseAction(kAlice, {.lease_ms = 3'600'001}),
              FailsOnField(StatusCode::kInvalidArgument, "leaseMs"));
  Action a = Lease({.lease_ms = 1000});
  EXPECT_EQ(a.leased_until, Now() + 1000);
  Action b = Lease({.lease_ms = 3'600'000});
  EXPECT_EQ(b.leased_until, Now() + 3'600'000);

  EXPECT_THAT(db().HeartbeatAction(kAlice, "a", a.lease_token, 999),
              FailsOnField(StatusCode::kInvalidArgument, "leaseMs"));
  EXPECT_THAT(db().HeartbeatAction(kAlice, "a", a.lease_token, 3'600'001),
              FailsOnField(StatusCode::kInvalidArgument, "leaseMs"));
}

// ------------------------------------------------------------------ tokens

TEST_P(StoreConformance, LeaseIssuesTokenSeenOnlyByTheLeaseHolder) {
  CreateSession("s-1");
  Enqueue(At("s-1", "a"));
  Advance(20);
  Action leased = Lease({.lease_ms = 30'000});
  EXPECT_EQ(leased.status, ActionStatus::kLeased);
  EXPECT_FALSE(leased.lease_token.empty());
  EXPECT_EQ(leased.attempt_count, 1u);
  EXPECT_EQ(leased.leased_until, kT0 + 20 + 30'000);
  EXPECT_EQ(leased.updated_at, kT0 + 20);

  Action got = GetAction("a");
  EXPECT_EQ(got.status, ActionStatus::kLeased);
  EXPECT_TRUE(got.lease_token.empty());
  EXPECT_EQ(got.leased_until, leased.leased_until);
  for (const Action& listed : Must(db().ListActions(kAlice, {})).actions) {
    EXPECT_TRUE(listed.lease_token.empty());
  }
  EXPECT_TRUE(GetAction("a", kReader).lease_token.empty());
}

TEST_P(StoreConformance, EveryLeaseIssuesANewToken) {
  CreateSession("s-1");
  Enqueue(At("s-1", "a"));
  Action first = Lease();
  Must(db().FailAction(kAlice, "a", first.lease_token, {}, /*retry=*/true));
  Advance(1000);
  Action second = Lease();
  EXPECT_EQ(second.action_id, "a");
  EXPECT_EQ(second.attempt_count, 2u);
  EXPECT_NE(second.lease_token, first.lease_token);
  EXPECT_THAT(db().CompleteAction(kAlice, "a", first.lease_token),
              FailsWith(StatusCode::kStaleLease));
  EXPECT_OK(db().CompleteAction(kAlice, "a", second.lease_token));
}

TEST_P(StoreConformance, WrongTokenIsStaleLease) {
  CreateSession("s-1");
  Enqueue(At("s-1", "held"));
  Enqueue(At("s-1", "waiting"));
  Action leased = Lease({.session_id = "s-1"});
  ASSERT_EQ(leased.action_id, "held");
  const std::string wrong = "not-the-token";
  EXPECT_THAT(db().CompleteAction(kAlice, "held", wrong),
              FailsWith(StatusCode::kStaleLease));
  EXPECT_THAT(db().FailAction(kAlice, "held", wrong, {}, false),
              FailsWith(StatusCode::kStaleLease));
  EXPECT_THAT(db().HeartbeatAction(kAlice, "held", wrong, 5000),
              FailsWith(StatusCode::kStaleLease));
  // "waiting" was never leased: no token is current.
  EXPECT_THAT(db().CompleteAction(kAlice, "waiting", leased.lease_token),
              FailsWith(StatusCode::kStaleLease));
  EXPECT_EQ(GetAction("held").status, ActionStatus::kLeased);
  EXPECT_EQ(GetAction("waiting").status, ActionStatus::kQueued);
}

// ------------------------------------------------- heartbeat, complete, fail

TEST_P(StoreConformance, HeartbeatExtendsTheLease) {
  CreateSession("s-1");
  Enqueue(At("s-1", "a"));
  Action leased = Lease({.lease_ms = 5000});
  Advance(4000);
  Action beat =
      Must(db().HeartbeatAction(kAlice, "a", leased.lease_token, 10'000));
  EXPECT_EQ(beat.leased_until, Now() + 10'000);
  EXPECT_EQ(beat.status, ActionStatus::kLeased);
  EXPECT_EQ(beat.attempt_count, 1u);  // a heartbeat is not a new attempt

  Advance(9000);  // past the first deadline, inside the extended one
  MaintenanceReport report = Maintain();
  EXPECT_EQ(report.leases_requeued, 0u);
  EXPECT_EQ(GetAction("a").status, ActionStatus::kLeased);
  EXPECT_OK(db().CompleteAction(kAlice, "a", leased.lease_token));
}

TEST_P(StoreConformance, CompleteRecordsResult) {
  CreateSession("s-1");
  Enqueue(At("s-1", "a"));
  Action leased = Lease();
  Advance(250);
  Action done = Must(db().CompleteAction(kAlice, "a", leased.lease_token,
                                         R"({"ok":true,"exit":0})"));
  EXPECT_EQ(done.status, ActionStatus::kCompleted);
  EXPECT_EQ(done.completed_at, kT0 + 250);
  EXPECT_EQ(done.updated_at, kT0 + 250);
  EXPECT_EQ(done.result_metadata, R"({"exit":0,"ok":true})");
  EXPECT_FALSE(done.leased_until.has_value());
  EXPECT_EQ(GetAction("a").result_metadata, done.result_metadata);
  EXPECT_THAT(db().HeartbeatAction(kAlice, "a", leased.lease_token, 5000),
              FailsWith(StatusCode::kStaleLease));
}

TEST_P(StoreConformance, FailWithoutRetryFailsTheAction) {
  CreateSession("s-1");
  Enqueue(At("s-1", "a"));
  Action leased = Lease();
  Advance(7);
  Action failed = Must(db().FailAction(kAlice, "a", leased.lease_token,
                                       R"({"reason":"tool crashed"})", false));
  EXPECT_EQ(failed.status, ActionStatus::kFailed);
  EXPECT_EQ(failed.failed_at, kT0 + 7);
  EXPECT_EQ(failed.error_metadata, R"({"reason":"tool crashed"})");
  EXPECT_FALSE(TryLease().has_value());
}

TEST_P(StoreConformance, FailWithRetryRequeuesWithBackoffUntilMaxAttempts) {
  CreateSession("s-1");
  Enqueue(At("s-1", "a"));

  Action first = Lease();
  Action retry1 =
      Must(db().FailAction(kAlice, "a", first.lease_token, R"({"n":1})", true));
  EXPECT_EQ(retry1.status, ActionStatus::kQueued);
  EXPECT_EQ(retry1.available_at, Now() + 1000);
  EXPECT_EQ(retry1.attempt_count, 1u);
  EXPECT_FALSE(retry1.leased_until.has_value());
  Advance(999);
  EXPECT_FALSE(TryLease().has_value());
  Advance(1);

  Action second = Lease();
  EXPECT_EQ(second.attempt_count, 2u);
  Action retry2 =
      Must(db().FailAction(kAlice, "a", second.lease_token, {}, true));
  EXPECT_EQ(retry2.available_at, Now() + 2000);
  Advance(2000);

  Action third = Lease();
  EXPECT_EQ(third.attempt_count, 3u);
  Action last = Must(db().FailAction(kAlice, "a", third.lease_token, {}, true));
  EXPECT_EQ(last.status, ActionStatus::kFailed);  // 3 attempts were the max
  EXPECT_EQ(last.failed_at, Now());
}

// A fail's errorMetadata describes that failure: one sent without it clears
// the previous attempt's, which it kept before (found by a probe).
TEST_P(StoreConformance, FailWithoutErrorMetadataClearsThePreviousAttempts) {
  CreateSession("s-1");
  Enqueue(At("s-1", "a"));
  Action first = Lease();
  Action retry1 = Must(db().FailAction(kAlice, "a", first.lease_token,
                                       R"({"reason":"timeout"})", true));
  EXPECT_EQ(retry1.error_metadata, R"({"reason":"timeout"})");
  Advance(1000);

  Action second = Lease();
  Action retry2 =
      Must(db().FailAction(kAlice, "a", second.lease_token, {}, true));
  EXPECT_EQ(retry2.status, ActionStatus::kQueued);
  EXPECT_FALSE(retry2.error_metadata.has_value()) << *retry2.error_metadata;
  EXPECT_FALSE(GetAction("a").error_metadata.has_value());

  // Not only a requeue: a fail for good without errorMetadata has none.
  CreateSession("s-2");
  Enqueue(At("s-2", "b"));
  Action b1 = Lease({.session_id = "s-2"});
  Must(db().FailAction(kAlice, "b", b1.lease_token, R"({"n":1})", true));
  Advance(1000);
  Action b2 = Lease({.session_id = "s-2"});
  Action failed = Must(db().FailAction(kAlice, "b", b2.lease_token, {}, false));
  EXPECT_EQ(failed.status, ActionStatus::kFailed);
  EXPECT_FALSE(failed.error_metadata.has_value());
  EXPECT_FALSE(GetAction("b").error_metadata.has_value());
}

// ------------------------------------------------------------ expiry sweep

// An expiry is a failed attempt too: requeued, the action's errorMetadata
// says so rather than keeping an earlier fail's (found by a review).
TEST_P(StoreConformance, ExpiryThatRequeuesRecordsLeaseExpired) {
  CreateSession("s-1");
  Enqueue(At("s-1", "a"));
  Action first = Lease();
  Must(db().FailAction(kAlice, "a", first.lease_token,
                       R"({"reason":"timeout"})", true));
  Advance(1000);
  Lease({.lease_ms = 1000});
  Advance(1001);
  EXPECT_EQ(Maintain().leases_requeued, 1u);
  Action requeued = GetAction("a");
  EXPECT_EQ(requeued.status, ActionStatus::kQueued);
  EXPECT_EQ(requeued.error_metadata, R"({"reason":"lease_expired"})");
}

TEST_P(StoreConformance, LiveLeaseIsNotSwept) {
  CreateSession("s-1");
  Enqueue(At("s-1", "a"));
  Lease({.lease_ms = 5000});
  Advance(4999);
  MaintenanceReport report = Maintain();
  EXPECT_EQ(report.leases_requeued, 0u);
  EXPECT_EQ(report.leases_dead_lettered, 0u);
  EXPECT_EQ(GetAction("a").status, ActionStatus::kLeased);
}

TEST_P(StoreConformance, ExpiredLeaseIsRequeuedWithDoublingBackoff) {
  CreateSession("s-1");
  Enqueue(At("s-1", "a"));

  Action first = Lease({.lease_ms = 1000});
  Advance(1001);
  MaintenanceReport report = Maintain();
  EXPECT_EQ(report.leases_requeued, 1u);
  Action requeued = GetAction("a");
  EXPECT_EQ(requeued.status, ActionStatus::kQueued);
  EXPECT_EQ(requeued.available_at, Now() + 1000);
  EXPECT_EQ(requeued.attempt_count, 1u);
  EXPECT_FALSE(requeued.leased_until.has_value());

  // The sweep made the old token stale.
  EXPECT_THAT(db().CompleteAction(kAlice, "a", first.lease_token),
              FailsWith(StatusCode::kStaleLease));
  EXPECT_THAT(db().HeartbeatAction(kAlice, "a", first.lease_token, 5000),
              FailsWith(StatusCode::kStaleLease));
  EXPECT_THAT(db().FailAction(kAlice, "a", first.lease_token, {}, true),
              FailsWith(StatusCode::kStaleLease));

  EXPECT_FALSE(TryLease().has_value());
  Advance(1000);
  Action second = Lease({.lease_ms = 1000});
  EXPECT_EQ(second.attempt_count, 2u);
  Advance(1001);
  EXPECT_EQ(Maintain().leases_requeued, 1u);
  EXPECT_EQ(GetAction("a").available_at, Now() + 2000);
  EXPECT_EQ(GetAction("a").attempt_count, 2u);
}

TEST_P(StoreConformance, ExpiredLeaseIsDeadLetteredAfterMaxAttempts) {
  CreateSession("s-1");
  Enqueue(At("s-1", "a"));
  for (uint32_t attempt = 1; attempt <= 3; ++attempt) {
    SCOPED_TRACE(attempt);
    Action leased = Lease({.lease_ms = 1000});
    EXPECT_EQ(leased.attempt_count, attempt);
    Advance(1001);
    MaintenanceReport report = Maintain();
    if (attempt < 3) {
      EXPECT_EQ(report.leases_requeued, 1u);
      Advance(10'000);  // past any backoff
    } else {
      EXPECT_EQ(report.leases_dead_lettered, 1u);
      EXPECT_EQ(report.leases_requeued, 0u);
    }
  }
  Action dead = GetAction("a");
  EXPECT_EQ(dead.status, ActionStatus::kFailed);
  EXPECT_EQ(dead.failed_at, Now());
  ASSERT_TRUE(dead.error_metadata.has_value());
  EXPECT_THAT(*dead.error_metadata, HasSubstr(R"("reason":"lease_expired")"));
  EXPECT_FALSE(TryLease().has_value());
}

TEST_P(StoreConformance, LeaseBackoffIsCappedByMaxBackoff) {
  options().leases.max_attempts = 5;
  options().leases.initial_backoff_ms = 1000;
  options().leases.max_backoff_ms = 1500;
  CreateSession("s-1");
  Enqueue(At("s-1", "a"));
  const int64_t expected_backoff[] = {1000, 1500, 1500, 1500};
  for (int64_t backoff : expected_backoff) {
    Lease({.lease_ms = 1000});
    Advance(1001);
    EXPECT_EQ(Maintain().leases_requeued, 1u);
    EXPECT_EQ(GetAction("a").available_at, Now() + backoff);
    Advance(backoff);
  }
  Lease({.lease_ms = 1000});
  Advance(1001);
  EXPECT_EQ(Maintain().leases_dead_lettered, 1u);
}

// ------------------------------------------------------------------- scope

TEST_P(StoreConformance, LeaseIsConfinedToScope) {
  CreateSession("a-1", kAlice);
  Enqueue(At("a-1", "act-1"));
  EXPECT_FALSE(TryLease({}, kBob).has_value());
  EXPECT_FALSE(TryLease({}, kStranger).has_value());
  EXPECT_THAT(db().LeaseAction(kReader, {}), FailsWith(StatusCode::kForbidden));

  Action leased = Lease({}, kAdmin);  // an admin works the tenant's queue
  EXPECT_EQ(leased.action_id, "act-1");
  EXPECT_THAT(db().CompleteAction(kBob, "act-1", leased.lease_token),
              FailsWith(StatusCode::kNotFound));
  EXPECT_OK(db().CompleteAction(kAlice, "act-1", leased.lease_token));
}

}  // namespace
}  // namespace acpstore::conformance
