// End-to-end: event routes (SPEC §5.2) except streaming (http_sse_test.cc).

#include <string>

#include "server_fixture.h"

namespace acpstore::testing {
namespace {

class EventsHttpTest : public HttpTest {};

TEST_F(EventsHttpTest, AppendOneThenListReturnsPayloadBytesCanonically) {
  CreateSession("writer-a", R"({"id":"s"})");
  HttpClient c = Client("writer-a");
  HttpResponse r = c.Post(
      "/v1/sessions/s/events",
      R"({"eventType":"tool.started","payload": {"b" : [1, 2.50, "x\n"], "a":null},)"
      R"("occurredAt":"2026-05-23T02:56:00.123Z","backendRunId":"run-1"})");
  ASSERT_EQ(r.status, 201) << r.body;
  auto e = r.Json().as_object();
  EXPECT_EQ(e["eventSeq"], 1);
  EXPECT_EQ(e["eventId"], "tenant-a:key-writer-a:s:1");
  EXPECT_EQ(e["occurredAt"], "2026-05-23T02:56:00.123Z");
  EXPECT_EQ(e["backendRunId"], "run-1");
  EXPECT_FALSE(e.contains("clientEventId"));
  // Canonical compact form, key order kept, inserted byte for byte.
  EXPECT_NE(r.body.find(R"("payload":{"b":[1,2.5,"x\n"],"a":null})"),
            std::string::npos)
      << r.body;

  r = c.Get("/v1/sessions/s/events");
  ASSERT_EQ(r.status, 200) << r.body;
  auto page = r.Json().as_object();
  EXPECT_EQ(page["events"].as_array().size(), 1u);
  EXPECT_EQ(page["firstSeq"], 1);
  EXPECT_EQ(page["lastSeq"], 1);
  EXPECT_EQ(page["truncated"], false);
}

TEST_F(EventsHttpTest, BatchIsAtomicAndAnsweredAsEventsArray) {
  CreateSession("writer-a", R"({"id":"s"})");
  HttpClient c = Client("writer-a");
  HttpResponse r = c.Post(
      "/v1/sessions/s/events",
      R"({"events":[{"eventType":"a","payload":1},{"eventType":"b","payload":2}]})");
  ASSERT_EQ(r.status, 201) << r.body;
  ASSERT_EQ(r.Json().at("events").as_array().size(), 2u);
  EXPECT_EQ(r.Json().at("events").as_array()[1].at("eventSeq"), 2);

  // One bad event refuses the whole batch and names it.
  r = c.Post(
      "/v1/sessions/s/events",
      R"({"events":[{"eventType":"a","payload":1},{"eventType":"","payload":2}]})");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(r.Json().at("error").at("field"), "events[1].eventType");
  EXPECT_EQ(c.Get("/v1/sessions/s/events").Json().at("lastSeq"), 2);
}

TEST_F(EventsHttpTest, ClientEventIdRetryReturns200WithTheOriginal) {
  CreateSession("writer-a", R"({"id":"s"})");
  HttpClient c = Client("writer-a");
  const std::string body =
      R"({"eventType":"a","payload":{"n":1},"clientEventId":"ce-1"})";
  HttpResponse first = c.Post("/v1/sessions/s/events", body);
  ASSERT_EQ(first.status, 201);
  HttpResponse again = c.Post("/v1/sessions/s/events", body);
  EXPECT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.Json().at("eventSeq"), 1);
  EXPECT_EQ(c.Get("/v1/sessions/s/events").Json().at("lastSeq"), 1);
}

TEST_F(EventsHttpTest, ExpectedLastSeqConflictCarriesLastSeq) {
  CreateSession("writer-a", R"({"id":"s"})");
  AppendEvents("writer-a", "s", 3);
  HttpResponse r =
      Client("writer-a")
          .Post("/v1/sessions/s/events",
                R"({"eventType":"a","payload":1,"expectedLastSeq":2})");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.ErrorCode(), "seq_conflict");
  EXPECT_EQ(r.Json().at("error").at("lastSeq"), 3);
  r = Client("writer-a")
          .Post("/v1/sessions/s/events",
                R"({"eventType":"a","payload":1,"expectedLastSeq":3})");
  EXPECT_EQ(r.status, 201);
}

TEST_F(EventsHttpTest, ListPagesWithAfterAndLimit) {
  CreateSession("writer-a", R"({"id":"s"})");
  AppendEvents("writer-a", "s", 7);
  HttpClient c = Client("reader-a");
  HttpResponse r = c.Get("/v1/sessions/s/events?after=2&limit=3");
  ASSERT_EQ(r.status, 200);
  auto events = r.Json().at("events").as_array();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].at("eventSeq"), 3);
  EXPECT_EQ(events[2].at("eventSeq"), 5);
  EXPECT_EQ(r.Json().at("lastSeq"), 7);
  EXPECT_EQ(c.Get("/v1/sessions/s/events?after=-1").status, 400);
  EXPECT_EQ(c.Get("/v1/sessions/s/events?after=1x").status, 400);
  EXPECT_EQ(c.Get("/v1/sessions/s/events?after=99999999999999999999").status,
            400);
  EXPECT_EQ(c.Get("/v1/sessions/s/events?limit=0").status, 400);
  EXPECT_EQ(c.Get("/v1/sessions/nope/events").status, 404);
}

TEST_F(EventsHttpTest, BodyErrorsNameTheField) {
  CreateSession("writer-a", R"({"id":"s"})");
  HttpClient c = Client("writer-a");
  struct Case {
    const char* body;
    const char* field;
  } cases[] = {
      {R"({"payload":1})", "eventType"},
      {R"({"eventType":"a"})", "payload"},
      {R"({"eventType":1,"payload":1})", "eventType"},
      {R"({"eventType":"a","payload":1,"occurredAt":"yesterday"})",
       "occurredAt"},
      {R"({"eventType":"a","payload":1,"expectedLastSeq":-1})",
       "expectedLastSeq"},
      {R"({"eventType":"a","payload":1,"colour":"red"})", "colour"},
      {R"({"eventType":"a","payload":{"x":1,"x":2}})", "payload"},
      {R"({"events":[{"eventType":"a","payload":1,"extra":1}]})",
       "events[0].extra"},
      {R"({"events":{}})", "events"},
      {R"([1,2])", "body"},
  };
  for (const Case& k : cases) {
    HttpResponse r = c.Post("/v1/sessions/s/events", k.body);
    EXPECT_EQ(r.status, 400) << k.body << " -> " << r.body;
    EXPECT_EQ(r.ErrorCode(), "invalid_argument") << k.body;
    auto v = r.Json();
    if (v.is_object()) {
      EXPECT_EQ(v.at("error").at("field"), k.field)
          << k.body << " -> " << r.body;
    }
  }
}

TEST_F(EventsHttpTest, PayloadOverTheStoreLimitIs413) {
  CreateSession("writer-a", R"({"id":"s"})");
  std::string big = R"({"eventType":"a","payload":")" +
                    std::string((1 << 20) + 10, 'x') + "\"}";
  HttpResponse r = Client("writer-a").Post("/v1/sessions/s/events", big);
  EXPECT_EQ(r.status, 413) << r.body.substr(0, 200);
  EXPECT_EQ(r.ErrorCode(), "payload_too_large");
}

// Prefer: return=minimal (SPEC §5.2): only what the store assigned comes
// back, with Preference-Applied; the status codes are the same.
TEST_F(EventsHttpTest, PreferReturnMinimalAnswersWhatTheStoreAssigned) {
  CreateSession("writer-a", R"({"id":"s"})");
  HttpClient c = Client("writer-a");
  const std::string one = R"({"eventType":"a","payload":{"big":"xxxxxxxx"},"clientEventId":"c1"})";
  HttpResponse r = c.Do("POST", "/v1/sessions/s/events", one,
                        {{"Prefer", "return=minimal"}});
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.Header("preference-applied"), "return=minimal");
  auto o = r.Json().as_object();
  EXPECT_EQ(o.size(), 3u) << r.body;
  EXPECT_EQ(o["eventSeq"], 1);
  EXPECT_EQ(o["eventId"], "tenant-a:key-writer-a:s:1");
  EXPECT_EQ(o["ingestedAt"].as_string().size(), 24u);
  // A replay is still 200; other preferences and parameters are ignored.
  r = c.Do("POST", "/v1/sessions/s/events", one,
           {{"Prefer", "respond-async, RETURN=\"Minimal\"; x=1"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json().at("eventSeq"), 1);
  r = c.Do("POST", "/v1/sessions/s/events",
           R"({"events":[{"eventType":"a","payload":1},{"eventType":"b","payload":2}]})",
           {{"Prefer", "return=minimal"}});
  ASSERT_EQ(r.status, 201) << r.body;
  auto events = r.Json().at("events").as_array();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].at("eventSeq"), 3);
  EXPECT_FALSE(events[1].as_object().contains("payload"));
  // Without the header (or with return=representation) the full event.
  r = c.Do("POST", "/v1/sessions/s/events", R"({"eventType":"a","payload":1})",
           {{"Prefer", "return=representation"}});
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.Header("preference-applied"), "");
  EXPECT_EQ(r.Json().at("payload"), 1);
}

// A page of GET .../events stops at --max-page-bytes of payload (at least
// one event): a page of 1,000 events of 1 MiB was one ~1 GB body, held ~4
// times over while built (found by a probe). A client pages on with
// after = the last eventSeq until it reaches lastSeq, as with any page.
class ListEventsPageBytesTest : public HttpTest {
 protected:
  void ConfigureStore(StoreOptions* o) override { o->max_page_bytes = 300000; }
};

TEST_F(ListEventsPageBytesTest, APageStopsAtTheByteCapAndPagingGoesOn) {
  CreateSession("writer-a", R"({"id":"s"})");
  const std::string blob(100000, 'z');  // canonical payload: 100,002 bytes
  std::string body = R"({"events":[)";
  for (int i = 0; i < 10; ++i) {
    if (i) body += ",";
    body += R"({"eventType":"note","payload":")" + blob + "\"}";
  }
  body += "]}";
  HttpClient c = Client("reader-a");
  ASSERT_EQ(Client("writer-a").Post("/v1/sessions/s/events", body).status, 201);
  std::vector<size_t> sizes;
  std::vector<int64_t> seqs;
  int64_t after = 0;
  for (int pages = 0; pages < 20; ++pages) {
    HttpResponse r = c.Get("/v1/sessions/s/events?limit=1000&after=" +
                           std::to_string(after));
    ASSERT_EQ(r.status, 200) << r.body.substr(0, 200);
    const boost::json::value json = r.Json();
    const auto& events = json.at("events").as_array();
    EXPECT_EQ(json.at("lastSeq"), 10);
    EXPECT_LT(r.body.size(), 300000u + 2000u);
    sizes.push_back(events.size());
    for (const auto& e : events) seqs.push_back(e.at("eventSeq").as_int64());
    ASSERT_FALSE(events.empty());
    after = seqs.back();
    if (after == 10) break;
  }
  EXPECT_EQ(sizes, (std::vector<size_t>{2, 2, 2, 2, 2}));
  EXPECT_EQ(seqs, (std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
}

}  // namespace
}  // namespace acpstore::testing
