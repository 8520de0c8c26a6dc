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
#include <arpa/inet.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>

#include <memory>
#include <string>
#include <vector>

#include "pg_test_env.h"
#include "postgres/pg_conn.h"
#include "postgres/pg_readiness.h"

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


// ------------------------------------------------- bounded waits (0039)

namespace {
std::string Show(PgConn& c, const std::string& setting) {
  Result<PgResult> r = c.Run("SHOW " + setting);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() && r->rows() == 1 ? std::string(r->Text(0, 0)) : "";
}

std::string ConnOption(PgConn& c, const std::string& keyword) {
  std::string out;
  PQconninfoOption* options = PQconninfo(c.raw());
  for (PQconninfoOption* o = options; o != nullptr && o->keyword != nullptr;
       ++o) {
    if (keyword == o->keyword && o->val != nullptr) out = o->val;
  }
  PQconninfoFree(options);
  return out;
}
}  // namespace

TEST_F(PgConnPipelineTest, ConnectAppliesTheLimitsAndKeepalives) {
  Result<std::unique_ptr<PgConn>> c = PgConn::Connect(
      url_, schema_,
      PgSessionLimits{.lock_timeout_ms = 300,
                      .idle_in_transaction_timeout_ms = 45000});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(Show(**c, "lock_timeout"), "300ms");
  EXPECT_EQ(Show(**c, "idle_in_transaction_session_timeout"), "45s");
  EXPECT_EQ(ConnOption(**c, "keepalives"), "1");
  EXPECT_EQ(ConnOption(**c, "keepalives_idle"), "30");
  EXPECT_EQ(ConnOption(**c, "keepalives_interval"), "10");
  EXPECT_EQ(ConnOption(**c, "keepalives_count"), "3");
  // Without limits the server's own settings stay (PostgreSQL's: none).
  EXPECT_EQ(Show(*conn_, "lock_timeout"), "0");
  // The URL's own keepalive settings win.
  Result<std::unique_ptr<PgConn>> own =
      PgConn::Connect(url_ + " keepalives_idle=77", schema_);
  ASSERT_TRUE(own.ok()) << own.status();
  EXPECT_EQ(ConnOption(**own, "keepalives_idle"), "77");
}

TEST_F(PgConnPipelineTest, ALockTimeoutIsUnavailableAndKeepsTheConnection) {
  ASSERT_TRUE(conn_->Run("INSERT INTO t VALUES ('k', 'v')").ok());
  PGconn* holder = PQconnectdb(url_.c_str());
  PQclear(PQexec(holder, "BEGIN"));
  PQclear(PQexec(holder, ("SELECT 1 FROM \"" + schema_ +
                          "\".t WHERE k = 'k' FOR UPDATE")
                             .c_str()));
  Result<std::unique_ptr<PgConn>> c = PgConn::Connect(
      url_, schema_, PgSessionLimits{.lock_timeout_ms = 200});
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_TRUE((*c)->Run("BEGIN").ok());
  Result<PgResult> r = (*c)->Run("SELECT v FROM t WHERE k = 'k' FOR UPDATE");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status();
  EXPECT_EQ((*c)->last_sqlstate(), kLockNotAvailable);
  EXPECT_TRUE(IsTimeoutError((*c)->last_sqlstate()));
  // The message keeps libpq's text for the log; the client reads another.
  EXPECT_NE(r.status().message().find("lock timeout"), std::string::npos)
      << r.status();
  const Status failed = r.status();  // Detail points into it
  const StatusDetail* client = failed.Detail(kClientMessageDetail);
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(std::get<std::string>(client->value).find("lock timeout"),
            std::string::npos);
  EXPECT_TRUE((*c)->healthy());
  ASSERT_TRUE((*c)->Run("ROLLBACK").ok());
  PQclear(PQexec(holder, "ROLLBACK"));
  PQfinish(holder);
}

TEST_F(PgConnPipelineTest, AnIdleTransactionIsEndedByPostgres) {
  // What frees a frozen server's row locks: PostgreSQL closes its
  // connection idle inside a transaction past the bound.
  Result<std::unique_ptr<PgConn>> c = PgConn::Connect(
      url_, schema_, PgSessionLimits{.idle_in_transaction_timeout_ms = 300});
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_TRUE((*c)->Run("BEGIN").ok());
  ASSERT_TRUE((*c)->Run("SELECT 1 FROM t FOR UPDATE").ok());
  ::usleep(900 * 1000);
  Result<PgResult> r = (*c)->Run("SELECT 1");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status();
  EXPECT_FALSE((*c)->healthy());
}

TEST_F(PgConnPipelineTest, AConnectFailureKeepsLibpqTextOutOfTheClientMessage) {
  Result<std::unique_ptr<PgConn>> c =
      PgConn::Connect("host=/nonexistent-acpstore-dir port=1", schema_);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kUnavailable);
  // The tools and the log show libpq's reason...
  EXPECT_NE(c.status().message().find("/nonexistent-acpstore-dir"),
            std::string::npos)
      << c.status();
  // ...an HTTP client reads this instead.
  const Status failed = c.status();  // Detail points into it
  const StatusDetail* client = failed.Detail(kClientMessageDetail);
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(std::get<std::string>(client->value), "the database is unreachable");
}

// A readiness probe against a "database" that accepts connections and
// never answers (a stopped postmaster): Check answers within its bound,
// and at once while the probe still hangs.
TEST(PgReadinessTest, AHungDatabaseIsNotReadyWithinTheBound) {
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr),
            0);
  ASSERT_EQ(::listen(listener, 4), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len),
            0);
  const std::string url = "host=127.0.0.1 port=" +
                          std::to_string(ntohs(addr.sin_port)) +
                          " connect_timeout=2 dbname=x";
  using Clock = std::chrono::steady_clock;
  {
    PgReadiness ready(url, "s", PgSessionLimits{}, /*wait_ms=*/300);
    Clock::time_point t0 = Clock::now();
    Status s = ready.Check();
    auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
        Clock::now() - t0);
    EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s;
    EXPECT_GE(took.count(), 250);
    EXPECT_LT(took.count(), 1500);
    // The probe still waits (connect_timeout 2 s): answered at once.
    ::usleep(100 * 1000);
    t0 = Clock::now();
    s = ready.Check();
    took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() -
                                                                 t0);
    EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s;
    EXPECT_LT(took.count(), 100);
  }
  ::close(listener);
}

TEST_F(PgConnPipelineTest, ReadinessAnswersForALiveDatabase) {
  PgReadiness ready(url_, schema_, PgSessionLimits{}, /*wait_ms=*/2000);
  EXPECT_TRUE(ready.Check().ok());
  EXPECT_TRUE(ready.Check().ok());
}

}  // namespace
}  // namespace acpstore::postgres
