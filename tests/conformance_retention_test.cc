// Conformance scenarios for retention (SPEC §4): the per-session event
// cap, terminal event retention, session retention and action retention,
// the last three applied by RunMaintenance as of the ManualClock's now.
// Boundaries are probed one millisecond either side, never on the exact
// instant, which SPEC leaves open.

#include <string>

#include "store_conformance.h"

namespace acpstore::conformance {
namespace {

// ---------------------------------------------------- max events per session

TEST_P(StoreConformance, EventCapDropsOldestAndAdvancesFirstSeq) {
  options().retention.max_events_per_session = 5;
  CreateSession("s-1");
  AppendN("s-1", 8);

  EventStreamInfo info = Get("s-1").events;
  EXPECT_EQ(info.first_seq, 4u);
  EXPECT_EQ(info.last_seq, 8u);
  EXPECT_EQ(info.retained, 5u);
  EXPECT_EQ(info.bytes, 5 * std::string(R"({"i":0})").size());

  EventPage from_zero = List("s-1", 0);
  EXPECT_TRUE(from_zero.truncated);
  ASSERT_EQ(from_zero.events.size(), 5u);
  EXPECT_EQ(from_zero.events.front().seq, 4u);
  EXPECT_EQ(from_zero.first_seq, 4u);
  EXPECT_EQ(from_zero.last_seq, 8u);

  EXPECT_TRUE(List("s-1", 2).truncated);
  EventPage from_three = List("s-1", 3);
  EXPECT_FALSE(from_three.truncated);
  EXPECT_EQ(from_three.events.size(), 5u);
  EXPECT_FALSE(List("s-1", 6).truncated);
}

TEST_P(StoreConformance, EventCapNeverReusesSeq) {
  options().retention.max_events_per_session = 2;
  CreateSession("s-1");
  AppendN("s-1", 6);
  Event next = Append("s-1", {.event_type = "note", .payload = "7"});
  EXPECT_EQ(next.seq, 7u);
  EXPECT_EQ(Get("s-1").events.first_seq, 6u);
}

// Events the cap drops count in Stats().events_dropped_retention (/v1/stats
// eventsDroppedRetention, acpstore_retention_events_dropped_total) on every
// engine, as maintenance's drops do; found by a review: the postgres engine
// counted only its maintenance passes'. One at a time, then a batch larger
// than the cap, whose own oldest events go at once.
TEST_P(StoreConformance, EventCapDropsCountInStats) {
  options().retention.max_events_per_session = 3;
  CreateSession("s-1");
  const uint64_t before = store().Stats().events_dropped_retention;
  AppendN("s-1", 5);
  EXPECT_EQ(store().Stats().events_dropped_retention - before, 2u);
  AppendRequest batch;
  for (int i = 0; i < 5; ++i) {
    batch.events.push_back({.event_type = "note", .payload = "{}"});
  }
  Must(db().AppendEvents(kAlice, "s-1", std::move(batch)));
  EXPECT_EQ(Get("s-1").events.first_seq, 8u);
  EXPECT_EQ(store().Stats().events_dropped_retention - before, 7u);
  // A session under its cap drops nothing.
  CreateSession("s-2");
  AppendN("s-2", 3);
  EXPECT_EQ(store().Stats().events_dropped_retention - before, 7u);
}

TEST_P(StoreConformance, EventCapZeroMeansUnlimited) {
  options().retention.max_events_per_session = 0;
  CreateSession("s-1");
  AppendN("s-1", 30);
  EXPECT_EQ(Get("s-1").events.retained, 30u);
  EXPECT_EQ(Maintain().events_dropped, 0u);
}

// --------------------------------------------------- terminal event retention

TEST_P(StoreConformance, TerminalEventRetentionDropsEventsOfEndedSessions) {
  options().retention.terminal_event_retention_ms = 1000;
  options().retention.session_retention_ms = 0;  // keep the sessions
  SessionIn(SessionStatus::kRunning, "closed");
  SessionIn(SessionStatus::kRunning, "failed");
  SessionIn(SessionStatus::kRunning, "live");
  AppendN("closed", 3);
  AppendN("failed", 2);
  AppendN("live", 4);
  Transition("closed", SessionEvent::kCloseRequested);
  Transition("closed", SessionEvent::kCloseCompleted);
  Transition("failed", SessionEvent::kRuntimeFailed);

  Advance(999);
  EXPECT_EQ(Maintain().events_dropped, 0u);
  EXPECT_EQ(Get("closed").events.retained, 3u);

  Advance(2);
  MaintenanceReport report = Maintain();
  EXPECT_EQ(report.events_dropped, 5u);
  EXPECT_EQ(report.sessions_deleted, 0u);

  EventStreamInfo info = Get("closed").events;
  EXPECT_EQ(info.first_seq, 4u);  // last_seq + 1: nothing retained
  EXPECT_EQ(info.last_seq, 3u);
  EXPECT_EQ(info.retained, 0u);
  EXPECT_EQ(info.bytes, 0u);
  EventPage page = List("closed", 0);
  EXPECT_TRUE(page.events.empty());
  EXPECT_TRUE(page.truncated);
  EXPECT_EQ(page.first_seq, 4u);
  EXPECT_EQ(page.last_seq, 3u);
  EXPECT_EQ(Get("failed").events.first_seq, 3u);
  EXPECT_EQ(Get("live").events.retained, 4u);  // active: untouched

  Advance(100'000);
  EXPECT_EQ(Maintain().events_dropped, 0u);
}

// SPEC does not say whether a terminal session takes new events; if it
// does, the dropped seqs must not come back.
TEST_P(StoreConformance, SeqNeverReusedAfterRetentionDroppedEverything) {
  options().retention.terminal_event_retention_ms = 1000;
  options().retention.session_retention_ms = 0;
  SessionIn(SessionStatus::kRunning, "s-1");
  AppendN("s-1", 3);
  Transition("s-1", SessionEvent::kRuntimeFailed);
  Advance(1001);
  Maintain();
  ASSERT_EQ(Get("s-1").events.retained, 0u);

  Result<Event> late =
      db().Append(kAlice, "s-1", {.event_type = "note", .payload = "4"});
  if (late.ok()) {
    EXPECT_EQ(late->seq, 4u);
  }
  EXPECT_GE(Get("s-1").events.first_seq, 4u);
}

// ---------------------------------------------------------- session retention

TEST_P(StoreConformance, SessionRetentionDeletesEndedSessionWithAllItHas) {
  options().retention.session_retention_ms = 5000;
  options().retention.terminal_event_retention_ms = 0;  // keep events
  options().retention.action_retention_ms = 0;          // keep actions
  SessionIn(SessionStatus::kRunning, "ended");
  SessionIn(SessionStatus::kRunning, "live");
  AppendN("ended", 2);
  Action done = Enqueue("ended");
  Action waiting = Enqueue("ended");
  Action live_action = Enqueue("live");
  Must(db().CompleteAction(kAlice, done.action_id,
                           Lease({.session_id = "ended"}).lease_token));
  RequestPause("ended");
  Must(db().ResumeSession(kAlice, "ended", {.resumed_by = "op"}));
  Transition("ended", SessionEvent::kCloseRequested);
  Transition("ended", SessionEvent::kCloseCompleted);

  Advance(4999);
  EXPECT_EQ(Maintain().sessions_deleted, 0u);
  EXPECT_OK(db().GetSession(kAlice, "ended"));

  Advance(2);
  MaintenanceReport report = Maintain();
  EXPECT_EQ(report.sessions_deleted, 1u);
  EXPECT_THAT(db().GetSession(kAlice, "ended"),
              FailsWith(StatusCode::kNotFound));
  EXPECT_THAT(db().ListEvents(kAlice, "ended", 0, 10),
              FailsWith(StatusCode::kNotFound));
  EXPECT_THAT(db().GetAction(kAlice, done.action_id),
              FailsWith(StatusCode::kNotFound));
  EXPECT_THAT(db().GetAction(kAlice, waiting.action_id),
              FailsWith(StatusCode::kNotFound));
  EXPECT_THAT(db().GetPause(kAlice, "ended"), FailsWith(StatusCode::kNotFound));

  EXPECT_EQ(Get("live").status, SessionStatus::kRunning);
  EXPECT_EQ(GetAction(live_action.action_id).status, ActionStatus::kQueued);
  EXPECT_EQ(Lease().action_id, live_action.action_id);
}

// ----------------------------------------------------------- action retention

TEST_P(StoreConformance, ActionRetentionDeletesFinishedActions) {
  options().retention.action_retention_ms = 1000;
  CreateSession("s-1");
  Action completed = Enqueue("s-1");
  Action failed = Enqueue("s-1");
  Action cancelled = Enqueue("s-1");
  Action leased = Enqueue("s-1");
  Action queued = Enqueue("s-1");
  Must(db().CompleteAction(kAlice, completed.action_id, Lease().lease_token));
  Must(db().FailAction(kAlice, failed.action_id, Lease().lease_token, {},
                       false));
  Must(db().CancelAction(kAlice, cancelled.action_id));
  ASSERT_EQ(Lease({.lease_ms = 3'600'000}).action_id, leased.action_id);

  Advance(999);
  EXPECT_EQ(Maintain().actions_deleted, 0u);
  EXPECT_OK(db().GetAction(kAlice, completed.action_id));

  Advance(2);
  EXPECT_EQ(Maintain().actions_deleted, 3u);
  for (const Action* gone : {&completed, &failed, &cancelled}) {
    EXPECT_THAT(db().GetAction(kAlice, gone->action_id),
                FailsWith(StatusCode::kNotFound));
  }
  EXPECT_EQ(GetAction(leased.action_id).status, ActionStatus::kLeased);
  EXPECT_EQ(GetAction(queued.action_id).status, ActionStatus::kQueued);
  EXPECT_EQ(Get("s-1").status, SessionStatus::kInitializing);
}

TEST_P(StoreConformance, MaintenanceWithNothingDueReportsNothing) {
  SessionIn(SessionStatus::kRunning, "s-1");
  AppendN("s-1", 3);
  Enqueue("s-1");
  MaintenanceReport report = Maintain();
  EXPECT_EQ(report.leases_requeued, 0u);
  EXPECT_EQ(report.leases_dead_lettered, 0u);
  EXPECT_EQ(report.events_dropped, 0u);
  EXPECT_EQ(report.sessions_deleted, 0u);
  EXPECT_EQ(report.actions_deleted, 0u);
}

}  // namespace
}  // namespace acpstore::conformance
