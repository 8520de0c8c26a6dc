// End-to-end: the service role (SPEC §6): a key that acts, per request, in
// the scope named by X-Acpstore-Scope, with a writer's rights there and
// nothing outside it. Also the create-time ids such a caller brings
// (conversationId, transcriptId).

#include <string>
#include <utility>
#include <vector>

#include "server_fixture.h"

namespace acpstore::testing {
namespace {

class ServiceHttpTest : public HttpTest {
 protected:
  // One request as a service key in `scope` ("" sends no header).
  HttpResponse As(const std::string& token, const std::string& scope,
                  const std::string& method, const std::string& path,
                  const std::string& body = "") {
    std::vector<std::pair<std::string, std::string>> headers;
    if (!scope.empty()) headers.emplace_back("X-Acpstore-Scope", scope);
    return Client(token).Do(method, path, body, std::move(headers));
  }
};

TEST_F(ServiceHttpTest, ActsAsAWriterInTheNamedScope) {
  HttpResponse r = As("service", "tenant-a/key-writer-a", "POST",
                      "/v1/sessions", R"({"id":"s1"})");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.Json().at("tenantId"), "tenant-a");
  EXPECT_EQ(r.Json().at("ownerKeyId"), "key-writer-a");
  // The writer whose scope it named sees the record as its own.
  EXPECT_EQ(Client("writer-a").Get("/v1/sessions/s1").status, 200);
  r = As("service", "tenant-a/key-writer-a", "POST", "/v1/sessions/s1/events",
         R"({"eventType":"message.delta","payload":{"t":1}})");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.Json().at("eventId"), "tenant-a:key-writer-a:s1:1");
}

TEST_F(ServiceHttpTest, SeesNothingOutsideTheNamedScope) {
  ASSERT_EQ(As("service", "tenant-a/u1", "POST", "/v1/sessions",
               R"({"id":"s1"})")
                .status,
            201);
  // Another owner in the same tenant: absent for reads, refused for writes.
  EXPECT_EQ(As("service", "tenant-a/u2", "GET", "/v1/sessions/s1").status,
            404);
  HttpResponse r = As("service", "tenant-a/u2", "POST",
                      "/v1/sessions/s1/events",
                      R"({"eventType":"x","payload":1})");
  EXPECT_EQ(r.status, 404) << r.body;
  r = As("service", "tenant-a/u2", "GET", "/v1/sessions");
  ASSERT_EQ(r.status, 200);
  EXPECT_TRUE(r.Json().at("sessions").as_array().empty());
  // Another tenant, same owner name.
  EXPECT_EQ(As("service", "tenant-b/u1", "GET", "/v1/sessions/s1").status,
            404);
}

TEST_F(ServiceHttpTest, ScopeHeaderIsRequiredAndParsed) {
  HttpResponse r = As("service", "", "GET", "/v1/sessions");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(r.Json().at("error").at("field"), "X-Acpstore-Scope");
  for (const char* bad : {"tenant-a", "/u1", "tenant-a/", "a/b/c", "a%zz/b",
                          "a%00/b"}) {
    r = As("service", bad, "GET", "/v1/sessions");
    EXPECT_EQ(r.status, 400) << bad << ": " << r.body;
    EXPECT_EQ(r.ErrorCode(), "invalid_argument") << bad;
  }
}

TEST_F(ServiceHttpTest, PartsArePercentDecoded) {
  HttpResponse r = As("service", "ten%2Fant/own%20er%3A1", "POST",
                      "/v1/sessions", R"({"id":"s1"})");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.Json().at("tenantId"), "ten/ant");
  EXPECT_EQ(r.Json().at("ownerKeyId"), "own er:1");
}

// HTTP trims whitespace around a header's value, not inside it, and a
// percent-encoded space is no whitespace: a tenant whose id begins or ends
// with a space is reachable, and another tenant than the one without
// (decision 0038: such tenants are kept, not refused).
TEST_F(ServiceHttpTest, SpacesAtATenantsEndsArePercentEncodedAndKept) {
  HttpResponse r = As("service", "%20tenant-a%20/u1", "POST", "/v1/sessions",
                      R"({"id":"s1"})");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.Json().at("tenantId"), " tenant-a ");
  EXPECT_EQ(As("service", "%20tenant-a%20/u1", "GET", "/v1/sessions/s1").status,
            200);
  EXPECT_EQ(As("service", "tenant-a/u1", "GET", "/v1/sessions/s1").status,
            404);
}

TEST_F(ServiceHttpTest, TenantListLimitsTheKeyAndOthersAnswer404) {
  EXPECT_EQ(
      As("service-a", "tenant-a/u1", "POST", "/v1/sessions", "{}").status,
      201);
  HttpResponse r = As("service-a", "tenant-b/u1", "GET", "/v1/sessions");
  EXPECT_EQ(r.status, 404) << r.body;
  EXPECT_EQ(r.ErrorCode(), "not_found");
}

TEST_F(ServiceHttpTest, NoKeysNoStatsAndOtherRolesMayNotNameAScope) {
  EXPECT_EQ(As("service", "tenant-a/u1", "GET", "/v1/stats").status, 403);
  EXPECT_EQ(As("service", "tenant-a/u1", "POST", "/v1/keys",
               R"({"role":"writer"})")
                .status,
            403);
  // An admin may not mint a service key over HTTP.
  HttpResponse r = Client("admin-a").Post("/v1/keys", R"({"role":"service"})");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(r.Json().at("error").at("field"), "role");
  // A writer naming a scope is refused rather than silently ignored.
  r = As("writer-a", "tenant-a/key-writer-a2", "GET", "/v1/sessions");
  EXPECT_EQ(r.status, 400) << r.body;
}

TEST_F(ServiceHttpTest, CreateKeepsTheCallersConversationAndTranscriptIds) {
  HttpResponse r = As("service", "tenant-a/u1", "POST", "/v1/sessions",
                      R"({"id":"s1","conversationId":"c-1",)"
                      R"("transcriptId":"t-1"})");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.Json().at("conversationId"), "c-1");
  EXPECT_EQ(r.Json().at("transcriptId"), "t-1");
  r = As("service", "tenant-a/u1", "POST", "/v1/sessions",
         R"({"conversationId":""})");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(r.Json().at("error").at("field"), "conversationId");
  // Still immutable afterwards.
  r = As("service", "tenant-a/u1", "PATCH", "/v1/sessions/s1",
         R"({"transcriptId":"t-2"})");
  EXPECT_EQ(r.status, 400) << r.body;
}

// Aegis completes actions leased by another (or a restarted) process: a
// service key may name the lease by its attempt number instead of its token.
TEST_F(ServiceHttpTest, ServiceKeyEndsALeaseByItsAttemptNumber) {
  const std::string scope = "tenant-a/u1";
  ASSERT_EQ(As("service", scope, "POST", "/v1/sessions", R"({"id":"s1"})")
                .status,
            201);
  for (const char* id : {"a1", "a2"}) {
    ASSERT_EQ(As("service", scope, "POST", "/v1/actions",
                 std::string(R"({"sessionId":"s1","type":"prompt","actionId":")") +
                     id + "\"}")
                  .status,
              201);
  }
  HttpResponse l = As("service", scope, "POST", "/v1/actions/lease", "{}");
  ASSERT_EQ(l.status, 200) << l.body;
  EXPECT_EQ(l.Json().at("attemptCount"), 1);
  const std::string id(l.Json().at("actionId").as_string());
  HttpResponse r = As("service", scope, "POST", "/v1/actions/" + id + "/complete",
                      R"({"attemptCount":2})");
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(r.ErrorCode(), "stale_lease");
  r = As("service", scope, "POST", "/v1/actions/" + id + "/complete",
         R"({"attemptCount":1,"leaseToken":"x"})");
  EXPECT_EQ(r.status, 400) << r.body;
  // A null leaseToken is an absent one: the attempt claim stands alone.
  r = As("service", scope, "POST", "/v1/actions/" + id + "/complete",
         R"({"attemptCount":1,"leaseToken":null,"resultMetadata":{"ok":true}})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json().at("status"), "completed");
  // Ended: the same claim is stale now.
  r = As("service", scope, "POST", "/v1/actions/" + id + "/fail",
         R"({"attemptCount":1})");
  EXPECT_EQ(r.ErrorCode(), "stale_lease") << r.body;

  l = As("service", scope, "POST", "/v1/actions/lease", "{}");
  ASSERT_EQ(l.status, 200) << l.body;
  const std::string id2(l.Json().at("actionId").as_string());
  r = As("service", scope, "POST", "/v1/actions/" + id2 + "/fail",
         R"({"attemptCount":1})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json().at("status"), "failed");
}

TEST_F(ServiceHttpTest, OtherRolesMustShowTheLeaseToken) {
  HttpClient w = Client("writer-a");
  CreateSession("writer-a", R"({"id":"s1"})");
  ASSERT_EQ(w.Post("/v1/actions", R"({"sessionId":"s1","type":"prompt","actionId":"a1"})")
                .status,
            201);
  ASSERT_EQ(w.Post("/v1/actions/lease", "{}").status, 200);
  HttpResponse r = w.Post("/v1/actions/a1/complete", R"({"attemptCount":1})");
  EXPECT_EQ(r.status, 403) << r.body;
  // Nor can a token be forged into an attempt claim.
  r = w.Post("/v1/actions/a1/complete", R"({"leaseToken":"#attempt:1"})");
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(r.ErrorCode(), "stale_lease");
  EXPECT_EQ(r.Json().at("error").at("status"), "leased") << r.body;
  r = w.Post("/v1/actions/a1/heartbeat",
             R"({"leaseToken":"#attempt:1","leaseMs":5000})");
  EXPECT_EQ(r.ErrorCode(), "stale_lease") << r.body;
  // Checked in the store's order: an action that does not exist is 404
  // (found by a probe: the forged claim was refused as stale first).
  for (const char* verb : {"complete", "fail", "heartbeat"}) {
    r = w.Post(std::string("/v1/actions/nope/") + verb,
               verb == std::string("heartbeat")
                   ? R"({"leaseToken":"#attempt:1","leaseMs":5000})"
                   : R"({"leaseToken":"#attempt:1"})");
    EXPECT_EQ(r.status, 404) << verb << " " << r.body;
  }
  r = w.Post("/v1/actions/a1/complete", "{}");
  EXPECT_EQ(r.status, 400) << r.body;
}

TEST_F(ServiceHttpTest, CreateKeepsTheCallersCreationTime) {
  HttpResponse r = As("service", "tenant-a/u1", "POST", "/v1/sessions",
                      R"({"id":"s1","createdAt":"2026-01-02T03:04:05.678Z"})");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.Json().at("createdAt"), "2026-01-02T03:04:05.678Z");
  EXPECT_EQ(r.Json().at("updatedAt"), "2026-01-02T03:04:05.678Z");
  // Later changes carry the server's clock again.
  r = As("service", "tenant-a/u1", "POST", "/v1/sessions/s1/transitions",
         R"({"event":"agent_ready"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json().at("createdAt"), "2026-01-02T03:04:05.678Z");
  EXPECT_NE(r.Json().at("updatedAt"), "2026-01-02T03:04:05.678Z");
  // Not from the future, and not from other roles.
  r = As("service", "tenant-a/u1", "POST", "/v1/sessions",
         R"({"createdAt":"9999-01-01T00:00:00.000Z"})");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(r.Json().at("error").at("field"), "createdAt");
  r = Client("writer-a").Post("/v1/sessions",
                              R"({"createdAt":"2026-01-02T03:04:05.678Z"})");
  EXPECT_EQ(r.status, 403) << r.body;
}

TEST_F(ServiceHttpTest, RequestsAreCountedPerTenantInMetrics) {
  ASSERT_EQ(As("service", "tenant-a/u1", "POST", "/v1/sessions", "{}").status,
            201);
  ASSERT_EQ(As("service", "tenant-a/u2", "GET", "/v1/sessions").status, 200);
  ASSERT_EQ(As("service", "t\"b/u1", "GET", "/v1/sessions/x").status, 404);
  ASSERT_EQ(Client("writer-a").Get("/v1/sessions").status, 200);
  HttpResponse m = Client("").Get("/metrics");
  ASSERT_EQ(m.status, 200);
  EXPECT_NE(m.body.find("acpstore_service_requests_total{tenant=\"tenant-a\"} 2"),
            std::string::npos)
      << m.body;
  // Label values are escaped; other roles are not counted here.
  EXPECT_NE(m.body.find("acpstore_service_requests_total{tenant=\"t\\\"b\"} 1"),
            std::string::npos)
      << m.body;
  HttpResponse stats = Client("admin-a").Get("/v1/stats");
  ASSERT_EQ(stats.status, 200);
  EXPECT_EQ(stats.Json().at("http").at("serviceRequestsByTenant").at("tenant-a"),
            2);
}

// SPEC §6: no role sees another tenant. /v1/stats listed every tenant a
// service key had acted in, with its count, to the admin of any one tenant.
TEST_F(ServiceHttpTest, StatsNameNoTenantButTheAdminsOwn) {
  ASSERT_EQ(As("service", "tenant-a/u1", "GET", "/v1/sessions").status, 200);
  ASSERT_EQ(As("service", "tenant-a/u2", "GET", "/v1/sessions").status, 200);
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(As("service", "tenant-b/u1", "GET", "/v1/sessions").status, 200);
  }
  // A tenant may be called like the overflow series was.
  ASSERT_EQ(As("service", "_other/u1", "GET", "/v1/sessions").status, 200);
  ASSERT_EQ(Client("writer-b").Get("/v1/sessions").status, 200);

  HttpResponse r = Client("admin-a").Get("/v1/stats");
  ASSERT_EQ(r.status, 200) << r.body;
  const boost::json::value body = r.Json();
  const boost::json::object& counts =
      body.at("http").at("serviceRequestsByTenant").as_object();
  EXPECT_EQ(counts.size(), 1u) << r.body;
  EXPECT_EQ(counts.at("tenant-a"), 2) << r.body;
  EXPECT_EQ(r.body.find("tenant-b"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("_other"), std::string::npos) << r.body;

  // The operator's /metrics still counts each tenant (SPEC §6).
  HttpResponse m = Client("").Get("/metrics");
  ASSERT_EQ(m.status, 200);
  for (const char* want :
       {"acpstore_service_requests_total{tenant=\"tenant-a\"} 2\n",
        "acpstore_service_requests_total{tenant=\"tenant-b\"} 3\n",
        "acpstore_service_requests_total{tenant=\"_other\"} 1\n"}) {
    EXPECT_NE(m.body.find(want), std::string::npos) << want << m.body;
  }
}

}  // namespace
}  // namespace acpstore::testing
