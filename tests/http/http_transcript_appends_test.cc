// End-to-end: GET /v1/sessions/{id}/transcript/stream?textAppends=true
// (SPEC §13, docs/http_api.md "Transcripts"): an assistant or thought
// entry the connection has sent whole is then sent as `event: append`
// frames carrying only the text it gained, which a client reassembles into
// exactly the entry GET .../transcript returns; everything else stays a
// whole `entry` frame. On every engine.

#include <boost/json.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "server_fixture.h"

namespace acpstore::testing {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;

constexpr char kAppends[] = "/v1/sessions/s/transcript/stream?textAppends=true";

// A delta event's JSON; `text` is JSON string body text (escapes kept).
std::string Delta(const std::string& type, const std::string& id,
                  const std::string& text) {
  return R"({"eventType":")" + type +
         R"(","payload":{"acp":{"x":"FRAME"},"messageId":")" + id +
         R"(","text":")" + text + R"("}})";
}

// What a client of ?textAppends=true holds: the entries by index, an
// `entry` frame replacing one, an `append` frame adding to one's text.
struct Reassembled {
  std::map<uint64_t, json::object> entries;
  std::vector<std::string> events;  // of each frame applied, in order
  std::vector<uint64_t> indexes;    // of each entry / append frame
  std::string error;                // the first protocol error seen

  void Apply(const SseFrame& f) {
    if (f.event.empty()) return;  // retry:
    events.push_back(f.event);
    if (f.event == "truncated") {
      const uint64_t first = json::parse(f.data).at("firstIndex").to_number<uint64_t>();
      std::erase_if(entries, [&](const auto& kv) { return kv.first < first; });
      return;
    }
    if (f.event != "entry" && f.event != "append") return;
    json::object o = json::parse(f.data).as_object();
    const auto index = o.at("index").to_number<uint64_t>();
    indexes.push_back(index);
    if (f.id != json::serialize(o.at("lastSeq"))) {
      Fail("frame id " + f.id + " is not its lastSeq: " + f.data);
    }
    if (f.event == "entry") {
      entries[index] = o;
      return;
    }
    if (o.size() != 4 || !o.contains("lastAt") || !o.contains("text")) {
      Fail("append frame with other fields: " + f.data);
    }
    auto it = entries.find(index);
    if (it == entries.end()) return Fail("append for an unheld entry: " + f.data);
    json::object& e = it->second;
    if (e.at("kind") != "assistant" && e.at("kind") != "thought") {
      return Fail("append to a " + json::serialize(e.at("kind")) + " entry");
    }
    std::string text(e.at("text").as_string());
    text += o.at("text").as_string();
    e["text"] = text;
    e["lastSeq"] = o.at("lastSeq");
    e["lastAt"] = o.at("lastAt");
  }
  void Fail(const std::string& why) {
    if (error.empty()) error = why;
  }
  size_t Count(const std::string& event) const {
    size_t n = 0;
    for (const std::string& e : events) n += e == event ? 1 : 0;
    return n;
  }
};

class TranscriptAppendsHttpTest : public HttpTest {
 protected:
  // A connection following session s's transcript as reader-a, and what
  // its client made of the frames applied so far.
  struct Follower {
    Follower(uint16_t port, const std::string& path,
             std::optional<std::string> last_event_id = std::nullopt)
        : sse(port, "reader-a", path, std::move(last_event_id)) {}
    SseClient sse;
    Reassembled r;
    size_t applied = 0;
  };
  // Applies the frames `f` received since the last call.
  static void Drain(Follower& f) {
    const std::vector<SseFrame>& frames = f.sse.WaitFrames(f.applied + 1, milliseconds(50));
    for (; f.applied < frames.size(); ++f.applied) f.r.Apply(frames[f.applied]);
  }
  // Whether `r` holds exactly the entries GET .../transcript returns.
  bool Matches(const Reassembled& r, std::string* diff) {
    HttpResponse page = Client("reader-a").Get("/v1/sessions/s/transcript?limit=1000");
    if (page.status != 200) {
      *diff = page.body;
      return false;
    }
    const json::value body = page.Json();
    const json::array& got = body.at("entries").as_array();
    std::map<uint64_t, json::object> want;
    for (const json::value& e : got) {
      want[e.at("index").to_number<uint64_t>()] = e.as_object();
    }
    // Entries the cap dropped after the connection saw them are not said
    // (the client learns it from the next page or truncated frame).
    const auto first = body.at("firstIndex").to_number<uint64_t>();
    std::map<uint64_t, json::object> held(r.entries.lower_bound(first), r.entries.end());
    if (want == held) return true;
    *diff = "GET: " + json::serialize(got) + "\nstream:";
    for (const auto& [i, e] : r.entries) *diff += " " + json::serialize(e);
    return false;
  }
  // Waits until the stream's entries are the transcript's.
  void ExpectCaughtUp(Follower& f) {
    std::string diff;
    EXPECT_TRUE(WaitUntil([&] {
      Drain(f);
      return Matches(f.r, &diff);
    })) << diff;
    EXPECT_EQ(f.r.error, "");
  }
};

// (a) N deltas after the first whole entry arrive as appends whose text,
// added to the entry's, is the transcript's text byte for byte: multi-byte
// UTF-8, escapes and control characters included; a thought likewise; a
// batch of deltas read by one wake-up is one append.
TEST_F(TranscriptAppendsHttpTest, AppendsCarryOnlyTheAddedTextAndReassembleExactly) {
  CreateSession("writer-a", R"({"id":"s"})");
  HttpClient c = Client("writer-a");
  ASSERT_EQ(c.Post("/v1/sessions/s/events", Delta("message.delta", "m1", "H\\u00e9")).status, 201);
  Follower f(port(), kAppends);
  ASSERT_EQ(f.sse.status(), 200) << f.sse.head().body;
  ExpectCaughtUp(f);
  const std::vector<std::string> pieces = {
      "llo", "\\u65e5\\u672c", "\xe8\xaa\x9e", "\\ud83d\\ude00", "\\\"q\\\"",
      "\\\\", "\\n\\t", "\\u0001", "", "/ \xf0\x9f\x8e\x89 end"};
  for (const std::string& p : pieces) {
    ASSERT_EQ(c.Post("/v1/sessions/s/events", Delta("message.delta", "m1", p)).status, 201);
    ExpectCaughtUp(f);
  }
  EXPECT_EQ(f.r.Count("entry"), 1u);
  EXPECT_EQ(f.r.Count("append"), pieces.size());
  EXPECT_EQ(f.r.entries[1].at("text"), "H\u00e9llo\u65e5\u672c\u8a9e\U0001F600\"q\"\\\n\t\x01/ \U0001F389 end");

  // A thought: whole first, then appends; a batch is one wake-up, so one
  // append with all its text.
  ASSERT_EQ(c.Post("/v1/sessions/s/events", Delta("thinking.delta", "", "I think")).status, 201);
  ExpectCaughtUp(f);
  ASSERT_EQ(c.Post("/v1/sessions/s/events",
                   R"({"events":[)" + Delta("thinking.delta", "", " \\u00fcber") + "," +
                       Delta("thinking.delta", "", ", so") + "," +
                       Delta("thinking.delta", "", " there.") + "]}")
                .status,
            201);
  ExpectCaughtUp(f);
  EXPECT_EQ(f.r.entries[2].at("kind"), "thought");
  EXPECT_EQ(f.r.entries[2].at("text"), "I think \u00fcber, so there.");
  EXPECT_EQ(f.r.Count("entry"), 2u);
  EXPECT_EQ(f.r.Count("append"), pieces.size() + 1);
  EXPECT_EQ(f.sse.WaitFrames(0).back().event, "append");
  EXPECT_EQ(f.sse.WaitFrames(0).back().data.find("FRAME"), std::string::npos);
}

// (b) A tool entry is sent whole each time it changes (its completion
// replaces its result), and a message after it starts whole.
TEST_F(TranscriptAppendsHttpTest, AToolEntryIsSentWholeEachTime) {
  CreateSession("writer-a", R"({"id":"s"})");
  HttpClient c = Client("writer-a");
  Follower f(port(), kAppends);
  ASSERT_EQ(f.sse.status(), 200) << f.sse.head().body;
  ASSERT_EQ(c.Post("/v1/sessions/s/events", Delta("message.delta", "m1", "a")).status, 201);
  ExpectCaughtUp(f);
  ASSERT_EQ(c.Post("/v1/sessions/s/events",
                   R"({"eventType":"tool.started","payload":{"toolCallId":"t1","title":"Run"}})")
                .status,
            201);
  ExpectCaughtUp(f);
  ASSERT_EQ(c.Post("/v1/sessions/s/events",
                   R"({"eventType":"tool.completed","payload":{"toolCallId":"t1","status":"completed","text":"out"}})")
                .status,
            201);
  ExpectCaughtUp(f);
  ASSERT_EQ(c.Post("/v1/sessions/s/events", Delta("message.delta", "m1", "b")).status, 201);
  ExpectCaughtUp(f);
  ASSERT_EQ(c.Post("/v1/sessions/s/events", Delta("message.delta", "m1", "c")).status, 201);
  ExpectCaughtUp(f);
  EXPECT_EQ(f.r.events, (std::vector<std::string>{"entry", "entry", "entry", "entry", "append"}));
  EXPECT_EQ(f.r.indexes, (std::vector<uint64_t>{1, 2, 2, 3, 3}));
  EXPECT_EQ(f.r.entries[2].at("result"), "out");
  EXPECT_EQ(f.r.entries[3].at("text"), "bc");
}

// (c) A resumed connection (Last-Event-ID, or ?after=) holds nothing yet:
// each changed entry comes whole first, then appends.
TEST_F(TranscriptAppendsHttpTest, AResumeSendsTheEntryWholeFirst) {
  CreateSession("writer-a", R"({"id":"s"})");
  HttpClient c = Client("writer-a");
  Follower f(port(), kAppends);
  ASSERT_EQ(f.sse.status(), 200) << f.sse.head().body;
  for (const char* p : {"one", " two", " three"}) {
    ASSERT_EQ(c.Post("/v1/sessions/s/events", Delta("message.delta", "m1", p)).status, 201);
    ExpectCaughtUp(f);
  }
  ASSERT_EQ(f.r.events, (std::vector<std::string>{"entry", "append", "append"}));
  const std::string second_id = f.sse.Events()[1].id;  // the first append's
  ASSERT_EQ(second_id, "2");

  for (const char* resume : {"header", "after"}) {
    SCOPED_TRACE(resume);
    const bool header = resume == std::string("header");
    Follower resumed(port(),
                     header ? std::string(kAppends) : std::string(kAppends) + "&after=2",
                     header ? std::optional<std::string>("2") : std::nullopt);
    ASSERT_EQ(resumed.sse.status(), 200) << resumed.sse.head().body;
    ExpectCaughtUp(resumed);
    ASSERT_EQ(resumed.r.events, (std::vector<std::string>{"entry"}));
    EXPECT_EQ(resumed.r.entries[1].at("text"), "one two three");
    EXPECT_EQ(resumed.sse.Events()[0].id, "3");
  }
  // The first connection goes on with appends.
  ASSERT_EQ(c.Post("/v1/sessions/s/events", Delta("message.delta", "m1", " four")).status, 201);
  ExpectCaughtUp(f);
  EXPECT_EQ(f.r.events.back(), "append");
  EXPECT_EQ(f.r.entries[1].at("text"), "one two three four");
}

// (e) textAppends takes true or false only; false is the default.
TEST_F(TranscriptAppendsHttpTest, TheParameterTakesTrueOrFalse) {
  CreateSession("writer-a", R"({"id":"s"})");
  for (const char* value : {"yes", "1", "TRUE", "", "true,false"}) {
    SCOPED_TRACE(value);
    SseClient bad(port(), "reader-a",
                  std::string("/v1/sessions/s/transcript/stream?textAppends=") + value);
    EXPECT_EQ(bad.status(), 400);
    EXPECT_NE(bad.head().body.find("invalid_argument"), std::string::npos) << bad.head().body;
    EXPECT_NE(bad.head().body.find("textAppends"), std::string::npos) << bad.head().body;
  }
  for (const char* value : {"true", "false"}) {
    SseClient ok(port(), "reader-a",
                 std::string("/v1/sessions/s/transcript/stream?textAppends=") + value);
    EXPECT_EQ(ok.status(), 200) << value << ": " << ok.head().body;
  }
}

// (f) Without the parameter (or with false) a growing entry is re-sent
// whole, as before.
TEST_F(TranscriptAppendsHttpTest, WithoutTheParameterEntriesAreResentWhole) {
  CreateSession("writer-a", R"({"id":"s"})");
  HttpClient c = Client("writer-a");
  for (const char* path : {"/v1/sessions/s/transcript/stream",
                           "/v1/sessions/s/transcript/stream?textAppends=false"}) {
    SCOPED_TRACE(path);
    Follower f(port(), path);
    ASSERT_EQ(f.sse.status(), 200) << f.sse.head().body;
    ExpectCaughtUp(f);
    const size_t before = f.r.events.size();
    for (const char* p : {"x", "y", "z"}) {
      ASSERT_EQ(c.Post("/v1/sessions/s/events", Delta("thinking.delta", "", p)).status, 201);
      ExpectCaughtUp(f);
    }
    ASSERT_EQ(f.r.events.size(), before + 3);
    for (size_t i = before; i < f.r.events.size(); ++i) EXPECT_EQ(f.r.events[i], "entry");
  }
}

class CappedTranscriptAppendsHttpTest : public TranscriptAppendsHttpTest {
  void ConfigureStore(StoreOptions* o) override { o->transcript_max_bytes = 1024; }
};

// (d) The cap drops the entry a connection was appending to: what follows
// is new entries, sent whole (a `truncated` frame when it dropped entries
// the connection never saw), then appends to them; the reassembled
// entries stay the transcript's kept ones. Also when the growing entry
// alone passes the cap: the fold drops it and the next delta starts a new
// entry, at a higher index.
TEST_F(CappedTranscriptAppendsHttpTest, ACapDropThenContinuesWithWholeEntries) {
  CreateSession("writer-a", R"({"id":"s"})");
  HttpClient c = Client("writer-a");
  Follower f(port(), kAppends);
  ASSERT_EQ(f.sse.status(), 200) << f.sse.head().body;
  ASSERT_EQ(c.Post("/v1/sessions/s/events", Delta("message.delta", "m0", "first")).status, 201);
  ExpectCaughtUp(f);
  ASSERT_EQ(c.Post("/v1/sessions/s/events", Delta("message.delta", "m0", " grows")).status, 201);
  ExpectCaughtUp(f);
  // Entries of ~100 bytes each, several per batch: the connection sees
  // only the last of each batch before the cap drops the earlier ones.
  for (int b = 0; b < 6; ++b) {
    std::string batch = R"({"events":[)";
    for (int i = 0; i < 4; ++i) {
      if (i > 0) batch += ",";
      batch += Delta("message.delta", "m" + std::to_string(b * 4 + i + 1),
                     std::string(100, static_cast<char>('a' + i)));
    }
    batch += "]}";
    ASSERT_EQ(c.Post("/v1/sessions/s/events", batch).status, 201);
    ExpectCaughtUp(f);
  }
  EXPECT_GE(f.r.Count("truncated"), 1u);
  const uint64_t last = f.r.entries.rbegin()->first;
  ASSERT_EQ(c.Post("/v1/sessions/s/events", Delta("message.delta", "m24", "+more")).status, 201);
  ExpectCaughtUp(f);
  EXPECT_EQ(f.r.events.back(), "append");
  EXPECT_EQ(f.r.indexes.back(), last);

  // One delta larger than the cap: the entry it grows is dropped whole,
  // and the next delta of the same message starts a new entry.
  ASSERT_EQ(c.Post("/v1/sessions/s/events",
                   Delta("message.delta", "m24", std::string(1100, 'x')))
                .status,
            201);
  ExpectCaughtUp(f);
  ASSERT_EQ(c.Post("/v1/sessions/s/events", Delta("message.delta", "m24", "again")).status, 201);
  ExpectCaughtUp(f);
  EXPECT_EQ(f.r.events.back(), "entry");
  EXPECT_GT(f.r.indexes.back(), last);
  ASSERT_EQ(c.Post("/v1/sessions/s/events", Delta("message.delta", "m24", " and again")).status, 201);
  ExpectCaughtUp(f);
  EXPECT_EQ(f.r.events.back(), "append");
  EXPECT_EQ(f.r.entries.rbegin()->second.at("text"), "again and again");
}

}  // namespace
}  // namespace acpstore::testing
