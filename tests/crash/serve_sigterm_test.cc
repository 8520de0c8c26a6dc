// ServeSigtermUnderLoadTest: SIGTERM in the middle of 16 appenders' load
// (SPEC §3 shutdown: stop accepting, finish in-flight requests, fsync,
// snapshot, exit 0 within --shutdown-timeout).
//
// Each round starts the server on the same data directory, verifies it
// against every ack so far, loads it, sends SIGTERM 50-300 ms in and keeps
// the appenders going until the process is gone. Checked: the exit code
// is 0 and comes within the shutdown timeout (5 s here); every request
// got a 2xx, a 503 or a connection error - nothing else; every 2xx event
// is there after the restart (AckLedger::Verify); and no event answered
// with a 503 was stored anyway.
//
// ACPSTORE_CRASH_ITERATIONS sets the rounds (default 8; 4 under
// sanitizers), ACPSTORE_CRASH_SEED replays.

#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <iostream>
#include <random>

#include "serve_harness.h"

namespace acpstore::crash {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

#ifdef ACPSTORE_CRASH_SANITIZED
constexpr uint64_t kDefaultRounds = 4;
#else
constexpr uint64_t kDefaultRounds = 8;
#endif
constexpr int kThreads = 16;
constexpr int kSessions = 8;
constexpr int kShutdownTimeoutMs = 5000;

class ServeSigtermUnderLoadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ =
        (fs::temp_directory_path() / "acpstore-serve-term-XXXXXX");
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    root_ = templ;
    data_dir_ = (root_ / "data").string();
    for (int i = 0; i < kSessions; ++i)
      sessions_.push_back("serve-term-" + std::to_string(i));
  }
  void TearDown() override {
    if (HasFailure()) {
      std::cerr << "kept for inspection: " << root_ << "\n";
    } else {
      fs::remove_all(root_);
    }
  }

  fs::path root_;
  std::string data_dir_;
  std::vector<std::string> sessions_;
};

TEST_F(ServeSigtermUnderLoadTest, InFlightRequestsFinishAndExitIsClean) {
  const uint64_t rounds =
      EnvNumber("ACPSTORE_CRASH_ITERATIONS", kDefaultRounds);
  const uint64_t seed =
      EnvNumber("ACPSTORE_CRASH_SEED", std::random_device{}());
  std::cout << "ACPSTORE_CRASH_SEED=" << seed
            << " ACPSTORE_CRASH_ITERATIONS=" << rounds << std::endl;
  std::mt19937_64 rng(seed);
  AckLedger ledger;
  std::string token;
  std::map<int, uint64_t> statuses;
  uint64_t cut_off = 0, acked = 0;
  const std::vector<std::string> extra = {
      "--shutdown-timeout", std::to_string(kShutdownTimeoutMs) + "ms"};

  for (uint64_t i = 0; i <= rounds; ++i) {
    SCOPED_TRACE("round " + std::to_string(i) + " seed " +
                 std::to_string(seed));
    ServeProcess server(data_dir_, root_.string(), extra);
    ASSERT_TRUE(server.WaitListening(seconds(60)))
        << "server did not start: " << server.Stderr();
    if (token.empty()) token = ReadBootstrapToken(data_dir_);
    {
      net::HttpClient http(server.port(), token);
      if (i == 0) {
        ASSERT_TRUE(CreateSessions(http, sessions_));
      }
      ASSERT_TRUE(ledger.Verify(http, sessions_, /*full=*/true, i))
          << "after SIGTERM " << i << "; server log:\n" << server.Stderr();
    }
    const bool last = i == rounds;
    std::optional<AppendLoad> load;
    if (!last) {
      load.emplace(server.port(), token, sessions_, kThreads, i, rng());
      // Under load from the first reply on (slow under sanitizers).
      const auto deadline = Clock::now() + seconds(30);
      while (load->requests() == 0 && Clock::now() < deadline) {
        std::this_thread::sleep_for(milliseconds(1));
      }
      ASSERT_GT(load->requests(), 0u) << "no request finished in 30 s";
      std::this_thread::sleep_for(milliseconds(50 + rng() % 251));
    }
    const auto signalled = Clock::now();
    server.Signal(SIGTERM);
    // The appenders keep going (reconnecting) until the process is gone.
    std::optional<int> code =
        server.Wait(milliseconds(kShutdownTimeoutMs + 2000));
    const auto took = std::chrono::duration_cast<milliseconds>(
        Clock::now() - signalled);
    ASSERT_TRUE(code) << "still running " << took.count()
                      << " ms after SIGTERM:\n" << server.Stderr();
    EXPECT_EQ(*code, 0) << server.Stderr();
    // The server's own watchdog fires at the timeout; +0.5 s for the
    // process to wind down and be reaped.
    EXPECT_LT(took.count(), kShutdownTimeoutMs + 500) << server.Stderr();
    if (last) break;

    LoadOutcome outcome = load->Stop();
    ASSERT_EQ(outcome.bad_reply, "") << "a 2xx that does not match its request";
    for (auto [status, n] : outcome.statuses) {
      statuses[status] += n;
      EXPECT_TRUE(status == 200 || status == 201 || status == 503)
          << n << " replies with status " << status;
    }
    ASSERT_TRUE(ledger.Add(outcome));
    acked += outcome.acked.size();
    cut_off += outcome.connection_errors;
    std::cout << "round " << i << ": SIGTERM " << took.count()
              << " ms to exit, " << outcome.acked.size() << " events acked"
              << std::endl;
  }
  std::cout << rounds << " rounds, " << acked << " events acknowledged, "
            << cut_off << " requests without a reply (connection closed or "
            << "refused); replies:";
  for (auto [status, n] : statuses) std::cout << " " << status << "x" << n;
  std::cout << std::endl;
  EXPECT_GT(acked, 0u);
  EXPECT_EQ(ledger.stored_after_refusal(), 0u)
      << "events answered with a non-2xx were stored anyway";
}

}  // namespace
}  // namespace acpstore::crash
