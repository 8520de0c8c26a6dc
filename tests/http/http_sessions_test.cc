// End-to-end: session routes (SPEC §5.1), roles and tenant isolation (§6).

#include <set>
#include <string>

#include "server_fixture.h"

namespace acpstore::testing {
namespace {

class SessionsHttpTest : public HttpTest {};

TEST_F(SessionsHttpTest, CreateGetListUpdateTransitionDelete) {
  HttpClient c = Client("writer-a");
  HttpResponse r =
      c.Post("/v1/sessions", R"({"id":"s1","correlationId":"c-1",)"
                             R"("backendMetadata":{"b":1,"a":"x"}})");
  ASSERT_EQ(r.status, 201) << r.body;
  auto s = r.Json().as_object();
  EXPECT_EQ(s["id"], "s1");
  EXPECT_EQ(s["tenantId"], "tenant-a");
  EXPECT_EQ(s["ownerKeyId"], "key-writer-a");
  EXPECT_EQ(s["status"], "initializing");
  EXPECT_EQ(s["correlationId"], "c-1");
  EXPECT_FALSE(s.contains("closedAt"));  // absent, never null
  EXPECT_FALSE(s.contains("parentSessionId"));
  // Metadata is returned as its canonical bytes (keys sorted).
  EXPECT_NE(r.body.find(R"("backendMetadata":{"a":"x","b":1})"),
            std::string::npos)
      << r.body;
  EXPECT_EQ(s["createdAt"].as_string().size(), 24u);  // ISO-8601 with ms
  EXPECT_EQ(s["events"].at("firstSeq"), 1);
  EXPECT_EQ(s["events"].at("lastSeq"), 0);

  r = c.Get("/v1/sessions/s1");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.Json().at("id"), "s1");

  r = c.Patch("/v1/sessions/s1", R"({"claudeSessionId":"cl-9"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json().at("claudeSessionId"), "cl-9");
  r = c.Patch("/v1/sessions/s1", R"({"claudeSessionId":null})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_FALSE(r.Json().as_object().contains("claudeSessionId"));

  r = c.Post("/v1/sessions/s1/transitions", R"({"event":"agent_ready"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json().at("status"), "idle");

  r = c.Delete("/v1/sessions/s1");
  EXPECT_EQ(r.status, 409) << r.body;  // not terminal
  EXPECT_EQ(r.ErrorCode(), "conflict");
  ASSERT_EQ(
      c.Post("/v1/sessions/s1/transitions", R"({"event":"close_requested"})")
          .status,
      200);
  ASSERT_EQ(
      c.Post("/v1/sessions/s1/transitions", R"({"event":"close_completed"})")
          .status,
      200);
  r = c.Delete("/v1/sessions/s1");
  EXPECT_EQ(r.status, 204) << r.body;
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(c.Get("/v1/sessions/s1").status, 404);
}

TEST_F(SessionsHttpTest, EmptyBodyCreatesWithGeneratedId) {
  HttpResponse r = Client("writer-a").Do("POST", "/v1/sessions", "");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.Json().at("id").as_string().size(), 36u);  // UUID
}

TEST_F(SessionsHttpTest, DuplicateIdIsConflict) {
  CreateSession("writer-a", R"({"id":"dup"})");
  HttpResponse r = Client("writer-a").Post("/v1/sessions", R"({"id":"dup"})");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.ErrorCode(), "conflict");
}

TEST_F(SessionsHttpTest, InvalidTransitionNamesStatusAndEvent) {
  CreateSession("writer-a", R"({"id":"t"})");
  HttpResponse r =
      Client("writer-a")
          .Post("/v1/sessions/t/transitions", R"({"event":"close_completed"})");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.ErrorCode(), "invalid_transition");
  EXPECT_NE(r.body.find("initializing"), std::string::npos) << r.body;
  r = Client("writer-a")
          .Post("/v1/sessions/t/transitions", R"({"event":"fly"})");
  EXPECT_EQ(r.status, 400);
}

TEST_F(SessionsHttpTest, PatchRefusesImmutableAndUnknownFields) {
  CreateSession("writer-a", R"({"id":"p"})");
  HttpClient c = Client("writer-a");
  HttpResponse r = c.Patch("/v1/sessions/p", R"({"parentSessionId":"x"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.Json().at("error").at("field"), "parentSessionId");
  // status is not immutable, but only reachable by a lifecycle event.
  r = c.Patch("/v1/sessions/p", R"({"status":"closed"})");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.ErrorCode(), "invalid_transition");
  r = c.Patch("/v1/sessions/p", R"({"status":"sleeping"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.Json().at("error").at("field"), "status");
  r = c.Patch("/v1/sessions/p", R"({"claudeSesionId":"typo"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.Json().at("error").at("field"), "claudeSesionId");
  EXPECT_NE(r.body.find("unknown field"), std::string::npos);
  r = c.Patch("/v1/sessions/p", R"({"claudeSessionId":5})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("must be a string"), std::string::npos) << r.body;
}

// PATCH {"status"} moves the session by the one lifecycle event that leads
// there, with the other fields, in one mutation; the pause record follows.
TEST_F(SessionsHttpTest, PatchStatusTakesTheOneLegalTransition) {
  CreateSession("writer-a", R"({"id":"p"})");
  HttpClient c = Client("writer-a");
  HttpResponse r =
      c.Patch("/v1/sessions/p", R"({"status":"idle","claudeSessionId":"c1"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json().at("status"), "idle");
  EXPECT_EQ(r.Json().at("claudeSessionId"), "c1");
  r = c.Patch("/v1/sessions/p", R"({"status":"idle"})");  // no change
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(c.Patch("/v1/sessions/p", R"({"status":"running"})").status, 200);
  r = c.Post("/v1/sessions/p/pause", R"({"reason":"r","requestedBy":"a"})");
  ASSERT_EQ(r.status, 201) << r.body;
  r = c.Patch("/v1/sessions/p", R"({"status":"intervening"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(c.Get("/v1/sessions/p/pause").Json().at("status"), "intervening");
  // From intervening, running is a resume: the pause record ends.
  r = c.Patch("/v1/sessions/p", R"({"status":"running"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(c.Get("/v1/sessions/p/pause").Json().at("status"), "resumed");
  // No event leads from running to closed: nothing changes, not even the
  // other fields of the same PATCH.
  r = c.Patch("/v1/sessions/p",
              R"({"status":"closed","claudeSessionId":"c2"})");
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(r.Json().at("error").at("status"), "running");
  EXPECT_EQ(r.Json().at("error").at("to"), "closed");
  EXPECT_EQ(c.Get("/v1/sessions/p").Json().at("claudeSessionId"), "c1");
  ASSERT_EQ(c.Patch("/v1/sessions/p", R"({"status":"closing"})").status, 200);
  r = c.Patch("/v1/sessions/p", R"({"status":"closed"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(r.Json().as_object().contains("closedAt"));
}

TEST_F(SessionsHttpTest, ListPagesNewestFirstWithCursorAndFilters) {
  for (int i = 0; i < 5; ++i)
    CreateSession("writer-a", R"({"id":"l)" + std::to_string(i) + R"("})");
  HttpClient c = Client("writer-a");
  HttpResponse r = c.Get("/v1/sessions?limit=2");
  ASSERT_EQ(r.status, 200) << r.body;
  auto page = r.Json().as_object();
  ASSERT_EQ(page["sessions"].as_array().size(), 2u);
  ASSERT_TRUE(page["nextCursor"].is_string());
  std::set<std::string> seen;
  for (auto& s : page["sessions"].as_array())
    seen.insert(std::string(s.at("id").as_string()));
  std::string cursor(page["nextCursor"].as_string());
  while (true) {
    r = c.Get("/v1/sessions?limit=2&cursor=" + cursor);
    ASSERT_EQ(r.status, 200) << r.body;
    auto p = r.Json().as_object();
    for (auto& s : p["sessions"].as_array())
      seen.insert(std::string(s.at("id").as_string()));
    if (p["nextCursor"].is_null()) break;
    cursor = std::string(p["nextCursor"].as_string());
  }
  EXPECT_EQ(seen.size(), 5u);

  ASSERT_EQ(c.Post("/v1/sessions/l3/transitions", R"({"event":"agent_ready"})")
                .status,
            200);
  r = c.Get("/v1/sessions?status=idle,running");
  ASSERT_EQ(r.status, 200);
  ASSERT_EQ(r.Json().at("sessions").as_array().size(), 1u);
  EXPECT_EQ(r.Json().at("sessions").as_array()[0].at("id"), "l3");

  EXPECT_EQ(c.Get("/v1/sessions?limit=0").status, 400);
  EXPECT_EQ(c.Get("/v1/sessions?limit=1001").status, 400);
  EXPECT_EQ(c.Get("/v1/sessions?limit=abc").status, 400);
  EXPECT_EQ(c.Get("/v1/sessions?status=sleeping").status, 400);
  EXPECT_EQ(c.Get("/v1/sessions?status=").status, 400);
  EXPECT_EQ(c.Get("/v1/sessions?status=running,,idle").status, 400);
  EXPECT_EQ(c.Get("/v1/sessions?updatedAfter=yesterday").status, 400);
  EXPECT_EQ(c.Get("/v1/sessions?cursor=garbage!").status, 400);
  r = c.Get("/v1/sessions?cursor=");  // the first page leaves it out
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("cursor"), std::string::npos) << r.body;
  // A sessions cursor is no actions cursor.
  r = c.Get("/v1/actions?cursor=" + cursor);
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(r.ErrorCode(), "invalid_argument");
  r = c.Get("/v1/sessions?limt=5");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("unknown query parameter"), std::string::npos);
  EXPECT_EQ(c.Get("/v1/sessions?limit=1&limit=2").status, 400);
  r = c.Get("/v1/sessions?updatedAfter=2000-01-01T00:00:00.000Z");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Json().at("sessions").as_array().size(), 5u);
}

TEST_F(SessionsHttpTest, IdsWithReservedCharactersArePercentDecoded) {
  CreateSession("writer-a", R"({"id":"a/b c"})");
  HttpResponse r = Client("writer-a").Get("/v1/sessions/a%2Fb%20c");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json().at("id"), "a/b c");
}

TEST_F(SessionsHttpTest, MissingOrBadTokenIs401) {
  HttpResponse r = Client("").Get("/v1/sessions");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.ErrorCode(), "unauthenticated");
  EXPECT_EQ(r.Header("www-authenticate"), "Bearer");
  r = Client("nope").Get("/v1/sessions");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body.find("nope"), std::string::npos);  // token never echoed
  r = Client("").Do("GET", "/v1/sessions", "",
                    {{"Authorization", "Basic YTpi"}});
  EXPECT_EQ(r.status, 401);
}

TEST_F(SessionsHttpTest, ReaderReadsTenantButCannotWrite) {
  CreateSession("writer-a", R"({"id":"mine"})");
  HttpClient reader = Client("reader-a");
  EXPECT_EQ(reader.Get("/v1/sessions/mine").status, 200);
  EXPECT_EQ(reader.Get("/v1/sessions").Json().at("sessions").as_array().size(),
            1u);
  HttpResponse r = reader.Post("/v1/sessions", "{}");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.ErrorCode(), "forbidden");
  EXPECT_EQ(
      reader.Patch("/v1/sessions/mine", R"({"claudeSessionId":"x"})").status,
      403);
  EXPECT_EQ(reader.Delete("/v1/sessions/mine").status, 403);
  EXPECT_EQ(reader.Get("/v1/stats").status, 403);
}

TEST_F(SessionsHttpTest, WriterSeesOnlyOwnSessionsAdminSeesTenant) {
  CreateSession("writer-a", R"({"id":"w1"})");
  CreateSession("writer-a2", R"({"id":"w2"})");
  EXPECT_EQ(Client("writer-a").Get("/v1/sessions/w2").status, 404);
  EXPECT_EQ(Client("writer-a")
                .Get("/v1/sessions")
                .Json()
                .at("sessions")
                .as_array()
                .size(),
            1u);
  HttpClient admin = Client("admin-a");
  EXPECT_EQ(admin.Get("/v1/sessions/w1").status, 200);
  EXPECT_EQ(admin.Get("/v1/sessions/w2").status, 200);
  EXPECT_EQ(
      admin.Patch("/v1/sessions/w2", R"({"claudeSessionId":"adm"})").status,
      200);
}

TEST_F(SessionsHttpTest, TenantsCannotSeeEachOther) {
  CreateSession("writer-a", R"({"id":"secret-a"})");
  CreateSession("writer-b", R"({"id":"secret-b"})");
  HttpClient b = Client("writer-b");
  HttpResponse r = b.Get("/v1/sessions/secret-a");
  EXPECT_EQ(r.status, 404);  // exactly like a missing one
  EXPECT_EQ(r.ErrorCode(), "not_found");
  EXPECT_EQ(b.Get("/v1/sessions/secret-a/events").status, 404);
  EXPECT_EQ(
      b.Post("/v1/sessions/secret-a/events", R"({"eventType":"x","payload":1})")
          .status,
      404);
  EXPECT_EQ(b.Get("/v1/sessions/secret-a/events/stream").status, 404);
  auto list = b.Get("/v1/sessions").Json().at("sessions").as_array();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].at("id"), "secret-b");
  EXPECT_EQ(Client("admin-a").Get("/v1/sessions/secret-b").status, 404);
  EXPECT_EQ(Client("reader-a").Get("/v1/sessions/secret-b").status, 404);
}

}  // namespace
}  // namespace acpstore::testing
