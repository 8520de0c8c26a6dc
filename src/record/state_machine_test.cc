// Tests for the lifecycle table: all 10 events x 8 statuses, each asserted
// against SPEC §2.1 written out independently here.

#include "record/state_machine.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

namespace acpstore::record {
namespace {

using S = SessionStatus;
using E = SessionEvent;

constexpr S kAllStatuses[] = {S::kInitializing, S::kIdle,    S::kRunning,
                              S::kPaused,       S::kIntervening, S::kClosing,
                              S::kClosed,       S::kFailed};
constexpr E kAllEvents[] = {
    E::kAgentReady,          E::kRunStarted,         E::kRunCompleted,
    E::kPauseRequested,      E::kInterventionStarted, E::kInterventionCompleted,
    E::kResumeRequested,     E::kCloseRequested,     E::kCloseCompleted,
    E::kRuntimeFailed};

struct Rule {
  std::set<S> from;
  S to;
};

// SPEC §2.1, transcribed by hand.
const std::map<E, Rule>& Spec() {
  const std::set<S> active = {S::kInitializing, S::kIdle, S::kRunning,
                              S::kPaused, S::kIntervening};
  std::set<S> active_or_closing = active;
  active_or_closing.insert(S::kClosing);
  static const std::map<E, Rule> spec = {
      {E::kAgentReady, {{S::kInitializing}, S::kIdle}},
      {E::kRunStarted, {{S::kInitializing, S::kIdle, S::kIntervening}, S::kRunning}},
      {E::kRunCompleted, {{S::kRunning, S::kIntervening}, S::kIdle}},
      {E::kPauseRequested, {{S::kRunning}, S::kPaused}},
      {E::kInterventionStarted, {{S::kPaused}, S::kIntervening}},
      {E::kInterventionCompleted, {{S::kIntervening}, S::kPaused}},
      {E::kResumeRequested, {{S::kPaused, S::kIntervening}, S::kRunning}},
      {E::kCloseRequested, {active, S::kClosing}},
      {E::kCloseCompleted, {{S::kClosing}, S::kClosed}},
      {E::kRuntimeFailed, {active_or_closing, S::kFailed}},
  };
  return spec;
}

TEST(StateMachineTest, EveryEventFromEveryStatusMatchesSpec) {
  int allowed = 0;
  for (E event : kAllEvents) {
    const Rule& rule = Spec().at(event);
    for (S from : kAllStatuses) {
      Result<S> next = NextStatus(from, event);
      if (rule.from.count(from)) {
        ++allowed;
        ASSERT_TRUE(next.ok()) << ToString(event) << " from " << ToString(from)
                               << ": " << next.status();
        EXPECT_EQ(*next, rule.to) << ToString(event) << " from " << ToString(from);
      } else {
        ASSERT_FALSE(next.ok()) << ToString(event) << " from " << ToString(from)
                                << " should be refused";
        EXPECT_EQ(next.error().code(), StatusCode::kInvalidTransition);
      }
    }
  }
  // 1 + 3 + 2 + 1 + 1 + 1 + 2 + 5 + 1 + 6 transitions in the table.
  EXPECT_EQ(allowed, 23);
}

TEST(StateMachineTest, TerminalStatusesAcceptNothing) {
  for (E event : kAllEvents) {
    EXPECT_FALSE(NextStatus(S::kClosed, event).ok()) << ToString(event);
    EXPECT_FALSE(NextStatus(S::kFailed, event).ok()) << ToString(event);
  }
}

TEST(StateMachineTest, RefusalNamesStatusAndEvent) {
  Result<S> next = NextStatus(S::kIdle, E::kPauseRequested);
  ASSERT_FALSE(next.ok());
  const Status& s = next.error();
  EXPECT_EQ(s.code(), StatusCode::kInvalidTransition);
  EXPECT_EQ(s.message(), "event pause_requested is not allowed in status idle");
  ASSERT_NE(s.Detail("status"), nullptr);
  ASSERT_NE(s.Detail("event"), nullptr);
  EXPECT_EQ(std::get<std::string>(s.Detail("status")->value), "idle");
  EXPECT_EQ(std::get<std::string>(s.Detail("event")->value), "pause_requested");
}

TEST(StateMachineTest, PauseInterveneResumeCycle) {
  S s = S::kInitializing;
  for (E e : {E::kAgentReady, E::kRunStarted, E::kPauseRequested,
              E::kInterventionStarted, E::kInterventionCompleted,
              E::kInterventionStarted, E::kResumeRequested, E::kRunCompleted,
              E::kCloseRequested, E::kCloseCompleted}) {
    Result<S> next = NextStatus(s, e);
    ASSERT_TRUE(next.ok()) << ToString(e) << " from " << ToString(s);
    s = *next;
  }
  EXPECT_EQ(s, S::kClosed);
}

TEST(StateMachineTest, ActiveStatuses) {
  std::set<S> active;
  for (S s : kAllStatuses) {
    if (IsActive(s)) active.insert(s);
  }
  EXPECT_EQ(active, (std::set<S>{S::kInitializing, S::kIdle, S::kRunning,
                                 S::kPaused, S::kIntervening}));
}

TEST(StateMachineTest, EventToNamesTheOneEventBetweenTwoStatuses) {
  using S = SessionStatus;
  using E = SessionEvent;
  EXPECT_EQ(EventTo(S::kInitializing, S::kIdle), E::kAgentReady);
  EXPECT_EQ(EventTo(S::kIdle, S::kRunning), E::kRunStarted);
  EXPECT_EQ(EventTo(S::kRunning, S::kPaused), E::kPauseRequested);
  EXPECT_EQ(EventTo(S::kIntervening, S::kPaused), E::kInterventionCompleted);
  // Two events reach running from intervening: the one that ends a pause.
  EXPECT_EQ(EventTo(S::kIntervening, S::kRunning), E::kResumeRequested);
  EXPECT_EQ(EventTo(S::kClosing, S::kFailed), E::kRuntimeFailed);
  EXPECT_EQ(EventTo(S::kClosed, S::kRunning), std::nullopt);
  EXPECT_EQ(EventTo(S::kIdle, S::kClosed), std::nullopt);
  EXPECT_EQ(EventTo(S::kIdle, S::kIdle), std::nullopt);
  // Whatever it names, NextStatus agrees.
  for (int f = 0; f <= static_cast<int>(S::kFailed); ++f) {
    for (int t = 0; t <= static_cast<int>(S::kFailed); ++t) {
      std::optional<E> e = EventTo(static_cast<S>(f), static_cast<S>(t));
      if (!e) continue;
      Result<S> next = NextStatus(static_cast<S>(f), *e);
      ASSERT_TRUE(next.ok());
      EXPECT_EQ(*next, static_cast<S>(t));
    }
  }
}

}  // namespace
}  // namespace acpstore::record
