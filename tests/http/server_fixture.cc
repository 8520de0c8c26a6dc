// HttpTest fixture. See server_fixture.h.

#include "server_fixture.h"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#ifdef ACPSTORE_HTTP_WITH_POSTGRES
#include <libpq-fe.h>

#include "../postgres/pg_test_env.h"
#endif

namespace acpstore::testing {

FakeAuthenticator::FakeAuthenticator() {
  using auth::Role;
  Add("admin-a", {"tenant-a", "key-admin-a", Role::kAdmin});
  Add("writer-a", {"tenant-a", "key-writer-a", Role::kWriter});
  Add("writer-a2", {"tenant-a", "key-writer-a2", Role::kWriter});
  Add("reader-a", {"tenant-a", "key-reader-a", Role::kReader});
  Add("writer-b", {"tenant-b", "key-writer-b", Role::kWriter});
  Add("service", {"default", "key-service", Role::kService, {}});
  Add("service-a", {"default", "key-service-a", Role::kService, {"tenant-a"}});
}

Result<auth::Principal> FakeAuthenticator::Authenticate(
    std::string_view token) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = keys_.find(token);
  if (it == keys_.end()) return Status::Unauthenticated("unknown API key");
  return it->second;
}

Result<auth::Principal> FakeAuthenticator::PrincipalOfKey(
    std::string_view key_id) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [token, p] : keys_) {
    if (p.key_id == key_id) return p;
  }
  return Status::Unauthenticated("unknown or revoked API key");
}

void FakeAuthenticator::Add(const std::string& token, auth::Principal p) {
  std::lock_guard<std::mutex> lock(mu_);
  keys_[token] = std::move(p);
  revision_.fetch_add(1);
}

void FakeAuthenticator::Remove(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = keys_.begin(); it != keys_.end(); ++it) {
    if (it->second.key_id == id) {
      keys_.erase(it);
      revision_.fetch_add(1);
      return;
    }
  }
}

Result<auth::CreatedKey> FakeKeyManager::CreateKey(const auth::NewKey& req) {
  std::lock_guard<std::mutex> lock(mu_);
  auth::CreatedKey out;
  out.key.id = req.id.value_or("key-" + std::to_string(next_++));
  if (keys_.count(out.key.id)) return Status::Conflict("key id exists");
  out.key.tenant_id = req.tenant_id;
  out.key.role = req.role;
  out.key.name = req.name;
  out.key.created_at = 1700000000000;
  out.token = "tok-" + out.key.id;
  keys_[out.key.id] = out.key;
  token_of_[out.key.id] = out.token;
  authn_->Add(out.token, {req.tenant_id, out.key.id, req.role});
  return out;
}

Result<std::vector<auth::KeyInfo>> FakeKeyManager::ListKeys(
    std::string_view tenant) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<auth::KeyInfo> out;
  for (const auto& [id, k] : keys_) {
    if (tenant.empty() || k.tenant_id == tenant) out.push_back(k);
  }
  return out;
}

Status FakeKeyManager::RevokeKey(std::string_view tenant, std::string_view id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = keys_.find(std::string(id));
  if (it == keys_.end() ||
      (!tenant.empty() && it->second.tenant_id != tenant)) {
    return Status::NotFound("no such key");
  }
  it->second.revoked_at = 1700000000001;
  authn_->Remove(std::string(id));
  return Status::OK();
}

Status FakeKeyManager::RevokeTenantKey(std::string_view tenant,
                                       std::string_view id) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = keys_.find(std::string(id));
    if (it != keys_.end() && it->second.role == auth::Role::kService) {
      return Status::NotFound("no such key");
    }
  }
  return RevokeKey(tenant, id);
}

bool WaitUntil(const std::function<bool()>& done,
               std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

void HttpTest::SetUp() {
  const char* engine = std::getenv("ACPSTORE_HTTP_ENGINE");
  const std::string name = engine != nullptr ? engine : "memory";
  if (name == "memory") {
    store_options_.engine = Engine::kMemory;
  } else if (name == "file_sync_always") {
    data_dir_ = std::make_unique<io::TempDir>();
    store_options_.engine = Engine::kFile;
    store_options_.data_dir = data_dir_->Join("data");
    store_options_.sync = SyncMode::kAlways;
#ifdef ACPSTORE_HTTP_WITH_POSTGRES
  } else if (name == "postgres") {
    // A fresh schema per test (and per process: ctest may run a test
    // again while an earlier run's schema is being dropped).
    const ::testing::TestInfo* info =
        ::testing::UnitTest::GetInstance()->current_test_info();
    pg_schema_ = pgtest::SchemaFor(std::string("http.") +
                                   info->test_suite_name() + "." +
                                   info->name() + "." +
                                   std::to_string(::getpid()));
    Status s = pgtest::UsePostgres(&store_options_, pg_schema_);
    ASSERT_TRUE(s.ok()) << s;
#endif
  } else {
    FAIL() << "ACPSTORE_HTTP_ENGINE=" << name
           << ": expected memory, file_sync_always"
#ifdef ACPSTORE_HTTP_WITH_POSTGRES
           << " or postgres"
#endif
        ;
  }
  store_options_.maintenance_interval_ms = 0;
  options_.port = 0;
  options_.io_threads = 2;
  options_.shutdown_timeout_ms = 2000;
  Configure(&options_);
  ConfigureStore(&store_options_);
  auto store = OpenStore(store_options_);
  ASSERT_TRUE(store.ok()) << store.error();
  auto fwd = std::make_unique<ForwardingStore>(std::move(*store));
  fwd_ = fwd.get();
  store_ = std::move(fwd);
  keys_ = std::make_unique<FakeKeyManager>(&authn_);
  server_ =
      std::make_unique<server::Server>(options_, *store_, authn_, keys_.get());
  Status s = server_->Start();
  ASSERT_TRUE(s.ok()) << s;
  ASSERT_NE(server_->port(), 0);
}

void HttpTest::TearDown() {
  if (server_) server_->Stop();
  server_.reset();
  store_.reset();
  data_dir_.reset();
#ifdef ACPSTORE_HTTP_WITH_POSTGRES
  if (!pg_schema_.empty()) {
    // Cheap (one statement) and keeps the test database small; a failure
    // here only leaves a schema behind, so it is not checked.
    Result<std::string> url = pgtest::TestPostgresUrl();
    if (url.ok()) {
      PGconn* c = PQconnectdb(url->c_str());
      if (PQstatus(c) == CONNECTION_OK) {
        PQclear(PQexec(
            c, ("DROP SCHEMA IF EXISTS \"" + pg_schema_ + "\" CASCADE")
                   .c_str()));
      }
      PQfinish(c);
    }
  }
#endif
}

std::string HttpTest::CreateSession(const std::string& token,
                                    const std::string& body) {
  HttpResponse r = Client(token).Post("/v1/sessions", body);
  EXPECT_EQ(r.status, 201) << r.body;
  boost::json::value v = r.Json();
  if (!v.is_object() || !v.as_object().contains("id")) return "";
  return std::string(v.at("id").as_string());
}

void HttpTest::AppendEvents(const std::string& token,
                            const std::string& session, int n,
                            const std::string& type) {
  HttpClient c = Client(token);
  for (int i = 0; i < n; ++i) {
    HttpResponse r =
        c.Post("/v1/sessions/" + session + "/events",
               R"({"eventType":")" + type + R"(","payload":{"i":)" +
                   std::to_string(i) + "}}");
    ASSERT_EQ(r.status, 201) << r.body;
  }
}

}  // namespace acpstore::testing

namespace acpstore::testing {

double HttpTest::MetricValue(const std::string& name) {
  HttpResponse r = HttpClient(port()).Get("/metrics");
  const std::string needle = "\n" + name + " ";
  const size_t at = r.body.find(needle);
  if (at == std::string::npos) return -1;
  return std::stod(r.body.substr(at + needle.size()));
}

}  // namespace acpstore::testing
