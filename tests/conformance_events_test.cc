// Conformance scenarios for single events (SPEC §2.2, §2.7): sequence
// numbers, event ids, fields, payload canonicalisation and payload limits,
// and listing. Batches, dedupe and conditional appends are in
// conformance_event_batches_test.cc.

#include <string>
#include <vector>

#include "store_conformance.h"

namespace acpstore::conformance {
namespace {

using ::testing::ElementsAre;

NewEvent Note(std::string payload) {
  return {.event_type = "note", .payload = std::move(payload)};
}

std::string Nested(int depth, const char* open, const char* close) {
  std::string s;
  for (int i = 0; i < depth; ++i) s += open;
  s += "1";
  for (int i = 0; i < depth; ++i) s += close;
  return s;
}

TEST_P(StoreConformance, AppendAssignsDenseSeqFromOne) {
  CreateSession("s-1");
  std::vector<Event> events = AppendN("s-1", 3);
  EXPECT_EQ(events[0].seq, 1u);
  EXPECT_EQ(events[1].seq, 2u);
  EXPECT_EQ(events[2].seq, 3u);

  EventStreamInfo info = Get("s-1").events;
  EXPECT_EQ(info.first_seq, 1u);
  EXPECT_EQ(info.last_seq, 3u);
  EXPECT_EQ(info.retained, 3u);
  EXPECT_EQ(info.bytes, 3 * std::string(R"({"i":0})").size());
}

TEST_P(StoreConformance, SeqIsPerSession) {
  CreateSession("s-1");
  CreateSession("s-2");
  AppendN("s-1", 2);
  EXPECT_EQ(Append("s-2", Note("1")).seq, 1u);
}

TEST_P(StoreConformance, AppendedEventCarriesScopeAndEventId) {
  CreateSession("s-1");
  Advance(5);
  Event e = Append("s-1", {.event_type = "tool.started",
                           .payload = R"({"tool":"bash"})",
                           .backend_run_id = "run-1",
                           .payload_ref = "blob://1",
                           .client_event_id = "c-1"});
  EXPECT_EQ(e.session_id, "s-1");
  EXPECT_EQ(e.tenant_id, "t1");
  EXPECT_EQ(e.owner_key_id, "alice");
  EXPECT_EQ(e.event_type, "tool.started");
  EXPECT_EQ(e.backend_run_id, "run-1");
  EXPECT_EQ(e.payload_ref, "blob://1");
  EXPECT_EQ(e.client_event_id, "c-1");
  EXPECT_EQ(e.EventId(), "t1:alice:s-1:1");
  EXPECT_EQ(e.occurred_at, kT0 + 5);  // defaults to now
  EXPECT_EQ(e.ingested_at, kT0 + 5);

  EventPage page = List("s-1", 0);
  ASSERT_EQ(page.events.size(), 1u);
  EXPECT_EQ(page.events[0].payload, R"({"tool":"bash"})");
  EXPECT_EQ(page.events[0].payload_ref, "blob://1");
  EXPECT_EQ(page.events[0].EventId(), "t1:alice:s-1:1");
}

TEST_P(StoreConformance, AppendKeepsSuppliedOccurredAt) {
  CreateSession("s-1");
  Advance(1000);
  Event e = Append(
      "s-1",
      {.event_type = "note", .payload = "1", .occurred_at = kT0 - 60'000});
  EXPECT_EQ(e.occurred_at, kT0 - 60'000);
  EXPECT_EQ(e.ingested_at, kT0 + 1000);
  EXPECT_EQ(List("s-1", 0).events.at(0).occurred_at, kT0 - 60'000);
}

TEST_P(StoreConformance, AppendToMissingSessionIsNotFound) {
  EXPECT_THAT(db().Append(kAlice, "nope", Note("1")),
              FailsWith(StatusCode::kNotFound));
}

TEST_P(StoreConformance, EventTypeIsOneTo128Bytes) {
  CreateSession("s-1");
  EXPECT_OK(db().Append(kAlice, "s-1",
                        {.event_type = std::string(128, 't'), .payload = "1"}));
  EXPECT_THAT(
      db().Append(kAlice, "s-1",
                  {.event_type = std::string(129, 't'), .payload = "1"}),
      FailsOnField(StatusCode::kInvalidArgument, "eventType"));
  EXPECT_THAT(db().Append(kAlice, "s-1", {.event_type = "", .payload = "1"}),
              FailsOnField(StatusCode::kInvalidArgument, "eventType"));
  EXPECT_THAT(
      db().Append(kAlice, "s-1", {.event_type = "bad\xff", .payload = "1"}),
      FailsOnField(StatusCode::kInvalidArgument, "eventType"));
  EXPECT_EQ(Get("s-1").events.last_seq, 1u);
}

TEST_P(StoreConformance, EventOptionalIdsAreChecked) {
  CreateSession("s-1");
  NewEvent long_client_id = Note("1");
  long_client_id.client_event_id = std::string(257, 'c');
  EXPECT_THAT(db().Append(kAlice, "s-1", long_client_id),
              FailsOnField(StatusCode::kInvalidArgument, "clientEventId"));
  NewEvent empty_run = Note("1");
  empty_run.backend_run_id = "";
  EXPECT_THAT(db().Append(kAlice, "s-1", empty_run),
              FailsOnField(StatusCode::kInvalidArgument, "backendRunId"));
  NewEvent long_ref = Note("1");
  long_ref.payload_ref = std::string(257, 'r');
  EXPECT_THAT(db().Append(kAlice, "s-1", long_ref),
              FailsOnField(StatusCode::kInvalidArgument, "payloadRef"));
  NewEvent max_client_id = Note("1");
  max_client_id.client_event_id = std::string(256, 'c');
  EXPECT_OK(db().Append(kAlice, "s-1", max_client_id));
}

// ---------------------------------------------------------------- payloads

TEST_P(StoreConformance, PayloadIsStoredCanonicalAndCompact) {
  CreateSession("s-1");
  Event e = Append(
      "s-1",
      Note(" {\n  \"z\" : [ 1 , 2 ,{ \"y\" : \"\\u00e9\" } ],\n"
           "  \"a\" : 1.50 , \"m\" : null, \"t\": true, \"i\": -12 }\n"));
  const char* expected =
      "{\"z\":[1,2,{\"y\":\"\xc3\xa9\"}],\"a\":1.5,\"m\":null,\"t\":true,"
      "\"i\":-12}";
  EXPECT_EQ(e.payload, expected);  // key order kept, 1.50 -> 1.5
  EXPECT_EQ(List("s-1", 0).events.at(0).payload, expected);
  EXPECT_EQ(Get("s-1").events.bytes, std::string(expected).size());
}

TEST_P(StoreConformance, PayloadMayBeAnyJsonValue) {
  CreateSession("s-1");
  EXPECT_EQ(Append("s-1", Note(" \"hello\" ")).payload, "\"hello\"");
  EXPECT_EQ(Append("s-1", Note("42")).payload, "42");
  EXPECT_EQ(Append("s-1", Note("null")).payload, "null");
  EXPECT_EQ(Append("s-1", Note("[ ]")).payload, "[]");
  EXPECT_EQ(Append("s-1", Note("{ }")).payload, "{}");
  EXPECT_EQ(Append("s-1", Note(R"("q\"b\\s")")).payload, R"("q\"b\\s")");
}

TEST_P(StoreConformance, PayloadMustBeValidJson) {
  CreateSession("s-1");
  for (const char* bad :
       {"", "   ", "{", "}", R"({"a":})", "[1,]", R"({"a":1,})", "[1 2]",
        R"({"a":1} x)", "{a:1}", "'x'", "NaN", "Infinity", "-Infinity",
        "\"unterminated", "tru", "/* c */ 1", "[1] // c"}) {
    SCOPED_TRACE(testing::PrintToString(std::string(bad)));
    EXPECT_THAT(db().Append(kAlice, "s-1", Note(bad)),
                FailsOnField(StatusCode::kInvalidArgument, "payload"));
  }
  EXPECT_EQ(Get("s-1").events.last_seq, 0u);
}

TEST_P(StoreConformance, PayloadMustBeValidUtf8) {
  CreateSession("s-1");
  for (const char* bad :
       {"\"\xff\"", "\"\xc0\xaf\"", "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"",
        "\"\xe2\x82\"", "{\"\xfe\":1}",
        // A lone surrogate escape decodes to no valid UTF-8.
        R"("\ud800")"}) {
    SCOPED_TRACE(testing::PrintToString(std::string(bad)));
    EXPECT_THAT(db().Append(kAlice, "s-1", Note(bad)),
                FailsOnField(StatusCode::kInvalidArgument, "payload"));
  }
  EXPECT_EQ(Append("s-1", Note(R"("\ud83d\ude00")")).payload,
            "\"\xf0\x9f\x98\x80\"");
}

TEST_P(StoreConformance, PayloadDepth64IsAcceptedAnd65Refused) {
  CreateSession("s-1");
  EXPECT_OK(db().Append(kAlice, "s-1", Note(Nested(64, "[", "]"))));
  EXPECT_OK(db().Append(kAlice, "s-1", Note(Nested(64, "{\"a\":", "}"))));
  EXPECT_THAT(db().Append(kAlice, "s-1", Note(Nested(65, "[", "]"))),
              FailsOnField(StatusCode::kInvalidArgument, "payload"));
  EXPECT_THAT(db().Append(kAlice, "s-1", Note(Nested(65, "{\"a\":", "}"))),
              FailsOnField(StatusCode::kInvalidArgument, "payload"));
  EXPECT_EQ(Get("s-1").events.last_seq, 2u);
}

TEST_P(StoreConformance, PayloadRefusesDuplicateKeys) {
  CreateSession("s-1");
  for (const char* bad : {R"({"a":1,"a":2})", R"({"a":1,"b":2,"a":1})",
                          R"({"x":{"k":1,"k":1}})", R"([{"a":[],"a":[]}])"}) {
    SCOPED_TRACE(bad);
    EXPECT_THAT(db().Append(kAlice, "s-1", Note(bad)),
                FailsOnField(StatusCode::kInvalidArgument, "payload"));
  }
  EXPECT_OK(db().Append(kAlice, "s-1", Note(R"({"a":{"a":1},"b":{"a":1}})")));
}

TEST_P(StoreConformance, PayloadNumbersMustFitADouble) {
  CreateSession("s-1");
  for (const char* bad : {"1e400", "-1e400", R"({"n":[1e309]})"}) {
    SCOPED_TRACE(bad);
    EXPECT_THAT(db().Append(kAlice, "s-1", Note(bad)),
                FailsOnField(StatusCode::kInvalidArgument, "payload"));
  }
  EXPECT_OK(db().Append(kAlice, "s-1", Note("1.7976931348623157e308")));
}

TEST_P(StoreConformance, PayloadAtMaxBytesIsAcceptedAndOneMoreRefused) {
  options().limits.max_payload_bytes = 64;
  CreateSession("s-1");
  std::string at_limit = "\"" + std::string(62, 'x') + "\"";  // 64 bytes
  EXPECT_OK(db().Append(kAlice, "s-1", Note(at_limit)));
  // The cap applies to the canonical bytes, not to what was sent.
  EXPECT_OK(db().Append(kAlice, "s-1", Note("   " + at_limit + "   ")));
  std::string over = "\"" + std::string(63, 'x') + "\"";  // 65 bytes
  EXPECT_THAT(db().Append(kAlice, "s-1", Note(over)),
              FailsOnField(StatusCode::kPayloadTooLarge, "payload"));
  EXPECT_EQ(Get("s-1").events.last_seq, 2u);
}

// ----------------------------------------------------------------- listing

TEST_P(StoreConformance, ListEventsHonoursAfterAndLimit) {
  CreateSession("s-1");
  AppendN("s-1", 5);

  EventPage page = List("s-1", 2, 2);
  ASSERT_EQ(page.events.size(), 2u);
  EXPECT_EQ(page.events[0].seq, 3u);
  EXPECT_EQ(page.events[1].seq, 4u);
  EXPECT_EQ(page.first_seq, 1u);
  EXPECT_EQ(page.last_seq, 5u);
  EXPECT_FALSE(page.truncated);

  EXPECT_EQ(List("s-1", 0).events.size(), 5u);
  EXPECT_TRUE(List("s-1", 5).events.empty());
  EXPECT_TRUE(List("s-1", 99).events.empty());
  EXPECT_EQ(List("s-1", 4, 1000).events.at(0).payload, R"({"i":4})");
}

// A page also stops before its payloads pass max_page_bytes, with at least
// one event: a page of 1,000 events of 1 MiB was read, copied and
// serialised whole (a probe: ~600 MB resident for one request). Paging on
// from the last event returned reads every event once.
TEST_P(StoreConformance, ListEventsStopsAtMaxPageBytes) {
  options().max_page_bytes = 2999;
  CreateSession("s-1");
  const std::string text(998, 'x');  // canonical payload: 1,000 bytes
  for (int i = 0; i < 7; ++i) {
    Append("s-1", {.event_type = "note", .payload = "\"" + text + "\""});
  }
  std::vector<size_t> pages;
  std::vector<EventSeq> seqs;
  for (EventSeq after = 0;;) {
    EventPage page = List("s-1", after, 1000);
    if (page.events.empty()) break;
    EXPECT_EQ(page.last_seq, 7u);
    pages.push_back(page.events.size());
    for (const Event& e : page.events) seqs.push_back(e.seq);
    after = page.events.back().seq;
  }
  EXPECT_THAT(pages, ElementsAre(2u, 2u, 2u, 1u));
  EXPECT_THAT(seqs, ElementsAre(1u, 2u, 3u, 4u, 5u, 6u, 7u));
}

TEST_P(StoreConformance, ListEventsLimitIsOneToOneThousand) {
  CreateSession("s-1");
  EXPECT_THAT(db().ListEvents(kAlice, "s-1", 0, 0),
              FailsOnField(StatusCode::kInvalidArgument, "limit"));
  EXPECT_THAT(db().ListEvents(kAlice, "s-1", 0, 1001),
              FailsOnField(StatusCode::kInvalidArgument, "limit"));
  EXPECT_OK(db().ListEvents(kAlice, "s-1", 0, 1000));
}

TEST_P(StoreConformance, ListEventsOfEmptySession) {
  CreateSession("s-1");
  EventPage page = List("s-1", 0);
  EXPECT_TRUE(page.events.empty());
  EXPECT_EQ(page.first_seq, 1u);
  EXPECT_EQ(page.last_seq, 0u);
  EXPECT_FALSE(page.truncated);
}

TEST_P(StoreConformance, ListEventsOfMissingSessionIsNotFound) {
  EXPECT_THAT(db().ListEvents(kAlice, "nope", 0, 10),
              FailsWith(StatusCode::kNotFound));
}

}  // namespace
}  // namespace acpstore::conformance
