// Damaged rows (SPEC §10 "Damage") where the engine picks the rows itself:
// a lease takes the oldest eligible action, and maintenance sweeps every
// expired lease and every session or action past its retention. A row
// whose record does not decode cannot be leased or swept safely, but it
// must cost no more than itself: found by review, one damaged queued
// action answered every lease of its tenant with data_loss, for ever, and
// one damaged row failed every maintenance pass, so expiry and retention
// stopped for everyone.
//
//   - a lease passes over a damaged candidate and leases the next one;
//     past a bound of damaged candidates it answers data_loss instead of
//     searching on;
//   - the lease sweep requeues every other expired lease;
//   - session and action retention delete every other row;
//   - so do they past an action whose columns disagree with its record;
//   - each damaged row met is counted (Stats().data_loss_reads, what
//     /readyz and acpstore_data_loss_reads_total report).
//
// Through the library with a ManualClock (no waiting for leases to
// expire). Needs the test PostgreSQL (ACPSTORE_TEST_POSTGRES_URL).

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "acpstore/blocking_store.h"
#include "acpstore/clock.h"
#include "acpstore/store.h"
#include "pg_test_env.h"

namespace acpstore {
namespace {

const Scope kAlice{"t1", "alice", Scope::Access::kOwner};

class DamagedRowsStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const ::testing::TestInfo* info =
        ::testing::UnitTest::GetInstance()->current_test_info();
    schema_ = pgtest::SchemaFor(std::string("damaged_store.") + info->name() +
                                "." + std::to_string(::getpid()));
  }
  void TearDown() override {
    store_.reset();
    Sql("SET client_min_messages = warning; DROP SCHEMA IF EXISTS \"" +
        schema_ + "\" CASCADE");
  }

  BlockingStore& Open(StoreOptions options) {
    options.maintenance_interval_ms = 0;
    options.clock = &clock_;
    Status s = pgtest::UsePostgres(&options, schema_);
    EXPECT_TRUE(s.ok()) << s;
    Result<std::unique_ptr<Store>> store = OpenStore(options);
    EXPECT_TRUE(store.ok()) << store.status();
    if (store.ok()) store_ = std::move(*store);
    db_.emplace(*store_);
    return *db_;
  }

  // Runs statements on a connection of its own; the first column of the
  // first row of the last one's result ("" when none).
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
      if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0) {
        out = PQgetvalue(r, 0, 0);
      }
      PQclear(r);
    }
    PQfinish(c);
    return out;
  }

  // Cuts the last bytes off the record of `table`'s rows matching `where`
  // (as damaged_rows_test.cc does).
  void Damage(const std::string& table, const std::string& where) {
    Sql("UPDATE \"" + schema_ + "\"." + table +
        " SET record = substring(record from 1 for length(record) - 3) "
        "WHERE " + where);
  }

  // Makes the record of `table`'s rows matching `where` a newer
  // release's: its leading version byte above any this build reads.
  void Newer(const std::string& table, const std::string& where) {
    Sql("UPDATE \"" + schema_ + "\"." + table +
        " SET record = set_byte(record, 0, 200) WHERE " + where);
  }

  // Adds `n` damaged copies of `table`'s row `id_column` = `id` (ids
  // "d-1".."d-n"), each with `time_column` 1 ms earlier, so that a sweep
  // ordered by it meets them all first.
  void CopyDamaged(const std::string& table, const std::string& id_column,
                   const std::string& id, int n,
                   const std::string& time_column) {
    const std::string t = "\"" + schema_ + "\"." + table;
    Sql("CREATE TEMP TABLE copy AS SELECT x.* FROM " + t + " x, "
        "generate_series(1, " + std::to_string(n) + ") WHERE " + id_column +
        " = '" + id + "';"
        "CREATE TEMP SEQUENCE ids;"
        "UPDATE copy SET " + id_column + " = 'd-' || nextval('ids'), " +
        time_column + " = " + time_column + " - 1, "
        "record = substring(record from 1 for length(record) - 3);"
        "INSERT INTO " + t + " SELECT * FROM copy");
  }

  std::string Rows(const std::string& table, const std::string& where) {
    return Sql("SELECT count(*) FROM \"" + schema_ + "\"." + table +
               " WHERE " + where);
  }

  void Session(const std::string& id) {
    ASSERT_TRUE(db_->CreateSession(kAlice, {.id = id}).ok());
  }

  // One action per millisecond, so the lease order is the creation order.
  void Enqueue(const std::string& id, const std::string& session = "s-1") {
    clock_.Advance(1);
    Result<EnqueueResult> r =
        db_->EnqueueAction(kAlice, {.action_id = id, .session_id = session});
    ASSERT_TRUE(r.ok()) << r.status();
  }

  // The id of the action a lease takes; "" for none, the status else.
  std::string Lease(int64_t lease_ms = 30000) {
    Result<std::optional<Action>> r =
        db_->LeaseAction(kAlice, {.lease_ms = lease_ms});
    if (!r.ok()) return r.status().ToString();
    return *r ? (*r)->action_id : "";
  }

  uint64_t DataLossReads() { return store_->Stats().data_loss_reads; }

  ManualClock clock_{1700000000000};
  std::string schema_;
  std::unique_ptr<Store> store_;
  std::optional<BlockingStore> db_;
};

TEST_F(DamagedRowsStoreTest, ALeasePassesOverADamagedActionToTheNextOne) {
  Open(StoreOptions{});
  Session("s-1");
  for (const char* id : {"a-1", "a-2", "a-3"}) Enqueue(id);
  Damage("actions", "action_id = 'a-1'");

  EXPECT_EQ(Lease(), "a-2");
  EXPECT_EQ(Lease(), "a-3");
  EXPECT_EQ(Lease(), "");  // a-1 is never leased
  // Every lease met a-1.
  EXPECT_EQ(DataLossReads(), 3u);
  EXPECT_EQ(Rows("actions", "action_id = 'a-1' AND status = 0"), "1");
}

// Bounded: a lease searches past at most 16 damaged candidates, then
// answers data_loss naming the last one (not "nothing to lease", which a
// worker would take for an empty queue).
TEST_F(DamagedRowsStoreTest, ALeaseGivesUpWithDataLossPastSixteenDamagedActions) {
  Open(StoreOptions{});
  Session("s-1");
  for (int i = 10; i < 26; ++i) Enqueue("d-" + std::to_string(i));
  Enqueue("ok");
  Damage("actions", "action_id LIKE 'd-%'");
  EXPECT_EQ(Lease(), "ok");  // 16 damaged ones passed over
  EXPECT_EQ(DataLossReads(), 16u);

  Enqueue("d-26");
  Enqueue("ok-2");
  Damage("actions", "action_id = 'd-26'");
  const std::string answer = Lease();
  EXPECT_NE(answer.find("actions (t1, d-26) is damaged"), std::string::npos)
      << answer;
  EXPECT_EQ(DataLossReads(), 16u + 17u);
  EXPECT_EQ(Rows("actions", "action_id = 'ok-2' AND status = 0"), "1");
}

TEST_F(DamagedRowsStoreTest, TheLeaseSweepRequeuesEveryOtherExpiredLease) {
  Open(StoreOptions{});
  Session("s-1");
  for (const char* id : {"a-1", "a-2", "a-3"}) Enqueue(id);
  ASSERT_EQ(Lease(1000), "a-1");
  ASSERT_EQ(Lease(1000), "a-2");
  Damage("actions", "action_id = 'a-1'");
  clock_.Advance(5000);

  Result<MaintenanceReport> report = db_->RunMaintenance();
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->leases_requeued, 1u);
  EXPECT_EQ(Rows("actions", "action_id = 'a-2' AND status = 0"), "1");
  EXPECT_EQ(DataLossReads(), 1u);

  // The lazy sweep of a lease (SPEC §2.3) alike: a-3 expires beside a-1,
  // and is requeued (with a backoff) by the lease that then takes a-2.
  ASSERT_EQ(Lease(1000), "a-3");  // a-2 waits out its backoff
  clock_.Advance(5000);
  EXPECT_EQ(Lease(), "a-2");
  EXPECT_EQ(Rows("actions", "action_id = 'a-3' AND status = 0"), "1");
  EXPECT_EQ(Rows("actions", "action_id = 'a-1' AND status = 1"), "1");
}

TEST_F(DamagedRowsStoreTest, RetentionDeletesEveryOtherSessionAndAction) {
  StoreOptions options;
  options.retention = RetentionOptions{0, 0, 1000, 1000, 0};
  Open(options);
  for (const char* id : {"s-1", "s-2", "s-3"}) Session(id);
  for (const char* id : {"a-1", "a-2", "a-3"}) Enqueue(id, "s-1");
  for (const char* id : {"a-1", "a-2"}) {
    ASSERT_TRUE(db_->CancelAction(kAlice, id, std::nullopt).ok());
  }
  for (const char* id : {"s-2", "s-3"}) {
    ASSERT_TRUE(
        db_->TransitionSession(kAlice, id, SessionEvent::kRuntimeFailed).ok());
  }
  Damage("actions", "action_id = 'a-1'");
  Damage("sessions", "session_id = 's-2'");
  clock_.Advance(5000);

  Result<MaintenanceReport> report = db_->RunMaintenance();
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->actions_deleted, 1u);   // a-2
  EXPECT_EQ(report->sessions_deleted, 1u);  // s-3
  EXPECT_EQ(Rows("actions", "true"), "2");  // a-1 (damaged), a-3 (queued)
  EXPECT_EQ(Rows("sessions", "true"), "2");  // s-1 (live), s-2 (damaged)
  EXPECT_EQ(DataLossReads(), 2u);
}

// Found by review: each sweep read the first page of its rows (1,000
// actions, 500 sessions) and passed over the damaged ones; with a page's
// worth of damaged rows sorting first, every pass read the same page and
// nothing behind it was ever expired or deleted. A pass now reads on past
// them, at most 4 pages, and the next pass goes on from where it stopped.
// Here 4,500 damaged leases expired before the healthy one, all at the
// same time (the tie broken by tenant and id).
TEST_F(DamagedRowsStoreTest, TheLeaseSweepReachesALeaseBehindThousandsOfDamagedOnes) {
  Open(StoreOptions{});
  Session("s-1");
  Enqueue("a-1");
  ASSERT_EQ(Lease(1000), "a-1");
  CopyDamaged("actions", "action_id", "a-1", 4500, "leased_until");
  clock_.Advance(5000);

  // The first pass reads 4 pages of damaged rows and stops there.
  Result<MaintenanceReport> report = db_->RunMaintenance();
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->leases_requeued, 0u);
  EXPECT_EQ(DataLossReads(), 4000u);
  // The next reads the head page, then goes on from there.
  report = db_->RunMaintenance();
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->leases_requeued, 1u);
  EXPECT_EQ(Rows("actions", "action_id = 'a-1' AND status = 0"), "1");
  EXPECT_EQ(DataLossReads(), 4000u + 1000u + 500u);
}

TEST_F(DamagedRowsStoreTest, RetentionReachesRowsBehindPagesOfDamagedOnes) {
  StoreOptions options;
  options.retention = RetentionOptions{0, 0, 1000, 1000, 0};
  Open(options);
  for (const char* id : {"s-1", "s-2"}) Session(id);
  Enqueue("a-1", "s-1");
  ASSERT_TRUE(db_->CancelAction(kAlice, "a-1", std::nullopt).ok());
  ASSERT_TRUE(
      db_->TransitionSession(kAlice, "s-2", SessionEvent::kRuntimeFailed).ok());
  CopyDamaged("actions", "action_id", "a-1", 1200, "finished_at");
  CopyDamaged("sessions", "session_id", "s-2", 600, "ended_at");
  clock_.Advance(5000);

  Result<MaintenanceReport> report = db_->RunMaintenance();
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->actions_deleted, 1u);
  EXPECT_EQ(report->sessions_deleted, 1u);
  EXPECT_EQ(Rows("actions", "action_id = 'a-1'"), "0");
  EXPECT_EQ(Rows("sessions", "session_id = 's-2'"), "0");
  EXPECT_EQ(DataLossReads(), 1200u + 600u);
}

// Found by review: an action row whose columns disagree with its record
// (what verify reports as "action status column ..., but its record says
// ...") was leased and swept by its columns and decided on by its record.
// A cancelled action whose status column said queued was every lease's
// first candidate, and none leased it: each lease of its tenant answered
// "nothing to lease" with actions waiting, for ever. A lease and the
// sweeps now pass over such a row as over one that does not decode
// (counted, reported once); the other rows are leased, requeued, deleted.
TEST_F(DamagedRowsStoreTest, ALeaseAndTheSweepsPassOverAnActionWhoseColumnsDisagree) {
  std::vector<std::string> reported;
  StoreOptions options;
  options.on_damage = [&reported](const Status& s) {
    reported.emplace_back(s.message());
  };
  options.retention = RetentionOptions{0, 0, 1000, 1000, 0};
  Open(options);
  Session("s-1");
  for (const char* id : {"a-1", "a-2", "a-3", "a-4", "a-5"}) Enqueue(id);
  for (const char* id : {"a-1", "a-5"}) {
    ASSERT_TRUE(db_->CancelAction(kAlice, id, std::nullopt).ok());
  }
  const std::string actions = "\"" + schema_ + "\".actions";
  Sql("UPDATE " + actions + " SET status = 0, finished_at = NULL "
      "WHERE action_id = 'a-1'");

  EXPECT_EQ(Lease(), "a-2");
  EXPECT_EQ(DataLossReads(), 1u);
  ASSERT_EQ(Lease(1000), "a-3");
  ASSERT_EQ(Lease(1000), "a-4");
  EXPECT_EQ(DataLossReads(), 3u);  // each lease met a-1
  // The expiry sweep meets a-3 beside a-4, retention the finished a-5.
  Sql("UPDATE " + actions + " SET type = type + 1 WHERE action_id = 'a-3'");
  Sql("UPDATE " + actions + " SET owner_key_id = 'bob' "
      "WHERE action_id = 'a-5'");
  clock_.Advance(5000);
  Result<MaintenanceReport> report = db_->RunMaintenance();
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->leases_requeued, 1u);  // a-4
  EXPECT_EQ(report->actions_deleted, 0u);
  EXPECT_EQ(Rows("actions", "action_id = 'a-4' AND status = 0"), "1");
  EXPECT_EQ(Rows("actions", "action_id = 'a-3' AND status = 1"), "1");
  EXPECT_EQ(Rows("actions", "action_id = 'a-5'"), "1");
  EXPECT_EQ(DataLossReads(), 5u);

  // Each row reported once, as verify names it.
  std::string all;
  for (const std::string& r : reported) all += r + "\n";
  EXPECT_EQ(reported.size(), 3u) << all;
  for (const char* want :
       {"stored action in actions (t1, a-1) is damaged: action status "
        "column 0, but its record says ",
        "; finished_at column NULL, but its record says ",
        "stored action in actions (t1, a-3) is damaged: action type column ",
        "stored action in actions (t1, a-5) is damaged: action owner_key_id "
        "column \"bob\", but its record says \"alice\""}) {
    EXPECT_NE(all.find(want), std::string::npos) << want << " in\n" << all;
  }
}

// SPEC §3, §10: a row written by a newer release (its record's version
// byte above what this build reads) is not damage, but this build cannot
// lease or sweep it either. Found by review: such an action at the head
// of the queue answered every lease of its tenant with `internal` (so did
// its session, for each of its actions), and an expired or finished one
// failed every maintenance pass. A lease and the sweeps now pass over it,
// without counting or reporting it, and leave it for a newer server; with
// nothing else eligible, a lease answers "nothing to lease" (204).
TEST_F(DamagedRowsStoreTest, ARowOfANewerReleaseIsPassedOverNotCountedAsDamage) {
  std::vector<std::string> reported;
  StoreOptions options;
  options.on_damage = [&reported](const Status& s) {
    reported.emplace_back(s.message());
  };
  options.retention = RetentionOptions{0, 0, 1000, 1000, 0};
  Open(options);
  for (const char* id : {"s-1", "s-new", "s-ended", "s-ended-new"}) {
    Session(id);
  }
  Enqueue("a-new", "s-1");
  Enqueue("a-of-new-session", "s-new");
  Enqueue("a-1", "s-1");
  Newer("actions", "action_id = 'a-new'");
  Newer("sessions", "session_id = 's-new'");

  EXPECT_EQ(Lease(1000), "a-1");
  EXPECT_EQ(Lease(1000), "");  // what is left is a newer server's
  EXPECT_EQ(Rows("actions", "action_id = 'a-new' AND status = 0"), "1");
  EXPECT_EQ(Rows("actions", "action_id = 'a-of-new-session' AND status = 0"),
            "1");

  // Maintenance: a-1's lease expires beside a newer expired lease, a
  // finished action and an ended session of a newer release stay.
  Enqueue("a-done", "s-1");
  Enqueue("a-done-new", "s-1");
  for (const char* id : {"a-done", "a-done-new"}) {
    ASSERT_TRUE(db_->CancelAction(kAlice, id, std::nullopt).ok());
  }
  for (const char* id : {"s-ended", "s-ended-new"}) {
    ASSERT_TRUE(
        db_->TransitionSession(kAlice, id, SessionEvent::kRuntimeFailed).ok());
  }
  Sql("UPDATE \"" + schema_ + "\".actions SET status = 1, leased_until = 0 "
      "WHERE action_id = 'a-new'");
  Newer("actions", "action_id = 'a-done-new'");
  Newer("sessions", "session_id = 's-ended-new'");
  clock_.Advance(5000);
  Result<MaintenanceReport> report = db_->RunMaintenance();
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->leases_requeued, 1u);  // a-1
  EXPECT_EQ(report->actions_deleted, 1u);  // a-done
  EXPECT_EQ(report->sessions_deleted, 1u);  // s-ended
  EXPECT_EQ(Rows("actions", "action_id IN ('a-new', 'a-done-new')"), "2");
  EXPECT_EQ(Rows("sessions", "session_id = 's-ended-new'"), "1");
  // A lease's own sweep alike (a-1 waits out its backoff).
  EXPECT_EQ(Lease(), "");

  EXPECT_EQ(DataLossReads(), 0u);
  EXPECT_TRUE(reported.empty());
}

// Newer rows count in the lease's bound of 16 passed-over candidates; a
// 17th answers "nothing to lease" (not data_loss: nothing is damaged, and
// a newer server leases them), with still nothing counted.
TEST_F(DamagedRowsStoreTest, ALeasePastSixteenNewerActionsFindsNothingToLease) {
  Open(StoreOptions{});
  Session("s-1");
  for (int i = 10; i < 26; ++i) Enqueue("n-" + std::to_string(i));
  Enqueue("ok");
  Newer("actions", "action_id LIKE 'n-%'");
  EXPECT_EQ(Lease(), "ok");  // 16 newer ones passed over

  Enqueue("n-26");
  Enqueue("ok-2");
  Newer("actions", "action_id = 'n-26'");
  EXPECT_EQ(Lease(), "");
  EXPECT_EQ(Rows("actions", "action_id = 'ok-2' AND status = 0"), "1");
  EXPECT_EQ(DataLossReads(), 0u);
}

// Found by review: a transaction the engine retries (a serialization
// failure, a deadlock) runs its lease or sweep again from the start, and
// each attempt counted the damaged rows it passed over, so one lease
// counted a row twice. The damage is noted per attempt and counted once
// the transaction has ended. The first attempt is failed here by a
// trigger on `actions` that raises a serialization failure once (a
// sequence, which a rollback does not reset, says which attempt it is).
TEST_F(DamagedRowsStoreTest, ARetriedLeaseOrSweepCountsADamagedRowOnce) {
  std::vector<std::string> reported;
  StoreOptions options;
  options.on_damage = [&reported](const Status& s) {
    reported.emplace_back(s.message());
  };
  Open(options);
  Session("s-1");
  for (const char* id : {"a-1", "a-2", "a-3", "a-4"}) Enqueue(id);
  ASSERT_EQ(Lease(1000), "a-1");
  ASSERT_EQ(Lease(1000), "a-2");
  Damage("actions", "action_id IN ('a-1', 'a-3')");
  const std::string q = "\"" + schema_ + "\".";
  auto fail_next_update = [&] {
    Sql("SET client_min_messages = warning;"
        "DROP TRIGGER IF EXISTS fail_once ON " + q + "actions;"
        "DROP SEQUENCE IF EXISTS " + q + "attempts;"
        "CREATE SEQUENCE " + q + "attempts;"
        "CREATE OR REPLACE FUNCTION " + q + "fail_once() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN "
        "IF nextval('" + q + "attempts') = 1 THEN RAISE EXCEPTION "
        "'provoked' USING ERRCODE = 'serialization_failure'; END IF; "
        "RETURN NEW; END $$;"
        "CREATE TRIGGER fail_once BEFORE UPDATE ON " + q + "actions "
        "FOR EACH ROW EXECUTE FUNCTION " + q + "fail_once()");
  };

  // The lease passes over a-3 in each of its two attempts.
  fail_next_update();
  EXPECT_EQ(Lease(), "a-4");
  EXPECT_EQ(Sql("SELECT last_value FROM " + q + "attempts"), "2");
  EXPECT_EQ(DataLossReads(), 1u);
  EXPECT_EQ(reported.size(), 1u);

  // So does the maintenance pass's lease sweep with a-1 (a-2 requeued).
  clock_.Advance(5000);
  fail_next_update();
  Result<MaintenanceReport> report = db_->RunMaintenance();
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->leases_requeued, 1u);
  EXPECT_EQ(Sql("SELECT last_value FROM " + q + "attempts"), "2");
  EXPECT_EQ(DataLossReads(), 2u);
  EXPECT_EQ(reported.size(), 2u);
}

}  // namespace
}  // namespace acpstore
