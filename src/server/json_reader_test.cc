// Unit tests: the request-body scanner and ObjectReader (json_reader.h)
// and the request codecs built on them.

#include "server/json_reader.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "acpstore/options.h"
#include "record/canonical_json.h"
#include "record/json_generator_test_util.h"
#include "record/validate.h"
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
  for (int i = 0; i < 200000; ++i) {
    body += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":1";
  }
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

// PATCH reads: absent stays unset, null clears, a value sets, and a value
// of the wrong type is an error (no change), for strings and objects alike.
TEST(ObjectReader, PatchReadsTellAbsentNullAndValueApart) {
  auto v =
      ScanJson(R"({"s":"x","sn":null,"o":{"k":"v"},"on":null})", "body", 8);
  ObjectReader r(*v, "");
  EXPECT_FALSE(r.PatchString("absent").has_value());
  EXPECT_EQ(r.PatchString("s"), std::optional<std::string>("x"));
  ASSERT_TRUE(r.PatchString("sn").has_value());
  EXPECT_FALSE(r.PatchString("sn")->has_value());
  EXPECT_FALSE(r.PatchObjectText("absent").has_value());
  EXPECT_EQ(r.PatchObjectText("o"), std::optional<std::string>(R"({"k":"v"})"));
  ASSERT_TRUE(r.PatchObjectText("on").has_value());
  EXPECT_FALSE(r.PatchObjectText("on")->has_value());
  EXPECT_TRUE(r.Finish().ok());

  auto wrong = ScanJson(R"({"s":{},"o":"x"})", "body", 8);
  ObjectReader w(*wrong, "");
  EXPECT_FALSE(w.PatchString("s").has_value());
  EXPECT_EQ(FieldOf(w.Finish()), "s");
  ObjectReader w2(*wrong, "");
  EXPECT_FALSE(w2.PatchObjectText("o").has_value());
  EXPECT_EQ(FieldOf(w2.Finish()), "o");
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

// The scanner's verdict on one document: "canonical/<nesting>" or "no".
std::string Verdict(std::string_view text) {
  auto v = ScanJson(text, "payload", 64);
  if (!v.ok()) return "refused";
  if (!v->canonical) return "no";
  return "canonical/" + std::to_string(v->nesting);
}

TEST(ScanJson, CanonicalVerdictOnHostileSpellings) {
  EXPECT_EQ(Verdict(R"({"a":[1,"x",{}],"b":null})"), "canonical/3");
  EXPECT_EQ(Verdict("\"tab\\t quote\\\" nl\\n \\u001f \\u0000\""),
            "canonical/0");
  EXPECT_EQ(Verdict("[[[1]]]"), "canonical/3");
  EXPECT_EQ(Verdict("{}"), "canonical/1");
  EXPECT_EQ(Verdict(" 7 "), "canonical/0");  // around the value is not in it
  EXPECT_EQ(Verdict("[-0,0,123456789012345678,0.1,1e+21,-1.5e-07]"),
            "canonical/1");
  // Not canonical, or left to the store: whitespace; duplicate keys;
  // escapes the canonical form does not use; numbers it respells; numbers
  // the payload fast path leaves to the full parser.
  const std::vector<std::string_view> no = {R"({"a": 1})",
                                            "[1, 2]",
                                            "{ }",
                                            "[\n]",
                                            R"({"a":1,"a":1})",
                                            R"({"a":{"b":1,"b":2}})",
                                            R"("a\/b")",
                                            R"("\u0041")",
                                            R"("\u00e9")",
                                            R"("\u001F")",
                                            R"("\u000a")",
                                            R"("\u0008")",
                                            R"("\ud83d\ude00")",
                                            "1.0",
                                            "1e5",
                                            "1E+21",
                                            "100e-2",
                                            "0.10",
                                            "1234567890123456789",
                                            "1e0001",
                                            "[1e400]"};
  for (std::string_view text : no) {
    EXPECT_EQ(Verdict(text), "no") << text;
  }
  // Keys of a closed inner object do not clash with the outer one's; equal
  // keys among more than a handful are still found.
  EXPECT_EQ(Verdict(R"({"a":{"a":1,"b":2},"b":{"a":3}})"), "canonical/2");
  std::string many = "{";
  for (int i = 0; i < 20; ++i) many += "\"k" + std::to_string(i) + "\":1,";
  EXPECT_EQ(Verdict(many.substr(0, many.size() - 1) + "}"), "canonical/1");
  EXPECT_EQ(Verdict(many + "\"k7\":2}"), "no");
}

// The property the store relies on (NewEvent::canonical_payload_nesting):
// whatever the scanner calls canonical, CanonicalizePayload -- Boost.JSON
// behind its fast path -- accepts unchanged within a size limit of its
// length and a depth limit of its nesting, and refuses one level less.
// Over random and hostile documents, compact and spaced, alone and as the
// payload of a request body (through the tape and ReadEvent).
TEST(ScanJson, CanonicalVerdictAgreesWithTheStore) {
  size_t store_unchanged = 0;
  size_t scanner_said = 0;
  for (const bool spaces : {false, true}) {
    record::JsonGenerator gen(spaces ? 20261205 : 5021, spaces);
    for (int i = 0; i < 20000; ++i) {
      const std::string in = gen.Document();
      auto v = ScanJson(in, "payload", 64);
      if (!v.ok()) continue;
      const std::string raw(v->raw);
      Result<std::string> reference =
          record::CanonicalizePayloadWithParser(raw, Limits{}, "payload");
      if (reference.ok() && *reference == raw) ++store_unchanged;
      if (v->canonical) {
        ++scanner_said;
        ASSERT_TRUE(reference.ok()) << raw;
        ASSERT_EQ(*reference, raw);
        Limits tight;
        tight.max_payload_bytes = static_cast<uint32_t>(raw.size());
        tight.max_json_depth = static_cast<uint32_t>(v->nesting);
        if (v->nesting > 0) {
          Result<std::string> at =
              record::CanonicalizePayload(raw, tight, "payload");
          ASSERT_TRUE(at.ok()) << raw;
          ASSERT_EQ(*at, raw);
          tight.max_json_depth -= 1;
          ASSERT_FALSE(record::CanonicalizePayload(raw, tight, "payload").ok())
              << raw;
        }
      }
      const std::string body =
          R"({"events":[{"eventType":"t","payload":)" + in + "}]}";
      auto a = ParseAppend(body, 128);
      ASSERT_TRUE(a.ok()) << body;
      const NewEvent& e = a->request.events[0];
      ASSERT_EQ(e.payload, raw);
      ASSERT_EQ(e.canonical_payload_nesting.has_value(), v->canonical) << in;
      if (v->canonical) {
        ASSERT_EQ(*e.canonical_payload_nesting,
                  static_cast<uint32_t>(v->nesting));
      }
    }
  }
  ASSERT_GT(store_unchanged, 5000u);
  // What it misses is rare spellings (long integers); most canonical text
  // is recognised.
  EXPECT_GT(scanner_said, store_unchanged * 9 / 10)
      << scanner_said << " of " << store_unchanged;
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

TEST(RequestCodec, LeaseTypesMayNotBeEmpty) {
  Result<LeaseRequest> empty = ParseLease(R"({"types":[]})", 16);
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(empty.error().message().find("types"), std::string::npos)
      << empty.error();
  Result<LeaseRequest> one = ParseLease(R"({"types":["close"]})", 16);
  ASSERT_TRUE(one.ok()) << one.error();
  EXPECT_EQ(one->types, std::vector<ActionType>{ActionType::kClose});
  EXPECT_TRUE(ParseLease(R"({"types":null})", 16).ok());
}

TEST(RequestCodec, OptionalBodiesMayBeEmpty) {
  EXPECT_TRUE(ParseNewSession("", 16).ok());
  EXPECT_TRUE(ParseCancel("", 16).ok());
  EXPECT_TRUE(ParseLease("", 16).ok());
  EXPECT_FALSE(ParseNewAction("", 16).ok());
}

// Empty is no body; whitespace alone is a body that is not JSON (it read
// as {} where the body is optional).
TEST(RequestCodec, AWhitespaceOnlyBodyIsNotAnEmptyOne) {
  for (std::string_view blank : {" ", "  \n", "\r\n", "\t"}) {
    for (const Status& s :
         {ParseNewSession(blank, 16).status(), ParseCancel(blank, 16).status(),
          ParseLease(blank, 16).status(), ParseNewAction(blank, 16).status()}) {
      EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s;
      EXPECT_NE(s.Detail("field"), nullptr) << s;
    }
  }
}

}  // namespace
}  // namespace acpstore::server
