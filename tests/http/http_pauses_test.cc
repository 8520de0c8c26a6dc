// End-to-end: pause routes (SPEC §5.4).

#include <string>

#include "server_fixture.h"

namespace acpstore::testing {
namespace {

class PausesHttpTest : public HttpTest {};

TEST_F(PausesHttpTest, PauseInterveneResumeCycle) {
  CreateSession("writer-a", R"({"id":"s"})");
  HttpClient c = Client("writer-a");
  ASSERT_EQ(
      c.Post("/v1/sessions/s/transitions", R"({"event":"run_started"})").status,
      200);

  EXPECT_EQ(c.Get("/v1/sessions/s/pause").status, 404);
  HttpResponse r =
      c.Post("/v1/sessions/s/pause",
             R"({"reason":"check","requestedBy":"op","idempotencyKey":"p1"})");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.Json().at("session").at("status"), "paused");
  EXPECT_EQ(r.Json().at("pause").at("status"), "paused");
  // Replay of the same key: 200, same pause.
  r = c.Post("/v1/sessions/s/pause",
             R"({"reason":"check","requestedBy":"op","idempotencyKey":"p1"})");
  EXPECT_EQ(r.status, 200) << r.body;
  r = c.Post("/v1/sessions/s/pause",
             R"({"reason":"again","requestedBy":"op"})");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.ErrorCode(), "already_paused");

  r = c.Post("/v1/sessions/s/intervention/start",
             R"({"interventionBy":"human","interventionId":"i1"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json().at("session").at("status"), "intervening");
  r = c.Post(
      "/v1/sessions/s/intervention/complete",
      R"({"interventionId":"i1","completedBy":"human","guidance":"go on"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json().at("pause").at("guidance"), "go on");
  EXPECT_EQ(r.Json().at("session").at("status"), "paused");

  r = c.Get("/v1/sessions/s/pause");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.Json().at("status"), "paused");

  r = c.Post("/v1/sessions/s/resume",
             R"({"resumedBy":"op","resumeId":"r1","metadata":{"k":"v"}})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json().at("session").at("status"), "running");
  EXPECT_EQ(r.Json().at("pause").at("status"), "resumed");
  r = c.Post("/v1/sessions/s/resume", R"({"resumedBy":"op"})");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.ErrorCode(), "not_paused");
  EXPECT_EQ(Client("reader-a").Get("/v1/sessions/s/pause").Json().at("status"),
            "resumed");
}

TEST_F(PausesHttpTest, RequiredFieldsAreChecked) {
  CreateSession("writer-a", R"({"id":"s"})");
  HttpClient c = Client("writer-a");
  HttpResponse r = c.Post("/v1/sessions/s/pause", R"({"reason":"x"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.Json().at("error").at("field"), "requestedBy");
  r = c.Do("POST", "/v1/sessions/s/pause", "");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.Json().at("error").at("field"), "body");
  EXPECT_EQ(
      c.Post("/v1/sessions/s/intervention/complete", R"({"completedBy":"x"})")
          .status,
      400);
}

// A caller may choose the pause id (Aegis generates its own); it names one
// record of the session, so a second pause cannot take it.
TEST_F(PausesHttpTest, CallerChosenPauseIdIsKeptAndUnique) {
  CreateSession("writer-a", R"({"id":"s"})");
  HttpClient c = Client("writer-a");
  ASSERT_EQ(c.Post("/v1/sessions/s/transitions", R"({"event":"run_started"})")
                .status,
            200);
  HttpResponse r = c.Post("/v1/sessions/s/pause",
                          R"({"pauseId":"p-1","reason":"x","requestedBy":"a"})");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.Json().at("pause").at("pauseId"), "p-1");
  ASSERT_EQ(c.Post("/v1/sessions/s/resume", R"({"resumedBy":"a"})").status,
            200);
  r = c.Post("/v1/sessions/s/pause",
             R"({"pauseId":"p-1","reason":"again","requestedBy":"a"})");
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(r.ErrorCode(), "conflict");
  EXPECT_EQ(r.Json().at("error").at("field"), "pauseId");
  EXPECT_EQ(c.Get("/v1/sessions/s/pause").Json().at("status"), "resumed");
  r = c.Post("/v1/sessions/s/pause",
             R"({"pauseId":"","reason":"again","requestedBy":"a"})");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(r.Json().at("error").at("field"), "pauseId");
}

}  // namespace
}  // namespace acpstore::testing
