// Scenarios about persistence across a reopen (SPEC §3, §9): the
// StorePersistence suite, instantiated only for the persistent engines (by
// store_conformance_test.cc for the file engine, by
// postgres/conformance_postgres_test.cc for the postgres engine).

#include <utility>

#include "store_conformance.h"

namespace acpstore::conformance {
namespace {

// ------------------------------------------------------------- persistence

TEST_P(StorePersistence, ReopenKeepsSessionsEventsActionsAndPauses) {
  SessionIn(SessionStatus::kRunning, "s-1");
  AppendN("s-1", 3);
  Action queued = Enqueue("s-1");
  RequestPause("s-1");
  Session before = Get("s-1");

  Reopen();

  Session after = Get("s-1");
  EXPECT_EQ(after.status, SessionStatus::kPaused);
  EXPECT_EQ(after.conversation_id, before.conversation_id);
  EXPECT_EQ(after.updated_at, before.updated_at);
  EXPECT_EQ(after.events.last_seq, 3u);
  EXPECT_EQ(List("s-1", 0).events.size(), 3u);
  EXPECT_EQ(GetAction(queued.action_id).status, ActionStatus::kQueued);
  EXPECT_OK(db().GetPause(kAlice, "s-1"));
}

TEST_P(StorePersistence, ReopenNeverReusesSeqAfterRetentionDroppedEvents) {
  options().retention.max_events_per_session = 2;
  CreateSession("s-1");
  AppendN("s-1", 5);

  Reopen();

  EXPECT_EQ(Append("s-1", {.event_type = "note", .payload = "1"}).seq, 6u);
}

TEST_P(StorePersistence, ReopenKeepsClientEventIdDedupe) {
  CreateSession("s-1");
  Append("s-1",
         {.event_type = "note", .payload = "1", .client_event_id = "c-1"});

  Reopen();

  AppendRequest retry;
  retry.events.push_back(
      {.event_type = "note", .payload = "1", .client_event_id = "c-1"});
  AppendResult r = Must(db().AppendEvents(kAlice, "s-1", std::move(retry)));
  EXPECT_FALSE(r.any_created);
  EXPECT_EQ(r.events.at(0).seq, 1u);
}

}  // namespace
}  // namespace acpstore::conformance
