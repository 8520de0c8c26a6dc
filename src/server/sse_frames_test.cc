// Unit tests: SSE framing (sse_frames.h).

#include "server/sse_frames.h"

#include <gtest/gtest.h>

#include <string>

namespace acpstore::server {
namespace {

TEST(SseFrames, EventIsIdPlusOneDataLine) {
  Event e;
  e.session_id = "s";
  e.tenant_id = "t";
  e.owner_key_id = "k";
  e.seq = 42;
  e.event_type = "line\nbreak\r\n\n";  // strings cannot inject frames
  e.payload = R"({"text":"a\nb"})";
  std::string out;
  SseFrames::AppendEvent(e, &out);
  ASSERT_EQ(out.rfind("id: 42\ndata: {", 0), 0u) << out;
  EXPECT_EQ(out.find('\n', 14), out.size() - 2) << out;
  EXPECT_EQ(out.substr(out.size() - 2), "\n\n");
  EXPECT_NE(out.find(R"("eventType":"line\nbreak\r\n\n")"), std::string::npos);
}

TEST(SseFrames, ControlFrames) {
  EXPECT_EQ(SseFrames::Retry(2000), "retry: 2000\n\n");
  EXPECT_EQ(SseFrames::Ping(), ": ping\n\n");
  std::string t;
  SseFrames::AppendTruncated(8, &t);
  EXPECT_EQ(t, "event: truncated\ndata: {\"firstSeq\":8}\n\n");
  std::string e;
  SseFrames::AppendError(Status::NotFound("session not found"), &e);
  EXPECT_EQ(e,
            "event: error\ndata: "
            "{\"error\":{\"code\":\"not_found\",\"message\":\"session not "
            "found\"}}\n\n");
  EXPECT_NE(SseFrames::ResponseHead().find("Content-Type: text/event-stream"),
            std::string::npos);
}

}  // namespace
}  // namespace acpstore::server
