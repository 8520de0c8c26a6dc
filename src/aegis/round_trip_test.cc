// Rollback: import, export, import the export again — the same state.
// Compared through the export (every field the format carries) and through
// the Store API (stream summaries, lease tokens, lease order).

#include <gtest/gtest.h>

#include "acpstore/blocking_store.h"
#include "aegis/aegis_test_util.h"

namespace acpstore::aegis {
namespace {

TEST(RoundTripTest, ImportExportImportGivesTheSameState) {
  io::TempDir dir;
  for (const char* file : {"pretty.json", "minimal.json", "bad_records.json"}) {
    SCOPED_TRACE(file);
    auto first = MemoryStoreForTest();
    ASSERT_TRUE(RunImport(TestData(file), first.get()).report.ok());
    const std::string exported = ExportToString(first.get(), dir, "1.json");

    // The second import goes into the file engine, through a reopen.
    const std::string data = dir.Join(std::string("data-") + file);
    {
      auto second = OpenStore(FileOptionsForTest(data)).value();
      ImportRun run = RunImport(dir.Join("1.json"), second.get());
      ASSERT_TRUE(run.report.ok()) << run.report.error();
      EXPECT_TRUE(run.problems.empty()) << run.problems[0];
    }
    auto second = OpenStore(FileOptionsForTest(data)).value();
    EXPECT_EQ(ExportToString(second.get(), dir, "2.json"), exported);

    StoreStats a = first->Stats(), b = second->Stats();
    EXPECT_EQ(a.sessions, b.sessions);
    EXPECT_EQ(a.events_retained, b.events_retained);
    EXPECT_EQ(a.event_payload_bytes, b.event_payload_bytes);
    EXPECT_EQ(a.actions, b.actions);
    EXPECT_EQ(a.pauses, b.pauses);
  }
}

TEST(RoundTripTest, StreamSummariesAndLeasesSurvive) {
  io::TempDir dir;
  auto first = MemoryStoreForTest();
  ASSERT_TRUE(RunImport(TestData("pretty.json"), first.get()).report.ok());
  ExportToString(first.get(), dir, "1.json");
  auto second = MemoryStoreForTest();
  ASSERT_TRUE(RunImport(dir.Join("1.json"), second.get()).report.ok());
  BlockingStore a(*first), b(*second);
  const Scope acme{"acme", "", Scope::Access::kTenantWrite};
  for (const char* id : {"sess-full", "sess-pruned-front", "sess-all-pruned"}) {
    SCOPED_TRACE(id);
    Session x = a.GetSession(acme, id).value();
    Session y = b.GetSession(acme, id).value();
    EXPECT_EQ(x.events.first_seq, y.events.first_seq);
    EXPECT_EQ(x.events.last_seq, y.events.last_seq);
    EXPECT_EQ(x.events.retained, y.events.retained);
    EXPECT_EQ(x.events.bytes, y.events.bytes);
    EXPECT_EQ(x.updated_at, y.updated_at);
    EXPECT_EQ(x.conversation_id, y.conversation_id);
  }
  // The leased action keeps its token, so its holder can still finish it.
  EXPECT_NE(ReadText(dir.Join("1.json")).find(R"("leaseToken":"lease-abc")"),
            std::string::npos);
  EXPECT_EQ(a.GetAction(acme, "act-1")->available_at,
            b.GetAction(acme, "act-1")->available_at);
}

}  // namespace
}  // namespace acpstore::aegis
