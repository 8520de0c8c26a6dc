// PgConn's pipelining (pg_conn.h), which the append path relies on: queued
// statements run in order and go out with the next statement that waits;
// a queued statement's failure is that statement's failure, with its
// SQLSTATE, and a COMMIT or ROLLBACK it skipped still ends the transaction
// (a failed transaction must never go back to the pool open); prefetched
// rows answer exactly one later Exec of the same statement and parameters
// and never outlive their transaction; a statement whose preparation a
// failure skipped is prepared again at its next use; TakeFetched hands out
// prefetched rows without sending anything. Also PgParams::BytesArray's
// binary array, which PostgreSQL must read back element for element.

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "pg_test_env.h"
#include "postgres/pg_conn.h"

namespace acpstore::postgres {
namespace {

constexpr PgStatement kInsert{"t_insert", "INSERT INTO t (k, v) VALUES ($1, $2)"};
constexpr PgStatement kUpdate{"t_update", "UPDATE t SET v = $2 WHERE k = $1"};
constexpr PgStatement kGet{"t_get", "SELECT v FROM t WHERE k = $1"};

class PgConnPipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const ::testing::TestInfo* info =
        ::testing::UnitTest::GetInstance()->current_test_info();
    schema_ = pgtest::SchemaFor(std::string("pipeline.") + info->name() + "." +
                                std::to_string(::getpid()));
    Result<std::string> url = pgtest::TestPostgresUrl();
    ASSERT_TRUE(url.ok()) << url.status();
    url_ = *url;
    PGconn* c = PQconnectdb(url_.c_str());
    PQclear(PQexec(c, ("CREATE SCHEMA \"" + schema_ + "\"; CREATE TABLE \"" +
                       schema_ + "\".t (k text PRIMARY KEY, v text)")
                          .c_str()));
    PQfinish(c);
    Result<std::unique_ptr<PgConn>> conn = PgConn::Connect(url_, schema_);
    ASSERT_TRUE(conn.ok()) << conn.status();
    conn_ = std::move(*conn);
  }

  void TearDown() override {
    conn_.reset();
    PGconn* c = PQconnectdb(url_.c_str());
    PQclear(PQexec(c, ("DROP SCHEMA IF EXISTS \"" + schema_ + "\" CASCADE").c_str()));
    PQfinish(c);
  }

  // v of row k, read by a plain statement outside any pipeline.
  std::string Get(const std::string& k) {
    Result<PgResult> r = conn_->Exec(kGet, PgParams().Text(k));
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok() || r->rows() == 0) return "<none>";
    return std::string(r->Text(0, 0));
  }

  std::string url_, schema_;
  std::unique_ptr<PgConn> conn_;
};

TEST_F(PgConnPipelineTest, QueuedStatementsRunInOrderWithTheNextThatWaits) {
  ASSERT_TRUE(conn_->SendCommand("BEGIN").ok());
  ASSERT_TRUE(conn_->Send(kInsert, PgParams().Text("a").Text("1")).ok());
  ASSERT_TRUE(conn_->Send(kUpdate, PgParams().Text("a").Text("2")).ok());
  // A read behind the queue sees what the queue wrote.
  Result<PgResult> r = conn_->Exec(kGet, PgParams().Text("a"));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->rows(), 1);
  EXPECT_EQ(r->Text(0, 0), "2");
  ASSERT_TRUE(conn_->Send(kUpdate, PgParams().Text("a").Text("3")).ok());
  ASSERT_TRUE(conn_->Run("COMMIT").ok());
  EXPECT_EQ(Get("a"), "3");
  EXPECT_TRUE(conn_->healthy());
}

TEST_F(PgConnPipelineTest, AQueuedFailureFailsTheCommitAndEndsTheTransaction) {
  ASSERT_TRUE(conn_->Run("INSERT INTO t (k, v) VALUES ('a', '0')").ok());
  ASSERT_TRUE(conn_->SendCommand("BEGIN").ok());
  ASSERT_TRUE(conn_->Send(kInsert, PgParams().Text("b").Text("1")).ok());
  ASSERT_TRUE(conn_->Send(kInsert, PgParams().Text("a").Text("1")).ok());  // dup
  ASSERT_TRUE(conn_->Send(kInsert, PgParams().Text("c").Text("1")).ok());
  Result<PgResult> commit = conn_->Run("COMMIT");
  EXPECT_FALSE(commit.ok());
  EXPECT_EQ(conn_->last_sqlstate(), kUniqueViolation);
  EXPECT_TRUE(conn_->healthy());
  // Nothing of the transaction happened, and it is over: the connection
  // is idle, not inside a failed transaction.
  EXPECT_EQ(PQtransactionStatus(conn_->raw()), PQTRANS_IDLE);
  EXPECT_EQ(Get("b"), "<none>");
  EXPECT_EQ(Get("c"), "<none>");
  EXPECT_EQ(Get("a"), "0");
}

TEST_F(PgConnPipelineTest, ARollbackAfterAQueuedFailureEndsTheTransaction) {
  ASSERT_TRUE(conn_->Run("INSERT INTO t (k, v) VALUES ('a', '0')").ok());
  ASSERT_TRUE(conn_->SendCommand("BEGIN").ok());
  ASSERT_TRUE(conn_->Send(kInsert, PgParams().Text("a").Text("1")).ok());  // dup
  ASSERT_TRUE(conn_->Send(kInsert, PgParams().Text("b").Text("1")).ok());
  // The caller gives up before anything waited (a decider's bug, say).
  ASSERT_TRUE(conn_->Run("ROLLBACK").ok());
  EXPECT_EQ(PQtransactionStatus(conn_->raw()), PQTRANS_IDLE);
  EXPECT_EQ(Get("b"), "<none>");
}

TEST_F(PgConnPipelineTest, AQueuedFailureFailsTheNextRead) {
  ASSERT_TRUE(conn_->Run("INSERT INTO t (k, v) VALUES ('a', '0')").ok());
  ASSERT_TRUE(conn_->SendCommand("BEGIN").ok());
  ASSERT_TRUE(conn_->Send(kInsert, PgParams().Text("a").Text("1")).ok());  // dup
  Result<PgResult> r = conn_->Exec(kGet, PgParams().Text("a"));
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(conn_->last_sqlstate(), kUniqueViolation);
  ASSERT_TRUE(conn_->Run("ROLLBACK").ok());
  EXPECT_EQ(PQtransactionStatus(conn_->raw()), PQTRANS_IDLE);
}

TEST_F(PgConnPipelineTest, APrefetchAnswersOneExecOfTheSameStatementOnly) {
  ASSERT_TRUE(conn_->Run("INSERT INTO t (k, v) VALUES ('a', '0'), ('b', '0')").ok());
  ASSERT_TRUE(conn_->SendCommand("BEGIN").ok());
  ASSERT_TRUE(conn_->Prefetch(kGet, PgParams().Text("a")).ok());
  ASSERT_TRUE(conn_->Prefetch(kGet, PgParams().Text("b")).ok());
  Result<PgResult> a = conn_->Exec(kGet, PgParams().Text("a"));
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->Text(0, 0), "0");
  // Writes to a queue behind it; the prefetched b was read before them
  // and is still what b is, so it answers without waiting for them.
  ASSERT_TRUE(conn_->Send(kUpdate, PgParams().Text("a").Text("1")).ok());
  Result<PgResult> b = conn_->Exec(kGet, PgParams().Text("b"));
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->Text(0, 0), "0");
  // A second read of a is not the prefetch: it sees the queued write.
  Result<PgResult> a2 = conn_->Exec(kGet, PgParams().Text("a"));
  ASSERT_TRUE(a2.ok()) << a2.status();
  EXPECT_EQ(a2->Text(0, 0), "1");
  ASSERT_TRUE(conn_->Run("COMMIT").ok());
}

TEST_F(PgConnPipelineTest, PrefetchedRowsDoNotOutliveTheirTransaction) {
  ASSERT_TRUE(conn_->Run("INSERT INTO t (k, v) VALUES ('a', '0')").ok());
  ASSERT_TRUE(conn_->SendCommand("BEGIN").ok());
  ASSERT_TRUE(conn_->Prefetch(kGet, PgParams().Text("a")).ok());
  ASSERT_TRUE(conn_->Flush().ok());
  ASSERT_TRUE(conn_->Run("COMMIT").ok());  // the prefetch was never taken
  ASSERT_TRUE(conn_->Run("UPDATE t SET v = '5' WHERE k = 'a'").ok());
  EXPECT_EQ(Get("a"), "5");
}

// The first use of a statement on a connection queues its preparation;
// behind a failed statement PostgreSQL skips that too, so the connection
// must not count it as prepared (the one-round-trip append batch's guard
// fails that way, and the batch then runs again on the same connection).
TEST_F(PgConnPipelineTest, APreparationSkippedBehindAFailureIsPreparedAgain) {
  constexpr PgStatement kFresh{"t_fresh", "INSERT INTO t (k, v) VALUES ($1, $2)"};
  ASSERT_TRUE(conn_->SendCommand("BEGIN").ok());
  ASSERT_TRUE(conn_->SendCommand("SELECT 1 / 0").ok());
  ASSERT_TRUE(conn_->Send(kFresh, PgParams().Text("a").Text("1")).ok());
  EXPECT_FALSE(conn_->Run("COMMIT").ok());
  EXPECT_TRUE(conn_->healthy());
  ASSERT_TRUE(conn_->SendCommand("BEGIN").ok());
  ASSERT_TRUE(conn_->Send(kFresh, PgParams().Text("b").Text("2")).ok());
  Result<PgResult> commit = conn_->Run("COMMIT");
  ASSERT_TRUE(commit.ok()) << commit.status();
  EXPECT_EQ(Get("a"), "<none>");
  EXPECT_EQ(Get("b"), "2");
}

TEST_F(PgConnPipelineTest, TakeFetchedNeverSendsAnything) {
  ASSERT_TRUE(conn_->Run("INSERT INTO t (k, v) VALUES ('a', '1')").ok());
  ASSERT_TRUE(conn_->SendCommand("BEGIN").ok());
  ASSERT_TRUE(conn_->Prefetch(kGet, PgParams().Text("a")).ok());
  // Not read yet: nothing to take, and nothing was sent for it.
  EXPECT_FALSE(conn_->TakeFetched(kGet, PgParams().Text("a")).has_value());
  ASSERT_TRUE(conn_->Send(kUpdate, PgParams().Text("a").Text("2")).ok());
  ASSERT_TRUE(conn_->SendCommand("COMMIT").ok());
  ASSERT_TRUE(conn_->Flush().ok());
  std::optional<PgResult> rows = conn_->TakeFetched(kGet, PgParams().Text("a"));
  ASSERT_TRUE(rows.has_value());
  ASSERT_EQ(rows->rows(), 1);
  EXPECT_EQ(rows->Text(0, 0), "1");  // read before the UPDATE
  EXPECT_FALSE(conn_->TakeFetched(kGet, PgParams().Text("a")).has_value());
  EXPECT_EQ(Get("a"), "2");  // the COMMIT ran with the Flush
}

// Elements with NUL and high bytes, an empty one, and one past 64 KiB come
// back in order, byte for byte; an empty array is one PostgreSQL accepts
// and unnests to no rows.
TEST_F(PgConnPipelineTest, ABytesArrayComesBackElementForElement) {
  constexpr PgStatement kUnnest{
      "t_unnest", "SELECT n, b FROM unnest($1::bytea[]) WITH ORDINALITY "
                  "AS u(b, n) ORDER BY n"};
  const std::vector<std::string> items = {
      std::string("a\0b\xff\x80", 5), "", "plain text",
      std::string(70000, '\x01')};
  Result<PgResult> r = conn_->Exec(kUnnest, PgParams().BytesArray(items));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->rows(), 4);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(r->Int(i, 0), i + 1);
    EXPECT_EQ(r->Bytes(i, 1), items[static_cast<size_t>(i)]) << "element " << i;
  }
  Result<PgResult> none = conn_->Exec(kUnnest, PgParams().BytesArray({}));
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ(none->rows(), 0);
}

}  // namespace
}  // namespace acpstore::postgres
