// End-to-end: GET /v1/sessions/{id}/events/stream (SPEC §5.2): replay then
// live with no gap or duplicate, resume points, truncation, heartbeats,
// subscriber caps, slow clients, and shutdown.

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "acpstore/blocking_store.h"
#include "server_fixture.h"

namespace acpstore::testing {
namespace {

using std::chrono::milliseconds;

const Scope kWriterA{"tenant-a", "key-writer-a", Scope::Access::kOwner};

std::vector<uint64_t> Seqs(const std::vector<SseFrame>& events) {
  std::vector<uint64_t> out;
  for (const SseFrame& f : events) out.push_back(std::stoull(f.id));
  return out;
}

std::vector<uint64_t> Range(uint64_t from, uint64_t to) {
  std::vector<uint64_t> out;
  for (uint64_t i = from; i <= to; ++i) out.push_back(i);
  return out;
}

class SseHttpTest : public HttpTest {
 protected:
  void Configure(server::ServerOptions* o) override {
    o->sse_heartbeat_ms = 200;
    o->max_sse_per_key = 3;
  }
  // Waits until /metrics reports `n` open streams.
  bool WaitSubscribers(double n) {
    return WaitUntil(
        [&] { return MetricValue("acpstore_sse_subscribers") == n; });
  }
};

TEST_F(SseHttpTest, ReplayThenLiveWithoutGapOrDuplicate) {
  CreateSession("writer-a", R"({"id":"s"})");
  AppendEvents("writer-a", "s", 20);
  SseClient sse(port(), "writer-a", "/v1/sessions/s/events/stream");
  ASSERT_EQ(sse.status(), 200) << sse.head().body;
  EXPECT_EQ(sse.head().Header("content-type"),
            "text/event-stream; charset=utf-8");
  const auto& first = sse.WaitFrames(1);
  ASSERT_FALSE(first.empty());
  ASSERT_TRUE(first[0].retry.has_value());
  EXPECT_EQ(*first[0].retry, 2000);

  // Appends race with the replay: a writer thread keeps going while the
  // stream switches from replay to live.
  std::thread writer([&] { AppendEvents("writer-a", "s", 200); });
  for (int i = 0; i < 500 && sse.Events().size() < 220; ++i)
    sse.WaitFrames(sse.Events().size() + 2, milliseconds(50));
  writer.join();
  sse.WaitFrames(222, std::chrono::seconds(5));
  EXPECT_EQ(Seqs(sse.Events()), Range(1, 220));

  // The data line is the event exactly as the list route returns it.
  HttpResponse list =
      Client("writer-a").Get("/v1/sessions/s/events?after=4&limit=1");
  const auto events = sse.Events();
  EXPECT_NE(list.body.find(events[4].data), std::string::npos)
      << events[4].data;
}

// A replay of 3,000 small events leaves in one batch of more frames than
// one sendmsg takes (IOV_MAX, 1,024): every frame arrives once, in order.
TEST_F(SseHttpTest, ReplayLargerThanOneSendmsgArrivesWhole) {
  CreateSession("writer-a", R"({"id":"s"})");
  HttpClient w = Client("writer-a");
  for (int b = 0; b < 30; ++b) {
    std::string body = R"({"events":[)";
    for (int i = 0; i < 100; ++i) {
      if (i) body += ",";
      body += R"({"eventType":"message.delta","payload":{"i":)" +
              std::to_string(b * 100 + i) + "}}";
    }
    body += "]}";
    HttpResponse r = w.Post("/v1/sessions/s/events", body);
    ASSERT_EQ(r.status, 201) << r.body.substr(0, 200);
  }
  SseClient sse(port(), "writer-a", "/v1/sessions/s/events/stream");
  ASSERT_EQ(sse.status(), 200) << sse.head().body;
  sse.WaitFrames(3001, std::chrono::seconds(20));  // + the retry frame
  EXPECT_EQ(Seqs(sse.Events()), Range(1, 3000));
  const auto events = sse.Events();
  ASSERT_EQ(events.size(), 3000u);
  EXPECT_NE(events[2999].data.find(R"("payload":{"i":2999})"),
            std::string::npos)
      << events[2999].data;
}

// Streams of one session get the same bytes per event; the frame is built
// once and shared (SseFrameCache), which /metrics counts.
TEST_F(SseHttpTest, StreamsOfOneSessionShareEachFrame) {
  CreateSession("writer-a", R"({"id":"s"})");
  AppendEvents("writer-a", "s", 5);
  SseClient a(port(), "writer-a", "/v1/sessions/s/events/stream");
  a.WaitFrames(6);
  // b opens once a holds every frame, so b's frames come from the cache a
  // filled (two streams replaying at once may each build their own).
  SseClient b(port(), "reader-a", "/v1/sessions/s/events/stream");
  b.WaitFrames(6);
  ASSERT_EQ(Seqs(a.Events()), Range(1, 5));
  ASSERT_EQ(Seqs(b.Events()), Range(1, 5));
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(a.Events()[i].data, b.Events()[i].data) << i;
  }
  EXPECT_GE(MetricValue("acpstore_sse_frames_shared_total"), 5.0);
}

TEST_F(SseHttpTest, LastEventIdWinsOverAfterAndResumes) {
  CreateSession("writer-a", R"({"id":"s"})");
  AppendEvents("writer-a", "s", 6);
  SseClient by_header(port(), "reader-a",
                      "/v1/sessions/s/events/stream?after=1", "4");
  ASSERT_EQ(by_header.status(), 200);
  by_header.WaitFrames(3);
  EXPECT_EQ(Seqs(by_header.Events()), Range(5, 6));

  SseClient by_query(port(), "reader-a",
                     "/v1/sessions/s/events/stream?after=2");
  by_query.WaitFrames(5);
  EXPECT_EQ(Seqs(by_query.Events()), Range(3, 6));
}

TEST_F(SseHttpTest, BadResumePointsAre400) {
  CreateSession("writer-a", R"({"id":"s"})");
  // (Leading/trailing blanks are optional whitespace in HTTP: " 3" is "3".)
  for (const char* bad : {"-1", "1.0", "3 4", "0x10", "", "9223372036854775809",
                          "99999999999999999999"}) {
    SseClient sse(port(), "writer-a", "/v1/sessions/s/events/stream",
                  std::string(bad));
    EXPECT_EQ(sse.status(), 400) << "'" << bad << "'";
  }
  SseClient sse(port(), "writer-a", "/v1/sessions/s/events/stream?after=abc");
  EXPECT_EQ(sse.status(), 400);
  SseClient max(port(), "writer-a", "/v1/sessions/s/events/stream",
                std::string("9223372036854775808"));
  EXPECT_EQ(max.status(), 200);  // 2^63 is the largest accepted
}

TEST_F(SseHttpTest, HeartbeatWhileIdle) {
  CreateSession("writer-a", R"({"id":"s"})");
  SseClient sse(port(), "writer-a", "/v1/sessions/s/events/stream");
  const auto& frames = sse.WaitFrames(2, std::chrono::seconds(3));
  ASSERT_GE(frames.size(), 2u);
  EXPECT_EQ(frames[1].comment, "ping");
}

TEST_F(SseHttpTest, PerKeyCapIs429AndFreedWhenAClientLeaves) {
  CreateSession("writer-a", R"({"id":"s"})");
  auto a = std::make_unique<SseClient>(port(), "writer-a",
                                       "/v1/sessions/s/events/stream");
  SseClient b(port(), "writer-a", "/v1/sessions/s/events/stream");
  SseClient c(port(), "writer-a", "/v1/sessions/s/events/stream");
  ASSERT_EQ(c.status(), 200);
  SseClient d(port(), "writer-a", "/v1/sessions/s/events/stream");
  EXPECT_EQ(d.status(), 429);
  EXPECT_NE(d.head().body.find("too_many_requests"), std::string::npos);
  // Another key is not affected.
  SseClient other(port(), "admin-a", "/v1/sessions/s/events/stream");
  EXPECT_EQ(other.status(), 200);
  a.reset();  // the server notices the disconnect and frees the slot
  ASSERT_TRUE(WaitSubscribers(3));
  SseClient e(port(), "writer-a", "/v1/sessions/s/events/stream");
  EXPECT_EQ(e.status(), 200);
}

TEST_F(SseHttpTest, DeletedSessionEndsTheStreamWithAnErrorFrame) {
  CreateSession("writer-a", R"({"id":"s"})");
  SseClient sse(port(), "writer-a", "/v1/sessions/s/events/stream");
  ASSERT_EQ(sse.status(), 200);
  HttpClient c = Client("writer-a");
  ASSERT_EQ(
      c.Post("/v1/sessions/s/transitions", R"({"event":"runtime_failed"})")
          .status,
      200);
  ASSERT_EQ(c.Delete("/v1/sessions/s").status, 204);
  bool saw_error = false;
  for (int i = 0; i < 50 && !saw_error; ++i) {
    for (const SseFrame& f : sse.WaitFrames(100, milliseconds(100))) {
      saw_error = saw_error || f.event == "error";
    }
  }
  EXPECT_TRUE(saw_error);
  EXPECT_TRUE(sse.connection().WaitClosed(std::chrono::seconds(3)));
}

// A key revoked while its stream is open (here, on another server or by
// `acpstore keys revoke`: the authenticator stops vouching for it) ends
// the stream with an unauthenticated error, and nothing appended later
// reaches it. Streams of a revoked key used to go on for as long as they
// stayed open (found by a probe, events and transcript streams alike).
TEST_F(SseHttpTest, ARevokedKeysOpenStreamsEnd) {
  CreateSession("writer-a", R"({"id":"s"})");
  AppendEvents("writer-a", "s", 1);
  SseClient events(port(), "reader-a", "/v1/sessions/s/events/stream");
  SseClient transcript(port(), "reader-a", "/v1/sessions/s/transcript/stream");
  ASSERT_EQ(events.status(), 200) << events.head().body;
  ASSERT_EQ(transcript.status(), 200) << transcript.head().body;
  events.WaitFrames(2);  // retry, then event 1
  ASSERT_EQ(Seqs(events.Events()), Range(1, 1));
  authn_.Remove("key-reader-a");
  // A stream looks its key up at most every 500 ms.
  std::this_thread::sleep_for(milliseconds(600));
  AppendEvents("writer-a", "s", 3);
  for (SseClient* sse : {&events, &transcript}) {
    bool ended = false;
    for (int i = 0; i < 50 && !ended; ++i) {
      for (const SseFrame& f : sse->WaitFrames(100, milliseconds(100))) {
        ended = ended || (f.event == "error" &&
                          f.data.find("unauthenticated") != std::string::npos);
      }
    }
    EXPECT_TRUE(ended);
    EXPECT_TRUE(sse->connection().WaitClosed(std::chrono::seconds(3)));
  }
  EXPECT_EQ(Seqs(events.Events()), Range(1, 1));
}

// An idle stream of a revoked key ends too, within the 2 s SPEC §6 gives,
// though nothing is appended and its heartbeat is a minute away: the
// revocation itself wakes it (sse_auth_watch.h). Idle streams of a revoked
// key used to stay open until their next event or ping (found by a probe).
class SseIdleRevocationTest : public HttpTest {
 protected:
  void Configure(server::ServerOptions* o) override {
    o->sse_heartbeat_ms = 60000;
  }
};

TEST_F(SseIdleRevocationTest, AnIdleStreamOfARevokedKeyEndsWithinTwoSeconds) {
  CreateSession("writer-a", R"({"id":"s"})");
  SseClient events(port(), "reader-a", "/v1/sessions/s/events/stream");
  SseClient transcript(port(), "reader-a", "/v1/sessions/s/transcript/stream");
  SseClient other(port(), "writer-a", "/v1/sessions/s/events/stream");
  for (SseClient* sse : {&events, &transcript, &other}) {
    ASSERT_EQ(sse->status(), 200) << sse->head().body;
    sse->WaitFrames(1);  // retry: 2000
  }
  // Past the first look-ups, so only the revocation can wake them.
  std::this_thread::sleep_for(milliseconds(600));
  const auto revoked = std::chrono::steady_clock::now();
  authn_.Remove("key-reader-a");
  for (SseClient* sse : {&events, &transcript}) {
    bool ended = false;
    while (!ended && std::chrono::steady_clock::now() - revoked <
                         std::chrono::seconds(2)) {
      for (const SseFrame& f : sse->WaitFrames(100, milliseconds(100))) {
        ended = ended || (f.event == "error" &&
                          f.data.find("unauthenticated") != std::string::npos);
      }
    }
    EXPECT_TRUE(ended) << "no error frame within 2 s of the revocation";
  }
  // The other key's stream was woken too, and stays.
  std::this_thread::sleep_for(milliseconds(300));
  for (const SseFrame& f : other.WaitFrames(100, milliseconds(100))) {
    EXPECT_NE(f.event, "error") << f.data;
  }
  EXPECT_FALSE(other.connection().WaitClosed(milliseconds(200)));
}

// Coalescing (decision 0025): a stream that just wrote events waits
// sse_coalesce_ms before it takes the next page, so events appended in
// quick succession leave in few writes, every one of them, in order.
class SseCoalesceTest : public HttpTest {
 protected:
  static constexpr int64_t kCoalesceMs = 50;
  void Configure(server::ServerOptions* o) override {
    o->sse_coalesce_ms = kCoalesceMs;
    o->sse_heartbeat_ms = 60000;  // no ping among the writes counted
  }
};

TEST_F(SseCoalesceTest, QuickAppendsArriveAllInOrderInFewWrites) {
  CreateSession("writer-a", R"({"id":"s"})");
  SseClient sse(port(), "writer-a", "/v1/sessions/s/events/stream");
  ASSERT_EQ(sse.status(), 200);
  ASSERT_EQ(sse.WaitFrames(1).size(), 1u);  // retry: 2000
  ASSERT_TRUE(WaitUntil(
      [&] { return MetricValue("acpstore_sse_writes_total") >= 1; }));
  const double writes_before = MetricValue("acpstore_sse_writes_total");

  constexpr int kEvents = 100;
  const auto t0 = std::chrono::steady_clock::now();
  AppendEvents("writer-a", "s", kEvents);  // one request per event
  sse.WaitFrames(kEvents + 1, std::chrono::seconds(20));
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  ASSERT_EQ(Seqs(sse.Events()), Range(1, kEvents));

  // Event writes start at least kCoalesceMs apart, so however long the
  // appends took there were at most elapsed / kCoalesceMs + 1 of them.
  const double writes = MetricValue("acpstore_sse_writes_total") - writes_before;
  const auto windows =
      std::chrono::duration_cast<milliseconds>(elapsed).count() / kCoalesceMs;
  EXPECT_GE(writes, 1);
  EXPECT_LE(writes, static_cast<double>(windows + 1))
      << "elapsed " << std::chrono::duration_cast<milliseconds>(elapsed).count()
      << " ms";
  EXPECT_LT(writes, kEvents);
  EXPECT_EQ(MetricValue("acpstore_sse_events_sent_total"), kEvents);
}

class SseCoalesceDelayTest : public HttpTest {
 protected:
  static constexpr int64_t kCoalesceMs = 2000;
  void Configure(server::ServerOptions* o) override {
    o->sse_coalesce_ms = kCoalesceMs;
  }
};

// The first event on an idle stream is not held; one right after it waits
// out the window (and no longer: nothing else wakes the stream).
TEST_F(SseCoalesceDelayTest, IdleStreamIsNotHeldAndTheHoldEndsByItself) {
  CreateSession("writer-a", R"({"id":"s"})");
  SseClient sse(port(), "writer-a", "/v1/sessions/s/events/stream");
  ASSERT_EQ(sse.status(), 200);
  ASSERT_EQ(sse.WaitFrames(1).size(), 1u);

  const auto t0 = std::chrono::steady_clock::now();
  AppendEvents("writer-a", "s", 1);
  sse.WaitFrames(2, std::chrono::seconds(10));
  const auto first = std::chrono::steady_clock::now() - t0;
  ASSERT_EQ(Seqs(sse.Events()), Range(1, 1));
  EXPECT_LT(first, milliseconds(kCoalesceMs)) << "the idle stream was held";

  AppendEvents("writer-a", "s", 1);
  sse.WaitFrames(3, std::chrono::seconds(10));
  const auto second = std::chrono::steady_clock::now() - t0;
  ASSERT_EQ(Seqs(sse.Events()), Range(1, 2));
  // The first write started after t0; the second may not start before the
  // window after it closed.
  EXPECT_GE(second, milliseconds(kCoalesceMs));
}

class SseTruncationTest : public SseHttpTest {
 protected:
  void ConfigureStore(StoreOptions* o) override {
    o->retention.max_events_per_session = 5;
  }
};

TEST_F(SseTruncationTest, ResumeBelowRetainedRangeSendsTruncatedFirst) {
  CreateSession("writer-a", R"({"id":"s"})");
  AppendEvents("writer-a", "s", 12);
  ASSERT_TRUE(BlockingStore(*store_).RunMaintenance().ok());
  SseClient sse(port(), "writer-a", "/v1/sessions/s/events/stream",
                std::string("2"));
  ASSERT_EQ(sse.status(), 200);
  const auto& frames = sse.WaitFrames(7);
  ASSERT_GE(frames.size(), 7u);
  EXPECT_EQ(frames[1].event, "truncated");
  EXPECT_EQ(frames[1].data, R"({"firstSeq":8})");
  EXPECT_EQ(Seqs(sse.Events()), Range(8, 12));

  HttpResponse list = Client("writer-a").Get("/v1/sessions/s/events?after=2");
  EXPECT_EQ(list.Json().at("truncated"), true);
  EXPECT_EQ(list.Json().at("firstSeq"), 8);
}

class SlowSseClientTest : public HttpTest {
 protected:
  void Configure(server::ServerOptions* o) override {
    o->write_timeout_ms = 300;
    o->sse_buffer_bytes = 64 << 10;
    o->sse_socket_send_buffer = 32 << 10;
  }
};

TEST_F(SlowSseClientTest,
       AClientThatNeverReadsIsDisconnectedAndOthersAreServed) {
  CreateSession("writer-a", R"({"id":"s"})");
  // Never reads after the response head: small receive window.
  SseClient stuck(port(), "writer-a", "/v1/sessions/s/events/stream",
                  std::nullopt,
                  /*recv_buffer=*/4096);
  ASSERT_EQ(stuck.status(), 200);
  SseClient healthy(port(), "reader-a", "/v1/sessions/s/events/stream");
  ASSERT_EQ(healthy.status(), 200);

  // ~8 MB of events through the API, in batches.
  const std::string blob(2000, 'z');
  HttpClient w = Client("writer-a");
  int appended = 0;
  for (int b = 0; b < 40; ++b) {
    std::string body = R"({"events":[)";
    for (int i = 0; i < 100; ++i) {
      if (i) body += ",";
      body += R"({"eventType":"message.delta","payload":")" + blob + "\"}";
    }
    body += "]}";
    HttpResponse r = w.Post("/v1/sessions/s/events", body);
    ASSERT_EQ(r.status, 201) << r.body.substr(0, 200);
    appended += 100;
    // The healthy client keeps reading all along.
    healthy.WaitFrames(static_cast<size_t>(appended) + 1, milliseconds(2000));
  }
  EXPECT_EQ(healthy.Events().size(), static_cast<size_t>(appended));

  // The stuck client was cut off: its connection ends even though it never
  // read, and the server counted it.
  EXPECT_TRUE(WaitUntil([&] {
    return MetricValue("acpstore_sse_slow_disconnects_total") >= 1;
  }));
  // Draining what the kernel buffered ends in EOF/reset, not more data forever.
  EXPECT_TRUE(stuck.connection().WaitClosed(std::chrono::seconds(5)));

  EXPECT_EQ(Client("").Get("/healthz").status, 200);
  HttpResponse r = Client("reader-a").Get("/v1/sessions/s/events?after=3990");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.Json().at("events").as_array().size(), 10u);
}

// A replay read 256 events a page whatever their size and built all their
// frames before its first write: a client that opened a stream on a session
// of large events and never read made the server hold up to 256 of them
// (found by a probe: +140 MiB per stream with ~1 MiB events). A page now
// takes only the room left in the write's buffer (at least one event), so
// by the time the first write of events blocks the stream has taken no
// more than the buffer plus one event.
class SseReplayBufferTest : public HttpTest {
 protected:
  void Configure(server::ServerOptions* o) override {
    o->sse_buffer_bytes = 256 << 10;
    o->sse_socket_send_buffer = 32 << 10;
  }
};

TEST_F(SseReplayBufferTest, AReplayOfLargeEventsTakesOneBufferAtATime) {
  CreateSession("writer-a", R"({"id":"s"})");
  const std::string blob(200 << 10, 'z');
  HttpClient w = Client("writer-a");
  for (int b = 0; b < 3; ++b) {
    std::string body = R"({"events":[)";
    for (int i = 0; i < 10; ++i) {
      if (i) body += ",";
      body += R"({"eventType":"note","payload":")" + blob + "\"}";
    }
    body += "]}";
    ASSERT_EQ(w.Post("/v1/sessions/s/events", body).status, 201);
  }
  // Never reads past the head, with a small receive window: the first
  // write of events (400 KB) cannot complete.
  SseClient stuck(port(), "writer-a", "/v1/sessions/s/events/stream",
                  std::nullopt, /*recv_buffer=*/4096);
  ASSERT_EQ(stuck.status(), 200);
  // Write 1 is the head; write 2 the first batch of events, which blocks.
  ASSERT_TRUE(WaitUntil(
      [&] { return MetricValue("acpstore_sse_writes_total") >= 2; }));
  // 200 KB fits the 256 KiB buffer, the next event goes over it: two
  // events in that write, not all 30.
  EXPECT_EQ(MetricValue("acpstore_sse_events_sent_total"), 2);

  // A client that reads gets every event, in order, in writes of about
  // the buffer.
  SseClient reader(port(), "reader-a", "/v1/sessions/s/events/stream");
  reader.WaitFrames(31);
  EXPECT_EQ(Seqs(reader.Events()), Range(1, 30));
}

TEST_F(SseHttpTest, StopEndsStreamsPromptly) {
  CreateSession("writer-a", R"({"id":"s"})");
  SseClient sse(port(), "writer-a", "/v1/sessions/s/events/stream");
  ASSERT_EQ(sse.status(), 200);
  const auto start = std::chrono::steady_clock::now();
  server_->Stop();
  // A stream that ignored the stop would hold Stop() for the whole
  // shutdown timeout (2 s here) before being force-closed; anything
  // clearly under it is the prompt path, with room for a loaded machine.
  EXPECT_LT(std::chrono::steady_clock::now() - start,
            std::chrono::milliseconds(1500));
  EXPECT_TRUE(sse.connection().WaitClosed(std::chrono::seconds(2)));
}

}  // namespace
}  // namespace acpstore::testing
