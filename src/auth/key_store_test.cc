// KeyStore scenarios: the key lifecycle, what is on disk, sharing the file
// between instances (as a server and `acpstore keys` do) and bootstrap.

#include "auth/key_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "io/test_dir.h"

namespace acpstore::auth {
namespace {

using std::chrono::milliseconds;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

mode_t ModeOf(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return 0;
  return st.st_mode & 0777;
}

class KeyStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<KeyStore> OpenStore(int64_t reload_ms = 0) {
    KeyStoreOptions options;
    options.reload_interval_ms = reload_ms;
    options.clock = &clock_;
    Result<std::unique_ptr<KeyStore>> s = KeyStore::Open(dir(), options);
    EXPECT_TRUE(s.ok()) << s.error();
    return s.ok() ? std::move(*s) : nullptr;
  }
  CreatedKey Create(KeyStore& ks, std::string tenant, Role role,
                    std::optional<std::string> id = std::nullopt) {
    Result<CreatedKey> k = ks.CreateKey(
        {.tenant_id = std::move(tenant), .role = role, .id = std::move(id)});
    EXPECT_TRUE(k.ok()) << k.error();
    return k.ok() ? *k : CreatedKey{};
  }
  // Polls until `ks` accepts (or rejects) `token`; returns the time taken.
  static std::optional<milliseconds> WaitForAuth(KeyStore& ks,
                                                 const std::string& token,
                                                 bool accepted) {
    const auto start = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() - start < std::chrono::seconds(3)) {
      if (ks.Authenticate(token).ok() == accepted) {
        return std::chrono::duration_cast<milliseconds>(
            std::chrono::steady_clock::now() - start);
      }
      std::this_thread::sleep_for(milliseconds(20));
    }
    return std::nullopt;
  }
  std::string dir() const { return tmp_.Join("data"); }

  io::TempDir tmp_;
  ManualClock clock_{1'780'000'000'000};
};

TEST_F(KeyStoreTest, CreateAuthenticateListRevoke) {
  auto ks = OpenStore();
  CreatedKey writer = Create(*ks, "t1", Role::kWriter);
  EXPECT_TRUE(writer.key.id.starts_with("key_"));
  EXPECT_EQ(writer.key.created_at, 1'780'000'000'000);

  Result<Principal> p = ks->Authenticate(writer.token);
  ASSERT_TRUE(p.ok()) << p.error();
  EXPECT_EQ(p->tenant_id, "t1");
  EXPECT_EQ(p->key_id, writer.key.id);
  EXPECT_EQ(p->role, Role::kWriter);

  Create(*ks, "t2", Role::kReader);
  EXPECT_EQ(ks->ListKeys("").value().size(), 2u);
  ASSERT_EQ(ks->ListKeys("t1").value().size(), 1u);
  EXPECT_EQ(ks->ListKeys("t1").value()[0].id, writer.key.id);

  clock_.Advance(5000);
  ASSERT_TRUE(ks->RevokeKey("t1", writer.key.id).ok());
  Result<Principal> revoked = ks->Authenticate(writer.token);
  ASSERT_FALSE(revoked.ok());
  EXPECT_EQ(revoked.error().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(ks->ListKeys("t1").value()[0].revoked_at, 1'780'000'005'000);
  // Twice is fine and keeps the first revocation time.
  clock_.Advance(5000);
  EXPECT_TRUE(ks->RevokeKey("", writer.key.id).ok());
  EXPECT_EQ(ks->ListKeys("t1").value()[0].revoked_at, 1'780'000'005'000);
}

TEST_F(KeyStoreTest, ServiceKeyCarriesItsTenantsIntoThePrincipal) {
  auto ks = OpenStore();
  Result<CreatedKey> some = ks->CreateKey(
      {.tenant_id = "default", .role = Role::kService, .tenants = {"a", "b"}});
  ASSERT_TRUE(some.ok()) << some.error();
  Result<Principal> p = ks->Authenticate(some->token);
  ASSERT_TRUE(p.ok()) << p.error();
  EXPECT_EQ(p->role, Role::kService);
  EXPECT_TRUE(p->ServesTenant("a"));
  EXPECT_FALSE(p->ServesTenant("c"));
  Result<CreatedKey> all =
      ks->CreateKey({.tenant_id = "default", .role = Role::kService});
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(ks->Authenticate(all->token)->ServesTenant("anything"));
  // Tenants apply to service keys only; a writer never serves a tenant.
  EXPECT_EQ(ks->CreateKey({.tenant_id = "t", .role = Role::kWriter,
                           .tenants = {"a"}})
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  Result<CreatedKey> w = ks->CreateKey({.tenant_id = "t"});
  EXPECT_FALSE(ks->Authenticate(w->token)->ServesTenant("t"));
}

TEST_F(KeyStoreTest, RevokeInAnotherTenantIsNotFound) {
  auto ks = OpenStore();
  CreatedKey k = Create(*ks, "t1", Role::kWriter);
  EXPECT_EQ(ks->RevokeKey("t2", k.key.id).code(), StatusCode::kNotFound);
  EXPECT_EQ(ks->RevokeKey("", "key_missing").code(), StatusCode::kNotFound);
  EXPECT_TRUE(ks->Authenticate(k.token).ok());
}

// A service key is filed under a tenant ("default" without --tenant) but
// acts in many: a tenant's admin revoked it over HTTP, for every tenant it
// served (found by review). RevokeTenantKey answers as for another
// tenant's key; the operator's RevokeKey still reaches it.
TEST_F(KeyStoreTest, ATenantRevokeNeverReachesAServiceKey) {
  auto ks = OpenStore();
  Result<CreatedKey> svc = ks->CreateKey({.tenant_id = "default",
                                          .role = Role::kService,
                                          .id = std::string("svc"),
                                          .tenants = {"a", "b"}});
  ASSERT_TRUE(svc.ok()) << svc.error();
  CreatedKey other = Create(*ks, "t2", Role::kWriter);
  const Status refused = ks->RevokeTenantKey("default", "svc");
  EXPECT_EQ(refused.code(), StatusCode::kNotFound);
  // The same answer as for another tenant's key.
  EXPECT_EQ(refused.message(), "no key 'svc'");
  EXPECT_EQ(ks->RevokeTenantKey("default", other.key.id).message(),
            "no key '" + other.key.id + "'");
  EXPECT_EQ(ks->RevokeTenantKey("a", "svc").code(), StatusCode::kNotFound);
  EXPECT_TRUE(ks->Authenticate(svc->token).ok());
  EXPECT_FALSE(ks->ListKeys("default").value()[0].revoked_at);
  // Other keys of the tenant are revoked as by RevokeKey.
  CreatedKey w = Create(*ks, "default", Role::kWriter);
  EXPECT_TRUE(ks->RevokeTenantKey("default", w.key.id).ok());
  EXPECT_FALSE(ks->Authenticate(w.token).ok());
  EXPECT_TRUE(ks->RevokeKey("", "svc").ok());
  EXPECT_FALSE(ks->Authenticate(svc->token).ok());
}

TEST_F(KeyStoreTest, OnlyTheHashIsStoredAtRest) {
  auto ks = OpenStore();
  CreatedKey k = Create(*ks, "t1", Role::kAdmin);
  const std::string text = ReadAll(ks->keys_path());
  const std::string secret = k.token.substr(k.token.rfind('_') + 1);
  EXPECT_EQ(text.find(k.token), std::string::npos);
  EXPECT_EQ(text.find(secret), std::string::npos);
  EXPECT_EQ(text.find(secret.substr(0, 16)), std::string::npos);
  EXPECT_NE(text.find(DigestToHex(Sha256(k.token))), std::string::npos);
}

TEST_F(KeyStoreTest, RightLookupWrongSecretIsRejected) {
  auto ks = OpenStore();
  CreatedKey k = Create(*ks, "t1", Role::kWriter);
  // Same lookup handle, so this reaches the constant-time digest compare.
  std::string forged = k.token;
  forged.back() = forged.back() == '0' ? '1' : '0';
  Result<Principal> r = ks->Authenticate(forged);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(r.error().ToString().find(forged), std::string::npos);
}

TEST_F(KeyStoreTest, BadTokensAreUnauthenticatedWithoutEchoingThem) {
  auto ks = OpenStore();
  CreatedKey k = Create(*ks, "t1", Role::kWriter);
  const std::string unknown = NewToken(NewLookup());
  for (const std::string& token :
       {std::string(), std::string("Bearer x"), std::string("acp_secretvalue"),
        unknown, k.token + " "}) {
    Result<Principal> r = ks->Authenticate(token);
    ASSERT_FALSE(r.ok()) << token;
    EXPECT_EQ(r.error().code(), StatusCode::kUnauthenticated);
    if (!token.empty()) {
      EXPECT_EQ(r.error().ToString().find(token), std::string::npos);
    }
  }
}

TEST_F(KeyStoreTest, IdsAreNeverReused) {
  auto ks = OpenStore();
  CreatedKey k = Create(*ks, "t1", Role::kWriter, "owner-7");
  EXPECT_EQ(k.key.id, "owner-7");
  Result<CreatedKey> again = ks->CreateKey({.tenant_id = "t2", .id = "owner-7"});
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code(), StatusCode::kConflict);
  ASSERT_TRUE(ks->RevokeKey("", "owner-7").ok());
  again = ks->CreateKey({.tenant_id = "t1", .id = "owner-7"});
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code(), StatusCode::kConflict);
}

TEST_F(KeyStoreTest, InvalidFieldsAreRefused) {
  auto ks = OpenStore();
  EXPECT_EQ(ks->CreateKey({.tenant_id = ""}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ks->CreateKey({.tenant_id = "t", .id = "a\x01"}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ks->CreateKey({.tenant_id = "t", .name = std::string(300, 'n')})
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(ks->ListKeys("").value().empty());
}

// SPEC §2.5: a key id is a URL path segment (DELETE /v1/keys/{id}), and
// "." and ".." are dot segments HTTP clients remove, so they are refused
// at creation; a key file that holds one already keeps it working.
TEST_F(KeyStoreTest, DotSegmentIdsAreRefusedButAKeptOneWorks) {
  auto ks = OpenStore();
  for (const char* id : {".", ".."}) {
    Result<CreatedKey> k = ks->CreateKey({.tenant_id = "t", .id = id});
    ASSERT_FALSE(k.ok()) << id;
    EXPECT_EQ(k.status().code(), StatusCode::kInvalidArgument) << id;
    EXPECT_NE(k.status().message().find("dot segment"), std::string::npos)
        << k.status();
  }
  EXPECT_TRUE(ks->ListKeys("").value().empty());
  Create(*ks, "t", Role::kWriter, "...");
  const std::string token = Create(*ks, "t", Role::kWriter, "dotted").token;
  ks.reset();
  // Written before the rule: edit the file as an older release wrote it.
  std::string file = ReadAll(dir() + "/keys.json");
  const size_t at = file.find(R"("id":"dotted")");
  ASSERT_NE(at, std::string::npos) << file;
  file.replace(at, 13, R"("id":".")");
  { std::ofstream(dir() + "/keys.json", std::ios::trunc) << file; }
  ks = OpenStore();
  ASSERT_NE(ks, nullptr);
  Result<Principal> p = ks->Authenticate(token);
  ASSERT_TRUE(p.ok()) << p.error();
  EXPECT_EQ(p->key_id, ".");
  EXPECT_TRUE(ks->RevokeKey("t", ".").ok());
  EXPECT_FALSE(ks->Authenticate(token).ok());
}

TEST_F(KeyStoreTest, FilesArePrivate) {
  auto ks = OpenStore();
  Create(*ks, "t1", Role::kWriter);
  ASSERT_TRUE(ks->EnsureBootstrapKey().ok());
  EXPECT_EQ(ModeOf(dir()), 0700u);
  EXPECT_EQ(ModeOf(ks->keys_path()), 0600u);
  EXPECT_EQ(ModeOf(dir() + "/keys.lock"), 0600u);
}

TEST_F(KeyStoreTest, KeysSurviveReopen) {
  std::string token;
  {
    auto ks = OpenStore();
    token = Create(*ks, "t1", Role::kReader).token;
  }
  auto ks = OpenStore();
  Result<Principal> p = ks->Authenticate(token);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->role, Role::kReader);
}

TEST_F(KeyStoreTest, SecondInstanceSeesCreateAndRevokeWithinTwoSeconds) {
  auto server = OpenStore(/*reload_ms=*/500);
  auto tool = OpenStore();
  CreatedKey k = Create(*tool, "t1", Role::kWriter);
  std::optional<milliseconds> seen = WaitForAuth(*server, k.token, true);
  ASSERT_TRUE(seen) << "new key never honoured";
  EXPECT_LT(seen->count(), 2000);

  ASSERT_TRUE(tool->RevokeKey("", k.key.id).ok());
  std::optional<milliseconds> gone = WaitForAuth(*server, k.token, false);
  ASSERT_TRUE(gone) << "revoked key still honoured";
  EXPECT_LT(gone->count(), 2000);
}

// Browser sessions (SPEC §12) hold a key id, not a token: PrincipalOfKey
// vouches for a live key and stops once it is revoked here or by another
// process (the reload).
TEST_F(KeyStoreTest, PrincipalOfKeyFollowsRevocationElsewhere) {
  auto server = OpenStore(/*reload_ms=*/500);
  auto tool = OpenStore();
  CreatedKey k = Create(*server, "t1", Role::kReader);
  Result<Principal> p = server->PrincipalOfKey(k.key.id);
  ASSERT_TRUE(p.ok()) << p.error();
  EXPECT_EQ(p->tenant_id, "t1");
  EXPECT_EQ(p->role, Role::kReader);
  EXPECT_EQ(server->PrincipalOfKey("key_missing").error().code(),
            StatusCode::kUnauthenticated);
  ASSERT_TRUE(tool->RevokeKey("", k.key.id).ok());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (server->PrincipalOfKey(k.key.id).ok() &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(20));  // polling, with a deadline
  }
  Result<Principal> gone = server->PrincipalOfKey(k.key.id);
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code(), StatusCode::kUnauthenticated);
}

TEST_F(KeyStoreTest, WritersInTwoInstancesLoseNothing) {
  auto a = OpenStore();
  auto b = OpenStore();
  auto create_many = [this](KeyStore* ks, const char* tenant) {
    for (int i = 0; i < 15; ++i) Create(*ks, tenant, Role::kWriter);
  };
  std::thread ta(create_many, a.get(), "ta");
  std::thread tb(create_many, b.get(), "tb");
  ta.join();
  tb.join();
  EXPECT_EQ(a->ListKeys("").value().size(), 30u);
  EXPECT_EQ(b->ListKeys("ta").value().size(), 15u);
}

TEST_F(KeyStoreTest, BootstrapMakesOneAdminKeyAndWritesItsToken) {
  auto ks = OpenStore();
  Result<std::optional<BootstrapKey>> made = ks->EnsureBootstrapKey();
  ASSERT_TRUE(made.ok()) << made.error();
  ASSERT_TRUE(made->has_value());
  const BootstrapKey& boot = **made;
  EXPECT_EQ(boot.token_path, dir() + "/bootstrap-admin.token");
  EXPECT_EQ(ModeOf(boot.token_path), 0600u);
  std::string token = ReadAll(boot.token_path);
  ASSERT_FALSE(token.empty());
  ASSERT_EQ(token.back(), '\n');
  token.pop_back();
  Result<Principal> p = ks->Authenticate(token);
  ASSERT_TRUE(p.ok()) << p.error();
  EXPECT_EQ(p->tenant_id, "default");
  EXPECT_EQ(p->role, Role::kAdmin);
  EXPECT_EQ(p->key_id, boot.key.id);

  // A second start finds a key and does nothing, even once it is revoked.
  ASSERT_TRUE(ks->RevokeKey("", boot.key.id).ok());
  auto reopened = OpenStore();
  Result<std::optional<BootstrapKey>> again = reopened->EnsureBootstrapKey();
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->has_value());
  EXPECT_EQ(reopened->ListKeys("").value().size(), 1u);
}

TEST_F(KeyStoreTest, NoBootstrapWhenKeysExist) {
  auto ks = OpenStore();
  Create(*ks, "t1", Role::kWriter);
  Result<std::optional<BootstrapKey>> made = ks->EnsureBootstrapKey();
  ASSERT_TRUE(made.ok());
  EXPECT_FALSE(made->has_value());
  EXPECT_EQ(ModeOf(dir() + "/bootstrap-admin.token"), 0u);
}

TEST_F(KeyStoreTest, CorruptFileRefusesToOpen) {
  { OpenStore(); }
  std::ofstream(dir() + "/keys.json") << "{\"version\":1,\"keys\":[{}]}";
  Result<std::unique_ptr<KeyStore>> s = KeyStore::Open(dir());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), StatusCode::kCorruption);
}

TEST_F(KeyStoreTest, DamagedFileAtReloadKeepsTheKeysLoadedBefore) {
  auto ks = OpenStore();
  CreatedKey k = Create(*ks, "t1", Role::kWriter);
  {
    std::ofstream out(dir() + "/keys.json.tmp");
    out << "garbage";
  }
  ASSERT_EQ(std::rename((dir() + "/keys.json.tmp").c_str(),
                        ks->keys_path().c_str()),
            0);
  EXPECT_FALSE(ks->ReloadIfChanged().ok());
  EXPECT_TRUE(ks->Authenticate(k.token).ok());
}

TEST_F(KeyStoreTest, MissingDirectoryWithoutCreateIsNotFound) {
  KeyStoreOptions options;
  options.create_dir = false;
  options.reload_interval_ms = 0;
  Result<std::unique_ptr<KeyStore>> s = KeyStore::Open(dir(), options);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace acpstore::auth
