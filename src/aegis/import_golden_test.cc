// Golden imports of hand-written Aegis state files (tests/aegis/data/):
// pretty-printed and compact files give the same state, which exports to
// pretty.export.json byte for byte; high-water marks carry over; every bad
// record is reported with its path and reason (bad_records.expected) and
// skipped, or aborts the import under --strict; a truncated file writes
// nothing.

#include <gtest/gtest.h>

#include <cstdlib>
#include <sstream>

#include "acpstore/blocking_store.h"
#include "aegis/aegis_test_util.h"

namespace acpstore::aegis {
namespace {

const Scope kAcmeAdmin{"acme", "", Scope::Access::kTenantWrite};
const Scope kAlice{"acme", "key_alice", Scope::Access::kOwner};

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

class ImportGoldenTest : public ::testing::Test {
 protected:
  io::TempDir dir_;
};

TEST_F(ImportGoldenTest, PrettyAndCompactFilesGiveTheGoldenState) {
  auto pretty = MemoryStoreForTest();
  ImportRun a = RunImport(TestData("pretty.json"), pretty.get());
  ASSERT_TRUE(a.report.ok()) << a.report.error();
  EXPECT_TRUE(a.problems.empty()) << a.problems[0];
  EXPECT_TRUE(a.report->written);
  EXPECT_EQ(a.report->reads, 2u);  // check + write

  auto compact = MemoryStoreForTest();
  ImportRun b = RunImport(TestData("compact.json"), compact.get());
  ASSERT_TRUE(b.report.ok()) << b.report.error();
  EXPECT_TRUE(b.problems.empty()) << b.problems[0];
  // Its events and actions come before its sessions: a second read each.
  EXPECT_EQ(b.report->reads, 4u);

  // ACPSTORE_UPDATE_GOLDEN=1 rewrites the golden file; review the diff.
  if (std::getenv("ACPSTORE_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(TestData("pretty.export.json"), std::ios::trunc)
        << ExportToString(pretty.get(), dir_, "golden.json");
  }
  const std::string golden = ReadText(TestData("pretty.export.json"));
  EXPECT_EQ(ExportToString(pretty.get(), dir_, "a.json"), golden);
  EXPECT_EQ(ExportToString(compact.get(), dir_, "b.json"), golden);
}

TEST_F(ImportGoldenTest, ReportCountsKindsAndListsOwners) {
  auto store = MemoryStoreForTest();
  ImportRun run = RunImport(TestData("pretty.json"), store.get());
  ASSERT_TRUE(run.report.ok()) << run.report.error();
  const ImportReport& r = *run.report;
  EXPECT_EQ(r.sessions.read, 4u);
  EXPECT_EQ(r.sessions.imported, 4u);
  EXPECT_EQ(r.events.imported, 7u);
  EXPECT_EQ(r.actions.imported, 3u);
  EXPECT_EQ(r.pauses.imported, 2u);
  EXPECT_EQ(r.problems, 0u);
  EXPECT_EQ(r.advanced_sessions, 2u);  // pruned-front and all-pruned
  EXPECT_EQ(r.owners.at("acme"),
            (std::set<std::string>{"key_alice", "key_carol"}));
  EXPECT_EQ(r.owners.at("globex"), std::set<std::string>{"key_bob"});
}

TEST_F(ImportGoldenTest, HighWaterMarksCarryOverSoAppendsContinue) {
  auto store = MemoryStoreForTest();
  ASSERT_TRUE(RunImport(TestData("pretty.json"), store.get()).report.ok());
  BlockingStore db(*store);
  Session all = db.GetSession(kAcmeAdmin, "sess-all-pruned").value();
  EXPECT_EQ(all.events.first_seq, 1501u);
  EXPECT_EQ(all.events.last_seq, 1500u);
  EXPECT_EQ(all.events.retained, 0u);

  auto front = db.ListEvents(kAcmeAdmin, "sess-pruned-front", 0, 100).value();
  EXPECT_EQ(front.first_seq, 41u);
  EXPECT_EQ(front.last_seq, 43u);
  EXPECT_TRUE(front.truncated);
  ASSERT_EQ(front.events.size(), 3u);

  // Appends continue after the old marks, never reusing a seq.
  const Scope carol{"acme", "key_carol", Scope::Access::kOwner};
  // A closed session takes no events; the pruned-front one does.
  auto next = db.Append(kAlice, "sess-pruned-front",
                        NewEvent{.event_type = "x", .payload = "{}"});
  ASSERT_TRUE(next.ok()) << next.error();
  EXPECT_EQ(next->seq, 44u);
  auto full = db.Append(kAlice, "sess-full",
                        NewEvent{.event_type = "x", .payload = "{}"});
  ASSERT_TRUE(full.ok()) << full.error();
  EXPECT_EQ(full->seq, 4u);
  (void)carol;
}

TEST_F(ImportGoldenTest, IdsScopesTimesAndPayloadsAreKept) {
  auto store = MemoryStoreForTest();
  ASSERT_TRUE(RunImport(TestData("pretty.json"), store.get()).report.ok());
  BlockingStore db(*store);
  // Owner scope: alice sees her session, not carol's.
  EXPECT_TRUE(db.GetSession(kAlice, "sess-full").ok());
  EXPECT_EQ(db.GetSession(kAlice, "sess-all-pruned").error().code(),
            StatusCode::kNotFound);
  Session s = db.GetSession(kAlice, "sess-full").value();
  EXPECT_EQ(s.created_at, 1779504960123);
  EXPECT_EQ(s.status, SessionStatus::kRunning);
  EXPECT_EQ(s.backend_metadata.value(),
            R"({"dryRun":false,"model":"opus","region":"eu","retries":2})");
  auto page = db.ListEvents(kAlice, "sess-full", 0, 10).value();
  ASSERT_EQ(page.events.size(), 3u);
  EXPECT_EQ(page.events[0].EventId(), "acme:key_alice:sess-full:1");
  EXPECT_EQ(
      page.events[0].payload,
      "{\"text\":\"h\xc3\xa9llo \\\"world\\\"\\n\",\"tokens\":[1,2.5,100]}");
  EXPECT_EQ(page.events[1].client_event_id.value(), "client-2");
  // "+02:00" is normalised; a missing ingestedAt defaults to occurredAt.
  EXPECT_EQ(page.events[2].occurred_at, page.events[2].ingested_at);
  Action a = db.GetAction(kAlice, "act-1").value();
  EXPECT_EQ(a.idempotency_key.value(), "idem-1");
  EXPECT_EQ(a.metadata.value(), R"({"prompt":"continue"})");
  // Same session id in another tenant: its own record.
  const Scope bob{"globex", "key_bob", Scope::Access::kOwner};
  Pause p = db.GetPause(bob, "sess-full").value();
  EXPECT_EQ(p.pause_id, "p-now");
}

TEST_F(ImportGoldenTest, MinimalFileFillsDefaultsAndNeedsNoPauseKey) {
  auto store = MemoryStoreForTest();
  ImportRun run = RunImport(TestData("minimal.json"), store.get());
  ASSERT_TRUE(run.report.ok()) << run.report.error();
  EXPECT_TRUE(run.problems.empty()) << run.problems[0];
  EXPECT_EQ(run.report->pauses.read, 0u);
  BlockingStore db(*store);
  const Scope min{"default", "key_min", Scope::Access::kOwner};
  Session m1 = db.GetSession(min, "m-1").value();
  EXPECT_EQ(m1.conversation_id.size(), 36u);  // generated UUIDv4
  EXPECT_EQ(m1.updated_at, m1.created_at);
  EXPECT_FALSE(m1.backend_metadata.has_value());
  Session m2 = db.GetSession(min, "m-2").value();
  EXPECT_EQ(m2.created_at, 1779504960123);  // an ISO session time is accepted
  EXPECT_EQ(m2.failed_at.value(), 1779504970000);
  Event e = db.ListEvents(min, "m-1", 0, 10).value().events.at(0);
  EXPECT_EQ(e.ingested_at, e.occurred_at);
  EXPECT_EQ(e.payload, "{}");
  Action a = db.GetAction(min, "a-min").value();
  EXPECT_EQ(a.available_at, a.created_at);
  EXPECT_EQ(a.attempt_count, 0u);
}

TEST_F(ImportGoldenTest, BadRecordsAreReportedWithPathAndReasonAndSkipped) {
  auto store = MemoryStoreForTest();
  ImportRun run = RunImport(TestData("bad_records.json"), store.get());
  ASSERT_TRUE(run.report.ok()) << run.report.error();
  const std::vector<std::string> expected =
      Lines(ReadText(TestData("bad_records.expected")));
  EXPECT_EQ(run.problems, expected);
  const ImportReport& r = *run.report;
  EXPECT_EQ(r.problems, expected.size());
  EXPECT_EQ(r.sessions.imported, 1u);
  EXPECT_EQ(r.sessions.skipped, 9u);
  EXPECT_EQ(r.events.imported, 1u);  // the newest gap-free run: seq 9
  EXPECT_EQ(r.actions.imported, 1u);
  EXPECT_EQ(r.pauses.imported, 1u);
  EXPECT_TRUE(r.written);

  BlockingStore db(*store);
  const Scope k{"t", "k", Scope::Access::kOwner};
  auto page = db.ListEvents(k, "ok-1", 0, 10).value();
  EXPECT_EQ(page.first_seq, 9u);
  EXPECT_EQ(page.last_seq, 9u);
  ASSERT_EQ(page.events.size(), 1u);
  EXPECT_EQ(page.events[0].payload, "9");
  EXPECT_EQ(
      db.Append(k, "ok-1", NewEvent{.event_type = "x", .payload = "1"})->seq,
      10u);
}

TEST_F(ImportGoldenTest, ScopeAmbiguityAndAHighWaterMarkAboveTheEvents) {
  const std::string path = dir_.Join("edge.json");
  std::ofstream(path) << R"({"version":1,"sessions":[
    {"id":"s","tenantId":"a","ownerKeyId":"k","status":"idle","createdAt":1,"lastEventSeq":5},
    {"id":"s","tenantId":"b","ownerKeyId":"k","status":"idle","createdAt":1}],
  "events":{"s":[
    {"tenantId":"a","eventSeq":1,"eventType":"x","occurredAt":0,"payload":1},
    {"eventSeq":1,"eventType":"x","occurredAt":"1970-01-01T00:00:00Z","payload":2}]}})";
  auto store = MemoryStoreForTest();
  ImportRun run = RunImport(path, store.get());
  ASSERT_TRUE(run.report.ok()) << run.report.error();
  EXPECT_EQ(run.problems,
            (std::vector<std::string>{
                R"($.events.s[1].sessionId: sessions of several tenants have )"
                R"(the id 's'; the record needs a tenantId)",
                "$.sessions[0].lastEventSeq: 5 is above the session's last "
                "event (1); the events are kept and new ones continue at 2"}));
  BlockingStore db(*store);
  const Scope a{"a", "k", Scope::Access::kOwner};
  EXPECT_EQ(db.Append(a, "s", NewEvent{.event_type = "x", .payload = "1"})->seq,
            2u);
}

TEST_F(ImportGoldenTest, StrictAbortsOnAnyProblemWithNothingWritten) {
  auto store = MemoryStoreForTest();
  ImportOptions options;
  options.strict = true;
  ImportRun run = RunImport(TestData("bad_records.json"), store.get(), options);
  ASSERT_TRUE(run.report.ok()) << run.report.error();
  EXPECT_FALSE(run.report->written);
  EXPECT_NE(run.report->aborted.find("--strict"), std::string::npos);
  EXPECT_FALSE(run.problems.empty());
  EXPECT_EQ(store->Stats().sessions, 0u);
  EXPECT_EQ(store->Stats().events_retained, 0u);

  // A clean file imports under --strict.
  ImportRun clean = RunImport(TestData("pretty.json"), store.get(), options);
  ASSERT_TRUE(clean.report.ok()) << clean.report.error();
  EXPECT_TRUE(clean.report->written);
}

TEST_F(ImportGoldenTest, DryRunChecksAndWritesNothing) {
  auto store = MemoryStoreForTest();
  ImportOptions options;
  options.dry_run = true;
  ImportRun run = RunImport(TestData("bad_records.json"), store.get(), options);
  ASSERT_TRUE(run.report.ok());
  EXPECT_FALSE(run.report->written);
  EXPECT_EQ(run.report->events.imported, 1u);
  EXPECT_EQ(store->Stats().sessions, 0u);
  // Without a store at all.
  ImportRun none = RunImport(TestData("pretty.json"), nullptr, options);
  ASSERT_TRUE(none.report.ok()) << none.report.error();
  EXPECT_EQ(none.report->sessions.imported, 4u);
}

TEST_F(ImportGoldenTest, TruncatedFileFailsNamingOffsetAndPathWritingNothing) {
  auto store = MemoryStoreForTest();
  ImportRun run = RunImport(TestData("truncated.json"), store.get());
  ASSERT_FALSE(run.report.ok());
  const std::string msg(run.report.error().message());
  EXPECT_NE(msg.find("truncated"), std::string::npos) << msg;
  EXPECT_NE(msg.find("byte 3006"), std::string::npos) << msg;
  EXPECT_NE(msg.find("$.events[3].eventSeq"), std::string::npos) << msg;
  EXPECT_EQ(store->Stats().sessions, 0u);
}

TEST_F(ImportGoldenTest, WrongVersionIsRefused) {
  const std::string path = dir_.Join("v2.json");
  std::ofstream(path) << R"({"version":2,"sessions":[]})";
  auto store = MemoryStoreForTest();
  ImportRun run = RunImport(path, store.get());
  ASSERT_FALSE(run.report.ok());
  EXPECT_NE(run.report.error().message().find("$.version"), std::string::npos);
}

TEST_F(ImportGoldenTest, NonEmptyStoreNeedsMergeAndCollisionsNameTheIds) {
  auto store = MemoryStoreForTest();
  ASSERT_TRUE(RunImport(TestData("minimal.json"), store.get()).report.ok());
  ImportRun refused = RunImport(TestData("pretty.json"), store.get());
  ASSERT_FALSE(refused.report.ok());
  EXPECT_NE(refused.report.error().message().find("--merge"),
            std::string::npos);

  ImportOptions merge;
  merge.merge = true;
  ImportRun merged = RunImport(TestData("pretty.json"), store.get(), merge);
  ASSERT_TRUE(merged.report.ok()) << merged.report.error();
  EXPECT_TRUE(merged.report->written);
  EXPECT_EQ(store->Stats().sessions, 6u);

  // Again: every id collides, and nothing more is written.
  ImportRun again = RunImport(TestData("minimal.json"), store.get(), merge);
  ASSERT_TRUE(again.report.ok()) << again.report.error();
  EXPECT_FALSE(again.report->written);
  EXPECT_EQ(again.report->collisions,
            (std::vector<std::string>{"session m-1 (tenant default)",
                                      "session m-2 (tenant default)",
                                      "action a-min (tenant default)"}));
  EXPECT_EQ(store->Stats().sessions, 6u);
}

TEST_F(ImportGoldenTest, FileEngineKeepsTheImportAcrossAReopen) {
  const std::string data = dir_.Join("data");
  {
    auto store = OpenStore(FileOptionsForTest(data)).value();
    ImportRun run = RunImport(TestData("compact.json"), store.get());
    ASSERT_TRUE(run.report.ok()) << run.report.error();
  }
  auto store = OpenStore(FileOptionsForTest(data)).value();
  EXPECT_EQ(ExportToString(store.get(), dir_),
            ReadText(TestData("pretty.export.json")));
}

}  // namespace
}  // namespace acpstore::aegis
