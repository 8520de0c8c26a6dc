// End-to-end: GET /v1/sessions/{id}/transcript (SPEC §13, docs/http_api.md
// "Transcripts"), on every engine.

#include <boost/json.hpp>

#include <string>

#include "server_fixture.h"

namespace acpstore::testing {
namespace {

class TranscriptsHttpTest : public HttpTest {};

TEST_F(TranscriptsHttpTest, PagesTheFoldedConversation) {
  CreateSession("writer-a", R"({"id":"s"})");
  HttpClient c = Client("writer-a");
  HttpResponse r = c.Post(
      "/v1/sessions/s/events",
      R"({"events":[)"
      R"({"eventType":"message.delta","payload":{"acp":{"raw":"FRAME"},"messageId":"m1","text":"Hel"}},)"
      R"({"eventType":"message.delta","payload":{"acp":{"raw":"FRAME"},"messageId":"m1","text":"lo"}},)"
      R"({"eventType":"tool.started","payload":{"input":{"path":"a"},"kind":"read","title":"Read a","toolCallId":"t1"}},)"
      R"({"eventType":"tool.completed","payload":{"status":"completed","text":"A!","toolCallId":"t1"}},)"
      R"({"eventType":"usage.updated","payload":{"inputTokens":12,"outputTokens":3}},)"
      R"({"eventType":"turn.completed","payload":{"stopReason":"end_turn"},)"
      R"("occurredAt":"2026-05-23T02:56:00.123Z"}]})");
  ASSERT_EQ(r.status, 201) << r.body;

  r = c.Get("/v1/sessions/s/transcript");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body.find("FRAME"), std::string::npos) << r.body;
  auto page = r.Json().as_object();
  auto entries = page["entries"].as_array();
  ASSERT_EQ(entries.size(), 4u) << r.body;
  EXPECT_EQ(entries[0].at("index"), 1);
  EXPECT_EQ(entries[0].at("kind"), "assistant");
  EXPECT_EQ(entries[0].at("text"), "Hello");
  EXPECT_EQ(entries[0].at("messageId"), "m1");
  EXPECT_EQ(entries[0].at("firstSeq"), 1);
  EXPECT_EQ(entries[0].at("lastSeq"), 2);
  EXPECT_EQ(entries[1].at("kind"), "tool");
  EXPECT_EQ(entries[1].at("toolCallId"), "t1");
  EXPECT_EQ(entries[1].at("title"), "Read a");
  EXPECT_EQ(entries[1].at("toolKind"), "read");
  EXPECT_EQ(entries[1].at("input").at("path"), "a");
  EXPECT_EQ(entries[1].at("inputTruncated"), false);
  EXPECT_EQ(entries[1].at("result"), "A!");
  EXPECT_EQ(entries[1].at("resultTruncated"), false);
  EXPECT_EQ(entries[1].at("started"), true);
  EXPECT_EQ(entries[1].at("completed"), true);
  EXPECT_EQ(entries[2].at("kind"), "usage");
  EXPECT_EQ(entries[2].at("fields").at("inputTokens"), 12);
  EXPECT_EQ(entries[3].at("kind"), "turn_end");
  EXPECT_EQ(entries[3].at("fields").at("stopReason"), "end_turn");
  EXPECT_EQ(entries[3].at("lastAt"), "2026-05-23T02:56:00.123Z");
  EXPECT_EQ(page["next"], 4);
  EXPECT_EQ(page["firstIndex"], 1);
  EXPECT_EQ(page["endIndex"], 5);
  EXPECT_EQ(page["complete"], true);
  EXPECT_EQ(page["foldedSeq"], 6);
  EXPECT_EQ(page["totals"].at("usage").at("inputTokens"), 12);
  EXPECT_EQ(page["totals"].at("entries").at("tool"), 1);

  r = c.Get("/v1/sessions/s/transcript?after=1&limit=1&kind=turn_end,usage");
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(r.Json().at("entries").as_array().size(), 1u);
  EXPECT_EQ(r.Json().at("entries").as_array()[0].at("kind"), "usage");
  EXPECT_EQ(r.Json().at("next"), 3);

  EXPECT_EQ(c.Get("/v1/sessions/s/transcript?kind=bogus").status, 400);
  EXPECT_EQ(c.Get("/v1/sessions/s/transcript?limit=0").status, 400);
  EXPECT_EQ(c.Get("/v1/sessions/s/transcript?foo=1").status, 400);
  // `after` here is an entry index, and the error says so (found by a
  // probe: it said "a sequence number").
  r = c.Get("/v1/sessions/s/transcript?after=x");
  ASSERT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("must be an entry index"), std::string::npos)
      << r.body;
  r = c.Get("/v1/sessions/s/transcript?after=99999999999999999999");
  EXPECT_NE(r.body.find("entry index out of range"), std::string::npos)
      << r.body;
  EXPECT_EQ(c.Get("/v1/sessions/nope/transcript").status, 404);
  // Another owner's session answers like a missing one.
  CreateSession("writer-b", R"({"id":"other"})");
  EXPECT_EQ(c.Get("/v1/sessions/other/transcript").status, 404);
}

// A server with transcripts off (--transcript-max-bytes 0) answers both
// transcript routes 501 not_implemented with reason "transcripts_off",
// not the 503 unavailable that clients retry (decision 0036): found by a
// review, a client asking such a server retried in vain, then failed with
// a misleading "unavailable". An unknown session is still 404 first, and
// a bad query 400.
class TranscriptsOffHttpTest : public HttpTest {
  void ConfigureStore(StoreOptions* o) override { o->transcript_max_bytes = 0; }
};

void ExpectTranscriptsOff(const HttpResponse& r) {
  ASSERT_EQ(r.status, 501) << r.body;
  EXPECT_EQ(r.ErrorCode(), "not_implemented") << r.body;
  auto error = r.Json().at("error").as_object();
  EXPECT_EQ(error.at("reason"), "transcripts_off") << r.body;
  EXPECT_NE(error.at("message").as_string().find("--transcript-max-bytes 0"),
            boost::json::string::npos)
      << r.body;
  // Nothing invites a retry.
  EXPECT_FALSE(r.HasHeader("retry-after")) << r.body;
}

TEST_F(TranscriptsOffHttpTest, BothRoutesAnswer501NotImplementedNot503) {
  CreateSession("writer-a", R"({"id":"s"})");
  AppendEvents("writer-a", "s", 2);
  HttpClient c = Client("writer-a");
  ExpectTranscriptsOff(c.Get("/v1/sessions/s/transcript"));
  ExpectTranscriptsOff(c.Get("/v1/sessions/s/transcript?after=1&limit=5"));
  // A reader of the session hears the same.
  ExpectTranscriptsOff(Client("reader-a").Get("/v1/sessions/s/transcript"));

  SseClient stream(port(), "writer-a", "/v1/sessions/s/transcript/stream");
  ExpectTranscriptsOff(stream.head());
  SseClient resumed(port(), "writer-a", "/v1/sessions/s/transcript/stream",
                    "1");
  ExpectTranscriptsOff(resumed.head());

  // Existence first: an unknown session, or another owner's, is 404.
  EXPECT_EQ(c.Get("/v1/sessions/nope/transcript").ErrorCode(), "not_found");
  CreateSession("writer-b", R"({"id":"other"})");
  EXPECT_EQ(c.Get("/v1/sessions/other/transcript").status, 404);
  SseClient missing(port(), "writer-a", "/v1/sessions/nope/transcript/stream");
  EXPECT_EQ(missing.status(), 404);
  EXPECT_EQ(missing.head().ErrorCode(), "not_found");
  // A bad query is refused as such first, on every engine.
  HttpResponse bogus = c.Get("/v1/sessions/s/transcript?kind=bogus");
  EXPECT_EQ(bogus.status, 400) << bogus.body;
  EXPECT_EQ(c.Get("/v1/sessions/s/transcript?limit=0").status, 400);
  // The events themselves are served as ever.
  EXPECT_EQ(c.Get("/v1/sessions/s/events").status, 200);
}

}  // namespace
}  // namespace acpstore::testing
