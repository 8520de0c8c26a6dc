// Faults under load with two real `acpstore serve --engine postgres`
// processes on one schema (SPEC §3, §10): writers on both servers retry
// every append with the same clientEventId until a server acknowledges it,
// as a client must when the outcome is unknown.
//   - SIGKILL one server mid-load; the writers carry on through the other:
//     0 acknowledged events lost, streams gap-free.
//   - Restart PostgreSQL (fast, then immediate) mid-load: the servers
//     answer 503 meanwhile and recover without a restart; 0 acknowledged
//     events lost. This one runs a private PostgreSQL 15 (its own
//     directory and Unix socket), never the shared test server.
//
// Needs the test PostgreSQL (ACPSTORE_TEST_POSTGRES_URL) and, for the
// restart, PostgreSQL 15's binaries; without them the tests fail.

#include <gtest/gtest.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "testing/process.h"
#include "net/http_client.h"
#include "../crash/serve_harness.h"
#include "pg_servers.h"

namespace acpstore::pgtest {
namespace {

using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

const std::vector<std::string> kSessions = {"f-0", "f-1", "f-2", "f-3"};

// Checks a writer's outcome: every event acknowledged in the end, every
// acknowledgement in the streams read through `http`.
void ExpectNothingLost(const crash::LoadOutcome& out, net::HttpClient& http) {
  EXPECT_EQ(out.bad_reply, "");
  EXPECT_TRUE(out.refused.empty())
      << out.refused.size() << " events never acknowledged, e.g. "
      << out.refused.front();
  crash::AckLedger ledger;
  ASSERT_TRUE(ledger.Add(out));
  EXPECT_EQ(ledger.size(), out.attempted.size());
  EXPECT_TRUE(ledger.Verify(http, kSessions, /*full=*/true, 1));
}

std::string Statuses(const crash::LoadOutcome& out) {
  std::string s;
  for (auto [status, n] : out.statuses) {
    s += " " + std::to_string(status) + "x" + std::to_string(n);
  }
  return s + " connection errors " + std::to_string(out.connection_errors);
}

class MultiServerFaultTest : public PgServersTest {};

TEST_F(MultiServerFaultTest, KillNineOneServerLosesNoAcknowledgedEvent) {
  crash::ServeProcess* a = StartServer();
  crash::ServeProcess* b = StartServer();
  ASSERT_TRUE(a && b);
  net::HttpClient http_b = Client(b->port());
  ASSERT_TRUE(crash::CreateSessions(http_b, kSessions));

  RetryingWriter writer({a->port(), b->port()}, token(), kSessions, 8, 1);
  ASSERT_TRUE(WaitFor([&] { return writer.acked() >= 400; }, seconds(30)));
  const uint64_t at_kill = writer.acked();
  EXPECT_EQ(a->KillNine(), 128 + SIGKILL);
  // The writers that were on A carry on through B.
  ASSERT_TRUE(
      WaitFor([&] { return writer.acked() >= at_kill + 400; }, seconds(30)));
  crash::LoadOutcome out = writer.Stop();
  std::printf("[ figures  ] kill -9 after %llu acks: %zu events, replies%s\n",
              static_cast<unsigned long long>(at_kill), out.acked.size(),
              Statuses(out).c_str());
  EXPECT_GT(out.connection_errors, 0u);  // A's writers did see it die
  ExpectNothingLost(out, http_b);
}

// A PostgreSQL 15 of the test's own, on a Unix socket in a temp directory,
// run as the postgres user when the test runs as root (initdb refuses
// root), as scripts/pg_test_server.sh does.
class PrivatePostgres {
 public:
  ~PrivatePostgres() { Stop(); }

  ::testing::AssertionResult Start() {
    std::string templ = std::filesystem::temp_directory_path().string() +
                        "/acpstore-privpg.XXXXXX";
    if (::mkdtemp(templ.data()) == nullptr) {
      return ::testing::AssertionFailure() << "mkdtemp failed";
    }
    dir_ = templ;
    ::chmod(dir_.c_str(), 0755);
    if (::getuid() == 0) {
      const passwd* pw = ::getpwnam("postgres");
      if (pw == nullptr) {
        return ::testing::AssertionFailure() << "no postgres user to run as";
      }
      if (::chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
        return ::testing::AssertionFailure() << "chown " << dir_;
      }
    }
    proc::RunResult init =
        Run(Bin("initdb") + " -D " + dir_ + "/data -U postgres -A trust -N");
    if (init.exit_code != 0) {
      return ::testing::AssertionFailure() << "initdb: " << init.err;
    }
    proc::RunResult start = Run(
        Bin("pg_ctl") + " -D " + dir_ + "/data -o '-k " + dir_ +
        " -p 5432 -c listen_addresses= -c max_connections=40' -l " + dir_ +
        "/log -w start");
    if (start.exit_code != 0) {
      return ::testing::AssertionFailure() << "pg_ctl start: " << start.err;
    }
    started_ = true;
    return ::testing::AssertionSuccess();
  }

  // pg_ctl restart -m `mode` (fast: clients disconnected, clean shutdown;
  // immediate: like a crash, recovery from WAL at start).
  ::testing::AssertionResult Restart(const std::string& mode) {
    proc::RunResult r = Run(Bin("pg_ctl") + " -D " + dir_ +
                                   "/data -m " + mode + " -l " + dir_ +
                                   "/log -w restart");
    if (r.exit_code != 0) {
      return ::testing::AssertionFailure() << "pg_ctl restart: " << r.err;
    }
    return ::testing::AssertionSuccess();
  }

  void Stop() {
    if (started_) {
      Run(Bin("pg_ctl") + " -D " + dir_ + "/data -m immediate -w stop");
      started_ = false;
    }
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
    dir_.clear();
  }

  std::string url() const {
    return "host=" + dir_ + " port=5432 user=postgres dbname=postgres";
  }

 private:
  static std::string Bin(const std::string& name) {
    return "/usr/lib/postgresql/15/bin/" + name;
  }
  static proc::RunResult Run(const std::string& command) {
    if (::getuid() == 0) {
      return proc::RunProcess(
          {"/usr/bin/su", "postgres", "-s", "/bin/bash", "-c", command});
    }
    return proc::RunProcess({"/bin/bash", "-c", command});
  }

  std::string dir_;
  bool started_ = false;
};

TEST_F(MultiServerFaultTest, PostgresRestartMidLoadLosesNoAcknowledgedEvent) {
  PrivatePostgres pg;
  ASSERT_TRUE(pg.Start());
  crash::ServeProcess* a = StartServer(pg.url());
  crash::ServeProcess* b = StartServer(pg.url());
  ASSERT_TRUE(a && b);
  net::HttpClient http_a = Client(a->port());
  net::HttpClient http_b = Client(b->port());
  ASSERT_TRUE(crash::CreateSessions(http_a, kSessions));

  RetryingWriter writer({a->port(), b->port()}, token(), kSessions, 8, 1);
  ASSERT_TRUE(WaitFor([&] { return writer.acked() >= 300; }, seconds(30)));
  for (const std::string mode : {"fast", "immediate"}) {
    const uint64_t before = writer.acked();
    const auto start = Clock::now();
    ASSERT_TRUE(pg.Restart(mode));
    // The same servers take writes again: 300 more acknowledgements.
    ASSERT_TRUE(
        WaitFor([&] { return writer.acked() >= before + 300; }, seconds(30)))
        << "no recovery after the " << mode << " restart";
    std::printf("[ figures  ] PostgreSQL restart -m %s: 300 more acks %.2f s "
                "after the restart began\n",
                mode.c_str(),
                std::chrono::duration<double>(Clock::now() - start).count());
  }
  crash::LoadOutcome out = writer.Stop();
  std::printf("[ figures  ] %zu events, replies%s\n", out.acked.size(),
              Statuses(out).c_str());
  ExpectNothingLost(out, http_b);
  for (net::HttpClient* http : {&http_a, &http_b}) {
    Result<net::Response> ready = http->Get("/readyz");
    ASSERT_TRUE(ready);
    EXPECT_EQ(ready->status, 200) << ready->body;
  }
  // pg stops here; TearDown then SIGKILLs the servers (and reports their
  // warnings if the test failed).
}

}  // namespace
}  // namespace acpstore::pgtest
