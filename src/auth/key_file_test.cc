// The keys file codec: round trip and its corruption policy.

#include "auth/key_file.h"

#include <gtest/gtest.h>

namespace acpstore::auth {
namespace {

KeyRecord MakeRecord(std::string id, bool revoked) {
  KeyRecord r;
  r.info.id = std::move(id);
  r.info.tenant_id = "tenant-1";
  r.info.role = Role::kReader;
  r.info.name = "ci \"runner\"";
  r.info.created_at = 1'780'000'000'123;
  if (revoked) r.info.revoked_at = 1'780'000'999'000;
  r.lookup = "0123456789abcdef";
  r.lookup[0] = r.info.id.back();  // distinct per record in these tests
  r.digest = Sha256(r.info.id);
  return r;
}

TEST(KeyFileTest, RoundTripsEveryField) {
  std::vector<KeyRecord> keys = {MakeRecord("key_1", false),
                                 MakeRecord("key_2", true)};
  Result<std::vector<KeyRecord>> back =
      DecodeKeyFile(EncodeKeyFile(keys), "keys.json");
  ASSERT_TRUE(back.ok()) << back.error();
  ASSERT_EQ(back->size(), 2u);
  for (size_t i = 0; i < keys.size(); ++i) {
    const KeyRecord& a = keys[i];
    const KeyRecord& b = (*back)[i];
    EXPECT_EQ(a.info.id, b.info.id);
    EXPECT_EQ(a.info.tenant_id, b.info.tenant_id);
    EXPECT_EQ(a.info.role, b.info.role);
    EXPECT_EQ(a.info.name, b.info.name);
    EXPECT_EQ(a.info.created_at, b.info.created_at);
    EXPECT_EQ(a.info.revoked_at, b.info.revoked_at);
    EXPECT_EQ(a.lookup, b.lookup);
    EXPECT_TRUE(DigestsEqual(a.digest, b.digest));
  }
}

TEST(KeyFileTest, ServiceKeyTenantsRoundTrip) {
  KeyRecord all = MakeRecord("key_3", false);
  all.info.role = Role::kService;
  KeyRecord some = MakeRecord("key_4", false);
  some.info.role = Role::kService;
  some.info.tenants = {"t1", "t/2"};
  const std::string text = EncodeKeyFile({all, some});
  // Every tenant is the absence of the field, so older files read the same.
  EXPECT_EQ(text.find("\"tenants\":[]"), std::string::npos) << text;
  Result<std::vector<KeyRecord>> back = DecodeKeyFile(text, "keys.json");
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ((*back)[0].info.role, Role::kService);
  EXPECT_TRUE((*back)[0].info.tenants.empty());
  EXPECT_EQ((*back)[1].info.tenants, (std::vector<std::string>{"t1", "t/2"}));
}

TEST(KeyFileTest, TenantsOnANonServiceKeyIsCorruption) {
  KeyRecord r = MakeRecord("key_5", false);
  r.info.role = Role::kService;
  r.info.tenants = {"t1"};
  std::string text = EncodeKeyFile({r});
  const size_t at = text.find("\"role\":\"service\"");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 16, "\"role\":\"writer\"");
  Result<std::vector<KeyRecord>> back = DecodeKeyFile(text, "keys.json");
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.error().code(), StatusCode::kCorruption);
}

TEST(KeyFileTest, EmptyFileListRoundTrips) {
  Result<std::vector<KeyRecord>> back = DecodeKeyFile(EncodeKeyFile({}), "k");
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(back->empty());
}

TEST(KeyFileTest, GarbageIsCorruptionNamingTheFile) {
  Result<std::vector<KeyRecord>> r = DecodeKeyFile("{not json", "/d/keys.json");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), StatusCode::kCorruption);
  EXPECT_NE(r.error().message().find("/d/keys.json"), std::string::npos);
}

TEST(KeyFileTest, UnknownVersionIsRefused) {
  Result<std::vector<KeyRecord>> r =
      DecodeKeyFile(R"({"version":2,"keys":[]})", "k");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), StatusCode::kCorruption);
  // SPEC §3, format compatibility: both versions named.
  EXPECT_NE(r.error().message().find("keys file k has format version 2; this "
                                     "acpstore reads versions up to 1"),
            std::string::npos)
      << r.error();
  EXPECT_FALSE(DecodeKeyFile(R"({"version":0,"keys":[]})", "k").ok());
}

TEST(KeyFileTest, DuplicateIdIsCorruption) {
  KeyRecord a = MakeRecord("key_1", false);
  KeyRecord b = MakeRecord("key_1", false);
  b.lookup = "ffffffffffffffff";
  Result<std::vector<KeyRecord>> r = DecodeKeyFile(EncodeKeyFile({a, b}), "k");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("duplicate id"), std::string::npos);
}

TEST(KeyFileTest, UnknownRoleIsCorruption) {
  std::string text = EncodeKeyFile({MakeRecord("key_1", false)});
  text.replace(text.find("\"reader\""), 8, "\"root\"");
  EXPECT_FALSE(DecodeKeyFile(text, "k").ok());
}

// Tenant ids are identifiers, taken byte for byte (SPEC §2.5): a key file
// whose tenants begin or end with a space (any release could write one,
// and a service key reaches such a tenant as "%20acme") loads as it is,
// never refused and never trimmed (decision 0038).
TEST(KeyFileTest, TenantsWithSpacesAtTheirEndsLoadAsTheyAre) {
  KeyRecord writer = MakeRecord("key_1", false);
  writer.info.tenant_id = " acme";
  KeyRecord service = MakeRecord("key_2", false);
  service.info.role = Role::kService;
  service.info.tenants = {"acme ", " "};
  Result<std::vector<KeyRecord>> back =
      DecodeKeyFile(EncodeKeyFile({writer, service}), "keys.json");
  ASSERT_TRUE(back.ok()) << back.error();
  ASSERT_EQ(back->size(), 2u);
  EXPECT_EQ((*back)[0].info.tenant_id, " acme");
  EXPECT_EQ((*back)[1].info.tenants, (std::vector<std::string>{"acme ", " "}));
}

TEST(KeyFileTest, IdentifierRules) {
  EXPECT_TRUE(CheckKeyIdentifier("id", "owner-7").ok());
  EXPECT_FALSE(CheckKeyIdentifier("id", "").ok());
  EXPECT_FALSE(CheckKeyIdentifier("id", std::string(257, 'a')).ok());
  EXPECT_FALSE(CheckKeyIdentifier("id", "a\nb").ok());
  EXPECT_FALSE(CheckKeyIdentifier("id", "\xff").ok());
  EXPECT_TRUE(CheckKeyName("").ok());
  EXPECT_FALSE(CheckKeyName("tab\there").ok());
}

}  // namespace
}  // namespace acpstore::auth
