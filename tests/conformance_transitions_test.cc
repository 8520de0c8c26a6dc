// Conformance scenarios for the session state machine (SPEC §2.1): every
// status × every event, and the timestamps transitions set.

#include <array>
#include <map>
#include <set>
#include <string>

#include "store_conformance.h"

namespace acpstore::conformance {
namespace {

using S = SessionStatus;
using E = SessionEvent;

// Wire names, written out rather than taken from the library under test.
constexpr std::array<const char*, 8> kStatusNames = {
    "initializing", "idle",    "running", "paused",
    "intervening",  "closing", "closed",  "failed"};
constexpr std::array<const char*, 10> kEventNames = {
    "agent_ready",      "run_started",          "run_completed",
    "pause_requested",  "intervention_started", "intervention_completed",
    "resume_requested", "close_requested",      "close_completed",
    "runtime_failed"};

constexpr std::array<S, 8> kAllStatuses = {
    S::kInitializing, S::kIdle,    S::kRunning, S::kPaused,
    S::kIntervening,  S::kClosing, S::kClosed,  S::kFailed};
constexpr std::array<E, 10> kAllEvents = {
    E::kAgentReady,      E::kRunStarted,          E::kRunCompleted,
    E::kPauseRequested,  E::kInterventionStarted, E::kInterventionCompleted,
    E::kResumeRequested, E::kCloseRequested,      E::kCloseCompleted,
    E::kRuntimeFailed};

const char* Name(S s) { return kStatusNames[static_cast<size_t>(s)]; }
const char* Name(E e) { return kEventNames[static_cast<size_t>(e)]; }

// SPEC §2.1's table: event -> (statuses it is allowed from, target).
struct Rule {
  std::set<S> from;
  S to;
};
const std::map<E, Rule>& Table() {
  static const auto* table = new std::map<E, Rule>{
      {E::kAgentReady, {{S::kInitializing}, S::kIdle}},
      {E::kRunStarted,
       {{S::kInitializing, S::kIdle, S::kIntervening}, S::kRunning}},
      {E::kRunCompleted, {{S::kRunning, S::kIntervening}, S::kIdle}},
      {E::kPauseRequested, {{S::kRunning}, S::kPaused}},
      {E::kInterventionStarted, {{S::kPaused}, S::kIntervening}},
      {E::kInterventionCompleted, {{S::kIntervening}, S::kPaused}},
      {E::kResumeRequested, {{S::kPaused, S::kIntervening}, S::kRunning}},
      {E::kCloseRequested,
       {{S::kInitializing, S::kIdle, S::kRunning, S::kPaused, S::kIntervening},
        S::kClosing}},
      {E::kCloseCompleted, {{S::kClosing}, S::kClosed}},
      {E::kRuntimeFailed,
       {{S::kInitializing, S::kIdle, S::kRunning, S::kPaused, S::kIntervening,
         S::kClosing},
        S::kFailed}},
  };
  return *table;
}

// All 80 (status, event) pairs. Each starts from a fresh session driven
// into the status by a legal path; allowed pairs land on the table's
// target, every other pair is kInvalidTransition naming status and event
// and leaves the session as it was.
TEST_P(StoreConformance, TransitionTableCoversEveryStatusAndEvent) {
  int case_number = 0;
  for (S from : kAllStatuses) {
    for (E event : kAllEvents) {
      std::string id = std::string(Name(from)) + "." + Name(event);
      SCOPED_TRACE(id);
      Session before = SessionIn(from, id);
      Advance(7);
      ++case_number;

      Result<Session> r = db().TransitionSession(kAlice, id, event);
      const Rule& rule = Table().at(event);
      if (rule.from.count(from) > 0) {
        EXPECT_OK(r);
        if (!r.ok()) continue;
        EXPECT_EQ(r->status, rule.to)
            << "went to " << Name(r->status) << ", SPEC says " << Name(rule.to);
        EXPECT_EQ(r->updated_at, Now());
        EXPECT_EQ(Get(id).status, rule.to);
      } else {
        EXPECT_THAT(r, FailsWith(StatusCode::kInvalidTransition));
        EXPECT_EQ(DetailString(r.status(), "status"), Name(from));
        EXPECT_EQ(DetailString(r.status(), "event"), Name(event));
        Session after = Get(id);
        EXPECT_EQ(after.status, from);
        EXPECT_EQ(after.updated_at, before.updated_at);
      }
    }
  }
  EXPECT_EQ(case_number, 80);
}

TEST_P(StoreConformance, TransitionOnMissingSessionIsNotFound) {
  EXPECT_THAT(db().TransitionSession(kAlice, "nope", E::kAgentReady),
              FailsWith(StatusCode::kNotFound));
}

TEST_P(StoreConformance, CloseSetsClosedAtOnEntryToClosed) {
  CreateSession("s-1");
  Advance(100);
  Session closing = Transition("s-1", E::kCloseRequested);
  EXPECT_FALSE(closing.closed_at.has_value());
  Advance(100);
  Session closed = Transition("s-1", E::kCloseCompleted);
  EXPECT_EQ(closed.closed_at, kT0 + 200);
  EXPECT_EQ(closed.updated_at, kT0 + 200);
  EXPECT_FALSE(closed.failed_at.has_value());

  Advance(100);
  EXPECT_THAT(db().TransitionSession(kAlice, "s-1", E::kRuntimeFailed),
              FailsWith(StatusCode::kInvalidTransition));
  Session later = Get("s-1");
  EXPECT_EQ(later.closed_at, kT0 + 200);
  EXPECT_FALSE(later.failed_at.has_value());
}

TEST_P(StoreConformance, RuntimeFailureSetsFailedAtOnce) {
  SessionIn(S::kRunning, "s-1");
  Advance(50);
  Session failed = Transition("s-1", E::kRuntimeFailed);
  EXPECT_EQ(failed.failed_at, kT0 + 50);
  EXPECT_FALSE(failed.closed_at.has_value());

  Advance(50);
  EXPECT_THAT(db().TransitionSession(kAlice, "s-1", E::kRuntimeFailed),
              FailsWith(StatusCode::kInvalidTransition));
  EXPECT_EQ(Get("s-1").failed_at, kT0 + 50);
}

TEST_P(StoreConformance, FailureWhileClosingSetsFailedAtNotClosedAt) {
  SessionIn(S::kClosing, "s-1");
  Advance(30);
  Session failed = Transition("s-1", E::kRuntimeFailed);
  EXPECT_EQ(failed.status, S::kFailed);
  EXPECT_EQ(failed.failed_at, kT0 + 30);
  EXPECT_FALSE(failed.closed_at.has_value());
}

TEST_P(StoreConformance, UpdatedAtFollowsEveryTransition) {
  CreateSession("s-1");
  TimestampMs expected = kT0;
  for (E event : {E::kAgentReady, E::kRunStarted, E::kRunCompleted,
                  E::kRunStarted, E::kCloseRequested, E::kCloseCompleted}) {
    Advance(11);
    expected += 11;
    EXPECT_EQ(Transition("s-1", event).updated_at, expected) << Name(event);
  }
  EXPECT_EQ(Get("s-1").created_at, kT0);
}

}  // namespace
}  // namespace acpstore::conformance
