// End-to-end: action routes (SPEC §5.3).

#include <string>

#include "server_fixture.h"

namespace acpstore::testing {
namespace {

class ActionsHttpTest : public HttpTest {};

TEST_F(ActionsHttpTest, EnqueueLeaseHeartbeatComplete) {
  CreateSession("writer-a", R"({"id":"s"})");
  HttpClient c = Client("writer-a");
  HttpResponse r = c.Post("/v1/actions",
                          R"({"actionId":"a1","sessionId":"s","type":"prompt",)"
                          R"("idempotencyKey":"k1","metadata":{"text":"hi"}})");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.Json().at("status"), "queued");
  EXPECT_FALSE(r.Json().as_object().contains("leaseToken"));

  // Same key, same content: the existing action with 200.
  r = c.Post("/v1/actions",
             R"({"actionId":"a1","sessionId":"s","type":"prompt",)"
             R"("idempotencyKey":"k1","metadata":{"text":"hi"}})");
  EXPECT_EQ(r.status, 200) << r.body;
  // Same key, different content: 409 idempotency_conflict.
  r = c.Post("/v1/actions",
             R"({"sessionId":"s","type":"approve","idempotencyKey":"k1"})");
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(r.ErrorCode(), "idempotency_conflict");

  r = c.Post("/v1/actions/lease",
             R"({"leaseMs":5000,"sessionId":"s","types":["prompt"]})");
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string token(r.Json().at("leaseToken").as_string());
  EXPECT_EQ(r.Header("cache-control"), "no-store");  // it carries the token
  EXPECT_EQ(r.Json().at("status"), "leased");
  EXPECT_EQ(r.Json().at("attemptCount"), 1);

  // Nothing else is eligible.
  r = c.Post("/v1/actions/lease", R"({"leaseMs":5000})");
  EXPECT_EQ(r.status, 204);
  EXPECT_TRUE(r.body.empty());
  EXPECT_FALSE(r.HasHeader("content-length"));  // RFC 9110 §8.6

  // A required field sent as null is missing (http_api.md, Conventions).
  r = c.Post("/v1/actions/a1/heartbeat",
             R"({"leaseToken":")" + token + R"(","leaseMs":null})");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("leaseMs: is required"), std::string::npos) << r.body;
  r = c.Post("/v1/actions/a1/heartbeat",
             R"({"leaseToken":")" + token + R"(","leaseMs":10000})");
  ASSERT_EQ(r.status, 200) << r.body;
  r = c.Post("/v1/actions/a1/complete", R"({"leaseToken":"wrong"})");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.ErrorCode(), "stale_lease");
  r = c.Post(
      "/v1/actions/a1/complete",
      R"({"leaseToken":")" + token + R"(","resultMetadata":{"ok":true}})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json().at("status"), "completed");
  EXPECT_TRUE(r.Json().as_object().contains("completedAt"));

  r = c.Get("/v1/actions/a1");
  ASSERT_EQ(r.status, 200);
  EXPECT_FALSE(r.Json().as_object().contains("leaseToken"));  // never leaks
  EXPECT_NE(r.body.find(R"("resultMetadata":{"ok":true})"), std::string::npos);
}

TEST_F(ActionsHttpTest, FailWithRetryRequeuesAndCancelEnds) {
  CreateSession("writer-a", R"({"id":"s"})");
  HttpClient c = Client("writer-a");
  ASSERT_EQ(c.Post("/v1/actions",
                   R"({"actionId":"f","sessionId":"s","type":"approve"})")
                .status,
            201);
  HttpResponse r = c.Post("/v1/actions/lease", R"({"leaseMs":1000})");
  ASSERT_EQ(r.status, 200);
  const std::string token(r.Json().at("leaseToken").as_string());
  r = c.Post("/v1/actions/f/fail",
             R"({"leaseToken":")" + token +
                 R"(","retry":true,"errorMetadata":{"why":"flaky"}})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json().at("status"), "queued");
  r = c.Post("/v1/actions/f/cancel", "");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json().at("status"), "cancelled");
  r = c.Post("/v1/actions/f/cancel", "{}");
  EXPECT_EQ(r.status, 409);
}

// Where a body is optional, only no body at all (no bytes) means {}: a
// body of whitespace with Content-Type: application/json is not a JSON
// value and is refused like any malformed body (it was read as {}: a
// session was created, an action leased or cancelled). Every route.
TEST_F(ActionsHttpTest, AWhitespaceOnlyBodyIsRefusedNotReadAsNoBody) {
  CreateSession("writer-a", R"({"id":"s"})");
  HttpClient c = Client("writer-a");
  ASSERT_EQ(c.Post("/v1/actions",
                   R"({"actionId":"a","sessionId":"s","type":"prompt"})")
                .status,
            201);
  for (const char* blank : {"  \n", " ", "\r\n", "\t"}) {
    SCOPED_TRACE(::testing::PrintToString(std::string(blank)));
    for (const char* path : {"/v1/sessions", "/v1/actions/lease",
                             "/v1/actions/a/cancel",
                             "/v1/sessions/s/transitions"}) {
      HttpResponse r = c.Post(path, blank);
      EXPECT_EQ(r.status, 400) << path << ": " << r.body;
      EXPECT_EQ(r.ErrorCode(), "invalid_argument") << path;
      EXPECT_EQ(r.Json().at("error").at("field"), "body") << r.body;
    }
  }
  // Nothing was created, leased or cancelled.
  EXPECT_EQ(c.Get("/v1/sessions").Json().at("sessions").as_array().size(),
            1u);
  EXPECT_EQ(c.Get("/v1/actions/a").Json().at("status"), "queued");
  // No body at all is still {} on each of them.
  EXPECT_EQ(c.Post("/v1/sessions", "").status, 201);
  HttpResponse lease = c.Post("/v1/actions/lease", "");
  EXPECT_EQ(lease.status, 200) << lease.body;
  EXPECT_EQ(lease.Json().at("actionId"), "a");
  EXPECT_EQ(c.Post("/v1/actions/a/cancel", "").status, 200);
}

TEST_F(ActionsHttpTest, ListFiltersAndValidates) {
  CreateSession("writer-a", R"({"id":"s1"})");
  CreateSession("writer-a", R"({"id":"s2"})");
  HttpClient c = Client("writer-a");
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(
        c.Post("/v1/actions", R"({"sessionId":"s1","type":"prompt"})").status,
        201);
  }
  ASSERT_EQ(
      c.Post("/v1/actions", R"({"sessionId":"s2","type":"close"})").status,
      201);
  HttpResponse r = c.Get("/v1/actions?sessionId=s1&limit=2");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json().at("actions").as_array().size(), 2u);
  EXPECT_TRUE(r.Json().at("nextCursor").is_string());
  r = c.Get("/v1/actions?status=queued");
  EXPECT_EQ(r.Json().at("actions").as_array().size(), 4u);
  EXPECT_EQ(c.Get("/v1/actions?status=napping").status, 400);
  // A filter naming nothing is refused, not read as no filter (a probe).
  EXPECT_EQ(c.Get("/v1/actions?status=").status, 400);
  EXPECT_EQ(c.Get("/v1/actions?status=queued,").status, 400);
  EXPECT_EQ(c.Get("/v1/actions/nope").status, 404);
  EXPECT_EQ(
      c.Post("/v1/actions", R"({"sessionId":"s1","type":"dance"})").status,
      400);
  EXPECT_EQ(
      c.Post("/v1/actions", R"({"sessionId":"nope","type":"prompt"})").status,
      404);
  EXPECT_EQ(c.Post("/v1/actions/lease", R"({"leaseMs":10})").status, 400);
  EXPECT_EQ(c.Post("/v1/actions/lease", R"({"types":["dance"]})").status, 400);
  EXPECT_EQ(Client("reader-a").Post("/v1/actions/lease", "{}").status, 403);
  EXPECT_EQ(Client("writer-b")
                .Get("/v1/actions")
                .Json()
                .at("actions")
                .as_array()
                .size(),
            0u);
}

// An empty type filter names no type; read as "no filter" it leased actions
// of every type (found by a probe).
TEST_F(ActionsHttpTest, LeaseWithEmptyTypesIsRefusedAndLeasesNothing) {
  CreateSession("writer-a", R"({"id":"s"})");
  HttpClient c = Client("writer-a");
  ASSERT_EQ(c.Post("/v1/actions",
                   R"({"actionId":"a1","sessionId":"s","type":"close"})")
                .status,
            201);
  HttpResponse r = c.Post("/v1/actions/lease", R"({"types":[]})");
  ASSERT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(r.ErrorCode(), "invalid_argument");
  EXPECT_EQ(r.Json().at("error").at("field"), "types") << r.body;
  EXPECT_EQ(c.Get("/v1/actions/a1").Json().at("status"), "queued");
  // An absent or null filter still means any type.
  EXPECT_EQ(c.Post("/v1/actions/lease", R"({"types":null})").status, 200);
}

// "lease" is a literal route for POST; GET /v1/actions/lease is the action
// whose id is "lease".
TEST_F(ActionsHttpTest, LiteralRouteDoesNotHideAnActionNamedLease) {
  CreateSession("writer-a", R"({"id":"s"})");
  HttpClient c = Client("writer-a");
  ASSERT_EQ(c.Post("/v1/actions",
                   R"({"actionId":"lease","sessionId":"s","type":"prompt"})")
                .status,
            201);
  HttpResponse r = c.Get("/v1/actions/lease");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json().at("actionId"), "lease");
}

}  // namespace
}  // namespace acpstore::testing
