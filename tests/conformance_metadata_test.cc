// Conformance scenarios for metadata maps (SPEC §2.6), mostly through a
// session's backendMetadata; the last scenario checks that every other
// metadata field (actions, pauses) is held to the same rules.

#include <string>

#include "store_conformance.h"

namespace acpstore::conformance {
namespace {

// n keys "k00".."k<n-1>" with value 1.
std::string MapWithKeys(int n) {
  std::string json = "{";
  for (int i = 0; i < n; ++i) {
    if (i > 0) json += ",";
    json += "\"k" + std::string(i < 10 ? "0" : "") + std::to_string(i) + "\":1";
  }
  return json + "}";
}

// A session request carrying `json` as its backendMetadata.
NewSession WithMetadata(std::string json) {
  NewSession req;
  req.backend_metadata = std::move(json);
  return req;
}

TEST_P(StoreConformance, MetadataIsCanonicalWithSortedKeys) {
  Session s = Must(db().CreateSession(
      kAlice, WithMetadata(R"({ "b" : 1, "a" : "x", "C": null,)"
                           R"(  "d": true, "e": 1.50, "f": -3 })")));
  EXPECT_EQ(s.backend_metadata,
            R"({"C":null,"a":"x","b":1,"d":true,"e":1.5,"f":-3})");
}

TEST_P(StoreConformance, MetadataEqualMapsHaveEqualBytes) {
  Session a =
      Must(db().CreateSession(kAlice, WithMetadata(R"({"x":"1","y":false})")));
  Session b = Must(db().CreateSession(
      kAlice, WithMetadata("{\n  \"y\": false,\n  \"x\": \"1\"\n}")));
  EXPECT_EQ(a.backend_metadata, b.backend_metadata);
}

TEST_P(StoreConformance, MetadataAllowsTwentyKeysNotTwentyOne) {
  EXPECT_OK(db().CreateSession(kAlice, WithMetadata(MapWithKeys(20))));
  EXPECT_THAT(db().CreateSession(kAlice, WithMetadata(MapWithKeys(21))),
              FailsOnField(StatusCode::kInvalidArgument, "backendMetadata"));
  EXPECT_OK(db().CreateSession(kAlice, WithMetadata("{}")));
}

TEST_P(StoreConformance, MetadataKeyIsOneTo128Bytes) {
  std::string k128(128, 'k');
  std::string k129(129, 'k');
  EXPECT_OK(db().CreateSession(kAlice, WithMetadata("{\"" + k128 + "\":1}")));
  EXPECT_THAT(db().CreateSession(kAlice, WithMetadata("{\"" + k129 + "\":1}")),
              FailsOnField(StatusCode::kInvalidArgument, "backendMetadata"));
  EXPECT_THAT(db().CreateSession(kAlice, WithMetadata(R"({"":1})")),
              FailsOnField(StatusCode::kInvalidArgument, "backendMetadata"));
}

TEST_P(StoreConformance, MetadataRefusesPrototypeKeys) {
  for (const char* key : {"__proto__", "constructor", "prototype"}) {
    SCOPED_TRACE(key);
    EXPECT_THAT(db().CreateSession(
                    kAlice, WithMetadata("{\"" + std::string(key) + "\":1}")),
                FailsOnField(StatusCode::kInvalidArgument, "backendMetadata"));
  }
}

TEST_P(StoreConformance, MetadataRefusesSecretLookingKeys) {
  for (const char* key :
       {"token", "Secret", "PASSWORD", "api_key", "api-key", "apikey",
        "API_KEY", "x-authorization", "Authorization", "cookie", "Set-Cookie",
        "sessionToken", "client_secret", "db.password"}) {
    SCOPED_TRACE(key);
    EXPECT_THAT(db().CreateSession(
                    kAlice, WithMetadata("{\"" + std::string(key) + "\":1}")),
                FailsOnField(StatusCode::kInvalidArgument, "backendMetadata"));
  }
}

// The pattern is token|secret|password|api[_-]?key|authorization|cookie:
// neighbours of it are ordinary keys.
TEST_P(StoreConformance, MetadataAllowsKeysOutsideTheSecretPattern) {
  EXPECT_OK(db().CreateSession(
      kAlice,
      WithMetadata(
          R"({"key":1,"apiVersion":2,"author":3,"api.key":4,"tok":5})")));
}

TEST_P(StoreConformance, MetadataValuesAreFlatScalars) {
  EXPECT_OK(db().CreateSession(
      kAlice,
      WithMetadata(
          R"({"n":null,"t":true,"f":false,"i":-7,"x":2.5e-3,"s":""})")));
  for (const char* bad :
       {R"({"o":{}})", R"({"o":{"a":1}})", R"({"a":[]})", R"({"a":[1,2]})",
        R"({"big":1e400})", R"({"neg":-1e400})"}) {
    SCOPED_TRACE(bad);
    EXPECT_THAT(db().CreateSession(kAlice, WithMetadata(bad)),
                FailsOnField(StatusCode::kInvalidArgument, "backendMetadata"));
  }
}

TEST_P(StoreConformance, MetadataStringValueIsAtMost1024Bytes) {
  EXPECT_OK(db().CreateSession(
      kAlice, WithMetadata("{\"s\":\"" + std::string(1024, 'v') + "\"}")));
  EXPECT_THAT(
      db().CreateSession(
          kAlice, WithMetadata("{\"s\":\"" + std::string(1025, 'v') + "\"}")),
      FailsOnField(StatusCode::kInvalidArgument, "backendMetadata"));
}

TEST_P(StoreConformance, MetadataMustBeAValidJsonObject) {
  for (const char* bad : {"", "[]", "\"map\"", "1", "null", "{", R"({"a":})",
                          R"({"a":1} x)", "{\"a\":\"\xff\"}", "{\"\xc3\":1}"}) {
    SCOPED_TRACE(testing::PrintToString(std::string(bad)));
    EXPECT_THAT(db().CreateSession(kAlice, WithMetadata(bad)),
                FailsOnField(StatusCode::kInvalidArgument, "backendMetadata"));
  }
  EXPECT_TRUE(Must(db().ListSessions(kAlice, {})).sessions.empty());
}

TEST_P(StoreConformance, EveryMetadataFieldIsValidated) {
  SessionIn(SessionStatus::kRunning, "s-1");
  const std::string secret = R"({"token":"t"})";

  NewAction action;
  action.session_id = "s-1";
  action.metadata = secret;
  EXPECT_THAT(db().EnqueueAction(kAlice, action),
              FailsOnField(StatusCode::kInvalidArgument, "metadata"));

  Action a = Enqueue("s-1");
  Action leased = Lease();
  ASSERT_EQ(leased.action_id, a.action_id);
  EXPECT_THAT(
      db().CompleteAction(kAlice, a.action_id, leased.lease_token, secret),
      FailsOnField(StatusCode::kInvalidArgument, "resultMetadata"));
  EXPECT_THAT(
      db().FailAction(kAlice, a.action_id, leased.lease_token, secret, false),
      FailsOnField(StatusCode::kInvalidArgument, "errorMetadata"));
  EXPECT_THAT(db().CancelAction(kAlice, a.action_id, secret),
              FailsOnField(StatusCode::kInvalidArgument, "errorMetadata"));
  EXPECT_EQ(GetAction(a.action_id).status, ActionStatus::kLeased);

  EXPECT_THAT(db().PauseSession(
                  kAlice, "s-1",
                  {.reason = "r", .requested_by = "op", .metadata = secret}),
              FailsOnField(StatusCode::kInvalidArgument, "metadata"));
  RequestPause("s-1");
  EXPECT_THAT(db().ResumeSession(kAlice, "s-1",
                                 {.resumed_by = "op", .metadata = secret}),
              FailsOnField(StatusCode::kInvalidArgument, "metadata"));
  EXPECT_EQ(Get("s-1").status, SessionStatus::kPaused);
}

}  // namespace
}  // namespace acpstore::conformance
