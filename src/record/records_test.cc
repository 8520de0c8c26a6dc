// Tests for the wire names of record enums and Event::EventId.

#include "acpstore/records.h"

#include <gtest/gtest.h>

namespace acpstore {
namespace {

TEST(RecordsTest, SessionStatusNamesRoundTrip) {
  const char* names[] = {"initializing", "idle",    "running", "paused",
                         "intervening",  "closing", "closed",  "failed"};
  for (size_t i = 0; i < std::size(names); ++i) {
    auto s = static_cast<SessionStatus>(i);
    EXPECT_EQ(ToString(s), names[i]);
    EXPECT_EQ(ParseSessionStatus(names[i]), s);
  }
}

TEST(RecordsTest, SessionEventNamesRoundTrip) {
  const char* names[] = {"agent_ready",          "run_started",
                         "run_completed",        "pause_requested",
                         "intervention_started", "intervention_completed",
                         "resume_requested",     "close_requested",
                         "close_completed",      "runtime_failed"};
  for (size_t i = 0; i < std::size(names); ++i) {
    auto e = static_cast<SessionEvent>(i);
    EXPECT_EQ(ToString(e), names[i]);
    EXPECT_EQ(ParseSessionEvent(names[i]), e);
  }
}

TEST(RecordsTest, ActionNamesRoundTrip) {
  const char* types[] = {"prompt", "approve",         "reject",
                         "pause",  "resume",          "cancel",
                         "driver_transfer", "intervene", "close"};
  for (size_t i = 0; i < std::size(types); ++i) {
    auto t = static_cast<ActionType>(i);
    EXPECT_EQ(ToString(t), types[i]);
    EXPECT_EQ(ParseActionType(types[i]), t);
  }
  const char* statuses[] = {"queued", "leased", "completed", "failed",
                            "cancelled"};
  for (size_t i = 0; i < std::size(statuses); ++i) {
    auto s = static_cast<ActionStatus>(i);
    EXPECT_EQ(ToString(s), statuses[i]);
    EXPECT_EQ(ParseActionStatus(statuses[i]), s);
  }
}

TEST(RecordsTest, PauseStatusNamesRoundTrip) {
  EXPECT_EQ(ToString(PauseStatus::kPaused), "paused");
  EXPECT_EQ(ToString(PauseStatus::kIntervening), "intervening");
  EXPECT_EQ(ToString(PauseStatus::kResumed), "resumed");
  EXPECT_EQ(ParsePauseStatus("resumed"), PauseStatus::kResumed);
}

TEST(RecordsTest, ParseIsExactAndCaseSensitive) {
  EXPECT_EQ(ParseSessionStatus("Idle"), std::nullopt);
  EXPECT_EQ(ParseSessionStatus(" idle"), std::nullopt);
  EXPECT_EQ(ParseSessionStatus(""), std::nullopt);
  EXPECT_EQ(ParseSessionEvent("agentReady"), std::nullopt);
  EXPECT_EQ(ParseActionType("driver-transfer"), std::nullopt);
  EXPECT_EQ(ParseActionStatus("canceled"), std::nullopt);
  EXPECT_EQ(ParsePauseStatus("active"), std::nullopt);
}

TEST(RecordsTest, EventIdJoinsScopeSessionAndSeq) {
  Event e;
  e.tenant_id = "acme";
  e.owner_key_id = "key-1";
  e.session_id = "s:1";
  e.seq = 42;
  EXPECT_EQ(e.EventId(), "acme:key-1:s:1:42");
  e.seq = UINT64_MAX;
  EXPECT_EQ(e.EventId(), "acme:key-1:s:1:18446744073709551615");
}

TEST(RecordsTest, TerminalStatuses) {
  EXPECT_TRUE(IsTerminal(SessionStatus::kClosed));
  EXPECT_TRUE(IsTerminal(SessionStatus::kFailed));
  EXPECT_FALSE(IsTerminal(SessionStatus::kClosing));
  EXPECT_TRUE(IsTerminal(ActionStatus::kCancelled));
  EXPECT_FALSE(IsTerminal(ActionStatus::kLeased));
}

}  // namespace
}  // namespace acpstore
