// What the serve crash tests share: the real `acpstore serve` process on a
// loopback port, many HTTP appenders recording every acknowledged event,
// and a ledger that checks a restarted server against those acks (SPEC §3:
// an acknowledged write - any 2xx - survives a crash).
//
//   ServeProcess    spawns the binary (ACPSTORE_BIN) on 127.0.0.1:0, waits
//                   for "listening on 127.0.0.1:PORT" and parses the port.
//   AppendLoad      N threads, one keep-alive connection each, appending
//                   single events and small batches (all with a unique
//                   clientEventId) until Stop(); records every 2xx and
//                   every outcome.
//   AckLedger       every acknowledged event ever; Verify() reads every
//                   session over HTTP and checks it against them.
//
// Thread-safety: ServeProcess and AckLedger belong to the test thread;
// AppendLoad's workers only touch their own state until Stop() joins them.

#ifndef ACPSTORE_TESTS_CRASH_SERVE_HARNESS_H_
#define ACPSTORE_TESTS_CRASH_SERVE_HARNESS_H_

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "net/http_client.h"
#include "testing/process.h"

namespace acpstore::crash {

// The server binary, compiled in by CMake.
inline const char* ServerBinary() { return ACPSTORE_BIN; }

class ServeProcess {
 public:
  // Starts `acpstore serve` on `data_dir` (file engine, --sync always,
  // retention off so every acknowledged event must stay) with its
  // stdout/stderr in `log_dir`. Does not wait; see WaitListening.
  ServeProcess(const std::string& data_dir, const std::string& log_dir,
               const std::vector<std::string>& extra_args = {});
  // Starts `acpstore <args...>` exactly as given (e.g. `serve --engine
  // postgres ...`, whose options the file engine's above would clash
  // with); the server must listen on 127.0.0.1 for WaitListening.
  struct Args {
    std::vector<std::string> args;
  };
  ServeProcess(Args args, const std::string& log_dir);

  // Waits until the server logs its port; false if it exited or timed out.
  bool WaitListening(std::chrono::milliseconds timeout);
  uint16_t port() const { return port_; }
  pid_t pid() const { return process_.pid(); }
  void Signal(int sig) { process_.Signal(sig); }
  // Exit code (128 + signal when killed), nullopt on timeout.
  std::optional<int> Wait(std::chrono::milliseconds timeout) {
    return process_.Wait(timeout);
  }
  int KillNine();  // SIGKILL + reap; returns the exit code (137)
  std::string Stderr() const {
    return process_.Text(proc::Stream::kStderr);
  }

 private:
  proc::Process process_;
  uint16_t port_ = 0;
};

// The first admin token, written by the first start into the data dir.
std::string ReadBootstrapToken(const std::string& data_dir);

// One event a 2xx acknowledged.
struct AckedEvent {
  std::string session;
  uint64_t seq = 0;
  std::string client_id;
  std::string payload;  // canonical compact JSON, as sent and as returned
};

struct LoadOutcome {
  std::vector<AckedEvent> acked;
  // Every event sent, acknowledged or not: clientEventId -> payload.
  std::map<std::string, std::string> attempted;
  // clientEventIds of events whose request got a non-2xx reply.
  std::vector<std::string> refused;
  std::map<int, uint64_t> statuses;  // HTTP status -> replies
  uint64_t connection_errors = 0;    // requests with no complete reply
  uint64_t requests = 0;
  // A 2xx whose body did not match what was sent (a bug); empty if none.
  std::string bad_reply;
};

class AppendLoad {
 public:
  // Starts `threads` appenders over `sessions`. `run` and `seed` make
  // every clientEventId and payload unique across iterations.
  AppendLoad(uint16_t port, const std::string& token,
             const std::vector<std::string>& sessions, int threads,
             uint64_t run, uint64_t seed);
  ~AppendLoad();  // Stop()s
  AppendLoad(const AppendLoad&) = delete;
  AppendLoad& operator=(const AppendLoad&) = delete;

  // Completed requests so far (any outcome).
  uint64_t requests() const { return requests_.load(); }
  // Asks the workers to finish their current request and joins them.
  // Returns everything they saw, merged.
  LoadOutcome Stop();

 private:
  void Work(int thread, uint64_t seed, LoadOutcome* out);

  uint16_t port_;
  std::string token_;
  std::vector<std::string> sessions_;
  uint64_t run_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> requests_{0};
  std::vector<LoadOutcome> outcomes_;
  std::vector<std::thread> workers_;
  bool stopped_ = false;
};

class AckLedger {
 public:
  // Adds acks; fails if a (session, seq) was acknowledged before with
  // another payload or clientEventId.
  ::testing::AssertionResult Add(const LoadOutcome& outcome);

  // Over HTTP: every session's stream is gap-free and starts at 1, every
  // acked event is there with its payload and clientEventId, every stored
  // event with a clientEventId carries the payload sent with it, and a new
  // append gets seq last_seq + 1, above every acked seq (recorded as an
  // ack). `full`: read every stream from seq 1; else only past what the
  // previous Verify read.
  ::testing::AssertionResult Verify(net::HttpClient& http,
                                    const std::vector<std::string>& sessions,
                                    bool full, uint64_t iteration);

  size_t size() const { return acks_.size(); }
  // Events Verify found stored although their request got a non-2xx.
  uint64_t stored_after_refusal() const { return stored_after_refusal_; }

 private:
  ::testing::AssertionResult VerifyOrThrow(
      net::HttpClient& http, const std::vector<std::string>& sessions,
      bool full,
      uint64_t iteration);

  std::map<std::pair<std::string, uint64_t>, AckedEvent> acks_;
  std::map<std::string, std::string> attempted_;
  std::map<std::string, uint64_t> checked_;  // verified through this seq
  std::set<std::string> refused_;
  uint64_t stored_after_refusal_ = 0;
};

// Creates the sessions (201, or 409 when they exist already).
::testing::AssertionResult CreateSessions(
    net::HttpClient& http, const std::vector<std::string>& sessions);

uint64_t EnvNumber(const char* name, uint64_t fallback);

}  // namespace acpstore::crash

#endif  // ACPSTORE_TESTS_CRASH_SERVE_HARNESS_H_
