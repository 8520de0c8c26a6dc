// What the multi-server tests share (SPEC §10): real `acpstore serve
// --engine postgres` processes (tests/crash/serve_harness.h's ServeProcess)
// on one schema of a PostgreSQL, a libpq helper for the statements a test
// runs beside them, and a writer that retries an append with the same
// clientEventId until some server acknowledges it (what a client does when
// its server dies or the database restarts).
//
//   PgServersTest   a fresh schema (dropped after the test) and scratch
//                   directory per test; StartServer() runs one more server
//                   on them and waits for its port; token() is the
//                   bootstrap admin token the first server created.
//   PgExec          one statement on a connection of its own.
//   RetryingWriter  threads appending single events to sessions through a
//                   list of servers, each event retried (same body, next
//                   server on a connection error) until a 2xx; the result
//                   is a crash::LoadOutcome for crash::AckLedger.
//
// Thread-safety: the fixture belongs to the test thread; RetryingWriter's
// workers touch only their own state until Stop() joins them.

#ifndef ACPSTORE_TESTS_POSTGRES_PG_SERVERS_H_
#define ACPSTORE_TESTS_POSTGRES_PG_SERVERS_H_

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "../crash/serve_harness.h"
#include "net/http_client.h"

namespace acpstore::pgtest {

// Runs `sql` on a new connection to `url`. The first column of the first
// row ("" when there is none), or nullopt with the error in `*error`.
std::optional<std::string> PgExec(const std::string& url,
                                  const std::string& sql,
                                  std::string* error = nullptr);

// `serve` options for one postgres-engine server on 127.0.0.1:0 with
// retention off (so every acknowledged event must stay).
std::vector<std::string> PgServeArgs(const std::string& url,
                                     const std::string& schema,
                                     const std::string& data_dir,
                                     const std::vector<std::string>& extra = {});

class PgServersTest : public ::testing::Test {
 public:
  // PgExec on url().
  std::optional<std::string> Sql(const std::string& sql);

 protected:
  void SetUp() override;
  void TearDown() override;

  // Starts a server on url() (or `url`) and schema(), waits (with a
  // deadline) until it listens; nullptr (and a test failure) if it does
  // not. The first one's bootstrap token becomes token().
  crash::ServeProcess* StartServer(std::optional<std::string> url = {},
                                   const std::vector<std::string>& extra = {});

  const std::string& url() const { return url_; }
  const std::string& schema() const { return schema_; }
  const std::string& token() const { return token_; }
  const std::string& dir() const { return dir_; }
  // A client of server `port` with token(), for the test thread's own
  // requests: it may sit idle past the server's keep-alive timeout while
  // a load runs, so a request on a connection the server closed meanwhile
  // is sent again once (retry_stale; the server never saw it).
  net::HttpClient Client(uint16_t port) const;

  std::vector<std::unique_ptr<crash::ServeProcess>> servers_;

 private:
  std::string url_, schema_, token_, dir_;
  std::string drop_url_;  // where the schema lives (StartServer's url)
};

class RetryingWriter {
 public:
  // `threads` writers over `sessions`; thread t starts on server
  // ports[t % ports.size()]. `run` keeps clientEventIds unique across
  // writers of one test.
  RetryingWriter(std::vector<uint16_t> ports, const std::string& token,
                 const std::vector<std::string>& sessions, int threads,
                 int run);
  ~RetryingWriter();  // Stop()s
  RetryingWriter(const RetryingWriter&) = delete;
  RetryingWriter& operator=(const RetryingWriter&) = delete;

  // Events acknowledged so far.
  uint64_t acked() const { return acked_.load(); }
  // Finishes every event in flight (retrying it until acknowledged or a
  // 60 s deadline), joins, and returns what the writers saw. Refused
  // events (non-2xx other than 503/429) and events never acknowledged are
  // in `refused`; `statuses` counts every reply, retries included.
  crash::LoadOutcome Stop();

 private:
  void Work(int thread, crash::LoadOutcome* out);

  std::vector<uint16_t> ports_;
  std::string token_;
  std::vector<std::string> sessions_;
  int run_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> acked_{0};
  std::vector<crash::LoadOutcome> outcomes_;
  std::vector<std::thread> workers_;
  bool stopped_ = false;
};

// Polls `done` every 5 ms until it holds or `timeout` passes.
bool WaitFor(const std::function<bool()>& done,
             std::chrono::milliseconds timeout);

}  // namespace acpstore::pgtest

#endif  // ACPSTORE_TESTS_POSTGRES_PG_SERVERS_H_
