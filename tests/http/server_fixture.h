// HttpTest: a Server on 127.0.0.1:<free port> over a store (behind a
// ForwardingStore for failure injection), with a
// fake Authenticator and KeyManager. The engine is the memory engine, or
// what ACPSTORE_HTTP_ENGINE names: "memory", "file_sync_always" (the file
// engine in a fresh directory, every acknowledgement after fdatasync), or
// "postgres" where built (a fresh schema in the test PostgreSQL of
// tests/postgres/pg_test_env.h, dropped in TearDown).
// ctest runs the suites once per engine (tests/http/CMakeLists.txt). Tokens (tenant/key id/role):
//   "admin-a"   tenant-a / key-admin-a   / admin
//   "writer-a"  tenant-a / key-writer-a  / writer
//   "writer-a2" tenant-a / key-writer-a2 / writer
//   "reader-a"  tenant-a / key-reader-a  / reader
//   "writer-b"  tenant-b / key-writer-b  / writer
//   "service"   every tenant             / service (X-Acpstore-Scope)
//   "service-a" tenant-a only            / service
// Fixture helpers create sessions and events through the HTTP API.
//
// Thread-safety: the fakes are thread-safe (the server calls them from I/O
// threads).

#ifndef ACPSTORE_TESTS_HTTP_SERVER_FIXTURE_H_
#define ACPSTORE_TESTS_HTTP_SERVER_FIXTURE_H_

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "acpstore/store.h"
#include "auth/principal.h"
#include "forwarding_store.h"
#include "io/test_dir.h"
#include "server/server.h"
#include "test_client.h"

namespace acpstore::testing {

class FakeAuthenticator : public auth::Authenticator {
 public:
  FakeAuthenticator();
  Result<auth::Principal> Authenticate(std::string_view token) override;
  Result<auth::Principal> PrincipalOfKey(std::string_view key_id) override;
  void Add(const std::string& token, auth::Principal p);
  void Remove(const std::string& id);
  // Moves at every Add and Remove, as a key store's does at a change.
  uint64_t revision() const override { return revision_.load(); }

 private:
  std::mutex mu_;
  std::map<std::string, auth::Principal, std::less<>> keys_;
  std::atomic<uint64_t> revision_{0};
};

class FakeKeyManager : public auth::KeyManager {
 public:
  explicit FakeKeyManager(FakeAuthenticator* authn) : authn_(authn) {}
  Result<auth::CreatedKey> CreateKey(const auth::NewKey& req) override;
  Result<std::vector<auth::KeyInfo>> ListKeys(std::string_view tenant) override;
  Status RevokeKey(std::string_view tenant, std::string_view id) override;
  Status RevokeTenantKey(std::string_view tenant,
                         std::string_view id) override;

 private:
  FakeAuthenticator* authn_;
  std::mutex mu_;
  std::map<std::string, auth::KeyInfo> keys_;    // id -> info
  std::map<std::string, std::string> token_of_;  // id -> token
  int next_ = 1;
};

// Polls `done` until it holds or `timeout` passes; true if it held. For
// conditions the server reaches on its own threads: a test waits for what
// it can observe, with a deadline generous enough for a loaded sanitizer
// run, never for a fixed time.
inline constexpr std::chrono::milliseconds kWaitTimeout{10000};
bool WaitUntil(const std::function<bool()>& done,
               std::chrono::milliseconds timeout = kWaitTimeout);

class HttpTest : public ::testing::Test {
 protected:
  // Override to change options before the server starts.
  virtual void Configure(server::ServerOptions* /*options*/) {}
  virtual void ConfigureStore(StoreOptions* /*options*/) {}

  void SetUp() override;
  void TearDown() override;

  uint16_t port() const { return server_->port(); }
  HttpClient Client(const std::string& token) {
    return HttpClient(port(), token);
  }

  // POST /v1/sessions as `token`; returns the new id (asserts 201).
  std::string CreateSession(const std::string& token,
                            const std::string& body = "{}");
  // Appends `n` events {"i": k} to `session` as `token`.
  void AppendEvents(const std::string& token, const std::string& session, int n,
                    const std::string& type = "message.delta");
  // GET /metrics and return the value of an unlabelled metric (-1 if absent).
  double MetricValue(const std::string& name);

  std::unique_ptr<io::TempDir> data_dir_;  // file engine only; outlives store_
  std::string pg_schema_;                  // postgres engine only
  StoreOptions store_options_;
  server::ServerOptions options_;
  std::unique_ptr<Store> store_;
  ForwardingStore* fwd_ = nullptr;  // = store_, for injecting failures
  FakeAuthenticator authn_;
  std::unique_ptr<FakeKeyManager> keys_;
  std::unique_ptr<server::Server> server_;
};

}  // namespace acpstore::testing

#endif  // ACPSTORE_TESTS_HTTP_SERVER_FIXTURE_H_
