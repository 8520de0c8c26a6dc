// End-to-end: GET /v1/sessions/{id}/transcript/stream (SPEC §13): every
// entry first, then an entry again (same index) each time it grows, ids in
// ascending lastSeq, and a resume with Last-Event-ID that re-sends only
// what changed after it, on every engine.

#include <string>
#include <vector>

#include "server_fixture.h"

namespace acpstore::testing {
namespace {

class TranscriptStreamHttpTest : public HttpTest {};

std::string Delta(const std::string& text, const std::string& id = "m1") {
  return R"({"eventType":"message.delta","payload":{"acp":{"x":"FRAME"},"messageId":")" +
         id + R"(","text":")" + text + R"("}})";
}

std::vector<SseFrame> Entries(const std::vector<SseFrame>& frames) {
  std::vector<SseFrame> out;
  for (const SseFrame& f : frames) {
    if (f.event == "entry") out.push_back(f);
  }
  return out;
}

TEST_F(TranscriptStreamHttpTest, EntriesAreSentAgainAsTheyGrowAndResume) {
  CreateSession("writer-a", R"({"id":"s"})");
  HttpClient c = Client("writer-a");
  ASSERT_EQ(c.Post("/v1/sessions/s/events", Delta("Hel")).status, 201);

  SseClient sse(port(), "writer-a", "/v1/sessions/s/transcript/stream");
  ASSERT_EQ(sse.status(), 200) << sse.head().body;
  ASSERT_TRUE(WaitUntil([&] { return Entries(sse.WaitFrames(2, std::chrono::milliseconds(50))).size() >= 1; }));
  std::vector<SseFrame> got = Entries(sse.WaitFrames(0));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].id, "1");
  EXPECT_NE(got[0].data.find(R"("index":1)"), std::string::npos) << got[0].data;
  EXPECT_NE(got[0].data.find(R"("text":"Hel")"), std::string::npos);
  EXPECT_EQ(got[0].data.find("FRAME"), std::string::npos);

  ASSERT_EQ(c.Post("/v1/sessions/s/events", Delta("lo")).status, 201);
  ASSERT_TRUE(WaitUntil([&] { return Entries(sse.WaitFrames(3, std::chrono::milliseconds(50))).size() >= 2; }));
  ASSERT_EQ(c.Post("/v1/sessions/s/events", Delta("Bye", "m2")).status, 201);
  ASSERT_TRUE(WaitUntil([&] { return Entries(sse.WaitFrames(4, std::chrono::milliseconds(50))).size() >= 3; }));
  got = Entries(sse.WaitFrames(0));
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[1].id, "2");
  EXPECT_NE(got[1].data.find(R"("index":1)"), std::string::npos) << got[1].data;
  EXPECT_NE(got[1].data.find(R"("text":"Hello")"), std::string::npos);
  EXPECT_EQ(got[2].id, "3");
  EXPECT_NE(got[2].data.find(R"("index":2)"), std::string::npos) << got[2].data;

  // Resume after seq 2: only entry 2 (changed at seq 3) again.
  SseClient resumed(port(), "reader-a", "/v1/sessions/s/transcript/stream",
                    "2");
  ASSERT_EQ(resumed.status(), 200);
  ASSERT_TRUE(WaitUntil([&] { return !Entries(resumed.WaitFrames(2, std::chrono::milliseconds(50))).empty(); }));
  got = Entries(resumed.WaitFrames(0));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].id, "3");

  SseClient missing(port(), "writer-a", "/v1/sessions/nope/transcript/stream");
  EXPECT_EQ(missing.status(), 404);
}

class CappedTranscriptStreamHttpTest : public HttpTest {
  void ConfigureStore(StoreOptions* o) override { o->transcript_max_bytes = 1024; }
};

// Found by a probe: a client resuming from before the entries the cap
// dropped got the next kept entry with no word of the gap, while the
// events stream says `event: truncated` in the same case.
TEST_F(CappedTranscriptStreamHttpTest, AResumeFromBeforeTheKeptEntriesSaysTheyWereDropped) {
  CreateSession("writer-a", R"({"id":"s"})");
  HttpClient c = Client("writer-a");
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(c.Post("/v1/sessions/s/events",
                     Delta("message " + std::to_string(i) + " ......................",
                           "m" + std::to_string(i)))
                  .status,
              201);
  }
  const std::string page = c.Get("/v1/sessions/s/transcript").body;
  const size_t at = page.find(R"("firstIndex":)");
  ASSERT_NE(at, std::string::npos) << page;
  const uint64_t first = std::stoull(page.substr(at + 13));
  ASSERT_GT(first, 2u) << page;

  SseClient resumed(port(), "reader-a", "/v1/sessions/s/transcript/stream", "1");
  ASSERT_EQ(resumed.status(), 200);
  ASSERT_TRUE(WaitUntil([&] { return !Entries(resumed.WaitFrames(2, std::chrono::milliseconds(50))).empty(); }));
  std::vector<SseFrame> got;
  for (const SseFrame& f : resumed.WaitFrames(0)) {
    if (!f.event.empty()) got.push_back(f);  // not the retry: frame
  }
  ASSERT_GE(got.size(), 2u);
  EXPECT_EQ(got[0].event, "truncated");
  EXPECT_EQ(got[0].data, R"({"firstIndex":)" + std::to_string(first) + "}");
  EXPECT_EQ(got[1].event, "entry");
  EXPECT_NE(got[1].data.find(R"("index":)" + std::to_string(first) + ","), std::string::npos)
      << got[1].data;

  // From the seq just before the first kept entry's: nothing was missed.
  SseClient caught_up(port(), "reader-a", "/v1/sessions/s/transcript/stream",
                      std::to_string(first - 1));
  ASSERT_EQ(caught_up.status(), 200);
  ASSERT_TRUE(WaitUntil([&] { return !Entries(caught_up.WaitFrames(2, std::chrono::milliseconds(50))).empty(); }));
  for (const SseFrame& f : caught_up.WaitFrames(0)) EXPECT_NE(f.event, "truncated");
}

// A call of the transcript stream stops once its frames fill the
// stream's buffer (sse_buffer_bytes) and the stream goes on with the rest
// after writing them, with no event to wake it: every entry arrives, once,
// in ascending ids.
class TranscriptStreamSmallBufferTest : public HttpTest {
 protected:
  void Configure(server::ServerOptions* o) override {
    o->sse_buffer_bytes = 4096;
  }
};

TEST_F(TranscriptStreamSmallBufferTest, ATranscriptLargerThanTheBufferArrivesWhole) {
  CreateSession("writer-a", R"({"id":"s"})");
  HttpClient c = Client("writer-a");
  const std::string text(3000, 'a');
  for (int i = 0; i < 12; ++i) {
    ASSERT_EQ(c.Post("/v1/sessions/s/events", Delta(text, "m" + std::to_string(i))).status, 201);
  }
  SseClient sse(port(), "writer-a", "/v1/sessions/s/transcript/stream");
  ASSERT_EQ(sse.status(), 200) << sse.head().body;
  const std::vector<SseFrame> got = Entries(sse.WaitFrames(13));
  ASSERT_EQ(got.size(), 12u);
  for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i].id, std::to_string(i + 1));
}

}  // namespace
}  // namespace acpstore::testing
