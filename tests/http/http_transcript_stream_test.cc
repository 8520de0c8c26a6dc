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

}  // namespace
}  // namespace acpstore::testing
