// PgListener, the notification connection (pg_listener.h, decision 0032),
// with two listeners on one channel as two servers: what one publishes
// reaches the other, many sessions in one statement and in as few
// notifications as the payload limit allows, and never comes back to the
// publisher; what is published while its connection is down goes out after
// the reconnect; a one-line notification as 0.1.0 sends it is heard.
//
// Uses the database of scripts/test.sh (pg_test_env.h); without it every
// test fails.

#include "postgres/pg_listener.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "pg_test_env.h"
#include "pg_test_sql.h"
#include "postgres/pg_conn.h"
#include "postgres/pg_notify_payload.h"

namespace acpstore::postgres {
namespace {

// What one listener heard: "tenant/session" -> the highest seq.
struct Ears {
  std::mutex mu;
  std::map<std::string, EventSeq> heard;
  size_t lines = 0;

  PgListener::OnNotify Callback() {
    return [this](std::string_view tenant, std::string_view session,
                  EventSeq seq) {
      std::lock_guard<std::mutex> lock(mu);
      ++lines;
      EventSeq& s = heard[std::string(tenant) + "/" + std::string(session)];
      if (seq > s) s = seq;
    };
  }
  std::map<std::string, EventSeq> Snapshot() {
    std::lock_guard<std::mutex> lock(mu);
    return heard;
  }
  size_t Lines() {
    std::lock_guard<std::mutex> lock(mu);
    return lines;
  }
};

class PgListenerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const ::testing::TestInfo* info =
        ::testing::UnitTest::GetInstance()->current_test_info();
    schema_ = pgtest::SchemaFor(std::string("listener.") + info->name() + "." +
                                std::to_string(::getpid()));
    Result<std::string> url = pgtest::TestPostgresUrl();
    ASSERT_TRUE(url.ok()) << url.status();
    url_ = *url;
    Sql("CREATE SCHEMA \"" + schema_ + "\"");
    a_ = Open(&ears_a_);
    b_ = Open(&ears_b_);
    ASSERT_TRUE(WaitFor([&] { return a_->connected() && b_->connected(); }));
  }

  void TearDown() override {
    a_.reset();
    b_.reset();
    Sql("DROP SCHEMA IF EXISTS \"" + schema_ + "\" CASCADE");
  }

  std::unique_ptr<PgListener> Open(Ears* ears) {
    return std::make_unique<PgListener>(
        url_, schema_, NotifyChannel(schema_), ears->Callback(), [] {},
        [] { return std::vector<std::string>(); });
  }

  std::string Sql(const std::string& sql) {
    return pgtest::FirstValue(url_, sql);
  }

  template <typename F>
  static bool WaitFor(F done, std::chrono::seconds limit = std::chrono::seconds(10)) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      if (std::chrono::steady_clock::now() > until) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
  }

  std::string url_, schema_;
  Ears ears_a_, ears_b_;
  std::unique_ptr<PgListener> a_, b_;
};

TEST_F(PgListenerTest, ManySessionsGoInOneStatementAndReachOnlyTheOtherServer) {
  std::vector<std::string> lines;
  std::map<std::string, EventSeq> want;
  for (int i = 0; i < 500; ++i) {
    const std::string session =
        "session-" + std::to_string(i) + std::string(40, 'x');
    lines.push_back(NotifyPayload(i + 1, "t1", session));
    want["t1/" + session] = i + 1;
  }
  // A session named twice goes out once, with its higher seq.
  lines.push_back(NotifyPayload(1000, "t1", "session-7" + std::string(40, 'x')));
  want["t1/session-7" + std::string(40, 'x')] = 1000;
  a_->Publish(lines);

  ASSERT_TRUE(WaitFor([&] { return ears_b_.Snapshot() == want; }))
      << "heard " << ears_b_.Snapshot().size() << " of " << want.size();
  EXPECT_EQ(ears_b_.Lines(), want.size());
  // One statement; ~30 KB of lines in payloads under the limit, so a few.
  // The other server hears them at the NOTIFY's commit, before the
  // publisher's thread has the statement's result back and counts it (a
  // loaded machine showed 0 statements here): wait for the count.
  ASSERT_TRUE(WaitFor([&] { return a_->notify_payloads() >= 4; }))
      << a_->notify_statements() << " statements, "
      << a_->notify_payloads() << " payloads";
  EXPECT_EQ(a_->notify_statements(), 1u);
  EXPECT_GE(a_->notify_payloads(), 4u);
  EXPECT_LE(a_->notify_payloads(), 6u);
  EXPECT_EQ(a_->notify_dropped(), 0u);
  // The publisher's own notifications do not come back to its callback
  // (its store woke its subscribers at the COMMIT).
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(ears_a_.Lines(), 0u);
}

TEST_F(PgListenerTest, WhatIsPublishedWhileDisconnectedGoesOutAfterTheReconnect) {
  // A session of its own every ~half millisecond, from before the
  // connection is cut until well after it is back: some go out in sends
  // that fail on the dead connection (kept pending), some are published
  // while nobody is connected; every one must reach the other server.
  const int pid = a_->backend_pid();
  ASSERT_NE(pid, 0);
  std::map<std::string, EventSeq> want;
  std::atomic<bool> reconnected{false};
  std::thread publisher([&] {
    int after = 0;
    for (int i = 0; after < 200 && i < 100000; ++i) {
      a_->Publish({NotifyPayload(i + 1, "t1", "s-" + std::to_string(i))});
      want["t1/s-" + std::to_string(i)] = i + 1;
      if (reconnected.load()) ++after;
      std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(Sql("SELECT pg_terminate_backend(" + std::to_string(pid) + ")"), "t");
  EXPECT_TRUE(WaitFor([&] { return a_->connects() >= 2; }));
  reconnected.store(true);
  publisher.join();
  EXPECT_NE(a_->backend_pid(), pid);
  ASSERT_TRUE(WaitFor([&] { return ears_b_.Snapshot() == want; }))
      << "heard " << ears_b_.Snapshot().size() << " of " << want.size();
}

TEST_F(PgListenerTest, PublishesWithinTheWindowShareAStatement) {
  // Twenty publishes spread over about a millisecond, as the commits of
  // several batches: one statement per send window they span, not one per
  // publish. The bound follows the time they took: a loaded machine (CI
  // runs two suites at once) oversleeps 50 us by a millisecond or more,
  // and a fixed "at most 2" failed there.
  std::map<std::string, EventSeq> want;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 20; ++i) {
    a_->Publish({NotifyPayload(1, "t1", "s-" + std::to_string(i))});
    want["t1/s-" + std::to_string(i)] = 1;
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - start)
                        .count();
  ASSERT_TRUE(WaitFor([&] { return ears_b_.Snapshot() == want; }));
  const uint64_t windows =
      static_cast<uint64_t>(took / PgListener::kSendWindowMs) + 2;
  EXPECT_LE(a_->notify_statements(), windows) << took << " ms";
}

TEST_F(PgListenerTest, ALineTooLongForAPayloadIsDroppedAndTheRestSent) {
  // 9,000-byte session ids are beyond the default limits (256 bytes) but
  // not beyond what Limits allows; PostgreSQL refuses such a payload.
  a_->Publish({NotifyPayload(5, "t1", std::string(9000, 'x')),
               NotifyPayload(6, "t1", "s-short")});
  ASSERT_TRUE(WaitFor([&] {
    return ears_b_.Snapshot() == std::map<std::string, EventSeq>{{"t1/s-short", 6}};
  }));
  EXPECT_EQ(a_->notify_dropped(), 1u);
  EXPECT_EQ(a_->notify_failures(), 0u);
}

TEST_F(PgListenerTest, ASendRefusedOnALiveConnectionDoesNotHoldBackLaterOnes) {
  // Cancel the listener's statements (as a statement or lock timeout
  // would end them) while it publishes, until one was refused; the
  // connection stays up, and what is published afterwards still goes out.
  const int pid = a_->backend_pid();
  ASSERT_NE(pid, 0);
  PGconn* killer = PQconnectdb(url_.c_str());
  ASSERT_EQ(PQstatus(killer), CONNECTION_OK);
  const std::string cancel = "SELECT pg_cancel_backend(" + std::to_string(pid) + ")";
  int i = 0;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (a_->notify_failures() == 0 && std::chrono::steady_clock::now() < until) {
    a_->Publish({NotifyPayload(1, "t1", "burst-" + std::to_string(i++))});
    PQclear(PQexec(killer, cancel.c_str()));
  }
  PQfinish(killer);
  ASSERT_GT(a_->notify_failures(), 0u) << "no statement was cancelled in 20 s";
  EXPECT_GT(a_->notify_dropped(), 0u);
  a_->Publish({NotifyPayload(7, "t1", "after")});
  ASSERT_TRUE(WaitFor([&] { return ears_b_.Snapshot().count("t1/after") == 1; }));
  EXPECT_EQ(a_->connects(), 1u);
  EXPECT_EQ(a_->backend_pid(), pid);
}

TEST_F(PgListenerTest, AOneLineNotificationAsVersion010SendsItIsHeard) {
  Sql("SELECT pg_notify('" + NotifyChannel(schema_) + "', E'42 t9\\ts-old')");
  ASSERT_TRUE(WaitFor([&] {
    return ears_a_.Snapshot() == std::map<std::string, EventSeq>{{"t9/s-old", 42}} &&
           ears_b_.Snapshot() == std::map<std::string, EventSeq>{{"t9/s-old", 42}};
  }));
}

// The channel is "<schema>.events" and PostgreSQL takes 63 bytes of a
// channel name: the longest schema name allowed still carries live events
// between servers, and one byte more is refused before connecting (it used
// to connect, and every pg_notify then failed: "channel name too long").
TEST_F(PgListenerTest, TheLongestSchemaNameCarriesNotificationsOneMoreIsRefused) {
  const std::string longest =
      schema_ + std::string(kMaxSchemaNameBytes - schema_.size(), 'x');
  ASSERT_EQ(NotifyChannel(longest).size(), 63u);
  Sql("CREATE SCHEMA \"" + longest + "\"");
  Ears ears_c, ears_d;
  auto open = [&](Ears* ears) {
    return std::make_unique<PgListener>(
        url_, longest, NotifyChannel(longest), ears->Callback(), [] {},
        [] { return std::vector<std::string>(); });
  };
  std::unique_ptr<PgListener> c = open(&ears_c), d = open(&ears_d);
  ASSERT_TRUE(WaitFor([&] { return c->connected() && d->connected(); }));
  c->Publish({NotifyPayload(7, "t1", "s1")});
  // Heard by notification, not by a recheck (there are no keys to recheck).
  EXPECT_TRUE(WaitFor([&] { return ears_d.Lines() == 1; }));
  EXPECT_EQ(c->notify_dropped(), 0u);
  c.reset();
  d.reset();
  Sql("DROP SCHEMA IF EXISTS \"" + longest + "\" CASCADE");

  Result<std::unique_ptr<PgConn>> refused = PgConn::Connect(url_, longest + "y");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("at most 56"), std::string::npos)
      << refused.status();
  EXPECT_EQ(pgtest::FirstValue(
                url_, "SELECT count(*) FROM pg_namespace WHERE nspname LIKE '" +
                          longest.substr(0, 40) + "%'"),
            "0");
}

}  // namespace
}  // namespace acpstore::postgres
