// Keys in the database (SPEC §10): two PgKeyStores on one schema stand for
// two servers. A key created on one authenticates on the other at once, a
// revocation reaches the other within its reload interval, ids are never
// reused, and of two servers starting together one makes the bootstrap key.

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "pg_test_env.h"
#include "postgres/pg_key_store.h"

namespace acpstore::postgres {
namespace {

class PgKeyStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const ::testing::TestInfo* info =
        ::testing::UnitTest::GetInstance()->current_test_info();
    schema_ = pgtest::SchemaFor(std::string("keys.") + info->name() + "." +
                                std::to_string(::getpid()));
    Result<std::string> url = pgtest::TestPostgresUrl();
    ASSERT_TRUE(url.ok()) << url.status();
    url_ = *url;
    PgKeyStoreOptions options;
    options.reload_interval_ms = 100;
    Result<std::unique_ptr<PgKeyStore>> a = PgKeyStore::Open(url_, schema_, options);
    ASSERT_TRUE(a.ok()) << a.status();
    Result<std::unique_ptr<PgKeyStore>> b = PgKeyStore::Open(url_, schema_, options);
    ASSERT_TRUE(b.ok()) << b.status();
    a_ = std::move(*a);
    b_ = std::move(*b);
  }

  void TearDown() override {
    a_.reset();
    b_.reset();
    PGconn* c = PQconnectdb(url_.c_str());
    PQclear(PQexec(c, ("DROP SCHEMA IF EXISTS \"" + schema_ + "\" CASCADE").c_str()));
    PQfinish(c);
  }

  std::string url_, schema_;
  std::unique_ptr<PgKeyStore> a_, b_;
};

TEST_F(PgKeyStoreTest, KeyCreatedOnOneAuthenticatesOnTheOtherAtOnce) {
  Result<auth::CreatedKey> k = a_->CreateKey(
      {.tenant_id = "t1", .role = auth::Role::kWriter, .name = "ci"});
  ASSERT_TRUE(k.ok()) << k.status();
  Result<auth::Principal> p = b_->Authenticate(k->token);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->tenant_id, "t1");
  EXPECT_EQ(p->key_id, k->key.id);
  EXPECT_EQ(p->role, auth::Role::kWriter);
  // A wrong secret under a real lookup handle is refused.
  std::string forged = k->token;
  forged.back() = forged.back() == '0' ? '1' : '0';
  EXPECT_EQ(b_->Authenticate(forged).status().code(),
            StatusCode::kUnauthenticated);
}

TEST_F(PgKeyStoreTest, RevocationOnOneReachesTheOtherWithinItsReload) {
  Result<auth::CreatedKey> k =
      a_->CreateKey({.tenant_id = "t1", .role = auth::Role::kAdmin});
  ASSERT_TRUE(k.ok());
  ASSERT_TRUE(b_->Authenticate(k->token).ok());
  ASSERT_TRUE(a_->RevokeKey("t1", k->key.id).ok());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (b_->Authenticate(k->token).ok() &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(b_->Authenticate(k->token).status().code(),
            StatusCode::kUnauthenticated);
  Result<std::vector<auth::KeyInfo>> listed = b_->ListKeys("t1");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_TRUE(listed->at(0).revoked_at.has_value());
}

// Browser sessions (SPEC §12) re-check their key by id on every use: a key
// made on one server is found on the other at once (from the database),
// and its revocation on one ends it on the other within the reload.
TEST_F(PgKeyStoreTest, PrincipalOfKeyFollowsTheOtherServer) {
  Result<auth::CreatedKey> k =
      a_->CreateKey({.tenant_id = "t1", .role = auth::Role::kReader});
  ASSERT_TRUE(k.ok());
  Result<auth::Principal> p = b_->PrincipalOfKey(k->key.id);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->tenant_id, "t1");
  EXPECT_EQ(p->role, auth::Role::kReader);
  EXPECT_EQ(b_->PrincipalOfKey("key_missing").status().code(),
            StatusCode::kUnauthenticated);
  ASSERT_TRUE(a_->RevokeKey("t1", k->key.id).ok());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (b_->PrincipalOfKey(k->key.id).ok() &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(b_->PrincipalOfKey(k->key.id).status().code(),
            StatusCode::kUnauthenticated);
}

TEST_F(PgKeyStoreTest, IdsAreNeverReusedAndUnknownKeysAreNotFound) {
  ASSERT_TRUE(a_->CreateKey({.tenant_id = "t1", .role = auth::Role::kReader,
                             .id = std::string("k-1")})
                  .ok());
  ASSERT_TRUE(a_->RevokeKey("", "k-1").ok());
  EXPECT_EQ(b_->CreateKey({.tenant_id = "t1", .role = auth::Role::kReader,
                           .id = std::string("k-1")})
                .status()
                .code(),
            StatusCode::kConflict);
  EXPECT_EQ(b_->RevokeKey("", "nope").code(), StatusCode::kNotFound);
  EXPECT_EQ(b_->RevokeKey("t2", "k-1").code(), StatusCode::kNotFound);
}

// As the file key store's ATenantRevokeNeverReachesAServiceKey: a tenant's
// admin cannot revoke a service key filed under its tenant.
TEST_F(PgKeyStoreTest, ATenantRevokeNeverReachesAServiceKey) {
  Result<auth::CreatedKey> svc = a_->CreateKey({.tenant_id = "default",
                                                .role = auth::Role::kService,
                                                .id = std::string("svc"),
                                                .tenants = {"a", "b"}});
  ASSERT_TRUE(svc.ok()) << svc.status();
  const Status refused = a_->RevokeTenantKey("default", "svc");
  EXPECT_EQ(refused.code(), StatusCode::kNotFound);
  EXPECT_EQ(refused.message(), "no key 'svc'");  // as for any other tenant's
  EXPECT_TRUE(b_->Authenticate(svc->token).ok());
  Result<auth::CreatedKey> w =
      a_->CreateKey({.tenant_id = "default", .role = auth::Role::kWriter});
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_TRUE(a_->RevokeTenantKey("default", w->key.id).ok());
  EXPECT_FALSE(a_->Authenticate(w->token).ok());
  EXPECT_TRUE(a_->RevokeKey("", "svc").ok());
  EXPECT_FALSE(a_->Authenticate(svc->token).ok());
}

// SPEC §2.5: "." and ".." are refused as new key ids (URL dot segments),
// as by the file key store; a row that holds one already keeps working.
TEST_F(PgKeyStoreTest, DotSegmentIdsAreRefusedButAKeptOneWorks) {
  for (const char* id : {".", ".."}) {
    Result<auth::CreatedKey> k = a_->CreateKey(
        {.tenant_id = "t1", .role = auth::Role::kWriter, .id = std::string(id)});
    ASSERT_FALSE(k.ok()) << id;
    EXPECT_EQ(k.status().code(), StatusCode::kInvalidArgument) << id;
  }
  EXPECT_TRUE(a_->ListKeys("").value().empty());
  Result<auth::CreatedKey> k = a_->CreateKey(
      {.tenant_id = "t1", .role = auth::Role::kWriter, .id = std::string("dotted")});
  ASSERT_TRUE(k.ok()) << k.status();
  // Written before the rule.
  PGconn* c = PQconnectdb(url_.c_str());
  PGresult* r = PQexec(c, ("UPDATE \"" + schema_ +
                           "\".keys SET key_id = '.' WHERE key_id = 'dotted'")
                              .c_str());
  EXPECT_EQ(PQresultStatus(r), PGRES_COMMAND_OK) << PQresultErrorMessage(r);
  PQclear(r);
  PQfinish(c);
  // A store opened after it (the others may hold the row as it was).
  Result<std::unique_ptr<PgKeyStore>> later =
      PgKeyStore::Open(url_, schema_, PgKeyStoreOptions{});
  ASSERT_TRUE(later.ok()) << later.status();
  Result<auth::Principal> p = (*later)->Authenticate(k->token);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->key_id, ".");
  EXPECT_TRUE((*later)->RevokeKey("t1", ".").ok());
}

TEST_F(PgKeyStoreTest, ServiceKeysKeepTheirTenants) {
  Result<auth::CreatedKey> k = a_->CreateKey(
      {.tenant_id = "default", .role = auth::Role::kService,
       .tenants = {"t1", "t2"}});
  ASSERT_TRUE(k.ok()) << k.status();
  Result<auth::Principal> p = b_->Authenticate(k->token);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->tenants, (std::vector<std::string>{"t1", "t2"}));
}

TEST_F(PgKeyStoreTest, OnlyOneServerMakesTheBootstrapKey) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() /
      ("acpstore-keys-" + schema_);
  Result<std::optional<auth::BootstrapKey>> first =
      a_->EnsureBootstrapKey((dir / "a").string());
  Result<std::optional<auth::BootstrapKey>> second =
      b_->EnsureBootstrapKey((dir / "b").string());
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_TRUE(first->has_value());
  EXPECT_FALSE(second->has_value());
  EXPECT_TRUE(std::filesystem::exists(dir / "a" / "bootstrap-admin.token"));
  EXPECT_FALSE(std::filesystem::exists(dir / "b" / "bootstrap-admin.token"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace acpstore::postgres
