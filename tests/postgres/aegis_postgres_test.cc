// The Aegis migration and the offline checks on the postgres engine
// (SPEC §8, §10; decision 0010): `import-aegis`/`export-aegis` with
// --postgres-url behave as on the file engine, and `inspect`/`verify
// --postgres-url` report what a schema holds and name every session whose
// counters disagree with its rows.
//
// - the real-format sample imports with the same report, line for line
//   (tests/aegis/data/aegis_v1.expected), and reads back as on the file
//   engine;
// - its export is byte for byte the file engine's export of the same
//   import, and imports back into another schema to the same bytes;
// - a second import collides exactly as on the file engine (refused
//   without --merge; with it, the same ids listed, nothing written);
// - through the binary: the same exit codes, and --dry-run, --strict and
//   an unusable file never connect (an unreachable URL proves it);
// - inspect/verify on a healthy schema, then with a counter corrupted by
//   SQL: verify exits 1 naming the session;
// - verify names every column written from a record that disagrees with
//   it, and a record string that is not UTF-8 (bytes shown as \xNN); verify and inspect refuse a schema, and verify a record, of a
//   newer version than this build (SPEC §3), reporting no damage;
// - verify names every event whose stored payload is not valid JSON by
//   its key, never showing the payload, over pages of payloads; one nested
//   a million levels deep is damage to verify and export-aegis, not a crash;
// - export-aegis refuses a schema older than this build, changing nothing
//   (it migrated it); inspect and verify read it as it is;
// - every command refuses a --postgres-schema name too long for the
//   notification channel, before connecting;
// - `keys list` and `keys revoke` refuse a schema that does not exist,
//   creating nothing; `keys create` creates it.
//
// Each test uses its own schema (pg_test_env.h), dropped at the end;
// without ACPSTORE_TEST_POSTGRES_URL every test fails.

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "testing/process.h"
#include "acpstore/blocking_store.h"
#include "aegis/aegis_test_util.h"
#include "pg_test_env.h"
#include "base/format_version.h"
#include "postgres/pg_migrate.h"
#include "postgres/pg_tools.h"
#include "testing/process.h"

namespace acpstore::aegis {
namespace {

const Scope kAlice{"acme", "key_alice", Scope::Access::kOwner};

// The golden test's options (import_golden_test.cc): a 4 KiB live limit
// makes the sample's 5 KB tool output "over the limit".
ImportOptions GoldenOptions() {
  ImportOptions o;
  o.map.limits.max_payload_bytes = 4096;
  return o;
}

std::string Joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& l : lines) out += l + "\n";
  return out;
}

class AegisPostgresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::string> url = pgtest::TestPostgresUrl();
    ASSERT_TRUE(url.ok()) << url.error();
    url_ = *url;
    const ::testing::TestInfo* info =
        ::testing::UnitTest::GetInstance()->current_test_info();
    const std::string seed = std::string("aegis_pg.") + info->name() + "." +
                             std::to_string(::getpid()) + "." + dir_.path();
    schema_ = pgtest::SchemaFor(seed);
    other_schema_ = pgtest::SchemaFor(seed + ".other");
  }

  void TearDown() override {
    for (const std::string& s : {schema_, other_schema_}) {
      Sql("SET client_min_messages = warning; DROP SCHEMA IF EXISTS \"" + s +
          "\" CASCADE");
    }
  }

  StoreOptions PgOptions(const std::string& schema) {
    StoreOptions o;
    o.maintenance_interval_ms = 0;
    o.retention = RetentionOptions{0, 0, 0, 0, 0};
    Status s = pgtest::UsePostgres(&o, schema);
    EXPECT_TRUE(s.ok()) << s;
    return o;
  }

  MigrationStore OpenPg(const std::string& schema) {
    Result<MigrationStore> s = engine::OpenForMigration(PgOptions(schema));
    EXPECT_TRUE(s.ok()) << s.error();
    return s.ok() ? std::move(*s) : MigrationStore();
  }

  // Runs `sql` on a connection of its own; the first value, or "".
  std::string Sql(const std::string& sql) {
    PGconn* c = PQconnectdb(url_.c_str());
    std::string out;
    if (PQstatus(c) == CONNECTION_OK) {
      PGresult* r = PQexec(c, sql.c_str());
      EXPECT_TRUE(PQresultStatus(r) == PGRES_TUPLES_OK ||
                  PQresultStatus(r) == PGRES_COMMAND_OK)
          << sql << ": " << PQresultErrorMessage(r);
      if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0) {
        out = PQgetvalue(r, 0, 0);
      }
      PQclear(r);
    } else {
      ADD_FAILURE() << PQerrorMessage(c);
    }
    PQfinish(c);
    return out;
  }

  // Imports the sample into schema_ with the golden options and closes
  // the store again: what the checks of a schema's rows start from (they
  // then change rows by SQL and run the binary). Call it under
  // ASSERT_NO_FATAL_FAILURE.
  void ImportSample() {
    MigrationStore pg = OpenPg(schema_);
    ASSERT_TRUE(pg);
    ImportRun run =
        RunImport(TestData("aegis_v1.pretty.json"), pg.target(), GoldenOptions());
    ASSERT_TRUE(run.report.ok()) << run.report.error();
  }

  proc::RunResult Cli(std::vector<std::string> args) {
    args.insert(args.begin(), ACPSTORE_BIN);
    return proc::RunProcess(args);
  }
  // The command on this test's schema.
  proc::RunResult CliOnSchema(std::vector<std::string> args) {
    args.insert(args.end(), {"--postgres-url", url_, "--postgres-schema", schema_});
    return Cli(std::move(args));
  }

  io::TempDir dir_;
  std::string url_;
  std::string schema_;
  std::string other_schema_;
};

TEST_F(AegisPostgresTest, TheSampleImportsWithTheSameReportAsOnTheFileEngine) {
  MigrationStore pg = OpenPg(schema_);
  ASSERT_TRUE(pg);
  ImportRun run =
      RunImport(TestData("aegis_v1.pretty.json"), pg.target(), GoldenOptions());
  ASSERT_TRUE(run.report.ok()) << run.report.error();
  const ImportReport& r = *run.report;
  EXPECT_TRUE(r.written);
  EXPECT_EQ(Joined(run.problems), ReadText(TestData("aegis_v1.expected")));

  // The same counts as the file engine's import of the same file.
  MigrationStore file = OpenForTest(FileOptionsForTest(dir_.Join("data")));
  ImportRun on_file = RunImport(TestData("aegis_v1.pretty.json"),
                                file.target(), GoldenOptions());
  ASSERT_TRUE(on_file.report.ok()) << on_file.report.error();
  EXPECT_EQ(run.problems, on_file.problems);
  for (auto kind : {&ImportReport::sessions, &ImportReport::events,
                    &ImportReport::actions, &ImportReport::pauses}) {
    EXPECT_EQ((r.*kind).read, (on_file.report.value().*kind).read);
    EXPECT_EQ((r.*kind).imported, (on_file.report.value().*kind).imported);
    EXPECT_EQ((r.*kind).repaired, (on_file.report.value().*kind).repaired);
  }

  // Read back through the Store API of the postgres engine.
  BlockingStore db(*pg);
  Session s = db.GetSession(kAlice, "sess-main").value();
  EXPECT_EQ(s.status, SessionStatus::kPaused);
  EXPECT_EQ(s.events.last_seq, 5u);
  EXPECT_EQ(db.ListEvents(kAlice, "sess-main", 0, 100)->events.size(), 5u);
  EXPECT_EQ(db.GetPause(kAlice, "sess-main")->pause_id, "pause-2");
  // Appends continue after the imported stream.
  auto next = db.Append(kAlice, "sess-main",
                        NewEvent{.event_type = "x", .payload = "{}"});
  ASSERT_TRUE(next.ok()) << next.error();
  EXPECT_EQ(next->seq, 6u);
  StoreStats stats = pg->Stats();
  EXPECT_EQ(stats.sessions, 3u);
  EXPECT_EQ(stats.actions, 5u);
  EXPECT_EQ(stats.pauses, 2u);
}

// SPEC §13: a seq the Aegis file lacks becomes a placeholder, which may
// have been conversation, so the imported transcript is incomplete, as on
// the file engine (import_golden_test.cc); the placeholder's type is one
// the postgres fold reads from the events table.
TEST_F(AegisPostgresTest, AMissingSeqLeavesTheTranscriptIncomplete) {
  auto event = [](int seq, const std::string& type, const std::string& payload) {
    return R"({"eventId":"t:k:s:)" + std::to_string(seq) +
           R"(","sessionId":"s","tenantId":"t","ownerKeyId":"k","eventSeq":)" +
           std::to_string(seq) + R"(,"eventType":")" + type +
           R"(","occurredAt":"2026-01-01T00:00:00.000Z",)"
           R"("ingestedAt":"2026-01-01T00:00:01.000Z","payload":)" +
           payload + "}";
  };
  const std::string path = dir_.Join("hole.json");
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      << R"({"version":1,"sessions":[{"id":"s","tenantId":"t","ownerKeyId":"k",)"
      << R"("conversationId":"c","transcriptId":"r","status":"running",)"
      << R"("createdAt":1,"updatedAt":2}],"events":[)"
      << event(1, "message.delta", R"({"text":"a"})") << ","
      << event(2, "message.delta", R"({"text":"b"})") << ","
      << event(4, "tool.completed", R"({"toolCallId":"t1","text":"done"})")
      << R"(],"actions":[]})";
  const Scope admin{"t", "", Scope::Access::kTenantWrite};
  {
    MigrationStore pg = OpenPg(schema_);
    ASSERT_TRUE(pg);
    ImportRun run = RunImport(path, pg.target(), ImportOptions{});
    ASSERT_TRUE(run.report.ok()) << run.report.error();
    ASSERT_EQ(run.report->events_filled, 1u);
    TranscriptPage t =
        BlockingStore(*pg).ReadTranscript(admin, "s", TranscriptQuery{}).value();
    ASSERT_EQ(t.entries.size(), 2u);
    EXPECT_FALSE(t.entries[1].started);
    EXPECT_FALSE(t.complete);
  }
  // What the import checkpointed, read by another open.
  MigrationStore pg = OpenPg(schema_);
  ASSERT_TRUE(pg);
  EXPECT_FALSE(BlockingStore(*pg)
                   .ReadTranscript(admin, "s", TranscriptQuery{})
                   .value()
                   .complete);
}

TEST_F(AegisPostgresTest, TheExportIsTheFileEnginesByteForByte) {
  MigrationStore file = OpenForTest(FileOptionsForTest(dir_.Join("data")));
  ASSERT_TRUE(RunImport(TestData("aegis_v1.pretty.json"), file.target(),
                        GoldenOptions())
                  .report.ok());
  const std::string from_file = ExportToString(file.target(), dir_, "file.json");
  ASSERT_FALSE(from_file.empty());

  MigrationStore pg = OpenPg(schema_);
  ASSERT_TRUE(pg);
  ImportRun run =
      RunImport(TestData("aegis_v1.pretty.json"), pg.target(), GoldenOptions());
  ASSERT_TRUE(run.report.ok()) << run.report.error();
  const std::string from_pg = ExportToString(pg.target(), dir_, "pg.json");
  EXPECT_EQ(from_pg, from_file);

  // The export imports into another schema and exports to the same bytes.
  MigrationStore again = OpenPg(other_schema_);
  ASSERT_TRUE(again);
  ImportRun back =
      RunImport(dir_.Join("pg.json"), again.target(), GoldenOptions());
  ASSERT_TRUE(back.report.ok()) << back.report.error();
  EXPECT_EQ(back.report->skipped(), 0u);
  EXPECT_EQ(ExportToString(again.target(), dir_, "again.json"), from_pg);
}

TEST_F(AegisPostgresTest, ASecondImportCollidesAsOnTheFileEngine) {
  MigrationStore file = OpenForTest(FileOptionsForTest(dir_.Join("data")));
  MigrationStore pg = OpenPg(schema_);
  ASSERT_TRUE(pg);
  for (MigrationStore* s : {&file, &pg}) {
    ASSERT_TRUE(RunImport(TestData("aegis_v1.pretty.json"), s->target(),
                          GoldenOptions())
                    .report.ok());
  }
  const std::string rows_before =
      Sql("SELECT (SELECT count(*) FROM \"" + schema_ + "\".sessions) || '/' || "
          "(SELECT count(*) FROM \"" + schema_ + "\".events) || '/' || "
          "(SELECT count(*) FROM \"" + schema_ + "\".actions) || '/' || "
          "(SELECT count(*) FROM \"" + schema_ + "\".pauses)");
  EXPECT_EQ(rows_before, "3/7/5/2");

  // Without --merge: refused before anything is read again.
  ImportRun on_file = RunImport(TestData("aegis_v1.pretty.json"),
                                file.target(), GoldenOptions());
  ImportRun on_pg = RunImport(TestData("aegis_v1.pretty.json"), pg.target(),
                              GoldenOptions());
  ASSERT_FALSE(on_file.report.ok());
  ASSERT_FALSE(on_pg.report.ok());
  EXPECT_EQ(on_pg.report.error().code(), on_file.report.error().code());
  EXPECT_EQ(on_pg.report.error().code(), StatusCode::kConflict);
  EXPECT_NE(std::string(on_pg.report.error().message())
                .find("already holds 3 sessions and 5 actions; pass --merge"),
            std::string::npos)
      << on_pg.report.error();

  // With --merge: every id of the file collides, the same list, nothing
  // written.
  ImportOptions merge = GoldenOptions();
  merge.merge = true;
  on_file = RunImport(TestData("aegis_v1.pretty.json"), file.target(), merge);
  on_pg = RunImport(TestData("aegis_v1.pretty.json"), pg.target(), merge);
  ASSERT_TRUE(on_file.report.ok()) << on_file.report.error();
  ASSERT_TRUE(on_pg.report.ok()) << on_pg.report.error();
  EXPECT_FALSE(on_pg.report->written);
  EXPECT_EQ(on_pg.report->collisions, on_file.report->collisions);
  EXPECT_EQ(on_pg.report->collisions.size(), 8u);  // 3 sessions, 5 actions
  EXPECT_NE(on_pg.report->aborted.find("8 ids already exist in the postgres "
                                       "schema"),
            std::string::npos)
      << on_pg.report->aborted;
  EXPECT_EQ(
      Sql("SELECT (SELECT count(*) FROM \"" + schema_ + "\".sessions) || '/' || "
          "(SELECT count(*) FROM \"" + schema_ + "\".events) || '/' || "
          "(SELECT count(*) FROM \"" + schema_ + "\".actions) || '/' || "
          "(SELECT count(*) FROM \"" + schema_ + "\".pauses)"),
      rows_before);

  // A batch that creates an existing session is refused by the engine
  // itself (the check the import's batches go through), naming it.
  record::Mutation m;
  Session dup = BlockingStore(*pg).GetSession(kAlice, "sess-main").value();
  m.UpsertSession(dup);
  Status refused = Status::Internal("not called");
  pg.target()->CommitBatch(std::move(m),
                           [&](Status s) { refused = std::move(s); });
  EXPECT_EQ(refused.code(), StatusCode::kConflict) << refused;
  EXPECT_NE(std::string(refused.message()).find("session sess-main"),
            std::string::npos)
      << refused;
}

TEST_F(AegisPostgresTest, TheCommandsTakePostgresUrlWithTheSameExitCodes) {
  const std::string sample = TestData("aegis_v1.pretty.json");
  // --dry-run, --strict with reports and an unusable file never connect:
  // a URL nothing listens on does not matter to them.
  const std::string nowhere = "postgresql://127.0.0.1:1/none?connect_timeout=2";
  proc::RunResult dry =
      Cli({"import-aegis", sample, "--postgres-url", nowhere, "--dry-run"});
  EXPECT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_NE(dry.out.find("dry run: nothing was written"), std::string::npos);
  proc::RunResult strict =
      Cli({"import-aegis", sample, "--postgres-url", nowhere, "--strict"});
  EXPECT_EQ(strict.exit_code, 1) << strict.err;
  EXPECT_NE(strict.out.find("nothing was written: --strict"), std::string::npos);
  proc::RunResult bad = Cli({"import-aegis", TestData("truncated.json"),
                                    "--postgres-url", nowhere});
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  // Writing does connect: unreachable is a failure (1), not a usage error.
  proc::RunResult down =
      Cli({"import-aegis", sample, "--postgres-url", nowhere});
  EXPECT_EQ(down.exit_code, 1) << down.err;
  EXPECT_NE(down.err.find("nothing was written"), std::string::npos) << down.err;

  // The real import: repairs but no skip is 0; the summary names the schema
  // and keys create commands for it (without the URL, which may hold a
  // password).
  // export-aegis of a schema that does not exist (a typo) creates none
  // and writes nothing (it migrated one and wrote an empty state over
  // FILE: found by a probe).
  const std::string kept = dir_.Join("kept.json");
  { std::ofstream(kept) << "{\"kept\":true}"; }
  proc::RunResult nothing = CliOnSchema({"export-aegis", kept});
  EXPECT_EQ(nothing.exit_code, 1) << nothing.err;
  EXPECT_NE(nothing.err.find("no acpstore schema"), std::string::npos)
      << nothing.err;
  EXPECT_EQ(ReadText(kept), "{\"kept\":true}");
  EXPECT_EQ(Sql("SELECT count(*) FROM pg_namespace WHERE nspname = '" +
                schema_ + "'"),
            "0");

  proc::RunResult imported =
      CliOnSchema({"import-aegis", sample, "--max-payload-bytes", "4096"});
  EXPECT_EQ(imported.exit_code, 0) << imported.err << imported.out;
  EXPECT_EQ(imported.out.rfind(ReadText(TestData("aegis_v1.expected")), 0), 0u)
      << imported.out;
  EXPECT_NE(imported.out.find("imported into postgres schema \"" + schema_ + "\""),
            std::string::npos)
      << imported.out;
  EXPECT_NE(imported.out.find("acpstore keys create --postgres-url URL "
                              "--postgres-schema " + schema_ +
                              " --tenant acme --id key_alice --role writer"),
            std::string::npos)
      << imported.out;
  EXPECT_EQ(imported.out.find(url_), std::string::npos);
  // A second import: 1, as on the file engine.
  proc::RunResult again =
      CliOnSchema({"import-aegis", sample, "--max-payload-bytes", "4096"});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("already holds 3 sessions and 5 actions"),
            std::string::npos)
      << again.err;
  proc::RunResult merged = CliOnSchema(
      {"import-aegis", sample, "--max-payload-bytes", "4096", "--merge"});
  EXPECT_EQ(merged.exit_code, 1);
  EXPECT_NE(merged.out.find("8 ids already exist in postgres schema"),
            std::string::npos)
      << merged.out;

  // export-aegis: the same bytes as the library's export.
  proc::RunResult exported =
      CliOnSchema({"export-aegis", dir_.Join("cli.json")});
  EXPECT_EQ(exported.exit_code, 0) << exported.err;
  EXPECT_NE(exported.out.find("3 sessions, 7 events, 5 actions, 2 pauses"),
            std::string::npos)
      << exported.out;
  MigrationStore store = OpenPg(schema_);
  ASSERT_TRUE(store);
  EXPECT_EQ(ReadText(dir_.Join("cli.json")),
            ExportToString(store.target(), dir_, "lib.json"));
}

TEST_F(AegisPostgresTest, InspectAndVerifyNameASessionWhoseCounterIsWrong) {
  ASSERT_NO_FATAL_FAILURE(ImportSample());
  Result<postgres::PgCheckReport> healthy =
      postgres::CheckPostgres(url_, schema_, /*decode_records=*/true);
  ASSERT_TRUE(healthy.ok()) << healthy.error();
  EXPECT_TRUE(healthy->ok());
  EXPECT_EQ(healthy->schema_version, postgres::KnownSchemaVersion());
  using Tables = std::vector<std::pair<std::string, uint64_t>>;
  // The import folds transcripts too (SPEC §13): the two sessions with
  // conversation events, five entries between them.
  const Tables want = {{"sessions", 3},    {"events", 7},
                       {"actions", 5},     {"pauses", 2},
                       {"transcripts", 2}, {"transcript_entries", 5},
                       {"transcript_text", 2},
                       {"keys", 0},
                       {"schema_version",
                        static_cast<uint64_t>(postgres::KnownSchemaVersion())}};
  EXPECT_EQ(healthy->tables, want);
  EXPECT_EQ(healthy->rows_decoded, 3u + 5u + 2u);

  proc::RunResult inspect = CliOnSchema({"inspect"});
  EXPECT_EQ(inspect.exit_code, 0) << inspect.err;
  EXPECT_NE(inspect.out.find("table events        7 rows"), std::string::npos)
      << inspect.out;
  EXPECT_NE(inspect.out.find("every session agrees with its rows"),
            std::string::npos)
      << inspect.out;
  proc::RunResult verify = CliOnSchema({"verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify.err << verify.out;
  EXPECT_NE(verify.out.find("10 records decoded, "), std::string::npos)
      << verify.out;
  EXPECT_NE(verify.out.find(" event payloads checked: OK"), std::string::npos)
      << verify.out;

  // A counter gone wrong: sess-main's high-water mark raised behind the
  // engine's back (its next append would leave a gap).
  Sql("UPDATE \"" + schema_ + "\".sessions SET last_seq = last_seq + 3 "
      "WHERE session_id = 'sess-main'");
  inspect = CliOnSchema({"inspect", "--json"});
  EXPECT_EQ(inspect.exit_code, 0) << inspect.err;  // inspect reports only
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(inspect.out, ec);
  ASSERT_FALSE(ec) << inspect.out;
  EXPECT_EQ(v.at("mismatchedSessions").as_int64(), 1);
  EXPECT_EQ(v.at("counterMismatches").at(0).at("sessionId").as_string(),
            "sess-main");
  EXPECT_EQ(v.at("tables").at("events").as_int64(), 7);
  EXPECT_EQ(v.at("schemaVersion").as_int64(), postgres::KnownSchemaVersion());

  verify = CliOnSchema({"verify"});
  EXPECT_EQ(verify.exit_code, 1) << verify.out;
  EXPECT_NE(verify.out.find("counters disagree: session sess-main (tenant "
                            "acme): last_seq 8, but the newest event is 5"),
            std::string::npos)
      << verify.out;
  EXPECT_NE(verify.out.find("1 session whose counters disagree with their rows"),
            std::string::npos)
      << verify.out;

  // A retained count off by one and a record whose status column was
  // changed without it: both named too.
  Sql("UPDATE \"" + schema_ + "\".sessions SET last_seq = last_seq - 3, "
      "retained = retained + 1 WHERE session_id = 'sess-closed'");
  Sql("UPDATE \"" + schema_ + "\".actions SET status = 4 "
      "WHERE action_id = 'act-queued'");
  verify = CliOnSchema({"verify", "--json"});
  EXPECT_EQ(verify.exit_code, 1);
  v = boost::json::parse(verify.out, ec);
  ASSERT_FALSE(ec) << verify.out;
  EXPECT_FALSE(v.at("ok").as_bool());
  EXPECT_EQ(v.at("mismatchedSessions").as_int64(), 2);
  EXPECT_EQ(v.at("damaged").as_int64(), 1);
  EXPECT_NE(std::string(v.at("damagedRows").at(0).as_string())
                .find("actions (acme, act-queued): action status column"),
            std::string::npos)
      << verify.out;

  // A schema that does not exist is an error, not an empty report.
  proc::RunResult none = Cli(
      {"verify", "--postgres-url", url_, "--postgres-schema", other_schema_});
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_NE(none.err.find("no acpstore schema"), std::string::npos) << none.err;
}

TEST_F(AegisPostgresTest, VerifyNamesEveryColumnThatDisagreesWithItsRecord) {
  ASSERT_NO_FATAL_FAILURE(ImportSample());
  const std::string q = "\"" + schema_ + "\".";
  // The engine acts on these columns, never on the record: retention
  // deletes by ended_at and finished_at, leasing picks by type and
  // available_at, expiry by leased_until, lists page by updated_at and
  // created_at, idempotency by idempotency_key.
  Sql("UPDATE " + q + "sessions SET ended_at = 1000, updated_at = updated_at + 1 "
      "WHERE session_id = 'sess-main'");
  Sql("UPDATE " + q + "actions SET type = type + 1, "
      "available_at = available_at + 86400000, created_at = created_at - 1, "
      "idempotency_key = 'zz', leased_until = 5, finished_at = 6, "
      "owner_key_id = 'someone' WHERE action_id = 'act-queued'");
  Sql("UPDATE " + q + "pauses SET status = status + 1 WHERE pause_id = "
      "(SELECT min(pause_id) FROM " + q + "pauses)");
  Result<postgres::PgCheckReport> r =
      postgres::CheckPostgres(url_, schema_, /*decode_records=*/true);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->damaged, 3u);
  std::string all;
  for (const std::string& d : r->damaged_rows) all += d + "\n";
  for (const char* want :
       {"sessions (acme, sess-main): session updated_at column ",
        "; ended_at column 1000, but its record says ",
        "actions (acme, act-queued): action owner_key_id column \"someone\"",
        "; type column ", "; created_at column ", "; available_at column ",
        "; leased_until column 5, but its record says NULL",
        "; finished_at column 6, but its record says NULL",
        "; idempotency_key column \"zz\", but its record says ",
        "pauses (acme, ", "pause status column "}) {
    EXPECT_NE(all.find(want), std::string::npos) << want << " in\n" << all;
  }
  proc::RunResult verify = Cli({"verify", "--postgres-url", url_,
                                "--postgres-schema", schema_});
  EXPECT_EQ(verify.exit_code, 1) << verify.out;
  EXPECT_NE(verify.out.find("3 damaged rows"), std::string::npos) << verify.out;
}

// A string of an action's or a pause's record that is not UTF-8 reached
// responses raw (found by review); the engine's reads now fail on it, with
// the check verify makes of every row, which names it with its bytes shown
// as \xNN (the report stays UTF-8).
TEST_F(AegisPostgresTest, VerifyNamesAnActionOrPauseStringThatIsNotUtf8) {
  ASSERT_NO_FATAL_FAILURE(ImportSample());
  const std::string q = "\"" + schema_ + "\".";
  Sql("UPDATE " + q + "actions SET record = set_byte(record, "
      "position('\\x617070722d31'::bytea in record) - 1, 255) "
      "WHERE action_id = 'act-leased'");
  Sql("UPDATE " + q + "pauses SET record = set_byte(record, "
      "position('\\x636865636b696e67'::bytea in record) - 1, 255) "
      "WHERE pause_id = 'pause-1'");
  Result<postgres::PgCheckReport> r =
      postgres::CheckPostgres(url_, schema_, /*decode_records=*/true);
  ASSERT_TRUE(r.ok()) << r.error();
  std::string all;
  for (const std::string& d : r->damaged_rows) all += d + "\n";
  EXPECT_EQ(all,
            "actions (acme, act-leased): action approval_id \"\\xffppr-1\" is "
            "not valid UTF-8\n"
            "pauses (acme, sess-main, pause-1): pause reason "
            "\"\\xffhecking the diff\" is not valid UTF-8\n");
  proc::RunResult verify = CliOnSchema({"verify"});
  EXPECT_EQ(verify.exit_code, 1) << verify.out;
  EXPECT_NE(verify.out.find("2 damaged rows"), std::string::npos) << verify.out;
}

// SPEC §10 "Damage": an event whose stored payload is not valid JSON is
// damage (the read path answers data_loss for it). Found by review:
// verify read every record but no payload, so it never found one. It now
// checks every payload, names the event by its key and never shows the
// payload. The damaged payload keeps its length, so the session's
// payload_bytes counter still agrees.
TEST_F(AegisPostgresTest, VerifyNamesAnEventWhosePayloadIsNotJson) {
  ASSERT_NO_FATAL_FAILURE(ImportSample());
  const std::string q = "\"" + schema_ + "\".";
  const std::string seq = Sql(
      "WITH e AS (SELECT tenant_id, session_id, seq FROM " + q + "events "
      "WHERE octet_length(payload) >= 16 ORDER BY tenant_id, session_id, seq "
      "LIMIT 1) UPDATE " + q + "events x SET payload = "
      "rpad('secret-xyz {', octet_length(x.payload)) FROM e "
      "WHERE (x.tenant_id, x.session_id, x.seq) = "
      "(e.tenant_id, e.session_id, e.seq) "
      "RETURNING x.tenant_id || ', ' || x.session_id || ', ' || x.seq");
  ASSERT_FALSE(seq.empty());
  const std::string named =
      "events (" + seq + "): its payload is not valid JSON";

  Result<postgres::PgCheckReport> r =
      postgres::CheckPostgres(url_, schema_, /*decode_records=*/true);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->mismatched_sessions, 0u);
  EXPECT_EQ(r->damaged, 1u);
  ASSERT_EQ(r->damaged_rows.size(), 1u);
  EXPECT_EQ(r->damaged_rows[0], named);
  EXPECT_EQ(r->event_payloads_checked,
            std::stoull(Sql("SELECT count(*) FROM " + q + "events")));

  proc::RunResult verify = Cli({"verify", "--postgres-url", url_,
                                "--postgres-schema", schema_});
  EXPECT_EQ(verify.exit_code, 1) << verify.out;
  EXPECT_NE(verify.out.find("damaged: " + named), std::string::npos)
      << verify.out;
  EXPECT_NE(verify.out.find("1 damaged row"), std::string::npos) << verify.out;
  EXPECT_EQ(verify.out.find("secret-xyz"), std::string::npos) << verify.out;
}

// A stored payload is untrusted input: a row written by hand or by an
// older release may nest without bound. Found by review: checking one
// (verify's IsValidStoredPayload, the read path's check) ran Boost.JSON's
// parser, which descends by recursion, with a depth cap of 2^20, so
// 1,000,000 '[' in an event row ended verify and export-aegis with SIGSEGV.
// The parser now stops at the cap the importer's reader keeps (1,100; the
// one-pass check, which needs no stack per level, still accepts valid JSON
// of any depth): the event is damage, named by its key.
TEST_F(AegisPostgresTest, ADeeplyNestedStoredPayloadIsDamageNotACrash) {
  ASSERT_NO_FATAL_FAILURE(ImportSample());
  const std::string q = "\"" + schema_ + "\".";
  const std::string row = Sql(
      "WITH e AS (SELECT tenant_id, session_id, seq FROM " + q + "events "
      "ORDER BY tenant_id, session_id, seq LIMIT 1) UPDATE " + q + "events x "
      "SET payload = repeat('[', 1000000) FROM e "
      "WHERE (x.tenant_id, x.session_id, x.seq) = "
      "(e.tenant_id, e.session_id, e.seq) "
      "RETURNING x.tenant_id || ', ' || x.session_id || ', ' || x.seq");
  ASSERT_FALSE(row.empty());
  const std::string named = "events (" + row + "): its payload is not valid JSON";
  // The payload_bytes counter no longer agrees; the damage is what counts.
  proc::RunResult verify = CliOnSchema({"verify"});
  EXPECT_EQ(verify.exit_code, 1) << verify.err << verify.out;
  EXPECT_NE(verify.out.find("damaged: " + named), std::string::npos)
      << verify.out;

  proc::RunResult exported =
      CliOnSchema({"export-aegis", dir_.Join("deep.json")});
  EXPECT_EQ(exported.exit_code, 1) << exported.err << exported.out;
  EXPECT_NE(exported.err.find("stored event in events (" + row +
                              ") is damaged: its payload is not valid JSON"),
            std::string::npos)
      << exported.err;
}

// Payloads are read a page at a time (at most 1,000 rows and, past the
// first payload, 8 MiB), so verify's memory stays bounded: every page is
// checked, the last of a page and the first of the next alike.
TEST_F(AegisPostgresTest, VerifyChecksEveryPayloadPageByPage) {
  ASSERT_NO_FATAL_FAILURE(ImportSample());
  const std::string events = "\"" + schema_ + "\".events";
  const uint64_t sample = std::stoull(Sql("SELECT count(*) FROM " + events));
  Sql("INSERT INTO " + events + " (tenant_id, session_id, seq, event_type, "
      "occurred_at, ingested_at, payload) SELECT 'acme', 'zz-pages', g, 'x', "
      "0, 0, CASE WHEN g IN (1000, 1001, 2400) THEN '{' ELSE '{}' END "
      "FROM generate_series(1, 2500) g");
  Sql("INSERT INTO " + events + " (tenant_id, session_id, seq, event_type, "
      "occurred_at, ingested_at, payload) SELECT 'acme', 'zz-pages', 3000 + g, "
      "'x', 0, 0, CASE WHEN g = 4 THEN repeat('a', 3 << 20) "
      "ELSE '\"' || repeat('a', 3 << 20) || '\"' END "
      "FROM generate_series(1, 4) g");

  Result<postgres::PgCheckReport> r =
      postgres::CheckPostgres(url_, schema_, /*decode_records=*/true);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->event_payloads_checked, sample + 2504);
  std::string all;
  for (const std::string& d : r->damaged_rows) all += d + "\n";
  EXPECT_EQ(all,
            "events (acme, zz-pages, 1000): its payload is not valid JSON\n"
            "events (acme, zz-pages, 1001): its payload is not valid JSON\n"
            "events (acme, zz-pages, 2400): its payload is not valid JSON\n"
            "events (acme, zz-pages, 3004): its payload is not valid JSON\n");
}

TEST_F(AegisPostgresTest, ASchemaOrRecordOfANewerVersionIsRefusedNotDamage) {
  ASSERT_NO_FATAL_FAILURE(ImportSample());
  const std::string q = "\"" + schema_ + "\".";
  // A newer release wrote a pause in the next record format (its version
  // byte leads the encoding): not decodable here, and not damage.
  Sql("UPDATE " + q + "pauses SET record = set_byte(record, 0, "
      "get_byte(record, 0) + 1) WHERE pause_id = (SELECT min(pause_id) FROM " +
      q + "pauses)");
  Result<postgres::PgCheckReport> r =
      postgres::CheckPostgres(url_, schema_, /*decode_records=*/true);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(IsNewerFormat(r.status())) << r.status();
  EXPECT_NE(r.status().message().find("was written by a newer acpstore: "
                                      "pause encoding at offset 0 has format "
                                      "version"),
            std::string::npos)
      << r.status();
  proc::RunResult verify = CliOnSchema({"verify"});
  EXPECT_EQ(verify.exit_code, 1);
  EXPECT_EQ(verify.out.find("damaged"), std::string::npos) << verify.out;
  EXPECT_NE(verify.err.find("this acpstore reads versions up to"),
            std::string::npos)
      << verify.err;

  // And a newer schema version: refused as migrate and serve refuse it,
  // by verify and inspect alike, before any row is read.
  const int newer = postgres::KnownSchemaVersion() + 1;
  Sql("INSERT INTO " + q + "schema_version (version, name) VALUES (" +
      std::to_string(newer) + ", 'future')");
  r = postgres::CheckPostgres(url_, schema_, /*decode_records=*/false);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kConflict) << r.status();
  const std::string refused =
      "is at version " + std::to_string(newer) +
      ", newer than this acpstore knows (" +
      std::to_string(postgres::KnownSchemaVersion()) + ")";
  for (const char* command : {"verify", "inspect", "migrate"}) {
    proc::RunResult run = CliOnSchema({command});
    EXPECT_EQ(run.exit_code, 1) << command << ": " << run.out;
    EXPECT_NE(run.err.find(refused), std::string::npos) << command << ": " << run.err;
    EXPECT_EQ(run.out.find("OK"), std::string::npos) << command << ": " << run.out;
    EXPECT_EQ(run.out.find("damaged"), std::string::npos) << command << ": " << run.out;
  }
}

// An export only reads: a schema older than this build is refused, naming
// both versions and the command that migrates it, and is left as it was.
// Found by review: export-aegis opened the store, which migrated the
// schema. inspect and verify read in a read-only transaction, and report
// the older version as it is.
TEST_F(AegisPostgresTest, ExportRefusesAnOlderSchemaAndChangesNothing) {
  ASSERT_NO_FATAL_FAILURE(ImportSample());
  const std::string q = "\"" + schema_ + "\".";
  // Back one version: the last migration (dropping foreign keys that are
  // gone already) would run again harmlessly, so only its row goes.
  const int known = postgres::KnownSchemaVersion();
  const int older = known - 1;
  Sql("DELETE FROM " + q + "schema_version WHERE version > " +
      std::to_string(older));
  const std::string versions_sql =
      "SELECT string_agg(version::text, ',' ORDER BY version) FROM " + q +
      "schema_version";
  const std::string columns_sql =
      "SELECT string_agg(table_name || '.' || column_name, ',' ORDER BY "
      "table_name, column_name) FROM information_schema.columns WHERE "
      "table_schema = '" + schema_ + "'";
  const std::string versions = Sql(versions_sql);
  const std::string columns = Sql(columns_sql);
  ASSERT_EQ(Sql("SELECT max(version) FROM " + q + "schema_version"),
            std::to_string(older));

  const std::string kept = dir_.Join("kept.json");
  { std::ofstream(kept) << "{\"kept\":true}"; }
  proc::RunResult exported = CliOnSchema({"export-aegis", kept});
  EXPECT_EQ(exported.exit_code, 1) << exported.out << exported.err;
  EXPECT_NE(exported.err.find("is at version " + std::to_string(older) +
                              ", older than this acpstore's " +
                              std::to_string(known)),
            std::string::npos)
      << exported.err;
  EXPECT_NE(exported.err.find("acpstore migrate --postgres-url URL "
                              "--postgres-schema " + schema_),
            std::string::npos)
      << exported.err;
  EXPECT_EQ(exported.err.find(url_), std::string::npos) << exported.err;
  EXPECT_EQ(ReadText(kept), "{\"kept\":true}");
  EXPECT_EQ(Sql(versions_sql), versions);
  EXPECT_EQ(Sql(columns_sql), columns);

  for (const char* command : {"inspect", "verify"}) {
    proc::RunResult run = CliOnSchema({command});
    EXPECT_EQ(run.exit_code, 0) << command << ": " << run.out << run.err;
    EXPECT_EQ(Sql(versions_sql), versions) << command;
    EXPECT_EQ(Sql(columns_sql), columns) << command;
  }
  // `keys list` and `keys revoke` do not migrate either (servers of the
  // older release may still run on it; found by a review).
  for (const std::vector<std::string>& keys :
       {std::vector<std::string>{"keys", "list"},
        std::vector<std::string>{"keys", "revoke", "key_a"}}) {
    proc::RunResult run = CliOnSchema(keys);
    EXPECT_NE(run.exit_code, 0) << keys[1] << ": " << run.out << run.err;
    EXPECT_NE(run.err.find("older than this acpstore's"), std::string::npos)
        << run.err;
    EXPECT_NE(run.err.find("keys " + keys[1] + " does not migrate"),
              std::string::npos)
        << run.err;
    EXPECT_EQ(Sql(versions_sql), versions) << keys[1];
    EXPECT_EQ(Sql(columns_sql), columns) << keys[1];
  }

  // Migrated, it exports.
  EXPECT_EQ(CliOnSchema({"migrate"}).exit_code, 0);
  proc::RunResult after = CliOnSchema({"export-aegis", kept});
  EXPECT_EQ(after.exit_code, 0) << after.err;
  EXPECT_NE(ReadText(kept), "{\"kept\":true}");
}

// `keys list` and `keys revoke` only read or change keys that exist: on a
// schema that does not exist (a typo) they refuse as export-aegis does and
// create nothing (list created the schema and printed an empty table:
// found by a probe). `keys create` may create it, as it creates a missing
// data directory: the first keys can be made before any server ran.
TEST_F(AegisPostgresTest, KeysListAndRevokeRefuseASchemaThatDoesNotExist) {
  const std::string exists =
      "SELECT count(*) FROM pg_namespace WHERE nspname = '" + schema_ + "'";
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"keys", "list"},
                                             {"keys", "list", "--json"},
                                             {"keys", "revoke", "key_a"}}) {
    proc::RunResult run = CliOnSchema(args);
    EXPECT_EQ(run.exit_code, 1) << args[1] << ": " << run.err << run.out;
    EXPECT_NE(run.err.find("no acpstore schema \"" + schema_ + "\""),
              std::string::npos)
        << args[1] << ": " << run.err;
    EXPECT_EQ(run.out, "") << args[1];
    EXPECT_EQ(Sql(exists), "0") << args[1];
  }

  proc::RunResult created = CliOnSchema(
      {"keys", "create", "--tenant", "acme", "--role", "writer", "--id", "key_a"});
  EXPECT_EQ(created.exit_code, 0) << created.err;
  EXPECT_EQ(Sql(exists), "1");
  proc::RunResult listed = CliOnSchema({"keys", "list"});
  EXPECT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_NE(listed.out.find("key_a"), std::string::npos) << listed.out;
  proc::RunResult revoked = CliOnSchema({"keys", "revoke", "key_a"});
  EXPECT_EQ(revoked.exit_code, 0) << revoked.err;
}

// The notification channel is "<schema>.events", and PostgreSQL keeps 63
// bytes of a name: a longer schema name lost every live event between
// servers (or was cut short). Every command that takes one refuses it at
// once (exit 2), before it connects or creates anything.
TEST_F(AegisPostgresTest, EveryCommandRefusesASchemaNameTooLongForItsChannel) {
  const std::string too_long = schema_ + std::string(57 - schema_.size(), 'x');
  const std::string sample = TestData("aegis_v1.pretty.json");
  const std::vector<std::vector<std::string>> commands = {
      {"migrate"},
      {"verify"},
      {"inspect"},
      {"keys", "list"},
      {"import-aegis", sample, "--dry-run"},
      {"import-aegis", sample},
      {"export-aegis", dir_.Join("out.json")},
      {"serve", "--engine", "postgres", "--data-dir", dir_.Join("d"),
       "--listen", "127.0.0.1:0"}};
  for (std::vector<std::string> args : commands) {
    for (const std::string& a :
         {std::string("--postgres-url"), url_, std::string("--postgres-schema"),
          too_long}) {
      args.push_back(a);
    }
    proc::RunResult run = Cli(args);
    EXPECT_EQ(run.exit_code, 2) << args[0] << ": " << run.err << run.out;
    EXPECT_NE(run.err.find("is 57 bytes; at most 56"), std::string::npos)
        << args[0] << ": " << run.err;
  }
  EXPECT_EQ(Sql("SELECT count(*) FROM pg_namespace WHERE nspname LIKE '" +
                schema_ + "%'"),
            "0");
}

}  // namespace
}  // namespace acpstore::aegis
