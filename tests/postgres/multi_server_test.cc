// Two real `acpstore serve --engine postgres` processes on one schema
// behave as one store (SPEC §10), over HTTP:
//   - 16 writers appending to the same 4 sessions through both: every
//     stream 1..N without gap or duplicate, every acknowledged event there
//     with its payload;
//   - an SSE stream on server A sees every event appended through server
//     B, in order, also after A's notification connection was terminated
//     (pg_terminate_backend) mid-run; prints the lag p50/p99;
//   - 8 workers on both servers drain 5,000 actions, each completed
//     exactly once;
// and a server started while the database is unreachable exits 1 at once,
// saying so (docs/operations.md "Faults").
//
// Needs the test PostgreSQL (ACPSTORE_TEST_POSTGRES_URL); without it every
// test fails.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "testing/process.h"
#include "net/http_client.h"
#include "../crash/serve_harness.h"
#include "../http/test_client.h"
#include "pg_servers.h"
#include "pg_test_env.h"

namespace acpstore::pgtest {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

class MultiServerTest : public PgServersTest {};

TEST_F(MultiServerTest, SixteenWritersOnFourSessionsThroughTwoServers) {
  crash::ServeProcess* a = StartServer();
  crash::ServeProcess* b = StartServer();
  ASSERT_TRUE(a && b);
  const std::vector<std::string> sessions = {"s-0", "s-1", "s-2", "s-3"};
  net::HttpClient http_a = Client(a->port());
  ASSERT_TRUE(crash::CreateSessions(http_a, sessions));

  // Eight appenders per server (single events and batches of 2-8, each
  // with a unique clientEventId), until 1,200 requests were answered.
  crash::AppendLoad load_a(a->port(), token(), sessions, 8, /*run=*/1, 11);
  crash::AppendLoad load_b(b->port(), token(), sessions, 8, /*run=*/2, 22);
  const auto start = Clock::now();
  EXPECT_TRUE(WaitFor(
      [&] { return load_a.requests() + load_b.requests() >= 1200; },
      seconds(50)));
  crash::LoadOutcome out_a = load_a.Stop();
  crash::LoadOutcome out_b = load_b.Stop();
  const double secs =
      std::chrono::duration<double>(Clock::now() - start).count();

  crash::AckLedger ledger;
  for (const crash::LoadOutcome* o : {&out_a, &out_b}) {
    EXPECT_EQ(o->bad_reply, "");
    EXPECT_EQ(o->connection_errors, 0u);
    for (auto [status, n] : o->statuses) {
      EXPECT_EQ(status, 201) << n << " replies";
    }
    ASSERT_TRUE(ledger.Add(*o));
  }
  std::printf("[ figures  ] %zu events acknowledged in %.2f s through two "
              "servers (%.0f events/s)\n",
              ledger.size(), secs, static_cast<double>(ledger.size()) / secs);
  // Read through each server: the same gap-free streams.
  net::HttpClient http_b = Client(b->port());
  EXPECT_TRUE(ledger.Verify(http_a, sessions, /*full=*/true, 1));
  EXPECT_TRUE(ledger.Verify(http_b, sessions, /*full=*/true, 2));
}

// The backend pids of `schema`'s listener connections (pg_listener.cc
// names them "acpstore-listener:<schema>").
std::string ListenerPids(PgServersTest* t, const std::string& schema) {
  return t->Sql("SELECT coalesce(string_agg(pid::text, ',' ORDER BY pid), '') "
                "FROM pg_stat_activity WHERE application_name = "
                "'acpstore-listener:" + schema + "'")
      .value_or("?");
}

TEST_F(MultiServerTest, SseOnOneServerSeesEveryAppendThroughTheOther) {
  crash::ServeProcess* a = StartServer();
  ASSERT_TRUE(a);
  // A's listener is the only one until B starts: its pid is the one to
  // terminate later.
  std::string a_listener;
  ASSERT_TRUE(WaitFor(
      [&] {
        a_listener = ListenerPids(this, schema());
        return !a_listener.empty() && a_listener.find(',') == std::string::npos &&
               a_listener != "?";
      },
      seconds(20)));
  crash::ServeProcess* b = StartServer();
  ASSERT_TRUE(b);
  ASSERT_TRUE(WaitFor(
      [&] { return ListenerPids(this, schema()).find(',') != std::string::npos; },
      seconds(20)));

  net::HttpClient http_b = Client(b->port());
  ASSERT_TRUE(crash::CreateSessions(http_b, {"live"}));
  testing::SseClient sse(a->port(), token(), "/v1/sessions/live/events/stream");
  ASSERT_EQ(sse.status(), 200);
  ASSERT_FALSE(sse.WaitFrames(1).empty());  // retry: 2000

  // The subscriber: timestamps every event frame as it is parsed.
  constexpr int kEvents = 1200;
  std::vector<Clock::time_point> received(kEvents + 1);
  std::vector<std::string> order;  // the ids, as they came
  std::thread reader([&] {
    const auto deadline = Clock::now() + seconds(60);
    size_t seen = 0;
    while (order.size() < static_cast<size_t>(kEvents) &&
           Clock::now() < deadline) {
      const std::vector<testing::SseFrame>& frames =
          sse.WaitFrames(seen + 1, milliseconds(200));
      const auto now = Clock::now();
      for (; seen < frames.size(); ++seen) {
        if (frames[seen].id.empty()) continue;
        order.push_back(frames[seen].id);
        const int seq = std::atoi(frames[seen].id.c_str());
        if (seq >= 1 && seq <= kEvents) received[seq] = now;
      }
    }
  });

  // The writer: one event every 4 ms (250/s) through B, each timed at its
  // acknowledgement; A's listener is terminated halfway.
  std::vector<Clock::time_point> acked(kEvents + 1);
  std::string terminated;
  const auto start = Clock::now();
  for (int i = 1; i <= kEvents; ++i) {
    std::this_thread::sleep_until(start + milliseconds(4) * i);  // pacing
    Result<net::Response> r = http_b.Post(
        "/v1/sessions/live/events",
        "{\"eventType\":\"tick\",\"payload\":{\"i\":" + std::to_string(i) + "}}");
    ASSERT_TRUE(r && r->status == 201) << (r ? r->body : "connection error");
    acked[i] = Clock::now();
    EXPECT_EQ(json::parse(r->body).at("eventSeq").to_number<int>(), i);
    if (i == kEvents / 2) {
      terminated = Sql("SELECT count(pg_terminate_backend(pid)) FROM "
                       "pg_stat_activity WHERE pid = " + a_listener)
                       .value_or("?");
    }
  }
  reader.join();
  EXPECT_EQ(terminated, "1");
  // A's listener came back (a new backend) while events kept flowing.
  EXPECT_TRUE(WaitFor(
      [&] {
        const std::string pids = ListenerPids(this, schema());
        return pids.find(',') != std::string::npos &&
               pids.find(a_listener) == std::string::npos;
      },
      seconds(20)));

  ASSERT_EQ(order.size(), static_cast<size_t>(kEvents));
  for (int i = 1; i <= kEvents; ++i) {
    ASSERT_EQ(order[i - 1], std::to_string(i)) << "out of order or missing";
  }
  std::vector<double> lag_ms;
  for (int i = 1; i <= kEvents; ++i) {
    lag_ms.push_back(std::max(
        0.0, std::chrono::duration<double, std::milli>(received[i] - acked[i])
                 .count()));
  }
  std::sort(lag_ms.begin(), lag_ms.end());
  std::printf("[ figures  ] SSE on A, appends through B at 250/s, A's "
              "listener terminated at event %d: lag from B's ack to A's "
              "frame p50 %.1f ms, p99 %.1f ms, max %.1f ms (%d events)\n",
              kEvents / 2, lag_ms[lag_ms.size() / 2],
              lag_ms[lag_ms.size() * 99 / 100], lag_ms.back(), kEvents);
}

TEST_F(MultiServerTest, EightWorkersOnTwoServersCompleteEachActionOnce) {
  crash::ServeProcess* a = StartServer();
  crash::ServeProcess* b = StartServer();
  ASSERT_TRUE(a && b);
  const std::vector<uint16_t> ports = {a->port(), b->port()};
  net::HttpClient http_a = Client(a->port());
  ASSERT_TRUE(crash::CreateSessions(http_a, {"work"}));

  constexpr int kActions = 5000;
  {  // Enqueued through both servers, four threads.
    std::vector<std::thread> enqueuers;
    std::atomic<int> failures{0};
    std::mutex mu;
    std::string first_failure;
    for (int t = 0; t < 4; ++t) {
      enqueuers.emplace_back([&, t] {
        net::HttpClient http(ports[t % 2], token());
        for (int i = t; i < kActions; i += 4) {
          Result<net::Response> r = http.Post(
              "/v1/actions", "{\"actionId\":\"a-" + std::to_string(i) +
                                 "\",\"sessionId\":\"work\",\"type\":\"prompt\"}");
          if (!r || r->status != 201) {
            std::lock_guard<std::mutex> lock(mu);
            if (failures.fetch_add(1) == 0) {
              first_failure = r ? std::to_string(r->status) + " " + r->body
                                : "connection error";
            }
          }
        }
      });
    }
    for (std::thread& t : enqueuers) t.join();
    ASSERT_EQ(failures.load(), 0) << first_failure;
  }

  // Eight workers, four per server: lease, complete with the token; count
  // the completions each action got.
  std::mutex mu;
  std::map<std::string, int> completions;
  std::atomic<int> errors{0};
  std::string first_error;
  const auto start = Clock::now();
  std::vector<std::thread> workers;
  for (int w = 0; w < 8; ++w) {
    workers.emplace_back([&, w] {
      net::HttpClient http(ports[w % 2], token());
      const auto deadline = Clock::now() + seconds(90);
      while (Clock::now() < deadline) {
        Result<net::Response> lease =
            http.Post("/v1/actions/lease", "{}");
        if (lease && lease->status == 204) return;  // drained
        if (!lease || lease->status != 200) {
          std::lock_guard<std::mutex> lock(mu);
          if (first_error.empty()) {
            first_error = lease ? lease->body : "lease: connection error";
          }
          errors.fetch_add(1);
          return;
        }
        json::value v = json::parse(lease->body);
        const std::string id(v.at("actionId").as_string());
        const std::string token(v.at("leaseToken").as_string());
        Result<net::Response> done =
            http.Post("/v1/actions/" + id + "/complete",
                      "{\"leaseToken\":\"" + token + "\"}");
        if (!done || done->status != 200) {
          std::lock_guard<std::mutex> lock(mu);
          if (first_error.empty()) {
            first_error = done ? done->body : "complete: connection error";
          }
          errors.fetch_add(1);
          continue;
        }
        std::lock_guard<std::mutex> lock(mu);
        ++completions[id];
      }
    });
  }
  for (std::thread& t : workers) t.join();
  const double secs =
      std::chrono::duration<double>(Clock::now() - start).count();
  EXPECT_EQ(errors.load(), 0) << first_error;
  EXPECT_EQ(completions.size(), static_cast<size_t>(kActions));
  for (const auto& [id, n] : completions) {
    ASSERT_EQ(n, 1) << id << " completed " << n << " times";
  }
  // Nothing left on either server, and every action reads as completed.
  for (uint16_t port : ports) {
    net::HttpClient http(port, token());
    Result<net::Response> r = http.Post("/v1/actions/lease", "{}");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 204) << r->body;
  }
  // Every action is finished (finished_at set) in the database.
  EXPECT_EQ(Sql("SELECT count(*) FROM \"" + schema() +
                "\".actions WHERE finished_at IS NOT NULL"),
            std::to_string(kActions));
  for (int i = 0; i < kActions; i += 97) {
    Result<net::Response> r =
        http_a.Get("/v1/actions/a-" + std::to_string(i));
    ASSERT_TRUE(r && r->status == 200);
    EXPECT_EQ(json::parse(r->body).at("status"), "completed") << r->body;
  }
  std::printf("[ figures  ] 8 workers on 2 servers drained %d actions "
              "(lease + complete) in %.2f s (%.0f actions/s)\n",
              kActions, secs, kActions / secs);
}

// POST /v1/keys on both HTTP threads of a server at once (found by a
// review): each create held one of the key store's two pooled connections
// while its reload waited for the other, for ever, so both threads and the
// key reload thread hung: the server answered nothing more and a key
// revoked on another server kept working on it. Every create answers, the
// server keeps serving, and a revocation through the other server still
// reaches it.
TEST_F(MultiServerTest, ConcurrentKeyCreatesNeitherHangTheServerNorItsReload) {
  crash::ServeProcess* a = StartServer();  // --threads 2 (PgServeArgs)
  crash::ServeProcess* b = StartServer();
  ASSERT_TRUE(a && b);
  constexpr int kClients = 8;
  constexpr int kRounds = 4;
  std::mutex mu;
  std::map<int, int> statuses;  // 0: no answer within the client's 5 s
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, port = a->port()] {
      net::ClientOptions options;
      options.port = port;
      options.token = token();
      options.timeout = seconds(5);
      net::HttpClient http(options);
      for (int i = 0; i < kRounds; ++i) {
        Result<net::Response> r = http.Post("/v1/keys", R"({"role":"reader"})");
        std::lock_guard<std::mutex> lock(mu);
        ++statuses[r.ok() ? r->status : 0];
        if (!r.ok()) http.Disconnect();
      }
    });
  }
  for (std::thread& t : clients) t.join();
  EXPECT_EQ(statuses, (std::map<int, int>{{201, kClients * kRounds}}));

  // Server A still answers, and its key reload still runs: a key revoked
  // through B stops working on A within the reload interval (1 s).
  net::HttpClient http_a = Client(a->port());
  net::HttpClient http_b = Client(b->port());
  Result<net::Response> k = http_b.Post("/v1/keys", R"({"role":"reader"})");
  ASSERT_TRUE(k.ok()) << k.status();
  ASSERT_EQ(k->status, 201) << k->body;
  const std::string key_token(k->Json().at("token").as_string());
  const std::string key_id(k->Json().at("key").at("id").as_string());
  net::ClientOptions with_key;
  with_key.port = a->port();
  with_key.token = key_token;
  with_key.timeout = seconds(5);
  net::HttpClient as_key(with_key);
  Result<net::Response> before = as_key.Get("/v1/sessions");
  ASSERT_TRUE(before.ok()) << before.status();
  EXPECT_EQ(before->status, 200) << before->body;
  Result<net::Response> revoked = http_b.Delete("/v1/keys/" + key_id);
  ASSERT_TRUE(revoked.ok()) << revoked.status();
  ASSERT_EQ(revoked->status, 204) << revoked->body;
  EXPECT_TRUE(WaitFor(
      [&] {
        Result<net::Response> r = as_key.Get("/v1/sessions");
        if (!r.ok()) as_key.Disconnect();
        return r.ok() && r->status == 401;
      },
      seconds(10)))
      << "a key revoked through server B still works on server A";
  Result<net::Response> list = http_a.Get("/v1/sessions");
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_EQ(list->status, 200);
}

// SPEC §10, docs/operations.md "Faults": a server that cannot reach the
// database at start (it must create or migrate the schema before serving)
// exits 1 at once and says why; a supervisor restarts it.
TEST_F(MultiServerTest, StartWithTheDatabaseUnreachableExitsOneAndSaysWhy) {
  const std::string bad_url =
      "host=" + dir() + "/no-such-socket-dir port=1 dbname=postgres";
  std::vector<std::string> args = {crash::ServerBinary()};
  for (const std::string& a :
       PgServeArgs(bad_url, schema(), dir() + "/data-unreachable")) {
    args.push_back(a);
  }
  const auto start = Clock::now();
  proc::RunResult r = proc::RunProcess(args);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_LT(Clock::now() - start, seconds(20));
  EXPECT_NE(r.err.find("cannot open the postgres store"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("cannot connect to PostgreSQL"), std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("listening on"), std::string::npos) << r.err;
}

// The same when the database's host takes the connection and never
// answers (a silent peer: here a socket nobody accepts on): libpq would
// wait forever, so the engine bounds the connect at 10 s unless the URL
// sets connect_timeout.
TEST_F(MultiServerTest, StartWithASilentDatabaseExitsOneAfterTheConnectTimeout) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), len), 0);
  ASSERT_EQ(::listen(fd, 16), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const std::string silent_url =
      "host=127.0.0.1 port=" + std::to_string(ntohs(addr.sin_port)) +
      " dbname=postgres sslmode=disable gssencmode=disable";
  std::vector<std::string> args = {crash::ServerBinary()};
  for (const std::string& a :
       PgServeArgs(silent_url, schema(), dir() + "/data-silent")) {
    args.push_back(a);
  }
  const auto start = Clock::now();
  proc::RunResult r = proc::RunProcess(args);
  const auto took = Clock::now() - start;
  ::close(fd);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_GE(took, seconds(9));
  EXPECT_LT(took, seconds(40));
  EXPECT_NE(r.err.find("cannot connect to PostgreSQL"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("timeout"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace acpstore::pgtest
