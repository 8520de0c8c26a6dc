// The engine conformance suite (SPEC §9): the engines it runs against, and
// the scenarios about persistence across a reopen. Scenarios by area live
// in conformance_*_test.cc; all are TEST_Ps of the one StoreConformance
// suite, instantiated here once per engine. Run one engine's cases with
// --gtest_filter='*/memory' (see tests/README.md).
//
// To add an engine: append an EngineFactory to Engines(). Persistent
// engines keep their files under the per-test scratch directory.

#include "store_conformance.h"

#include <memory>
#include <string>
#include <vector>

namespace acpstore::conformance {

const std::vector<EngineFactory>& Engines() {
  static const auto* engines = new std::vector<EngineFactory>{
      {.name = "memory",
       .persistent = false,
       .open =
           [](StoreOptions options, const std::filesystem::path&) {
             options.engine = Engine::kMemory;
             return OpenStore(options);
           }},
      {.name = "file",
       .persistent = true,
       .open =
           [](StoreOptions options, const std::filesystem::path& dir) {
             options.engine = Engine::kFile;
             options.data_dir = (dir / "data").string();
             options.sync = SyncMode::kNone;  // crash tests cover kAlways
             return OpenStore(options);
           }},
      // and postgres, with a fresh database named after the scratch dir.
  };
  return *engines;
}

INSTANTIATE_TEST_SUITE_P(
    Engines, StoreConformance, ::testing::ValuesIn(Engines()),
    [](const ::testing::TestParamInfo<EngineFactory>& info) {
      return info.param.name;
    });

namespace {

// ------------------------------------------------------------- persistence

TEST_P(StoreConformance, ReopenKeepsSessionsEventsActionsAndPauses) {
  SessionIn(SessionStatus::kRunning, "s-1");
  AppendN("s-1", 3);
  Action queued = Enqueue("s-1");
  RequestPause("s-1");
  Session before = Get("s-1");

  REOPEN_OR_SKIP();

  Session after = Get("s-1");
  EXPECT_EQ(after.status, SessionStatus::kPaused);
  EXPECT_EQ(after.conversation_id, before.conversation_id);
  EXPECT_EQ(after.updated_at, before.updated_at);
  EXPECT_EQ(after.events.last_seq, 3u);
  EXPECT_EQ(List("s-1", 0).events.size(), 3u);
  EXPECT_EQ(GetAction(queued.action_id).status, ActionStatus::kQueued);
  EXPECT_OK(db().GetPause(kAlice, "s-1"));
}

TEST_P(StoreConformance, ReopenNeverReusesSeqAfterRetentionDroppedEvents) {
  options().retention.max_events_per_session = 2;
  CreateSession("s-1");
  AppendN("s-1", 5);

  REOPEN_OR_SKIP();

  EXPECT_EQ(Append("s-1", {.event_type = "note", .payload = "1"}).seq, 6u);
}

TEST_P(StoreConformance, ReopenKeepsClientEventIdDedupe) {
  CreateSession("s-1");
  Append("s-1",
         {.event_type = "note", .payload = "1", .client_event_id = "c-1"});

  REOPEN_OR_SKIP();

  AppendRequest retry;
  retry.events.push_back(
      {.event_type = "note", .payload = "1", .client_event_id = "c-1"});
  AppendResult r = Must(db().AppendEvents(kAlice, "s-1", std::move(retry)));
  EXPECT_FALSE(r.any_created);
  EXPECT_EQ(r.events.at(0).seq, 1u);
}

}  // namespace
}  // namespace acpstore::conformance
