// Transcripts on the postgres engine (SPEC §13, src/postgres/pg_transcripts.h)
// beyond the shared conformance cases: a checkpoint (folded lazily) plus
// the fold of the tail after it gives exactly what the memory engine's
// whole-transcript fold gives, for random Aegis-shaped streams in random
// batches, under a small cap, at several checkpoint intervals, with
// retention dropping events before and after checkpoints; appends below
// the interval write no transcript row, and a checkpoint rewrites only the
// entry rows its tail changed; a transcript written through one server is
// read on another; sessions written before schema versions 4 and 6 keep
// or get their transcripts; checkpoints run after the append that made
// them due (it does not wait for them), a tail stops growing at the
// backlog bound when they fall behind, and they race appends and
// retention on another server without losing or repeating a fold; an
// append run alone after its batch failed still gets its checkpoint; two
// servers appending to one session in turn, appends that do not commit,
// and a session deleted and made again all fold what the memory engine
// folds.
//
// Each test uses its own schema in the database of scripts/test.sh
// (pg_test_env.h); without that database every test fails.

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "acpstore/blocking_store.h"
#include "acpstore/clock.h"
#include "acpstore/store.h"
#include "pg_test_env.h"

namespace acpstore {
namespace {

const Scope kAlice{"t1", "alice", Scope::Access::kOwner};

NewEvent Ev(std::string type, std::string payload) {
  NewEvent e;
  e.event_type = std::move(type);
  e.payload = std::move(payload);
  return e;
}

class TranscriptsPostgresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const ::testing::TestInfo* info =
        ::testing::UnitTest::GetInstance()->current_test_info();
    schema_ = pgtest::SchemaFor(std::string("transcripts.") + info->name() +
                                "." + std::to_string(::getpid()));
  }
  void TearDown() override {
    Sql("DROP SCHEMA IF EXISTS \"" + schema_ + "\" CASCADE");
  }

  // `pool`: postgres_pool instead of the tests' (half of it commit
  // threads).
  std::unique_ptr<Store> OpenPg(StoreOptions options, uint32_t pool = 0) {
    options.maintenance_interval_ms = 0;
    Status s = pgtest::UsePostgres(&options, schema_);
    if (pool > 0) options.postgres_pool = pool;
    EXPECT_TRUE(s.ok()) << s;
    if (!s.ok()) return nullptr;
    Result<std::unique_ptr<Store>> store = OpenStore(options);
    EXPECT_TRUE(store.ok()) << store.status();
    if (!store.ok()) return nullptr;
    return std::move(*store);
  }

  // The memory engine with the same options: the reference the postgres
  // engine's transcripts are compared with.
  static std::unique_ptr<Store> OpenMemory(StoreOptions options) {
    options.engine = Engine::kMemory;
    options.maintenance_interval_ms = 0;
    Result<std::unique_ptr<Store>> store = OpenStore(options);
    EXPECT_TRUE(store.ok()) << store.status();
    if (!store.ok()) return nullptr;
    return std::move(*store);
  }

  // Runs statements on a connection of its own; the first column of each
  // row of the last one's result, joined by ','.
  std::string Sql(const std::string& sql) {
    Result<std::string> url = pgtest::TestPostgresUrl();
    EXPECT_TRUE(url.ok()) << url.status();
    if (!url.ok()) return "";
    PGconn* c = PQconnectdb(url->c_str());
    std::string out;
    EXPECT_EQ(PQstatus(c), CONNECTION_OK);
    if (PQstatus(c) == CONNECTION_OK) {
      PGresult* r = PQexec(c, sql.c_str());
      EXPECT_TRUE(PQresultStatus(r) == PGRES_TUPLES_OK ||
                  PQresultStatus(r) == PGRES_COMMAND_OK)
          << PQerrorMessage(c);
      if (PQresultStatus(r) == PGRES_TUPLES_OK) {
        for (int i = 0; i < PQntuples(r); ++i) {
          if (i > 0) out.push_back(',');
          out += PQgetvalue(r, i, 0);
        }
      }
      PQclear(r);
    }
    PQfinish(c);
    return out;
  }
  std::string Table(const std::string& name) {
    return "\"" + schema_ + "\"." + name;
  }
  // The session rows' checkpoint position, "folded_seq/unfolded": of
  // every session (a test with one), or of `session`.
  std::string TailSql(const std::string& session = "") {
    return "SELECT folded_seq || '/' || unfolded FROM " + Table("sessions") +
           (session.empty() ? "" : " WHERE session_id = '" + session + "'");
  }
  // Checkpoints run in the background after the append that made them due
  // (pg_checkpointer.h): polls `sql` until it answers `want` (the
  // observable end of a checkpoint: the session row's folded_seq and
  // unfolded), for at most 30 s; the last answer.
  std::string WaitForSql(const std::string& sql, const std::string& want) {
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(30);
    std::string got = Sql(sql);
    while (got != want && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      got = Sql(sql);
    }
    return got;
  }
  // Every session's unfolded tail folded (no checkpoint left to do).
  void WaitForCheckpoints() { WaitForCheckpointsBelow(1); }
  // Every session's unfolded tail shorter than `every` (the checkpoint
  // interval): the checkpoints its appends made due have run.
  void WaitForCheckpointsBelow(uint64_t every) {
    EXPECT_EQ(WaitForSql("SELECT count(*) FROM " + Table("sessions") +
                             " WHERE unfolded >= " + std::to_string(every),
                         "0"),
              "0");
  }

  std::string schema_;
};

// Every page of a transcript, as one page (entries concatenated).
TranscriptPage ReadAll(BlockingStore& db, const std::string& session,
                       const std::vector<std::string>& kinds = {}) {
  TranscriptQuery q;
  q.limit = 7;  // several pages
  q.kinds = kinds;
  TranscriptPage all;
  for (int guard = 0; guard < 100000; ++guard) {
    Result<TranscriptPage> page = db.ReadTranscript(kAlice, session, q);
    EXPECT_TRUE(page.ok()) << page.status();
    if (!page.ok()) return all;
    std::vector<TranscriptEntry> entries = std::move(all.entries);
    entries.insert(entries.end(), page->entries.begin(), page->entries.end());
    all = std::move(*page);
    all.entries = std::move(entries);
    if (all.next == q.after) break;
    q.after = all.next;
  }
  return all;
}

// The first page of a session's transcript (the default query). A failed
// read fails the test and answers an empty page (whose checks then fail).
TranscriptPage FirstPage(BlockingStore& db, const std::string& session) {
  Result<TranscriptPage> page = db.ReadTranscript(kAlice, session, {});
  EXPECT_TRUE(page.ok()) << page.status();
  return page.ok() ? std::move(*page) : TranscriptPage();
}

void ExpectSame(const TranscriptPage& a, const TranscriptPage& b) {
  EXPECT_EQ(a.first_index, b.first_index);
  EXPECT_EQ(a.end_index, b.end_index);
  EXPECT_EQ(a.complete, b.complete);
  EXPECT_EQ(a.folded_seq, b.folded_seq);
  EXPECT_EQ(a.usage, b.usage);
  EXPECT_EQ(a.entries_by_kind, b.entries_by_kind);
  ASSERT_EQ(a.entries.size(), b.entries.size());
  for (size_t i = 0; i < a.entries.size(); ++i) {
    const TranscriptEntry& x = a.entries[i];
    const TranscriptEntry& y = b.entries[i];
    SCOPED_TRACE("entry " + std::to_string(x.index));
    EXPECT_EQ(x.index, y.index);
    EXPECT_EQ(x.kind, y.kind);
    EXPECT_EQ(x.first_seq, y.first_seq);
    EXPECT_EQ(x.last_seq, y.last_seq);
    EXPECT_EQ(x.first_at, y.first_at);
    EXPECT_EQ(x.last_at, y.last_at);
    EXPECT_EQ(x.text, y.text);
    EXPECT_EQ(x.id, y.id);
    EXPECT_EQ(x.title, y.title);
    EXPECT_EQ(x.tool_kind, y.tool_kind);
    EXPECT_EQ(x.status, y.status);
    EXPECT_EQ(x.input, y.input);
    EXPECT_EQ(x.input_cut, y.input_cut);
    EXPECT_EQ(x.text_cut, y.text_cut);
    EXPECT_EQ(x.started, y.started);
    EXPECT_EQ(x.completed, y.completed);
    EXPECT_EQ(x.fields, y.fields);
  }
}

// A random Aegis-shaped event: deltas with and without new messageIds,
// thoughts, overlapping tools (ids reused, completions without a start),
// small entries, and types the fold skips.
NewEvent RandomEventAt(std::mt19937& rng);
NewEvent RandomEvent(std::mt19937& rng) {
  const int64_t at = 1700000000000 + static_cast<int64_t>(rng() % 100000);
  NewEvent e = RandomEventAt(rng);
  e.occurred_at = at;  // both stores see the same times
  return e;
}
NewEvent RandomEventAt(std::mt19937& rng) {
  auto pick = [&](int n) { return static_cast<int>(rng() % n); };
  const std::string acp = R"("acp":{"frame":{"text":"RAW"}},)";
  const std::string tool = "t" + std::to_string(pick(4));
  std::string text(1 + pick(40), static_cast<char>('a' + pick(26)));
  switch (pick(10)) {
    case 0:
    case 1:
    case 2:
      return Ev("message.delta",
                "{" + acp + (pick(4) == 0 ? R"("messageId":"m)" +
                                                std::to_string(pick(3)) + "\","
                                          : "") +
                    R"("text":")" + text + "\"}");
    case 3:
      return Ev("thinking.delta", "{" + acp + R"("text":")" + text + "\"}");
    case 4:
      return Ev("tool.started", "{" + acp + R"("input":{"q":")" + text +
                                    R"("},"kind":"read","title":"T )" + text +
                                    R"(","toolCallId":")" + tool + "\"}");
    case 5:
      return Ev("tool.completed", "{" + acp + R"("status":"completed",)" +
                                      (pick(2) == 0 ? R"("text":")" + text + "\","
                                                    : R"("output":{"n":1},)") +
                                      R"("toolCallId":")" + tool + "\"}");
    case 6:
      return Ev("usage.updated", "{" + acp + R"("inputTokens":)" +
                                     std::to_string(pick(50)) +
                                     R"(,"outputTokens":)" +
                                     std::to_string(pick(50)) + "}");
    case 7:
      return Ev("turn.completed", "{" + acp + R"("stopReason":"end_turn"})");
    case 8:
      return Ev(pick(2) == 0 ? "approval.requested" : "session.error",
                "{" + acp + R"("message":")" + text + "\"}");
    default:
      return Ev("note", R"({"x":1})");
  }
}

// Appends the same random batches to a memory store and a postgres one
// (sessions created already) and compares their transcripts every
// `check_every` batches and at the end.
void AppendAndCompare(BlockingStore& db_mem, BlockingStore& db_pg,
                      const std::string& session, uint32_t seed, int batches,
                      int check_every) {
  std::mt19937 rng(seed);
  for (int batch = 0; batch < batches; ++batch) {
    AppendRequest req;
    const int n = 1 + static_cast<int>(rng() % (batch % 5 == 0 ? 12 : 3));
    for (int i = 0; i < n; ++i) req.events.push_back(RandomEvent(rng));
    AppendRequest copy = req;
    ASSERT_TRUE(db_mem.AppendEvents(kAlice, session, std::move(copy)).ok());
    ASSERT_TRUE(db_pg.AppendEvents(kAlice, session, std::move(req)).ok());
    if (check_every > 0 && batch % check_every == check_every - 1) {
      SCOPED_TRACE("after batch " + std::to_string(batch));
      ExpectSame(ReadAll(db_mem, session), ReadAll(db_pg, session));
      if (::testing::Test::HasFailure()) return;
    }
  }
}

// With a checkpoint after every folded append (interval 1) this is the
// partial fold of each append against the whole fold; with longer
// intervals, a checkpoint plus the tail folded by the read.
TEST_F(TranscriptsPostgresTest, CheckpointPlusTailMatchesTheMemoryEnginesWholeFold) {
  for (uint64_t every : {uint64_t{1}, uint64_t{5}, uint64_t{256}}) {
    for (uint64_t cap : {uint64_t{16} << 20, uint64_t{3000}}) {
      SCOPED_TRACE("checkpoint every " + std::to_string(every) +
                   ", transcript_max_bytes " + std::to_string(cap));
      StoreOptions options;
      options.transcript_max_bytes = cap;
      options.transcript_max_tool_bytes = 24;
      options.postgres_transcript_checkpoint_events = every;
      options.maintenance_interval_ms = 0;
      std::unique_ptr<Store> mem = OpenMemory(options);
      ASSERT_NE(mem, nullptr);
      std::unique_ptr<Store> pg = OpenPg(options);
      ASSERT_NE(pg, nullptr);
      BlockingStore db_mem(*mem), db_pg(*pg);
      // The schema's totals include the previous rounds' sessions.
      const StoreStats pg_before = pg->Stats();
      const std::string session =
          "s" + std::to_string(cap) + "." + std::to_string(every);
      ASSERT_TRUE(db_mem.CreateSession(kAlice, {.id = session}).ok());
      ASSERT_TRUE(db_pg.CreateSession(kAlice, {.id = session}).ok());
      AppendAndCompare(db_mem, db_pg, session, static_cast<uint32_t>(cap + every),
                       150, 50);
      TranscriptPage want = ReadAll(db_mem, session);
      TranscriptPage got = ReadAll(db_pg, session);
      ASSERT_GT(want.entries.size(), 10u);
      if (cap < 10000) {
        EXPECT_FALSE(want.complete);  // the cap was reached
      }
      ExpectSame(want, got);
      ExpectSame(ReadAll(db_mem, session, {"tool", "usage"}),
                 ReadAll(db_pg, session, {"tool", "usage"}));
      if (every == 1) {
        // Every checkpoint current: the stored totals are the whole fold's.
        WaitForCheckpoints();
        const StoreStats sm = mem->Stats(), sp = pg->Stats();
        EXPECT_EQ(sm.memory_transcript_bytes,
                  sp.memory_transcript_bytes - pg_before.memory_transcript_bytes);
        EXPECT_EQ(sm.transcripts_incomplete,
                  sp.transcripts_incomplete - pg_before.transcripts_incomplete);
      }
      for (const TranscriptEntry& e : got.entries) {
        EXPECT_EQ(e.text.find("RAW"), std::string::npos);
        EXPECT_EQ(e.input.find("RAW"), std::string::npos);
      }
    }
  }
}

// Retention drops events below, inside and above the unfolded tail: with a
// per-session cap of 20 events, a checkpoint every 3 folded events keeps
// the tail short (drops fall behind checkpoints), every 50 lets the drop
// come first (it checkpoints), and the terminal sessions' event retention
// of maintenance drops them all; the transcript is the memory engine's,
// whose transcripts retention never touches.
TEST_F(TranscriptsPostgresTest, RetentionBeforeAndAfterACheckpointLosesNothing) {
  for (uint64_t every : {uint64_t{3}, uint64_t{50}}) {
    SCOPED_TRACE("checkpoint every " + std::to_string(every));
    StoreOptions options;
    options.transcript_max_tool_bytes = 24;
    options.postgres_transcript_checkpoint_events = every;
    options.retention.max_events_per_session = 20;
    options.retention.terminal_event_retention_ms = 1000;
    options.maintenance_interval_ms = 0;
    ManualClock clock(1700000000000);
    options.clock = &clock;
    std::unique_ptr<Store> mem = OpenMemory(options);
    ASSERT_NE(mem, nullptr);
    std::unique_ptr<Store> pg = OpenPg(options);
    ASSERT_NE(pg, nullptr);
    BlockingStore db_mem(*mem), db_pg(*pg);
    const std::string session = "r" + std::to_string(every);
    ASSERT_TRUE(db_mem.CreateSession(kAlice, {.id = session}).ok());
    ASSERT_TRUE(db_pg.CreateSession(kAlice, {.id = session}).ok());
    AppendAndCompare(db_mem, db_pg, session, static_cast<uint32_t>(every), 120,
                     7);
    ASSERT_FALSE(HasFailure());
    Result<EventPage> events = db_pg.ListEvents(kAlice, session, 0, 10);
    ASSERT_TRUE(events.ok()) << events.status();
    EXPECT_GT(events->first_seq, 1u);  // retention did drop events
    // The session ends; past its event retention, maintenance drops every
    // event it still has.
    for (BlockingStore* db : {&db_mem, &db_pg}) {
      ASSERT_TRUE(
          db->TransitionSession(kAlice, session, SessionEvent::kRuntimeFailed)
              .ok());
    }
    clock.Advance(2000);
    Result<MaintenanceReport> rm = db_mem.RunMaintenance();
    ASSERT_TRUE(rm.ok()) << rm.status();
    // Maintenance takes session rows FOR UPDATE SKIP LOCKED, so a pass
    // that meets the background checkpoint holding this row skips it (the
    // next pass drops its events): pass until none is left, for at most
    // 30 s.
    const std::string left = "SELECT count(*) FROM " + Table("events") +
                             " WHERE session_id = '" + session + "'";
    uint64_t dropped = 0;
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(30);
    for (;;) {
      Result<MaintenanceReport> rp = db_pg.RunMaintenance();
      ASSERT_TRUE(rp.ok()) << rp.status();
      dropped += rp->events_dropped;
      if (Sql(left) == "0" || std::chrono::steady_clock::now() > deadline) {
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    EXPECT_GT(dropped, 0u);
    EXPECT_EQ(Sql(left), "0");
    ExpectSame(ReadAll(db_mem, session), ReadAll(db_pg, session));
  }
}

// Appends below the checkpoint interval write no transcript row (reads
// fold them); once an append reaches it, the background checkpoint folds
// them all, and the session row says so (folded_seq, unfolded).
TEST_F(TranscriptsPostgresTest, AppendsCheckpointOnlyOnceTheirTailIsLongEnough) {
  StoreOptions options;
  options.postgres_transcript_checkpoint_events = 10;
  std::unique_ptr<Store> pg = OpenPg(options);
  ASSERT_NE(pg, nullptr);
  BlockingStore db(*pg);
  ASSERT_TRUE(db.CreateSession(kAlice, {.id = "s"}).ok());
  const std::string rows = "SELECT (SELECT count(*) FROM " +
                           Table("transcripts") + ") + (SELECT count(*) FROM " +
                           Table("transcript_entries") + ")";
  const std::string tail = TailSql();
  std::string want;
  for (int i = 0; i < 9; ++i) {
    want += std::to_string(i);
    ASSERT_TRUE(db.Append(kAlice, "s",
                          Ev("message.delta",
                             R"({"text":")" + std::to_string(i) + "\"}"))
                    .ok());
    ASSERT_TRUE(db.Append(kAlice, "s", Ev("note", R"({"x":1})")).ok());
  }
  EXPECT_EQ(Sql(rows), "0");
  EXPECT_EQ(Sql(tail), "0/9");
  TranscriptPage page = FirstPage(db, "s");
  ASSERT_EQ(page.entries.size(), 1u);
  EXPECT_EQ(page.entries[0].text, want);
  EXPECT_EQ(page.folded_seq, 18u);
  ASSERT_TRUE(db.Append(kAlice, "s", Ev("message.delta", R"({"text":"!"})")).ok());
  EXPECT_EQ(WaitForSql(tail, "19/0"), "19/0");
  EXPECT_EQ(Sql(rows), "2");  // the head and the one entry
  // Skipped types leave nothing to fold: folded_seq follows them.
  ASSERT_TRUE(db.Append(kAlice, "s", Ev("note", R"({"x":1})")).ok());
  EXPECT_EQ(Sql(tail), "20/0");
  ASSERT_TRUE(db.Append(kAlice, "s", Ev("message.delta", R"({"text":"?"})")).ok());
  EXPECT_EQ(Sql(tail), "20/1");
  page = FirstPage(db, "s");
  ASSERT_EQ(page.entries.size(), 1u);
  EXPECT_EQ(page.entries[0].text, want + "!?");
  EXPECT_EQ(page.entries[0].last_seq, 21u);
  EXPECT_TRUE(page.complete);
}

// Checkpointing at every folded append (interval 1): a checkpoint rewrites
// only the entry rows its tail changed.
TEST_F(TranscriptsPostgresTest, AnAppendRewritesOnlyTheEntryRowsItChanged) {
  StoreOptions options;
  options.postgres_transcript_checkpoint_events = 1;
  std::unique_ptr<Store> pg = OpenPg(options);
  ASSERT_NE(pg, nullptr);
  BlockingStore db(*pg);
  ASSERT_TRUE(db.CreateSession(kAlice, {.id = "s"}).ok());
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(db.Append(kAlice, "s",
                          Ev("message.delta", R"({"messageId":"m)" +
                                                  std::to_string(i) +
                                                  R"(","text":"x"})"))
                    .ok());
  }
  ASSERT_TRUE(db.Append(kAlice, "s",
                        Ev("tool.started", R"({"title":"a","toolCallId":"t"})"))
                  .ok());
  ASSERT_TRUE(db.Append(kAlice, "s", Ev("message.delta", R"({"text":"y"})")).ok());
  WaitForCheckpoints();
  const std::string versions =
      "SELECT idx || ':' || xmin::text FROM " + Table("transcript_entries") +
      " ORDER BY idx";
  const std::string before = Sql(versions);
  // Grows the newest entry (52) and completes the open tool (51): only
  // their rows get new versions; the 50 others are untouched.
  ASSERT_TRUE(db.AppendEvents(kAlice, "s",
                              {.events = {Ev("message.delta", R"({"text":"z"})"),
                                          Ev("tool.completed",
                                             R"({"text":"ok","toolCallId":"t"})")}})
                  .ok());
  WaitForCheckpoints();
  const std::string after = Sql(versions);
  auto split = [](const std::string& s) {
    std::vector<std::string> out;
    size_t at = 0;
    while (at <= s.size()) {
      size_t comma = s.find(',', at);
      if (comma == std::string::npos) comma = s.size();
      out.push_back(s.substr(at, comma - at));
      at = comma + 1;
    }
    return out;
  };
  std::vector<std::string> b = split(before), a = split(after);
  ASSERT_EQ(b.size(), 52u);
  ASSERT_EQ(a.size(), 52u);
  int changed = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i]) {
      ++changed;
      EXPECT_TRUE(i == 50 || i == 51) << "entry row " << i + 1 << " rewritten";
    }
  }
  EXPECT_EQ(changed, 2);
  // An append of types the fold skips touches no transcript row.
  const std::string head_version =
      "SELECT xmin::text FROM " + Table("transcripts");
  const std::string head = Sql(head_version);
  ASSERT_TRUE(db.Append(kAlice, "s", Ev("note", R"({"x":1})")).ok());
  EXPECT_EQ(Sql(head_version), head);
  EXPECT_EQ(Sql(versions), after);
  TranscriptPage page = FirstPage(db, "s");
  EXPECT_EQ(page.folded_seq, 55u);  // the skipped event counts as folded
  EXPECT_EQ(page.entries.back().text, "yz");
  EXPECT_EQ(page.entries[50].text, "ok");
}

TEST_F(TranscriptsPostgresTest, WrittenOnOneServerReadOnAnother) {
  std::unique_ptr<Store> a = OpenPg(StoreOptions{});
  std::unique_ptr<Store> b = OpenPg(StoreOptions{});
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  BlockingStore db_a(*a), db_b(*b);
  ASSERT_TRUE(db_a.CreateSession(kAlice, {.id = "s"}).ok());
  {
    auto r = db_a.Append(kAlice, "s", Ev("message.delta", R"({"text":"He"})"));
    ASSERT_TRUE(r.ok()) << r.status();
  }
  ASSERT_TRUE(db_b.Append(kAlice, "s", Ev("message.delta", R"({"text":"llo"})")).ok());
  ASSERT_TRUE(db_a.Append(kAlice, "s", Ev("message.delta", R"({"text":"!"})")).ok());
  for (BlockingStore* db : {&db_a, &db_b}) {
    TranscriptPage page = FirstPage(*db, "s");
    ASSERT_EQ(page.entries.size(), 1u);
    EXPECT_EQ(page.entries[0].text, "Hello!");
    EXPECT_EQ(page.entries[0].last_seq, 3u);
  }
}

TEST_F(TranscriptsPostgresTest, ASessionWithoutAHeadRowIsRebuiltFromItsEvents) {
  StoreOptions options;
  options.retention.max_events_per_session = 1000;
  // No background checkpoint: one running after the rows are reset below
  // would fold what the reset says is unfolded. Only the drop folds.
  options.postgres_transcript_checkpoint_events = 100000;
  std::unique_ptr<Store> pg = OpenPg(options);
  ASSERT_NE(pg, nullptr);
  BlockingStore db(*pg);
  for (const char* id : {"kept", "cut"}) {
    ASSERT_TRUE(db.CreateSession(kAlice, {.id = id}).ok());
  }
  std::string kept_text, cut_text;
  for (int i = 0; i < 20; ++i) {
    kept_text += "k" + std::to_string(i);
    ASSERT_TRUE(db.Append(kAlice, "kept",
                          Ev("message.delta", R"({"text":"k)" +
                                                  std::to_string(i) + "\"}"))
                    .ok());
  }
  for (int k = 0; k < 3; ++k) {
    AppendRequest many;
    for (int i = 0; i < 400; ++i) {
      many.events.push_back(Ev("message.delta", R"({"text":"c"})"));
    }
    auto r = db.AppendEvents(kAlice, "cut", std::move(many));
    ASSERT_TRUE(r.ok()) << r.status();
  }
  // As migration 0006 leaves a schema-3 database's sessions: events, no
  // transcript rows, nothing folded, every retained event maybe unfolded.
  Sql("DELETE FROM " + Table("transcript_text") + "; DELETE FROM " +
      Table("transcript_entries") + "; DELETE FROM " + Table("transcripts") +
      "; UPDATE " + Table("sessions") +
      " SET folded_seq = 0, unfolded = retained");
  {
    // Read as it is: folded from the retained events for the read.
    TranscriptPage cut = FirstPage(db, "cut");
    ASSERT_EQ(cut.entries.size(), 1u);
    EXPECT_EQ(cut.entries[0].text.size(), 1000u);  // the retained ones
    EXPECT_FALSE(cut.complete);
  }
  ASSERT_TRUE(db.Append(kAlice, "kept", Ev("message.delta", R"({"text":"!"})")).ok());
  ASSERT_TRUE(db.Append(kAlice, "cut", Ev("message.delta", R"({"text":"!"})")).ok());
  TranscriptPage kept = FirstPage(db, "kept");
  ASSERT_EQ(kept.entries.size(), 1u);
  EXPECT_EQ(kept.entries[0].text, kept_text + "!");
  EXPECT_TRUE(kept.complete);
  TranscriptPage cut = FirstPage(db, "cut");
  ASSERT_EQ(cut.entries.size(), 1u);
  // The append's own retention drops seq 201, which was never folded: it
  // checkpoints first, through the append (the new delta included).
  const std::string& text = cut.entries[0].text;
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '!');
  EXPECT_EQ(text.size(), 1001u);
  EXPECT_EQ(Sql(TailSql("cut")),
            "1201/0");
  EXPECT_EQ(text.find_first_not_of('c'), text.size() - 1);
  EXPECT_FALSE(cut.complete);  // retention had dropped 200 of its events
}

// A schema at version 3 (before the transcript tables) is migrated to the
// current version at open, keeps its rows, and its sessions' retained
// events are their transcripts' tail.
TEST_F(TranscriptsPostgresTest, ASchemaAtVersion3IsMigratedAndItsSessionsGetTranscripts) {
  std::string version;
  {
    std::unique_ptr<Store> pg = OpenPg(StoreOptions{});
    ASSERT_NE(pg, nullptr);
    version = Sql("SELECT max(version) FROM " + Table("schema_version"));
    BlockingStore db(*pg);
    ASSERT_TRUE(db.CreateSession(kAlice, {.id = "s"}).ok());
    ASSERT_TRUE(db.Append(kAlice, "s", Ev("message.delta", R"({"text":"old "})")).ok());
  }
  // Back to version 3: migrations 0004 and 0006 undone (0005 only dropped
  // the events' key: it runs again harmlessly).
  Sql("DROP TABLE " + Table("transcript_text") + ", " +
      Table("transcript_entries") + ", " + Table("transcripts") +
      "; ALTER TABLE " + Table("sessions") +
      " DROP COLUMN folded_seq, DROP COLUMN unfolded; DELETE FROM " +
      Table("schema_version") + " WHERE version >= 4");
  ASSERT_EQ(Sql("SELECT max(version) FROM " + Table("schema_version")), "3");
  std::unique_ptr<Store> pg = OpenPg(StoreOptions{});
  ASSERT_NE(pg, nullptr);
  EXPECT_EQ(Sql("SELECT max(version) FROM " + Table("schema_version")), version);
  EXPECT_EQ(Sql(TailSql()), "0/1");
  BlockingStore db(*pg);
  // Read before any new event: the tail folded on the fly.
  TranscriptPage before = FirstPage(db, "s");
  ASSERT_EQ(before.entries.size(), 1u);
  EXPECT_EQ(before.entries[0].text, "old ");
  EXPECT_TRUE(before.complete);
  EXPECT_EQ(before.folded_seq, 1u);
  EXPECT_EQ(Sql("SELECT count(*) FROM " + Table("transcripts")), "0");
  ASSERT_TRUE(db.Append(kAlice, "s", Ev("message.delta", R"({"text":"new"})")).ok());
  TranscriptPage after = FirstPage(db, "s");
  ASSERT_EQ(after.entries.size(), 1u);
  EXPECT_EQ(after.entries[0].text, "old new");
  EXPECT_EQ(after.entries[0].first_seq, 1u);
  EXPECT_TRUE(after.complete);
}

// A schema at version 4 or 5 (transcripts folded at every append, no
// folded_seq) is migrated with each transcript's checkpoint current: its
// text is neither lost nor folded twice.
TEST_F(TranscriptsPostgresTest, ASchemaAtVersion4KeepsItsTranscripts) {
  StoreOptions eager;
  eager.postgres_transcript_checkpoint_events = 1;  // as version 4 kept them
  std::string version;
  {
    std::unique_ptr<Store> pg = OpenPg(eager);
    ASSERT_NE(pg, nullptr);
    version = Sql("SELECT max(version) FROM " + Table("schema_version"));
    BlockingStore db(*pg);
    ASSERT_TRUE(db.CreateSession(kAlice, {.id = "s"}).ok());
    for (const char* text : {"a", "b", "c"}) {
      ASSERT_TRUE(db.Append(kAlice, "s",
                            Ev("message.delta",
                               std::string(R"({"text":")") + text + "\"}"))
                      .ok());
    }
    ASSERT_TRUE(db.Append(kAlice, "s", Ev("note", R"({"x":1})")).ok());
  }
  Sql("ALTER TABLE " + Table("sessions") +
      " DROP COLUMN folded_seq, DROP COLUMN unfolded; DELETE FROM " +
      Table("schema_version") + " WHERE version >= 6");
  std::unique_ptr<Store> pg = OpenPg(StoreOptions{});
  ASSERT_NE(pg, nullptr);
  EXPECT_EQ(Sql("SELECT max(version) FROM " + Table("schema_version")), version);
  EXPECT_EQ(Sql(TailSql()), "4/0");
  BlockingStore db(*pg);
  ASSERT_TRUE(db.Append(kAlice, "s", Ev("message.delta", R"({"text":"d"})")).ok());
  TranscriptPage page = FirstPage(db, "s");
  ASSERT_EQ(page.entries.size(), 1u);
  EXPECT_EQ(page.entries[0].text, "abcd");
  EXPECT_TRUE(page.complete);
  EXPECT_EQ(page.folded_seq, 5u);
}


// Schema version 7: the transcript columns a checkpoint writes large values
// into are TOAST-compressed with lz4, not pglz (the test server is
// PostgreSQL 15 built with lz4).
TEST_F(TranscriptsPostgresTest, TranscriptRowsAreCompressedWithLz4) {
  std::unique_ptr<Store> pg = OpenPg(StoreOptions{});
  ASSERT_NE(pg, nullptr);
  EXPECT_EQ(Sql("SELECT c.relname || '.' || a.attname || '=' || "
                "a.attcompression::text FROM pg_attribute a JOIN pg_class c ON "
                "c.oid = a.attrelid JOIN pg_namespace n ON n.oid = "
                "c.relnamespace WHERE n.nspname = '" + schema_ +
                "' AND a.attname IN ('head', 'body', 'piece') ORDER BY 1"),
            "transcript_entries.body=l,transcript_text.piece=l,"
            "transcripts.head=l");
}

// A connection of the test's own holding a transaction open (row locks),
// ended (rolled back) when destroyed.
class HeldTransaction {
 public:
  explicit HeldTransaction(const std::string& url)
      : conn_(PQconnectdb(url.c_str())) {}
  ~HeldTransaction() { PQfinish(conn_); }
  HeldTransaction(const HeldTransaction&) = delete;
  HeldTransaction& operator=(const HeldTransaction&) = delete;
  bool ok() const { return PQstatus(conn_) == CONNECTION_OK; }
  int pid() const { return PQbackendPID(conn_); }
  bool Run(const std::string& sql) {
    PGresult* r = PQexec(conn_, sql.c_str());
    const bool ok = PQresultStatus(r) == PGRES_TUPLES_OK ||
                    PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    return ok;
  }

 private:
  PGconn* conn_;
};

// A delta whose text is `token`: one message entry collects them all, in
// seq order.
NewEvent Token(const std::string& token) {
  return Ev("message.delta", R"({"text":")" + token + ";\"}");
}

// The append that makes a checkpoint due is acknowledged before the
// checkpoint runs: with the transcript's head row locked by another
// transaction (so a checkpoint cannot finish), the append still returns,
// its tail still unfolded; the checkpoint completes once the lock goes.
TEST_F(TranscriptsPostgresTest, AnAppendDoesNotWaitForTheCheckpointItMakesDue) {
  StoreOptions options;
  options.postgres_transcript_checkpoint_events = 4;
  std::unique_ptr<Store> pg = OpenPg(options);
  ASSERT_NE(pg, nullptr);
  BlockingStore db(*pg);
  ASSERT_TRUE(db.CreateSession(kAlice, {.id = "s"}).ok());
  const std::string tail = TailSql();
  ASSERT_TRUE(db.AppendEvents(kAlice, "s",
                              {.events = {Token("a"), Token("b"), Token("c"),
                                          Token("d")}})
                  .ok());
  ASSERT_EQ(WaitForSql(tail, "4/0"), "4/0");  // the head row exists now
  Result<std::string> url = pgtest::TestPostgresUrl();
  ASSERT_TRUE(url.ok()) << url.status();
  HeldTransaction lock(*url);
  ASSERT_TRUE(lock.ok());
  ASSERT_TRUE(lock.Run("BEGIN"));
  ASSERT_TRUE(lock.Run("SELECT 1 FROM " + Table("transcripts") + " FOR UPDATE"));
  ASSERT_TRUE(db.AppendEvents(kAlice, "s",
                              {.events = {Token("e"), Token("f"), Token("g"),
                                          Token("h")}})
                  .ok());
  // The checkpoint is waiting for the lock (it has the session row).
  const std::string blocked =
      "SELECT count(*) FROM pg_stat_activity WHERE " + std::to_string(lock.pid()) +
      " = ANY(pg_blocking_pids(pid))";
  EXPECT_EQ(WaitForSql(blocked, "1"), "1");
  EXPECT_EQ(Sql(tail), "4/4");
  // Reads need no lock: the tail is folded for them.
  TranscriptPage page = FirstPage(db, "s");
  ASSERT_EQ(page.entries.size(), 1u);
  EXPECT_EQ(page.entries[0].text, "a;b;c;d;e;f;g;h;");
  ASSERT_TRUE(lock.Run("ROLLBACK"));
  EXPECT_EQ(WaitForSql(tail, "8/0"), "8/0");
  page = FirstPage(db, "s");
  ASSERT_EQ(page.entries.size(), 1u);
  EXPECT_EQ(page.entries[0].text, "a;b;c;d;e;f;g;h;");
}

// The backlog bound: while the background checkpoints are stuck (the one
// checkpoint thread waits for a lock on another session's transcript), a
// session's tail grows only to backlog_events() (4 x the interval): the
// append batch that reaches it checkpoints the session itself.
TEST_F(TranscriptsPostgresTest, ATailStopsGrowingWhenCheckpointsFallBehind) {
  StoreOptions options;
  options.postgres_transcript_checkpoint_events = 4;  // backlog bound 16
  std::unique_ptr<Store> pg = OpenPg(options);
  ASSERT_NE(pg, nullptr);
  BlockingStore db(*pg);
  for (const char* id : {"x", "y"}) {
    ASSERT_TRUE(db.CreateSession(kAlice, {.id = id}).ok());
  }
  ASSERT_TRUE(db.AppendEvents(kAlice, "x",
                              {.events = {Token("1"), Token("2"), Token("3"),
                                          Token("4")}})
                  .ok());
  ASSERT_EQ(WaitForSql(TailSql("x"), "4/0"), "4/0");
  Result<std::string> url = pgtest::TestPostgresUrl();
  ASSERT_TRUE(url.ok()) << url.status();
  HeldTransaction lock(*url);
  ASSERT_TRUE(lock.ok());
  ASSERT_TRUE(lock.Run("BEGIN"));
  ASSERT_TRUE(lock.Run("SELECT 1 FROM " + Table("transcripts") +
                       " WHERE session_id = 'x' FOR UPDATE"));
  ASSERT_TRUE(db.AppendEvents(kAlice, "x",
                              {.events = {Token("5"), Token("6"), Token("7"),
                                          Token("8")}})
                  .ok());
  const std::string blocked =
      "SELECT count(*) FROM pg_stat_activity WHERE " + std::to_string(lock.pid()) +
      " = ANY(pg_blocking_pids(pid))";
  ASSERT_EQ(WaitForSql(blocked, "1"), "1");
  // y's checkpoints wait behind x's: only the bound folds y.
  std::string want;
  for (int i = 1; i <= 40; ++i) {
    want += std::to_string(i) + ";";
    ASSERT_TRUE(db.Append(kAlice, "y", Token(std::to_string(i))).ok());
    const std::string row = Sql(TailSql("y"));
    const int64_t unfolded = std::stoll(row.substr(row.find('/') + 1));
    EXPECT_LT(unfolded, 16) << "after append " << i << ": " << row;
  }
  EXPECT_EQ(Sql(TailSql("y")), "32/8");  // folded by the 16th and 32nd appends
  EXPECT_EQ(Sql(TailSql("x")), "4/4");   // still stuck
  TranscriptPage page = FirstPage(db, "y");
  ASSERT_EQ(page.entries.size(), 1u);
  EXPECT_EQ(page.entries[0].text, want);
  ASSERT_TRUE(lock.Run("ROLLBACK"));
  // Unstuck: x's checkpoint, then y's (named while waiting).
  EXPECT_EQ(WaitForSql(TailSql("x"), "8/0"), "8/0");
  EXPECT_EQ(WaitForSql(TailSql("y"), "40/0"), "40/0");
  page = FirstPage(db, "y");
  ASSERT_EQ(page.entries.size(), 1u);
  EXPECT_EQ(page.entries[0].text, want);
  EXPECT_TRUE(page.complete);
}

// Background checkpoints on one server race with appends on both servers
// and with deletes on the second: its appends drop events over a cap of
// 20 per session (each checkpointing first, in its transaction), and at
// the end its maintenance retention drops every event. Nothing is lost
// or folded twice: each token appears once, in its writer's order, and
// the transcript stays complete.
TEST_F(TranscriptsPostgresTest, CheckpointsRacingAppendsAndRetentionOnAnotherServerLoseNothing) {
  StoreOptions a_options;
  a_options.postgres_transcript_checkpoint_events = 3;
  std::unique_ptr<Store> a = OpenPg(a_options);
  ASSERT_NE(a, nullptr);
  StoreOptions b_options;
  b_options.postgres_transcript_checkpoint_events = 3;
  b_options.retention.max_events_per_session = 20;
  b_options.retention.terminal_event_retention_ms = 1000;
  ManualClock clock(1700000000000);
  b_options.clock = &clock;
  std::unique_ptr<Store> b = OpenPg(b_options);
  ASSERT_NE(b, nullptr);
  BlockingStore db_a(*a), db_b(*b);
  const std::vector<std::string> sessions = {"p", "q"};
  for (const std::string& id : sessions) {
    ASSERT_TRUE(db_a.CreateSession(kAlice, {.id = id}).ok());
  }
  constexpr int kWriters = 4;  // two per server
  constexpr int kAppends = 120;
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      BlockingStore& db = w % 2 == 0 ? db_a : db_b;
      std::mt19937 rng(static_cast<uint32_t>(w));
      for (int i = 0; i < kAppends; ++i) {
        AppendRequest req;
        req.events.push_back(
            Token("w" + std::to_string(w) + "." + std::to_string(i)));
        if (rng() % 4 == 0) req.events.push_back(Ev("note", R"({"x":1})"));
        const std::string& session = sessions[(i + w) % sessions.size()];
        Result<AppendResult> r = db.AppendEvents(kAlice, session, std::move(req));
        EXPECT_TRUE(r.ok()) << r.status();
      }
    });
  }
  for (std::thread& t : writers) t.join();
  auto check = [&](BlockingStore& db, const std::string& session) {
    SCOPED_TRACE("session " + session);
    TranscriptPage page = ReadAll(db, session);
    ASSERT_EQ(page.entries.size(), 1u);
    EXPECT_TRUE(page.complete);
    const std::string& text = page.entries[0].text;
    std::map<int, int> last;  // writer -> its last append seen
    int tokens = 0;
    size_t at = 0;
    while (at < text.size()) {
      const size_t end = text.find(';', at);
      ASSERT_NE(end, std::string::npos);
      const std::string token = text.substr(at, end - at);  // wW.I
      const size_t dot = token.find('.');
      const int w = std::stoi(token.substr(1, dot - 1));
      const int i = std::stoi(token.substr(dot + 1));
      EXPECT_EQ((i + w) % static_cast<int>(sessions.size()),
                session == "p" ? 0 : 1);
      auto it = last.find(w);
      if (it != last.end()) {
        EXPECT_GT(i, it->second) << token << " repeated or out of order";
      }
      last[w] = i;
      ++tokens;
      at = end + 1;
    }
    EXPECT_EQ(tokens, kWriters * kAppends / static_cast<int>(sessions.size()));
  };
  for (const std::string& id : sessions) {
    check(db_a, id);
    check(db_b, id);
  }
  // Maintenance on the second server (its clock ended them) drops what
  // remains of the ended sessions' events, while the first may still be
  // checkpointing.
  for (const std::string& id : sessions) {
    ASSERT_TRUE(
        db_b.TransitionSession(kAlice, id, SessionEvent::kRuntimeFailed).ok());
  }
  clock.Advance(2000);
  Result<MaintenanceReport> report = db_b.RunMaintenance();
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_GT(report->events_dropped, 0u);
  EXPECT_EQ(Sql("SELECT count(*) FROM " + Table("events")), "0");
  for (const std::string& id : sessions) {
    check(db_a, id);
    check(db_b, id);
  }
}


// Schema version 8 (decision 0026): the entry rows and text pieces have no
// foreign key to their session (a checkpoint no longer pays an RI check
// per row), so the statement that deletes a session deletes them itself:
// nothing of it is left, another session's rows stay, and a session
// re-created under the same id starts an empty transcript.
TEST_F(TranscriptsPostgresTest, DeletingASessionDeletesItsTranscriptRows) {
  StoreOptions options;
  options.postgres_transcript_checkpoint_events = 2;
  std::unique_ptr<Store> pg = OpenPg(options);
  ASSERT_NE(pg, nullptr);
  EXPECT_EQ(Sql("SELECT r.relname || '.' || c.contype::text FROM "
                "pg_constraint c JOIN pg_class r ON r.oid = c.conrelid "
                "JOIN pg_namespace n ON n.oid = r.relnamespace WHERE "
                "n.nspname = '" + schema_ + "' AND c.contype = 'f' AND "
                "r.relname LIKE 'transcript%' ORDER BY 1"),
            "transcripts.f");  // only the head row keeps its cascade
  BlockingStore db(*pg);
  for (const char* id : {"s", "t"}) {
    ASSERT_TRUE(db.CreateSession(kAlice, {.id = id}).ok());
    ASSERT_TRUE(db.AppendEvents(kAlice, id,
                                {.events = {Token("a"), Token("b"),
                                            Ev("thinking.delta",
                                               R"({"text":"hm"})"),
                                            Token("c")}})
                    .ok());
  }
  WaitForCheckpoints();
  auto rows = [&](const std::string& id) {
    std::string out;
    for (const char* t : {"transcripts", "transcript_entries",
                          "transcript_text"}) {
      if (!out.empty()) out += "/";
      out += Sql("SELECT count(*) FROM " + Table(t) + " WHERE session_id = '" +
                 id + "'");
    }
    return out;
  };
  EXPECT_EQ(rows("s"), "1/3/3");  // message, thought, message
  ASSERT_TRUE(
      db.TransitionSession(kAlice, "s", SessionEvent::kRuntimeFailed).ok());
  ASSERT_TRUE(db.DeleteSession(kAlice, "s").ok());
  EXPECT_EQ(rows("s"), "0/0/0");
  EXPECT_EQ(rows("t"), "1/3/3");
  ASSERT_TRUE(db.CreateSession(kAlice, {.id = "s"}).ok());
  ASSERT_TRUE(db.AppendEvents(kAlice, "s", {.events = {Token("x"), Token("y")}})
                  .ok());
  WaitForCheckpoints();
  TranscriptPage page = FirstPage(db, "s");
  ASSERT_EQ(page.entries.size(), 1u);
  EXPECT_EQ(page.entries[0].text, "x;y;");
  EXPECT_EQ(page.entries[0].index, 1u);
}

}  // namespace
// A batch that fails (here: a trigger refuses one of its events) runs each
// of its appends again alone; an append run so that brings its session's
// tail to the checkpoint interval names it to the Checkpointer as the
// batch would have, and the checkpoint runs without waiting for the
// session's next append. One commit thread: the two appends posted while
// it runs a slow first one (the trigger sleeps in it, seen in
// pg_stat_activity) share the next batch.
TEST_F(TranscriptsPostgresTest, AnAppendRunAloneAfterItsBatchFailedStillGetsItsCheckpoint) {
  StoreOptions options;
  options.postgres_transcript_checkpoint_events = 4;
  std::unique_ptr<Store> pg = OpenPg(options, /*pool=*/2);
  ASSERT_NE(pg, nullptr);
  BlockingStore db(*pg);
  Sql("CREATE FUNCTION \"" + schema_ +
      "\".boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF "
      "NEW.event_type = 'boom' THEN RAISE EXCEPTION 'boom'; END IF; IF "
      "NEW.event_type = 'slow' THEN PERFORM pg_sleep(0.5); END IF; RETURN "
      "NEW; END $$; CREATE TRIGGER boom BEFORE INSERT ON " +
      Table("events") + " FOR EACH ROW EXECUTE FUNCTION \"" + schema_ +
      "\".boom()");
  for (const char* id : {"s", "t", "u"}) {
    ASSERT_TRUE(db.CreateSession(kAlice, {.id = id}).ok());
  }
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(db.Append(kAlice, "s", Ev("message.delta", R"({"text":"a"})")).ok());
  }
  const std::string tail = TailSql("s");
  EXPECT_EQ(Sql(tail), "0/3");
  std::promise<Status> slow, due, boom;
  auto append = [&](const char* session, NewEvent e, std::promise<Status>* p) {
    AppendRequest req;
    req.events.push_back(std::move(e));
    pg->AppendEvents(kAlice, session, std::move(req),
                     [p](Result<AppendResult> r) { p->set_value(r.status()); });
  };
  append("u", Ev("slow", R"({"x":1})"), &slow);
  ASSERT_EQ(WaitForSql("SELECT count(*) FROM pg_stat_activity WHERE "
                       "wait_event = 'PgSleep' AND query LIKE '%INSERT INTO "
                       "events%' AND datname = current_database()",
                       "1"),
            "1");
  append("s", Ev("message.delta", R"({"text":"b"})"), &due);
  append("t", Ev("boom", R"({"x":1})"), &boom);
  EXPECT_TRUE(slow.get_future().get().ok());
  EXPECT_TRUE(due.get_future().get().ok());
  EXPECT_FALSE(boom.get_future().get().ok());
  EXPECT_EQ(WaitForSql(tail, "4/0"), "4/0");
  TranscriptPage page = FirstPage(db, "s");
  ASSERT_EQ(page.entries.size(), 1u);
  EXPECT_EQ(page.entries[0].text, "aaab");
}

// ------------------------------------- against the memory engine's fold

// Every event of `session` on `db` (the postgres store), in seq order.
std::vector<Event> AllEvents(BlockingStore& db, const std::string& session) {
  std::vector<Event> out;
  EventSeq after = 0;
  for (int guard = 0; guard < 1000; ++guard) {
    Result<EventPage> page = db.ListEvents(kAlice, session, after, 1000);
    EXPECT_TRUE(page.ok()) << page.status();
    if (!page.ok() || page->events.empty()) break;
    after = page->events.back().seq;
    for (Event& e : page->events) out.push_back(std::move(e));
  }
  return out;
}

// Appends `events` to a fresh memory store one by one (seqs 1..n, as on
// postgres if nothing was dropped) and returns its transcript of them.
TranscriptPage MemoryFoldOf(const StoreOptions& options,
                            const std::vector<Event>& events) {
  StoreOptions o = options;
  o.engine = Engine::kMemory;
  o.maintenance_interval_ms = 0;
  Result<std::unique_ptr<Store>> mem = OpenStore(o);
  EXPECT_TRUE(mem.ok()) << mem.status();
  if (!mem.ok()) return {};
  BlockingStore db(**mem);
  EXPECT_TRUE(db.CreateSession(kAlice, {.id = "m"}).ok());
  for (const Event& e : events) {
    NewEvent n = Ev(e.event_type, e.payload);
    n.occurred_at = e.occurred_at;
    EXPECT_TRUE(db.Append(kAlice, "m", std::move(n)).ok());
  }
  return ReadAll(db, "m");
}

// Two servers append to one session in runs of 1 to 4 batches each, so
// each checkpoint folds a tail that either server may have written. Read
// on either server, before and after the last checkpoints, the transcript
// is the memory engine's fold of the same events.
TEST_F(TranscriptsPostgresTest, TwoServersAppendingAlternatelyFoldWhatTheMemoryEngineFolds) {
  for (uint64_t every : {uint64_t{1}, uint64_t{3}, uint64_t{16}}) {
    SCOPED_TRACE("checkpoint every " + std::to_string(every));
    StoreOptions options;
    options.transcript_max_tool_bytes = 24;
    options.postgres_transcript_checkpoint_events = every;
    std::unique_ptr<Store> mem = OpenMemory(options);
    std::unique_ptr<Store> a = OpenPg(options);
    std::unique_ptr<Store> b = OpenPg(options);
    ASSERT_NE(mem, nullptr);
    ASSERT_NE(a, nullptr);
    ASSERT_NE(b, nullptr);
    BlockingStore db_mem(*mem), db_a(*a), db_b(*b);
    const std::string session = "two" + std::to_string(every);
    ASSERT_TRUE(db_mem.CreateSession(kAlice, {.id = session}).ok());
    ASSERT_TRUE(db_a.CreateSession(kAlice, {.id = session}).ok());
    std::mt19937 rng(static_cast<uint32_t>(every) + 7);
    bool on_a = true;
    int run = 0;
    for (int batch = 0; batch < 240; ++batch) {
      if (run == 0) {
        on_a = !on_a;
        run = 1 + static_cast<int>(rng() % 4);
      }
      --run;
      AppendRequest req;
      const int n = 1 + static_cast<int>(rng() % 4);
      for (int i = 0; i < n; ++i) req.events.push_back(RandomEvent(rng));
      AppendRequest copy = req;
      ASSERT_TRUE(db_mem.AppendEvents(kAlice, session, std::move(copy)).ok());
      BlockingStore& db = on_a ? db_a : db_b;
      ASSERT_TRUE(db.AppendEvents(kAlice, session, std::move(req)).ok());
      if (batch % 40 == 39) {
        SCOPED_TRACE("after batch " + std::to_string(batch));
        ExpectSame(ReadAll(db_mem, session), ReadAll(db_a, session));
        ExpectSame(ReadAll(db_mem, session), ReadAll(db_b, session));
        ASSERT_FALSE(HasFailure());
      }
    }
    WaitForCheckpointsBelow(every);
    ExpectSame(ReadAll(db_mem, session), ReadAll(db_a, session));
    ExpectSame(ReadAll(db_mem, session), ReadAll(db_b, session));
  }
}

// Appends that do not commit leave nothing in the transcript: concurrent
// appends (sharing batches) where some are refused (expectedLastSeq
// conflicts) and some repeat a clientEventId (a batch tried the one-round-
// trip way rolls back on it, then runs again). The transcript, after every
// checkpoint ran, is the memory engine's fold of the events that were
// stored.
TEST_F(TranscriptsPostgresTest, AppendsThatDoNotCommitLeaveNoTraceInTheTranscript) {
  StoreOptions options;
  options.transcript_max_tool_bytes = 24;
  options.postgres_transcript_checkpoint_events = 2;
  std::unique_ptr<Store> pg = OpenPg(options);
  ASSERT_NE(pg, nullptr);
  BlockingStore db(*pg);
  ASSERT_TRUE(db.CreateSession(kAlice, {.id = "s"}).ok());
  std::mt19937 rng(11);
  int refused = 0;
  for (int round = 0; round < 30; ++round) {
    constexpr int kAppends = 12;
    std::vector<std::promise<Status>> done(kAppends);
    NewEvent previous;
    for (int i = 0; i < kAppends; ++i) {
      AppendRequest req;
      req.events.push_back(RandomEvent(rng));
      if (i % 4 == 1) req.expected_last_seq = 1;  // refused (past seq 1)
      if (i % 4 == 2) {
        req.events[0].client_event_id =
            "dup" + std::to_string(round) + "." + std::to_string(i);
      }
      if (i % 4 == 3) req.events[0] = previous;  // the same clientEventId
      previous = req.events[0];
      pg->AppendEvents(kAlice, "s", std::move(req),
                       [&done, i](Result<AppendResult> r) {
                         done[static_cast<size_t>(i)].set_value(r.status());
                       });
    }
    for (auto& d : done) {
      Status s = d.get_future().get();
      if (s.code() == StatusCode::kSeqConflict) {
        ++refused;
      } else {
        EXPECT_TRUE(s.ok()) << s;
      }
    }
  }
  EXPECT_GT(refused, 0);
  WaitForCheckpointsBelow(2);
  const std::vector<Event> stored = AllEvents(db, "s");
  ASSERT_GT(stored.size(), 100u);
  ASSERT_EQ(stored.front().seq, 1u);
  ASSERT_EQ(stored.back().seq, stored.size());
  ExpectSame(MemoryFoldOf(options, stored), ReadAll(db, "s"));
}

// A session deleted and created again (on the other server, then on the
// same one) starts a fresh transcript: nothing of the old one is folded
// into it.
TEST_F(TranscriptsPostgresTest, ASessionDeletedAndCreatedAgainIsFoldedAfresh) {
  StoreOptions options;
  options.postgres_transcript_checkpoint_events = 2;
  std::unique_ptr<Store> a = OpenPg(options);
  std::unique_ptr<Store> b = OpenPg(options);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  BlockingStore db_a(*a), db_b(*b);
  for (BlockingStore* deleter : {&db_b, &db_a}) {
    SCOPED_TRACE(deleter == &db_a ? "deleted on the same server"
                                  : "deleted on the other server");
    ASSERT_TRUE(db_a.CreateSession(kAlice, {.id = "s"}).ok());
    for (int i = 0; i < 6; ++i) {
      ASSERT_TRUE(db_a.Append(kAlice, "s", Ev("message.delta", R"({"text":"old"})")).ok());
    }
    WaitForCheckpointsBelow(2);  // the old transcript is checkpointed
    // Only a failed (or closed) session may be deleted.
    ASSERT_TRUE(
        deleter->TransitionSession(kAlice, "s", SessionEvent::kRuntimeFailed)
            .ok());
    Status deleted = deleter->DeleteSession(kAlice, "s");
    ASSERT_TRUE(deleted.ok()) << deleted;
    ASSERT_TRUE(deleter->CreateSession(kAlice, {.id = "s"}).ok());
    std::string want;
    for (int i = 0; i < 7; ++i) {
      want += "n" + std::to_string(i);
      ASSERT_TRUE(db_a.Append(kAlice, "s",
                              Ev("message.delta", R"({"text":"n)" +
                                                      std::to_string(i) + "\"}"))
                      .ok());
    }
    WaitForCheckpointsBelow(2);
    for (BlockingStore* db : {&db_a, &db_b}) {
      TranscriptPage page = FirstPage(*db, "s");
      ASSERT_EQ(page.entries.size(), 1u);
      EXPECT_EQ(page.entries[0].text, want);
      EXPECT_EQ(page.entries[0].first_seq, 1u);
      EXPECT_EQ(page.folded_seq, 7u);
    }
    ASSERT_TRUE(
        db_a.TransitionSession(kAlice, "s", SessionEvent::kRuntimeFailed).ok());
    deleted = db_a.DeleteSession(kAlice, "s");
    ASSERT_TRUE(deleted.ok()) << deleted;
  }
}

}  // namespace acpstore
