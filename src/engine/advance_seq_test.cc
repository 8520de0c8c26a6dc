// record::AdvanceSeqOp, the import's high-water mark, through both engines'
// ImportTarget: the stream continues after the raised mark, readers below
// it are told `truncated`, and the file engine keeps the mark across a
// reopen from the journal alone and from a snapshot.

#include <gtest/gtest.h>

#include <memory>

#include "acpstore/blocking_store.h"
#include "engine/file_store_test_util.h"
#include "engine/import_target.h"
#include "engine/memory_event_log.h"
#include "engine/memory_store.h"
#include "engine/state.h"

namespace acpstore::engine {
namespace {

Session ImportedSession(const std::string& id) {
  Session s;
  s.id = id;
  s.tenant_id = kAlice.tenant_id;
  s.owner_key_id = kAlice.owner_key_id;
  s.conversation_id = "c-" + id;
  s.transcript_id = "t-" + id;
  s.status = SessionStatus::kIdle;
  s.created_at = 1000;
  s.updated_at = 2000;
  return s;
}

Status Commit(ImportTarget* target, record::Mutation m) {
  std::promise<Status> done;
  target->CommitImport(
      [&m](const StoreState&) -> Result<record::Mutation> {
        return std::move(m);
      },
      [&done](Status s) { done.set_value(std::move(s)); });
  return done.get_future().get();
}

Event ImportedEvent(const std::string& session, EventSeq seq) {
  Event e;
  e.session_id = session;
  e.tenant_id = kAlice.tenant_id;
  e.owner_key_id = kAlice.owner_key_id;
  e.seq = seq;
  e.event_type = "note";
  e.occurred_at = 1500;
  e.ingested_at = 1500;
  e.payload = "{\"n\":" + std::to_string(seq) + "}";
  return e;
}

TEST(AdvanceSeqStateTest, RaisesTheMarkDropsRetainedAndRefusesToLowerIt) {
  StoreState state(MemoryEventLog::Factory());
  record::Mutation m;
  m.UpsertSession(ImportedSession("s"));
  m.AppendEvents("t1", "s", {ImportedEvent("s", 1), ImportedEvent("s", 2)});
  m.AdvanceSeq("t1", "s", 40);
  ASSERT_TRUE(state.Apply(std::move(m)).ok());
  const SessionEntry* e = state.FindSessionInTenant("t1", "s");
  ASSERT_NE(e, nullptr);
  EventStreamInfo info = e->events->Info();
  EXPECT_EQ(info.first_seq, 41u);
  EXPECT_EQ(info.last_seq, 40u);
  EXPECT_EQ(info.retained, 0u);
  EXPECT_EQ(state.counters().events_retained, 0u);
  EXPECT_EQ(state.counters().event_payload_bytes, 0u);

  record::Mutation lower;
  lower.AdvanceSeq("t1", "s", 39);
  EXPECT_EQ(state.Apply(std::move(lower)).code(), StatusCode::kInternal);
  record::Mutation unknown;
  unknown.AdvanceSeq("t1", "nope", 5);
  EXPECT_EQ(state.Apply(std::move(unknown)).code(), StatusCode::kInternal);
  record::Mutation next;
  next.AppendEvents("t1", "s", {ImportedEvent("s", 41)});
  ASSERT_TRUE(state.Apply(std::move(next)).ok());
  EXPECT_EQ(e->events->Info().first_seq, 41u);
  EXPECT_EQ(e->events->Info().retained, 1u);
}

TEST(AdvanceSeqMemoryTest, AppendsContinueAfterTheMark) {
  StoreOptions options;
  options.engine = Engine::kMemory;
  options.maintenance_interval_ms = 0;
  MemoryStore store(options);
  record::Mutation m;
  m.UpsertSession(ImportedSession("s"));
  m.AdvanceSeq("t1", "s", 1500);
  ASSERT_TRUE(Commit(&store, std::move(m)).ok());
  BlockingStore db(store);
  auto appended =
      db.Append(kAlice, "s", NewEvent{.event_type = "x", .payload = "1"});
  ASSERT_TRUE(appended.ok()) << appended.error();
  EXPECT_EQ(appended->seq, 1501u);
  auto page = db.ListEvents(kAlice, "s", 0, 10);
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(page->truncated);
  EXPECT_EQ(page->first_seq, 1501u);
}

class AdvanceSeqFileTest : public FileStoreTest {};

TEST_F(AdvanceSeqFileTest, MarkSurvivesReopenFromJournalAndFromSnapshot) {
  Open();
  record::Mutation m;
  m.UpsertSession(ImportedSession("s"));
  m.AdvanceSeq("t1", "s", 700);
  m.AppendEvents("t1", "s", {ImportedEvent("s", 701), ImportedEvent("s", 702)});
  ASSERT_TRUE(Commit(&store(), std::move(m)).ok());
  record::Mutation empty;
  empty.UpsertSession(ImportedSession("pruned"));
  empty.AdvanceSeq("t1", "pruned", 90);
  ASSERT_TRUE(Commit(&store(), std::move(empty)).ok());
  Session seen = db().GetSession(kAlice, "pruned").value();
  EXPECT_EQ(seen.events.last_seq, 90u);
  EXPECT_EQ(seen.events.first_seq, 91u);

  auto check = [&](const char* when) {
    SCOPED_TRACE(when);
    Session s = db().GetSession(kAlice, "s").value();
    EXPECT_EQ(s.events.first_seq, 701u);
    EXPECT_EQ(s.events.last_seq, 702u);
    EXPECT_EQ(s.events.retained, 2u);
    Session p = db().GetSession(kAlice, "pruned").value();
    EXPECT_EQ(p.events.first_seq, 91u);
    EXPECT_EQ(p.events.last_seq, 90u);
    EXPECT_EQ(p.events.retained, 0u);
  };
  Close();
  RemoveSnapshots();  // the journal alone must keep the mark
  Open();
  check("journal replay");
  Reopen();  // the clean close above wrote a snapshot
  check("snapshot");
  EXPECT_EQ(MustAppend("pruned", "1").seq, 91u);
  EXPECT_EQ(MustAppend("s", "1").seq, 703u);
  Close();
  RemoveSnapshots();
  Open();
  EXPECT_EQ(MustAppend("pruned", "2").seq, 92u);
}

}  // namespace
}  // namespace acpstore::engine
