// Tests for CanonicalizeMetadata (SPEC §2.6): sorted canonical bytes, and
// every rejection naming the field and the key.

#include <gtest/gtest.h>

#include <string>

#include "record/validate.h"

namespace acpstore::record {
namespace {

Result<std::string> Meta(std::string_view in, const Limits& limits = Limits{}) {
  return CanonicalizeMetadata(in, limits, "backendMetadata");
}

// Asserts a rejection and returns "<field detail>: <message>".
std::string Refusal(std::string_view in, const Limits& limits = Limits{}) {
  Result<std::string> r = Meta(in, limits);
  if (r.ok()) return "accepted: " + *r;
  EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument);
  const StatusDetail* field = r.error().Detail("field");
  if (field == nullptr) return "no field detail";
  return std::get<std::string>(field->value) + " | " +
         std::string(r.error().message());
}

TEST(MetadataTest, KeysAreSortedBytewise) {
  Result<std::string> r =
      Meta(R"({ "b": 1, "a": "x", "B": true, "\u00e9": null, "a0": 2.50 })");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, "{\"B\":true,\"a\":\"x\",\"a0\":2.5,\"b\":1,\"\xC3\xA9\":null}");
}

TEST(MetadataTest, EqualMapsHaveEqualBytes) {
  EXPECT_EQ(*Meta(R"({"x":1,"y":"two"})"), *Meta(R"({ "y" : "two", "x" : 1 })"));
}

TEST(MetadataTest, EmptyObjectIsFine) { EXPECT_EQ(*Meta(" {} "), "{}"); }

TEST(MetadataTest, OutputIsAlsoACanonicalPayload) {
  const std::string m = *Meta(R"({"z":"\n","a":-0.0,"m":1e21})");
  EXPECT_EQ(*CanonicalizePayload(m, Limits{}), m);
  EXPECT_EQ(*Meta(m), m);
}

TEST(MetadataTest, MustBeAnObject) {
  for (const char* bad : {"null", "[]", "[{\"a\":1}]", "\"x\"", "1", "true"}) {
    EXPECT_EQ(Refusal(bad), "backendMetadata | backendMetadata: must be a JSON object")
        << bad;
  }
}

TEST(MetadataTest, NestedValuesAreRejectedNamingTheKey) {
  EXPECT_EQ(Refusal(R"({"ok":1,"foo":{"a":1}})"),
            "backendMetadata.foo | backendMetadata.foo: nested objects are not "
            "allowed");
  EXPECT_EQ(Refusal(R"({"foo":[1]})"),
            "backendMetadata.foo | backendMetadata.foo: arrays are not allowed");
}

TEST(MetadataTest, ReservedKeysAreRejected) {
  for (const char* key : {"__proto__", "constructor", "prototype"}) {
    EXPECT_EQ(Refusal("{\"" + std::string(key) + "\":1}"),
              "backendMetadata." + std::string(key) + " | backendMetadata." +
                  key + ": key is reserved");
  }
  EXPECT_TRUE(Meta(R"({"Constructor":1,"proto":2})").ok());
}

TEST(MetadataTest, SecretLookingKeysAreRejectedCaseInsensitively) {
  for (const char* key :
       {"token", "myToken", "ACCESS_TOKEN", "secret", "clientSecret",
        "password", "db_PASSWORD", "apikey", "API_KEY", "x-api-key", "ApiKey",
        "authorization", "Authorization", "cookie", "Set-Cookie"}) {
    Result<std::string> r = Meta("{\"" + std::string(key) + "\":\"v\"}");
    ASSERT_FALSE(r.ok()) << key;
    EXPECT_EQ(std::get<std::string>(r.error().Detail("field")->value),
              "backendMetadata." + std::string(key));
    EXPECT_NE(r.error().message().find("secrets do not belong"),
              std::string::npos);
  }
  for (const char* fine : {"tok", "api", "api key", "apiXkey", "auth", "pass"}) {
    EXPECT_TRUE(Meta("{\"" + std::string(fine) + "\":1}").ok()) << fine;
  }
}

TEST(MetadataTest, KeyCountLimitIsInclusive) {
  auto with_keys = [](int n) {
    std::string s = "{";
    for (int i = 0; i < n; ++i) {
      if (i) s += ',';
      s += "\"k" + std::to_string(i) + "\":" + std::to_string(i);
    }
    return s + "}";
  };
  EXPECT_TRUE(Meta(with_keys(20)).ok());
  EXPECT_EQ(Refusal(with_keys(21)),
            "backendMetadata | backendMetadata: more than 20 keys");
}

TEST(MetadataTest, KeyLengthIsOneTo128Bytes) {
  EXPECT_TRUE(Meta("{\"" + std::string(128, 'k') + "\":1}").ok());
  const std::string long_key(129, 'k');
  Result<std::string> r = Meta("{\"" + long_key + "\":1}");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("key exceeds 128 bytes"), std::string::npos);
  EXPECT_EQ(Refusal(R"({"":1})"),
            "backendMetadata | backendMetadata: empty key is not allowed");
}

TEST(MetadataTest, KeysWithControlCharactersAreRejected) {
  EXPECT_TRUE(!Meta(R"({"a\nb":1})").ok());
  EXPECT_TRUE(!Meta("{\"a\xC2\x85\":1}").ok());  // C1 NEL
}

TEST(MetadataTest, StringValueLengthIsInclusive) {
  EXPECT_TRUE(Meta("{\"v\":\"" + std::string(1024, 'x') + "\"}").ok());
  EXPECT_EQ(Refusal("{\"v\":\"" + std::string(1025, 'x') + "\"}"),
            "backendMetadata.v | backendMetadata.v: string value exceeds 1024 "
            "bytes");
  // The limit is on the value's bytes, not its escaped spelling.
  std::string escaped = "{\"v\":\"";
  for (int i = 0; i < 1024; ++i) escaped += "\\u0041";
  EXPECT_TRUE(Meta(escaped + "\"}").ok());
}

TEST(MetadataTest, ValueRules) {
  EXPECT_EQ(*Meta(R"({"n":null,"t":true,"f":false,"i":-3,"d":0.5})"),
            R"({"d":0.5,"f":false,"i":-3,"n":null,"t":true})");
  EXPECT_EQ(Refusal(R"({"big":1e400})"),
            "backendMetadata.big | backendMetadata.big: number does not fit a "
            "double");
  EXPECT_FALSE(Meta(R"({"n":NaN})").ok());
  EXPECT_FALSE(Meta("{\"s\":\"\xff\"}").ok());
}

TEST(MetadataTest, DuplicateKeysAreRejected) {
  EXPECT_EQ(Refusal(R"({"a":1,"b":2,"a":3})"),
            "backendMetadata.a | backendMetadata.a: duplicate key");
}

TEST(MetadataTest, LimitsAreConfigurable) {
  Limits limits;
  limits.max_metadata_keys = 1;
  limits.max_metadata_key_bytes = 2;
  limits.max_metadata_value_bytes = 3;
  EXPECT_TRUE(Meta(R"({"ab":"xyz"})", limits).ok());
  EXPECT_FALSE(Meta(R"({"a":1,"b":2})", limits).ok());
  EXPECT_FALSE(Meta(R"({"abc":1})", limits).ok());
  EXPECT_FALSE(Meta(R"({"a":"wxyz"})", limits).ok());
}

TEST(MetadataTest, MalformedJsonIsRejected) {
  for (const char* bad : {"", "{", "{\"a\":}", "{\"a\":1,}", "{} {}", "{\"a\" 1}"}) {
    EXPECT_FALSE(Meta(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace acpstore::record
