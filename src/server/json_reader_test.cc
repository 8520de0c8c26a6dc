// Unit tests: the request-body scanner and ObjectReader (json_reader.h)
// and the request codecs built on them.

#include "server/json_reader.h"

#include <gtest/gtest.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "server/request_codec.h"

namespace acpstore::server {
namespace {

std::string FieldOf(const Status& s) {
  const StatusDetail* d = s.Detail("field");
  return d ? std::get<std::string>(d->value) : "";
}

TEST(ScanJson, AcceptsEveryValueKindAndKeepsRawText) {
  auto v = ScanJson(R"(  {"a": [1, -2.5e3, "x\"y", true, false, null, {}]}  )",
                    "body", 8);
  ASSERT_TRUE(v.ok()) << v.error();
  EXPECT_EQ(v->kind, JsonKind::kObject);
  EXPECT_EQ(v->raw.front(), '{');
  EXPECT_EQ(v->raw.back(), '}');
}

TEST(ScanJson, RefusesBadGrammarWithTheByteOffset) {
  for (const char* bad :
       {"", "{", "{\"a\"}", "{\"a\":}", "[1,]", "01", "1.", "-", "tru", "\"abc",
        "\"\\x\"", "\"\\u12G4\"", "{} {}", "NaN", "{'a':1}"}) {
    auto v = ScanJson(bad, "body", 8);
    EXPECT_FALSE(v.ok()) << bad;
    if (!v.ok()) {
      EXPECT_EQ(FieldOf(v.error()), "body") << bad;
    }
  }
  auto v = ScanJson("[1,]", "body", 8);
  EXPECT_NE(v.error().message().find("byte 3"), std::string_view::npos)
      << v.error();
}

TEST(ScanJson, RefusesInvalidUtf8AndRawControlCharacters) {
  EXPECT_FALSE(ScanJson("\"\xC3\x28\"", "body", 8).ok());
  EXPECT_FALSE(ScanJson("\"\xED\xA0\x80\"", "body", 8).ok());  // surrogate
  EXPECT_FALSE(ScanJson("\"a\nb\"", "body", 8).ok());
}

TEST(ScanJson, DepthIsBoundedWithoutRecursingPastIt) {
  std::string ok = std::string(8, '[') + std::string(8, ']');
  EXPECT_TRUE(ScanJson(ok, "body", 8).ok());
  std::string deep = std::string(9, '[') + std::string(9, ']');
  EXPECT_FALSE(ScanJson(deep, "body", 8).ok());
  std::string hostile(1 << 20, '[');  // never closed; must not overflow
  EXPECT_FALSE(ScanJson(hostile, "body", 128).ok());
}

TEST(DecodeJsonString, HandlesEscapesAndSurrogatePairs) {
  auto s = DecodeJsonString(R"("a\n\t\"\\\/\u00e9\ud83d\ude00")", "f");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(*s, "a\n\t\"\\/\xC3\xA9\xF0\x9F\x98\x80");
  EXPECT_FALSE(DecodeJsonString(R"("\ud83d")", "f").ok());
  EXPECT_FALSE(DecodeJsonString(R"("\ude00")", "f").ok());
  EXPECT_FALSE(DecodeJsonString(R"("\ud83dx")", "f").ok());
}

TEST(ObjectReader, UnknownDuplicateAndWrongTypeFieldsAreNamed) {
  auto v = ScanJson(R"({"a":"x","b":1})", "body", 8);
  ObjectReader r(*v, "");
  EXPECT_EQ(r.OptString("a"), "x");
  Status s = r.Finish();
  EXPECT_EQ(FieldOf(s), "b");

  auto dup = ScanJson(R"({"a":1,"a":2})", "body", 8);
  ObjectReader d(*dup, "events[3]");
  EXPECT_EQ(FieldOf(d.Finish()), "events[3].a");

  auto typed = ScanJson(R"({"n":"7"})", "body", 8);
  ObjectReader t(*typed, "");
  EXPECT_FALSE(t.OptInt("n", 0, 10).has_value());
  EXPECT_EQ(FieldOf(t.Finish()), "n");
}

TEST(ObjectReader, HostileFieldCountsAreRefusedQuickly) {
  std::string body = "{";
  for (int i = 0; i < 200000; ++i)
    body += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":1";
  body += "}";
  auto v = ScanJson(body, "body", 8);
  ASSERT_TRUE(v.ok());
  ObjectReader r(*v, "");
  Status s = r.Finish();
  EXPECT_NE(s.message().find("more than"), std::string_view::npos) << s;
}

TEST(ObjectReader, IntegersAreExactAndInRange) {
  auto v = ScanJson(R"({"a":5,"b":1.5,"c":1e3,"d":99})", "body", 8);
  ObjectReader r(*v, "");
  EXPECT_EQ(r.OptInt("a", 0, 10), 5);
  EXPECT_FALSE(r.OptInt("b", 0, 10).has_value());
  EXPECT_FALSE(r.Finish().ok());
}

// A tape changes how readers find members, never what they find: the same
// members, kinds and slices with and without one, at every level (the
// tape covers four levels; deeper values are scanned again).
TEST(JsonTape, ReadersSeeTheSameValuesWithAndWithoutATape) {
  const std::string body =
      R"( {"events" : [ {"eventType":"a","payload":{"s":"x\"}","n":[1,{"d":[[]]}]}},)"
      R"({"eventType":"b","payload":"str","clientEventId":"c"}, 7, "s", [[["deep"]]] ],)"
      R"( "expectedLastSeq": 4, "o": {"k": {"k": {"k": {"k": "v"}}}} } )";
  JsonTape tape;
  auto taped = ScanJson(body, "body", 16, &tape);
  auto plain = ScanJson(body, "body", 16);
  ASSERT_TRUE(taped.ok() && plain.ok());
  EXPECT_EQ(taped->tape, &tape);
  EXPECT_EQ(plain->tape, nullptr);
  // Every object member and array element, recursively, both ways.
  std::function<void(const JsonValue&, const JsonValue&, int)> same =
      [&](const JsonValue& a, const JsonValue& b, int level) {
        ASSERT_EQ(a.kind, b.kind);
        ASSERT_EQ(a.raw, b.raw);
        ASSERT_EQ(a.raw.data(), b.raw.data());
        if (a.kind == JsonKind::kArray) {
          std::vector<JsonValue> ea = ArrayElements(a);
          std::vector<JsonValue> eb = ArrayElements(b);
          ASSERT_EQ(ea.size(), eb.size()) << a.raw;
          for (size_t i = 0; i < ea.size(); ++i) same(ea[i], eb[i], level + 1);
        } else if (a.kind == JsonKind::kObject) {
          for (std::string_view k :
               {"events", "eventType", "payload", "s", "n", "d", "o", "k",
                "clientEventId", "expectedLastSeq"}) {
            ObjectReader ra(a, "");
            ObjectReader rb(b, "");
            std::optional<JsonValue> va = ra.Get(k);
            std::optional<JsonValue> vb = rb.Get(k);
            ASSERT_EQ(va.has_value(), vb.has_value()) << k;
            if (va) same(*va, *vb, level + 1);
          }
        }
      };
  same(*taped, *plain, 0);
  // The tape holds the body, `events`, each event, each event's members.
  const char* events = body.data() + body.find('[');
  EXPECT_EQ(tape.EndOf(events), body.data() + body.find(", \"expectedLastSeq"));
  EXPECT_EQ(tape.EndOf(body.data()), nullptr);  // whitespace, not a value
  const char* inner = body.data() + body.find("{\"d\"");
  EXPECT_EQ(tape.EndOf(inner), nullptr);  // inside a payload: not recorded
}

TEST(RequestCodec, SingleEventKeepsPayloadTextAsSent) {
  auto a =
      ParseAppend(R"({"eventType":"t","payload": { "z" : 1, "a" : [ ] }})", 16);
  ASSERT_TRUE(a.ok()) << a.error();
  EXPECT_FALSE(a->batch);
  ASSERT_EQ(a->request.events.size(), 1u);
  EXPECT_EQ(a->request.events[0].payload, R"({ "z" : 1, "a" : [ ] })");
}

TEST(RequestCodec, BatchCarriesExpectedLastSeq) {
  auto a = ParseAppend(
      R"({"events":[{"eventType":"a","payload":1},{"eventType":"b","payload":null}],"expectedLastSeq":4})",
      16);
  ASSERT_TRUE(a.ok()) << a.error();
  EXPECT_TRUE(a->batch);
  EXPECT_EQ(a->request.events.size(), 2u);
  EXPECT_EQ(a->request.events[1].payload, "null");
  EXPECT_EQ(a->request.expected_last_seq, 4u);
}

TEST(RequestCodec, PatchDistinguishesAbsentNullAndValue) {
  auto p = ParseSessionPatch(
      R"({"claudeSessionId":null,"acpAgentSessionId":"x"})", 16);
  ASSERT_TRUE(p.ok()) << p.error();
  ASSERT_TRUE(p->claude_session_id.has_value());
  EXPECT_FALSE(p->claude_session_id->has_value());
  EXPECT_EQ(p->acp_agent_session_id, std::optional<std::string>("x"));
  EXPECT_FALSE(p->current_backend_run_id.has_value());
  EXPECT_FALSE(ParseSessionPatch(R"({"transcriptId":"x"})", 16).ok());
  EXPECT_FALSE(ParseSessionPatch("", 16).ok());
}

TEST(RequestCodec, OptionalBodiesMayBeEmpty) {
  EXPECT_TRUE(ParseNewSession("", 16).ok());
  EXPECT_TRUE(ParseCancel("  ", 16).ok());
  EXPECT_TRUE(ParseLease("", 16).ok());
  EXPECT_FALSE(ParseNewAction("", 16).ok());
}

}  // namespace
}  // namespace acpstore::server
