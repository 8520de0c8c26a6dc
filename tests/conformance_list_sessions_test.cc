// Conformance scenarios for listing sessions (SPEC §5.1): status and
// updatedAfter filters, the limit range, and cursor paging newest-updated
// first.

#include <string>
#include <vector>

#include "store_conformance.h"

namespace acpstore::conformance {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

std::vector<std::string> Ids(const std::vector<Session>& sessions) {
  std::vector<std::string> ids;
  for (const Session& s : sessions) ids.push_back(s.id);
  return ids;
}

// Follows next_cursor to the end; fails the test on an endless chain.
std::vector<std::string> AllPages(BlockingStore& db, const Scope& scope,
                                  SessionQuery query) {
  std::vector<std::string> ids;
  for (int pages = 0; pages < 100; ++pages) {
    Result<SessionPage> page = db.ListSessions(scope, query);
    EXPECT_OK(page);
    if (!page.ok()) return ids;
    EXPECT_LE(page->sessions.size(), query.limit);
    for (const Session& s : page->sessions) ids.push_back(s.id);
    if (!page->next_cursor.has_value()) return ids;
    query.cursor = *page->next_cursor;
  }
  ADD_FAILURE() << "paging did not end";
  return ids;
}

TEST_P(StoreConformance, ListSessionsFiltersByStatus) {
  SessionIn(SessionStatus::kIdle, "idle-1");
  SessionIn(SessionStatus::kRunning, "run-1");
  SessionIn(SessionStatus::kRunning, "run-2");
  SessionIn(SessionStatus::kClosed, "closed-1");
  SessionIn(SessionStatus::kInitializing, "init-1");

  SessionQuery running;
  running.statuses = {SessionStatus::kRunning};
  EXPECT_THAT(Ids(Must(db().ListSessions(kAlice, running)).sessions),
              UnorderedElementsAre("run-1", "run-2"));

  SessionQuery two;
  two.statuses = {SessionStatus::kIdle, SessionStatus::kClosed};
  EXPECT_THAT(Ids(Must(db().ListSessions(kAlice, two)).sessions),
              UnorderedElementsAre("idle-1", "closed-1"));

  SessionQuery failed;
  failed.statuses = {SessionStatus::kFailed};
  EXPECT_THAT(Must(db().ListSessions(kAlice, failed)).sessions, IsEmpty());

  EXPECT_EQ(Must(db().ListSessions(kAlice, {})).sessions.size(), 5u);
}

TEST_P(StoreConformance, ListSessionsUpdatedAfterIsStrict) {
  CreateSession("s-0");
  Advance(10);
  CreateSession("s-10");
  Advance(10);
  CreateSession("s-20");

  SessionQuery q;
  q.updated_after = kT0 + 10;
  EXPECT_THAT(Ids(Must(db().ListSessions(kAlice, q)).sessions),
              ElementsAre("s-20"));
  q.updated_after = kT0 + 9;
  EXPECT_THAT(Ids(Must(db().ListSessions(kAlice, q)).sessions),
              ElementsAre("s-20", "s-10"));

  // A mutation moves a session past the watermark.
  Advance(10);
  Transition("s-0", SessionEvent::kAgentReady);
  q.updated_after = kT0 + 20;
  EXPECT_THAT(Ids(Must(db().ListSessions(kAlice, q)).sessions),
              ElementsAre("s-0"));
}

TEST_P(StoreConformance, ListSessionsLimitIsOneToOneThousand) {
  CreateSession("s-1");
  SessionQuery q;
  q.limit = 0;
  EXPECT_THAT(db().ListSessions(kAlice, q),
              FailsOnField(StatusCode::kInvalidArgument, "limit"));
  q.limit = 1001;
  EXPECT_THAT(db().ListSessions(kAlice, q),
              FailsOnField(StatusCode::kInvalidArgument, "limit"));
  q.limit = 1;
  EXPECT_EQ(Must(db().ListSessions(kAlice, q)).sessions.size(), 1u);
  q.limit = 1000;
  EXPECT_EQ(Must(db().ListSessions(kAlice, q)).sessions.size(), 1u);
}

TEST_P(StoreConformance, ListSessionsPagesNewestUpdatedFirstExactlyOnce) {
  for (int i = 0; i < 7; ++i) {
    CreateSession("s-" + std::to_string(i));
    Advance(1);
  }
  Transition("s-2", SessionEvent::kAgentReady);  // now the newest

  SessionQuery q;
  q.limit = 3;
  EXPECT_THAT(AllPages(db(), kAlice, q),
              ElementsAre("s-2", "s-6", "s-5", "s-4", "s-3", "s-1", "s-0"));

  SessionQuery whole;
  EXPECT_THAT(Ids(Must(db().ListSessions(kAlice, whole)).sessions),
              ElementsAre("s-2", "s-6", "s-5", "s-4", "s-3", "s-1", "s-0"));
  EXPECT_FALSE(Must(db().ListSessions(kAlice, whole)).next_cursor.has_value());
}

// A session created between two pages is newer than the cursor: later
// pages neither repeat nor skip the sessions that were already there.
TEST_P(StoreConformance, ListSessionsCursorIsStableWhileSessionsAreCreated) {
  for (int i = 0; i < 7; ++i) {
    CreateSession("s-" + std::to_string(i));
    Advance(1);
  }
  SessionQuery q;
  q.limit = 3;
  SessionPage first = Must(db().ListSessions(kAlice, q));
  EXPECT_THAT(Ids(first.sessions), ElementsAre("s-6", "s-5", "s-4"));
  ASSERT_TRUE(first.next_cursor.has_value());

  CreateSession("new-1");
  CreateSession("new-2");
  q.cursor = *first.next_cursor;
  EXPECT_THAT(AllPages(db(), kAlice, q),
              ElementsAre("s-3", "s-2", "s-1", "s-0"));
}

// Sessions updated in the same millisecond must neither repeat nor vanish
// across pages; their relative order is the engine's choice.
TEST_P(StoreConformance, ListSessionsPagesThroughEqualTimestamps) {
  for (int i = 0; i < 5; ++i) CreateSession("s-" + std::to_string(i));
  SessionQuery q;
  q.limit = 2;
  std::vector<std::string> ids = AllPages(db(), kAlice, q);
  EXPECT_THAT(ids, UnorderedElementsAre("s-0", "s-1", "s-2", "s-3", "s-4"));
}

TEST_P(StoreConformance, ListSessionsPagesWithFilters) {
  for (int i = 0; i < 6; ++i) {
    std::string id = "s-" + std::to_string(i);
    SessionIn(i % 2 == 0 ? SessionStatus::kRunning : SessionStatus::kIdle, id);
    Advance(1);
  }
  SessionQuery q;
  q.statuses = {SessionStatus::kRunning};
  q.limit = 1;
  EXPECT_THAT(AllPages(db(), kAlice, q), ElementsAre("s-4", "s-2", "s-0"));
}

TEST_P(StoreConformance, ListSessionsShowsOnlyTheCallersScope) {
  CreateSession("a-1", kAlice);
  Advance(1);
  CreateSession("b-1", kBob);
  Advance(1);
  CreateSession("x-1", kStranger);
  EXPECT_THAT(Ids(Must(db().ListSessions(kAlice, {})).sessions),
              ElementsAre("a-1"));
  EXPECT_THAT(Ids(Must(db().ListSessions(kAdmin, {})).sessions),
              ElementsAre("b-1", "a-1"));
  EXPECT_THAT(Ids(Must(db().ListSessions(kStranger, {})).sessions),
              ElementsAre("x-1"));
}

TEST_P(StoreConformance, ListedSessionsCarryEventStreamInfo) {
  CreateSession("s-1");
  AppendN("s-1", 2);
  SessionPage page = Must(db().ListSessions(kAlice, {}));
  ASSERT_EQ(page.sessions.size(), 1u);
  EXPECT_EQ(page.sessions[0].events.last_seq, 2u);
  EXPECT_EQ(page.sessions[0].events.retained, 2u);
}

}  // namespace
}  // namespace acpstore::conformance
