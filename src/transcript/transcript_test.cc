// Transcript fold: golden sequences shaped like Aegis's ACP mapper output
// (payloads carry the raw frame under "acp"), the cap, the encoding, and a
// randomized run checking the invariants and the round trip.

#include "transcript/transcript.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "record/canonical_json.h"
#include "record/json_generator_test_util.h"
#include "record/validate.h"
#include "transcript/json_fields.h"
#include "transcript/transcript_page.h"

namespace acpstore::transcript {
namespace {

struct Ev {
  std::string type;
  std::string payload;
};

// A raw ACP frame as Aegis embeds it: larger than the text it carries,
// with strings that hold braces and quotes to trip a careless scanner.
std::string Acp(const std::string& update) {
  return R"({"jsonrpc":"2.0","method":"session/update","params":{"sessionId":"s-1","update":{"sessionUpdate":")" +
         update + R"(","content":{"type":"text","text":"} { \" ] ["}}}})";
}

std::string Delta(const std::string& text, const std::string& message_id = "") {
  std::string p = R"({"acp":)" + Acp("agent_message_chunk");
  if (!message_id.empty()) p += R"(,"messageId":")" + message_id + "\"";
  return p + R"(,"text":")" + text + "\"}";
}

Transcript FoldAll(const std::vector<Ev>& events, const Limits& limits = {}) {
  Transcript t;
  EventSeq seq = 0;
  for (const Ev& e : events) {
    ++seq;
    t.Fold(EventView{seq, e.type, 1000 + static_cast<TimestampMs>(seq),
                     e.payload},
           limits);
  }
  return t;
}

Transcript RoundTrip(const Transcript& t) {
  std::string head;
  t.EncodeHead(&head);
  Transcript out;
  EXPECT_TRUE(Transcript::DecodeHead(head, &out).ok());
  for (uint64_t i = t.first_index(); i < t.end_index(); ++i) {
    std::string body;
    Transcript::EncodeEntry(t.at(i), &body);
    std::string_view in = body;
    Entry e;
    EXPECT_TRUE(Transcript::DecodeEntry(&in, &e).ok());
    EXPECT_TRUE(in.empty());
    out.AddDecoded(std::move(e));
  }
  EXPECT_EQ(out.expected_entries(), t.size());
  return out;
}

TEST(JsonFieldsTest, ScansTopLevelMembersAndSkipsNestedOnes) {
  std::vector<std::pair<std::string, std::string>> seen;
  ScanTopLevel(R"({"a":{"b":"}","c":[1,{"d":"\""}]},"e":"x\"y","f":-1.5e3,"g":null})",
               [&](std::string_view k, std::string_view v) {
                 seen.emplace_back(k, v);
                 return true;
               });
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[0].second, R"({"b":"}","c":[1,{"d":"\""}]})");
  EXPECT_EQ(seen[1].first, "e");
  EXPECT_EQ(seen[1].second, R"("x\"y")");
  EXPECT_EQ(seen[2].second, "-1.5e3");
  EXPECT_EQ(seen[3].second, "null");
  std::string text;
  EXPECT_TRUE(AppendStringValue(R"("x\"y\u00e9")", &text));
  EXPECT_EQ(text, "x\"y\xc3\xa9");
  text.clear();
  EXPECT_TRUE(AppendStringValue(R"("a\nb\t\\c\/")", &text));
  EXPECT_EQ(text, "a\nb\t\\c/");
  text.clear();
  EXPECT_FALSE(AppendStringValue(R"("bad\q")", &text));
  EXPECT_TRUE(text.empty());
  seen.clear();
  ScanTopLevel("[1,2]", [&](std::string_view k, std::string_view v) {
    seen.emplace_back(k, v);
    return true;
  });
  EXPECT_TRUE(seen.empty());
}

TEST(JsonFieldsTest, ScansBackwardToTheLastNonScalarMember) {
  std::vector<std::pair<std::string, std::string>> seen;
  auto all = [&](std::string_view k, std::string_view v) {
    seen.emplace_back(k, v);
    return true;
  };
  EXPECT_EQ(ScanTopLevelBackward(
                R"({"acp":{"t":"}\"{"},"m":"a\\","n":-1.5e3,"k\"":"x\"y"})",
                all),
            BackwardScan::kNotScalar);
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].first, R"(k\")");
  EXPECT_EQ(seen[0].second, R"("x\"y")");
  EXPECT_EQ(seen[1].second, "-1.5e3");
  EXPECT_EQ(seen[2].second, R"("a\\")");
  seen.clear();
  EXPECT_EQ(ScanTopLevelBackward(R"({"a":true,"b":"c"})", all),
            BackwardScan::kFirst);
  EXPECT_EQ(seen.size(), 2u);
  EXPECT_EQ(ScanTopLevelBackward("{}", all), BackwardScan::kFirst);
  EXPECT_EQ(ScanTopLevelBackward("[1]", all), BackwardScan::kNotScalar);
  EXPECT_EQ(ScanTopLevelBackward(R"({"a":[1]})", all),
            BackwardScan::kNotScalar);
  seen.clear();
  EXPECT_EQ(ScanTopLevelBackward(R"({"a":1,"b":2})",
                                 [&](std::string_view k, std::string_view v) {
                                   seen.emplace_back(k, v);
                                   return false;
                                 }),
            BackwardScan::kStopped);
  EXPECT_EQ(seen, (std::vector<std::pair<std::string, std::string>>{{"b", "2"}}));
}

// Differential: on canonical objects of random members, the backward scan
// visits exactly the forward scan's members from the last one back, up to
// (not including) the last whose value is an object or array.
TEST(JsonFieldsTest, BackwardScanAgreesWithTheForwardOne) {
  record::JsonGenerator gen(20261206, /*spaces=*/false);
  int objects = 0;
  for (int i = 0; i < 20000; ++i) {
    const std::string doc = gen.Object(5, /*distinct_keys=*/false);
    Result<std::string> canonical =
        record::CanonicalizePayload(doc, acpstore::Limits{}, "payload");
    if (!canonical.ok()) continue;
    ++objects;
    std::vector<std::pair<std::string_view, std::string_view>> forward, backward;
    ScanTopLevel(*canonical, [&](std::string_view k, std::string_view v) {
      forward.emplace_back(k, v);
      return true;
    });
    const BackwardScan r = ScanTopLevelBackward(
        *canonical, [&](std::string_view k, std::string_view v) {
          backward.emplace_back(k, v);
          return true;
        });
    ASSERT_LE(backward.size(), forward.size()) << *canonical;
    for (size_t b = 0; b < backward.size(); ++b) {
      EXPECT_EQ(backward[b], forward[forward.size() - 1 - b]) << *canonical;
    }
    if (r == BackwardScan::kFirst) {
      EXPECT_EQ(backward.size(), forward.size()) << *canonical;
    } else {
      ASSERT_EQ(r, BackwardScan::kNotScalar);
      ASSERT_LT(backward.size(), forward.size()) << *canonical;
      const char first = forward[forward.size() - 1 - backward.size()].second[0];
      EXPECT_TRUE(first == '{' || first == '[') << *canonical;
    }
  }
  EXPECT_GT(objects, 5000);
}

// Differential: AppendStringValue decodes what the full decoder does, at
// every length around its 16-byte steps, and appends nothing to a string
// it refuses.
TEST(JsonFieldsTest, AppendStringValueAgreesWithTheFullDecoder) {
  static constexpr std::string_view kPieces[] = {
      "a", "plain text ", "\\n", "\\\"", "\\\\", "\\/", "\\t", "\\b",
      "\xC3\xA9", "0123456789abcde",
      // \u escapes (the full decoder's part), drawn only one time in four:
      "\\u0041", "\\u001f", "\\ud83d\\ude00"};
  std::mt19937 rng(20261206);
  for (int i = 0; i < 50000; ++i) {
    std::string body;
    const size_t pieces = rng() % 12;
    for (size_t p = 0; p < pieces; ++p) {
      body += kPieces[rng() % (std::size(kPieces) - (rng() % 4 == 0 ? 0 : 3))];
    }
    const bool broken = rng() % 20 == 0;
    if (broken) body += rng() % 2 == 0 ? "\\" : "\\q";
    Result<std::string> ref = record::UnescapeJsonStringBody(body, "text");
    std::string out = "kept";
    const bool ok = AppendStringValue("\"" + body + "\"", &out);
    if (broken) {
      EXPECT_FALSE(ok) << body;
      EXPECT_EQ(out, "kept") << body;
    } else {
      ASSERT_TRUE(ref.ok()) << body;
      ASSERT_TRUE(ok) << body;
      EXPECT_EQ(out, "kept" + *ref) << body;
    }
  }
}

TEST(JsonFieldsTest, CutsAtACharacterBoundary) {
  std::string s = "ab\xc3\xa9";  // 4 bytes, the last character 2 bytes
  EXPECT_TRUE(CutUtf8(&s, 3));
  EXPECT_EQ(s, "ab");
  EXPECT_FALSE(CutUtf8(&s, 3));
}

TEST(TranscriptTest, InterleavedMessageAndThoughtDeltas) {
  Transcript t = FoldAll({
      {"thinking.delta", R"({"acp":{},"text":"Let me "})"},
      {"thinking.delta", R"({"acp":{},"text":"think."})"},
      {"message.delta", Delta("Hello", "m1")},
      {"message.delta", Delta(", world", "m1")},
      {"session.updated", R"({"acp":{},"title":"x"})"},  // not folded
      {"message.delta", Delta("!")},                    // no id: continues
      {"thinking.delta", R"({"acp":{},"text":"Hmm"})"},
      {"message.delta", Delta("More", "m1")},  // after a thought: new entry
      {"message.delta", Delta("Other", "m2")},  // new messageId: new entry
  });
  ASSERT_EQ(t.size(), 5u);
  EXPECT_EQ(t.first_index(), 1u);
  EXPECT_EQ(t.at(1).kind, EntryKind::kThought);
  EXPECT_EQ(t.at(1).text, "Let me think.");
  EXPECT_EQ(t.at(1).first_seq, 1u);
  EXPECT_EQ(t.at(1).last_seq, 2u);
  EXPECT_EQ(t.at(2).kind, EntryKind::kAssistant);
  EXPECT_EQ(t.at(2).text, "Hello, world!");
  EXPECT_EQ(t.at(2).id, "m1");
  EXPECT_EQ(t.at(2).first_seq, 3u);
  EXPECT_EQ(t.at(2).last_seq, 6u);
  EXPECT_EQ(t.at(2).first_at, 1003);
  EXPECT_EQ(t.at(2).last_at, 1006);
  EXPECT_EQ(t.at(3).text, "Hmm");
  EXPECT_EQ(t.at(4).text, "More");
  EXPECT_EQ(t.at(5).text, "Other");
  EXPECT_EQ(t.at(5).id, "m2");
  EXPECT_EQ(t.folded_seq(), 9u);
  EXPECT_TRUE(t.complete());
  // The raw frame is never copied.
  for (uint64_t i = 1; i < t.end_index(); ++i) {
    EXPECT_EQ(t.at(i).text.find("jsonrpc"), std::string::npos);
  }
  EXPECT_TRUE(RoundTrip(t) == t);
}

// A payload's members are found wherever it puts them, before or after the
// raw frame (payloads keep the member order they were sent in, SPEC §2.7).
// A thought's messageId counts wherever it stands, as a message's does
// (0.1.x read it only before the text, so Aegis-shaped thoughts, whose
// messageId follows their text, never split; found by a review).
TEST(TranscriptTest, FieldsAreFoundWhereverThePayloadPutsThem) {
  const std::string acp = Acp("agent_message_chunk");
  Transcript t = FoldAll({
      {"message.delta", R"({"messageId":"m1","text":"a","acp":)" + acp + "}"},
      {"message.delta", R"({"text":"b","acp":)" + acp + R"(,"messageId":"m1"})"},
      {"message.delta", R"({"acp":)" + acp + R"(,"text":"c","messageId":"m2"})"},
      {"tool.started", R"({"title":"T","acp":)" + acp +
                           R"(,"input":{"p":"}\""},"toolCallId":"c1"})"},
      {"tool.started", R"({"toolCallId":"c2","kind":"read","status":"s","input":"i","title":"U","acp":)" +
                           acp + "}"},
      {"thinking.delta", R"({"messageId":"t1","text":"x"})"},
      {"thinking.delta", R"({"messageId":"t2","text":"y"})"},  // new id: new entry
      {"thinking.delta", R"({"text":"z","messageId":"t3"})"},   // after text: read
      {"thinking.delta", R"({"acp":)" + acp + R"(,"text":"w","messageId":"t3"})"},
      {"thinking.delta", R"({"acp":)" + acp + R"(,"text":"v"})"},  // no id: goes on
  });
  ASSERT_EQ(t.size(), 7u);
  EXPECT_EQ(t.at(1).text, "ab");
  EXPECT_EQ(t.at(1).id, "m1");
  EXPECT_EQ(t.at(2).text, "c");
  EXPECT_EQ(t.at(2).id, "m2");
  EXPECT_EQ(t.at(3).id, "c1");
  EXPECT_EQ(t.at(3).title, "T");
  EXPECT_EQ(t.at(3).input, R"({"p":"}\""})");
  EXPECT_EQ(t.at(4).id, "c2");
  EXPECT_EQ(t.at(4).tool_kind, "read");
  EXPECT_EQ(t.at(4).status, "s");
  EXPECT_EQ(t.at(4).input, "\"i\"");
  EXPECT_EQ(t.at(4).title, "U");
  EXPECT_EQ(t.at(5).id, "t1");
  EXPECT_EQ(t.at(6).text, "y");
  EXPECT_EQ(t.at(6).id, "t2");
  EXPECT_EQ(t.at(7).text, "zwv");
  EXPECT_EQ(t.at(7).id, "t3");
}

TEST(TranscriptTest, OverlappingToolsACompletionWithoutStartAndTurnEnd) {
  Transcript t = FoldAll({
      {"message.delta", Delta("Reading files")},
      {"tool.started",
       R"({"acp":{"x":1},"input":{"path":"a.txt"},"kind":"read","status":"pending","title":"Read a.txt","toolCallId":"t1"})"},
      {"tool.started",
       R"({"acp":{},"kind":"read","title":"Read b.txt","toolCallId":"t2"})"},
      {"tool.completed",
       R"({"acp":{},"status":"completed","text":"B contents","toolCallId":"t2"})"},
      {"message.delta", Delta(" done")},  // a new entry: tools came between
      {"tool.completed",
       R"({"acp":{},"output":{"lines":3},"status":"failed","toolCallId":"t1"})"},
      // An empty text is no text: the output is the result.
      {"tool.completed",
       R"({"acp":{},"output":"str out","status":"completed","text":"","toolCallId":"t9"})"},
      {"turn.completed", R"({"acp":{"big":[1,2,3]},"stopReason":"end_turn"})"},
      {"message.delta", Delta("Next turn")},
  });
  ASSERT_EQ(t.size(), 7u);
  const Entry& t1 = t.at(2);
  EXPECT_EQ(t1.kind, EntryKind::kTool);
  EXPECT_EQ(t1.id, "t1");
  EXPECT_EQ(t1.title, "Read a.txt");
  EXPECT_EQ(t1.tool_kind, "read");
  EXPECT_EQ(t1.status, "failed");
  EXPECT_EQ(t1.input, R"({"path":"a.txt"})");
  EXPECT_EQ(t1.text, R"({"lines":3})");
  EXPECT_TRUE(t1.started);
  EXPECT_TRUE(t1.completed);
  EXPECT_EQ(t1.first_seq, 2u);
  EXPECT_EQ(t1.last_seq, 6u);
  const Entry& t2 = t.at(3);
  EXPECT_EQ(t2.id, "t2");
  EXPECT_EQ(t2.text, "B contents");
  EXPECT_EQ(t2.status, "completed");
  EXPECT_EQ(t2.last_seq, 4u);
  EXPECT_EQ(t.at(4).kind, EntryKind::kAssistant);
  EXPECT_EQ(t.at(4).text, " done");
  const Entry& t9 = t.at(5);
  EXPECT_EQ(t9.id, "t9");
  EXPECT_FALSE(t9.started);
  EXPECT_TRUE(t9.completed);
  EXPECT_EQ(t9.text, "str out");
  EXPECT_EQ(t.at(6).kind, EntryKind::kTurnEnd);
  EXPECT_EQ(t.at(6).fields, R"({"stopReason":"end_turn"})");
  EXPECT_EQ(t.at(7).text, "Next turn");
  EXPECT_TRUE(RoundTrip(t) == t);
}

// Found by a probe: ids were cut to 1 KiB before keying the open tools,
// so a second start displaced the first and the first one's completion
// went into the second one's entry.
TEST(TranscriptTest, LongToolCallIdsSharingTheirFirstKibibyteStayApart) {
  const std::string p(1100, 'p');
  Transcript t = FoldAll({
      {"tool.started", R"({"title":"one","toolCallId":")" + p + R"(-ONE"})"},
      {"tool.started", R"({"title":"two","toolCallId":")" + p + R"(-TWO"})"},
      {"tool.completed",
       R"({"text":"result of ONE","toolCallId":")" + p + R"(-ONE"})"},
  });
  ASSERT_EQ(t.size(), 2u);
  EXPECT_TRUE(t.at(1).completed);
  EXPECT_EQ(t.at(1).text, "result of ONE");
  EXPECT_FALSE(t.at(2).completed);
  EXPECT_NE(t.at(1).id, t.at(2).id);
  for (uint64_t i : {1, 2}) {
    EXPECT_LE(t.at(i).id.size(), 1024u);
    EXPECT_EQ(t.at(i).id.substr(0, 980), p.substr(0, 980));
    EXPECT_EQ(t.at(i).id.substr(980, 3), "\u2026");
    // "…(<length> bytes, crc32c <8 hex digits>)" of the whole id.
    EXPECT_EQ(t.at(i).id.substr(983, 20), "(1104 bytes, crc32c ");
    EXPECT_EQ(t.at(i).id.size(), 1012u);
    EXPECT_EQ(t.at(i).id.back(), ')');
  }
  // The stored id is the key: a decoded copy pairs the second completion.
  Transcript back = RoundTrip(t);
  EXPECT_TRUE(back == t);
  const std::string done =
      R"({"text":"result of TWO","toolCallId":")" + p + R"(-TWO"})";
  for (Transcript* x : {&t, &back}) {
    x->Fold(EventView{4, "tool.completed", 1004, done}, Limits{});
    ASSERT_EQ(x->size(), 2u);
    EXPECT_TRUE(x->at(2).completed);
    EXPECT_EQ(x->at(2).text, "result of TWO");
  }
  EXPECT_TRUE(back == t);
  // Short ids, up to the cap, are kept as they are.
  const std::string q(1024, 'q');
  Transcript u = FoldAll({
      {"tool.started", R"({"title":"q","toolCallId":")" + q + R"("})"},
  });
  EXPECT_EQ(u.at(1).id, q);
}

// Entries written before long ids were kept apart hold the id cut at
// 1 KiB: an open one still pairs with its completion.
TEST(TranscriptTest, AnOpenToolWithAPlainCutIdFromAnOlderReleaseCompletes) {
  const std::string p(1100, 'p');
  Transcript t;
  Entry e;
  e.kind = EntryKind::kTool;
  e.first_seq = e.last_seq = 1;
  e.id = p.substr(0, 1024);
  e.title = "old";
  e.started = true;
  std::string head;
  FoldAll({}).EncodeHead(&head);
  ASSERT_TRUE(Transcript::DecodeHead(head, &t).ok());
  t.AddDecoded(e);
  t.Fold(EventView{2, "tool.completed", 1002,
                   R"({"text":"done","toolCallId":")" + p + R"(-X"})"},
         Limits{});
  ASSERT_EQ(t.size(), 1u);
  EXPECT_TRUE(t.at(1).completed);
  EXPECT_EQ(t.at(1).text, "done");
}

TEST(TranscriptTest, SmallEntriesAndUsageTotals) {
  Transcript t = FoldAll({
      {"approval.requested",
       R"({"acp":{},"approvalId":"ap-1","options":["allow","deny"],"title":"Run rm?","toolCallId":"t1"})"},
      {"usage.updated",
       R"({"acp":{},"cost":0.5,"inputTokens":100,"outputTokens":20})"},
      {"usage.updated", R"({"acp":{},"inputTokens":50,"outputTokens":5})"},
      {"session.error", R"({"acp":{},"code":"E1","message":"boom"})"},
  });
  ASSERT_EQ(t.size(), 4u);
  EXPECT_EQ(t.at(1).kind, EntryKind::kApproval);
  EXPECT_EQ(t.at(1).fields,
            R"({"approvalId":"ap-1","title":"Run rm?","toolCallId":"t1"})");
  EXPECT_EQ(t.at(2).kind, EntryKind::kUsage);
  EXPECT_EQ(t.at(2).fields,
            R"({"cost":0.5,"inputTokens":100,"outputTokens":20})");
  EXPECT_EQ(t.at(4).kind, EntryKind::kError);
  EXPECT_EQ(t.at(4).fields, R"({"code":"E1","message":"boom"})");
  EXPECT_EQ(t.usage().at("inputTokens"), 150);
  EXPECT_EQ(t.usage().at("outputTokens"), 25);
  EXPECT_EQ(t.usage().count("cost"), 0u);  // not an integer
  EXPECT_EQ(t.entries_by_kind()[static_cast<int>(EntryKind::kUsage) - 1], 2u);
  EXPECT_TRUE(RoundTrip(t) == t);
}

TEST(TranscriptTest, ToolInputAndResultAreCutAndMarked) {
  Limits limits;
  limits.max_tool_bytes = 10;
  Transcript t = FoldAll(
      {{"tool.started",
        R"({"input":"0123456789abcdef","title":"x","toolCallId":"t"})"},
       {"tool.completed", R"({"text":"\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9","toolCallId":"t"})"}},
      limits);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_TRUE(t.at(1).input_cut);
  EXPECT_EQ(t.at(1).input, R"("012345678)");
  EXPECT_TRUE(t.at(1).text_cut);
  EXPECT_EQ(t.at(1).text, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9");
}

// The memory budget counts an entry's kept bytes: a cut tool result must
// not keep the capacity of the megabyte it was cut from.
TEST(TranscriptTest, ACutToolResultGivesItsCapacityBack) {
  Limits limits;
  limits.max_tool_bytes = 1024;
  const std::string big(1 << 20, 'x');
  Transcript t = FoldAll(
      {{"tool.started",
        R"({"input":")" + big + R"(","title":")" + big +
            R"(","toolCallId":"t"})"},
       {"tool.completed", R"({"output":")" + big + R"(","toolCallId":"t"})"}},
      limits);
  ASSERT_EQ(t.size(), 1u);
  ASSERT_TRUE(t.at(1).input_cut);
  ASSERT_TRUE(t.at(1).text_cut);
  EXPECT_EQ(t.at(1).text.size(), 1024u);
  EXPECT_LT(t.at(1).input.capacity(), 2 * limits.max_tool_bytes);
  EXPECT_LT(t.at(1).text.capacity(), 2 * limits.max_tool_bytes);
  EXPECT_LT(t.at(1).title.capacity(), 4096u);  // cut to 1 KiB
}

TEST(TranscriptTest, TheCapDropsOldestEntriesKeepingIndexes) {
  Limits limits;
  limits.max_bytes = 2000;
  std::vector<Ev> events;
  for (int i = 0; i < 40; ++i) {
    events.push_back({"message.delta", Delta("x", "m" + std::to_string(i))});
  }
  Transcript t = FoldAll(events, limits);
  EXPECT_FALSE(t.complete());
  EXPECT_LE(t.bytes(), limits.max_bytes);
  EXPECT_GT(t.first_index(), 1u);
  EXPECT_EQ(t.end_index(), 41u);
  // Index i still names the entry of message m(i-1).
  for (uint64_t i = t.first_index(); i < t.end_index(); ++i) {
    EXPECT_EQ(t.at(i).id, "m" + std::to_string(i - 1));
  }
  EXPECT_TRUE(RoundTrip(t) == t);
}

TEST(TranscriptTest, OldEventsAndCopiesDoNotChangeIt) {
  Transcript t = FoldAll({{"message.delta", Delta("a")}});
  EXPECT_FALSE(t.Fold(EventView{1, "message.delta", 0, Delta("b")}, {}));
  Transcript copy = t;  // shares the entry
  EXPECT_TRUE(t.Fold(EventView{2, "message.delta", 0, Delta("b")}, {}));
  EXPECT_EQ(copy.at(1).text, "a");
  EXPECT_EQ(t.at(1).text, "ab");
}

// An import placeholder (SPEC §8) stands for an event the import could not
// keep, or a seq the Aegis file lacked: conversation may have been lost
// there, so the transcript is incomplete (SPEC §13). A placeholder that
// kept a type the fold skips lost nothing of the transcript.
TEST(TranscriptTest, AnImportPlaceholderMakesItIncomplete) {
  const std::string lost =
      R"({"acpstoreImport":{"placeholder":true,"reason":"why"}})";
  Transcript missing_seq = FoldAll({{"message.delta", Delta("a")},
                                    {"acpstore.import.placeholder", lost},
                                    {"message.delta", Delta("b")}});
  EXPECT_FALSE(missing_seq.complete());
  EXPECT_EQ(missing_seq.size(), 1u);  // no entry of its own
  EXPECT_EQ(missing_seq.at(1).text, "ab");
  EXPECT_FALSE(RoundTrip(missing_seq).complete());
  EXPECT_TRUE(IsFolded("acpstore.import.placeholder"));

  Transcript kept_type = FoldAll({{"message.delta", Delta("a")},
                                  {"tool.completed", lost}});
  EXPECT_FALSE(kept_type.complete());

  Transcript skipped_type = FoldAll({{"message.delta", Delta("a")},
                                     {"custom.thing", lost}});
  EXPECT_TRUE(skipped_type.complete());

  // Only the placeholder's own shape counts, not the words in a payload.
  Transcript quoted = FoldAll(
      {{"message.delta", R"({"text":"{\"acpstoreImport\":{\"placeholder\":true,"})"},
       {"session.error", R"({"acpstoreImport":{"placeholder":false}})"}});
  EXPECT_TRUE(quoted.complete());
}

// A seal pass takes only the entries it seals: the last entry (which the
// next delta grows) is not shared, so that fold changes it in place
// instead of cloning it.
TEST(TranscriptTest, ShareHeldSharesOnlyTheEntriesItTakes) {
  Transcript t = FoldAll({{"message.delta", Delta("a", "m1")},
                          {"thinking.delta", Delta("b")},
                          {"message.delta", Delta("c", "m2")}});
  ASSERT_EQ(t.sealable_end(), 3u);
  std::vector<std::shared_ptr<const Entry>> taken = t.ShareHeld(3);
  ASSERT_EQ(taken.size(), 2u);
  EXPECT_EQ(taken[0]->text, "a");
  EXPECT_EQ(taken[1]->text, "b");
  EXPECT_TRUE(taken[0]->shared);
  EXPECT_FALSE(t.at(3).shared);
  const Entry* last = &t.at(3);
  EXPECT_TRUE(t.Fold(EventView{4, "message.delta", 0, Delta("d", "m2")}, {}));
  EXPECT_EQ(&t.at(3), last);  // changed in place, not cloned
  EXPECT_EQ(t.at(3).text, "cd");
  EXPECT_TRUE(t.ShareHeld(1).empty());
}

TEST(TranscriptTest, RejectsDamagedEncodings) {
  Transcript t;
  EXPECT_FALSE(Transcript::DecodeHead("", &t).ok());
  std::string body;
  Entry e;
  e.kind = EntryKind::kTool;
  Transcript::EncodeEntry(e, &body);
  body[0] = 9;
  std::string_view in = body;
  EXPECT_FALSE(Transcript::DecodeEntry(&in, &e).ok());
  body.resize(5);
  body[0] = 1;
  in = body;
  EXPECT_FALSE(Transcript::DecodeEntry(&in, &e).ok());
}

// Random sequences of every folded type (and some that are not): the
// invariants hold after every fold, the encoding round-trips, and folding
// the same events again gives the same transcript.
TEST(TranscriptTest, RandomizedSequences) {
  std::mt19937_64 rng(20261205);
  const char* types[] = {"message.delta", "thinking.delta", "tool.started",
                         "tool.completed", "approval.requested",
                         "session.error", "turn.completed", "usage.updated",
                         "session.updated", "acp.unsupported"};
  for (int round = 0; round < 200; ++round) {
    Limits limits;
    limits.max_bytes = 500 + rng() % 20000;
    limits.max_tool_bytes = 1 + rng() % 64;
    std::vector<Ev> events;
    const int n = 1 + static_cast<int>(rng() % 300);
    for (int i = 0; i < n; ++i) {
      const std::string type = types[rng() % 10];
      const std::string id = "x" + std::to_string(rng() % 4);
      const std::string text(rng() % 40, static_cast<char>('a' + rng() % 26));
      std::string p = R"({"acp":{"k":["}",{"q":"\""}]})";
      if (rng() % 2) p += R"(,"messageId":")" + id + "\"";
      p += R"(,"inputTokens":)" + std::to_string(rng() % 100);
      p += R"(,"output":{"o":")" + text + "\"}";
      p += R"(,"text":")" + text + "\"";
      p += R"(,"title":"T","toolCallId":")" + id + "\"}";
      events.push_back({type, p});
    }
    Transcript t = FoldAll(events, limits);
    ASSERT_LE(t.bytes(), limits.max_bytes);
    ASSERT_EQ(t.folded_seq(), static_cast<EventSeq>(n));
    uint64_t bytes = 0;
    EventSeq prev_first = 0;
    for (uint64_t i = t.first_index(); i < t.end_index(); ++i) {
      const Entry& e = t.at(i);
      bytes += e.Bytes();
      ASSERT_GT(e.first_seq, prev_first);  // created in seq order
      ASSERT_LE(e.first_seq, e.last_seq);
      ASSERT_LE(e.input.size(), limits.max_tool_bytes);
      if (e.kind == EntryKind::kTool) {
        ASSERT_LE(e.text.size(), limits.max_tool_bytes);
      }
      ASSERT_EQ(e.text.find("\"q\""), std::string::npos);
      prev_first = e.first_seq;
    }
    ASSERT_EQ(bytes, t.bytes());
    ASSERT_EQ(t.complete(), t.first_index() == 1);
    ASSERT_TRUE(RoundTrip(t) == t);
    ASSERT_TRUE(FoldAll(events, limits) == t);
  }
}

// Event `seq` of a random stream for the randomized tests below: one of
// seven types (one the fold ignores), three message/tool ids so entries
// grow, complete and interleave, and a payload with every field the fold
// reads (and the raw frame it must not copy).
struct RandomEvent {
  // `ids`: how many message/tool ids; `tools`: in 100, how many events
  // start a tool besides the types' own share (with many ids most starts
  // are never completed, as with an agent that is cancelled mid-tool).
  RandomEvent(std::mt19937_64& rng, int seq, uint64_t ids = 3,
              uint64_t tools = 0)
      : seq(seq) {
    static constexpr const char* kTypes[] = {
        "message.delta", "thinking.delta", "tool.started", "tool.completed",
        "usage.updated", "turn.completed", "note"};
    const std::string id = "x" + std::to_string(rng() % ids);
    const std::string text(rng() % 50, static_cast<char>('a' + rng() % 26));
    payload = R"({"acp":{"k":1})";
    if (rng() % 3 == 0) payload += R"(,"messageId":")" + id + "\"";
    payload += R"(,"inputTokens":3,"input":{"q":")" + text + "\"}";
    payload += R"(,"text":")" + text + R"(","title":"T","toolCallId":")" +
               id + "\"}";
    type = rng() % 100 < tools ? "tool.started" : kTypes[rng() % 7];
  }
  EventView view() const {
    return EventView{static_cast<EventSeq>(seq), type,
                     static_cast<TimestampMs>(seq), payload};
  }

  int seq;
  std::string type;
  std::string payload;
};

// Folds `events` into a whole transcript and, event by event, into a
// partial one kept as the postgres engine keeps it; fails the test at the
// first difference.
void ExpectPartialFoldsEqualTheWhole(const std::vector<RandomEvent>& events,
                                     const Limits& limits, int round) {
  Transcript whole;
  std::map<uint64_t, Entry> rows;  // the entry store
  std::string head;
  whole.EncodeHead(&head);
  uint64_t bytes = 0;
  std::vector<uint64_t> open;
  for (const RandomEvent& r : events) {
    const EventView ev = r.view();
    whole.Fold(ev, limits);

    // Load: the newest entry and the open tools' entries.
    std::vector<std::pair<uint64_t, Entry>> loaded;
    std::vector<uint64_t> want = open;
    if (!rows.empty()) want.push_back(rows.rbegin()->first);
    for (uint64_t idx : want) {
      if (!rows.count(idx)) continue;
      bool dup = false;
      for (const auto& l : loaded) dup = dup || l.first == idx;
      if (!dup) loaded.emplace_back(idx, rows.at(idx));
    }
    Transcript part;
    ASSERT_TRUE(Transcript::DecodePartial(
                    head, bytes, std::move(loaded),
                    [&](uint64_t idx) { return rows.at(idx).Bytes(); }, &part)
                    .ok());
    part.Fold(ev, limits);
    // Write back.
    for (uint64_t idx : part.touched()) {
      if (idx >= part.first_index()) rows[idx] = part.at(idx);
    }
    rows.erase(rows.begin(), rows.lower_bound(part.first_index()));
    head.clear();
    part.EncodeHead(&head);
    bytes = part.bytes();
    open = part.open_tool_indexes();

    std::string whole_head;
    whole.EncodeHead(&whole_head);
    ASSERT_EQ(head, whole_head) << "round " << round << " event " << r.seq;
    ASSERT_EQ(bytes, whole.bytes());
    ASSERT_EQ(open, whole.open_tool_indexes());
    ASSERT_EQ(rows.size(), whole.size());
    for (const auto& [idx, e] : rows) ASSERT_TRUE(e == whole.at(idx));
  }
}

std::vector<RandomEvent> RandomEvents(std::mt19937_64& rng, int n,
                                      uint64_t ids = 3, uint64_t tools = 0) {
  std::vector<RandomEvent> out;
  out.reserve(static_cast<size_t>(n));
  for (int i = 1; i <= n; ++i) out.emplace_back(rng, i, ids, tools);
  return out;
}

// Partial transcripts (DecodePartial), as the postgres engine keeps them:
// entries in a store of their own, each fold loading only the head, the
// newest entry and the open tools' entries, and writing back the head and
// the touched entries (dropped ones deleted). After every event the store
// holds exactly the whole transcript's entries, head and byte count.
TEST(TranscriptTest, PartialFoldsKeepAStoreEqualToTheWholeFold) {
  std::mt19937_64 rng(4242);
  for (int round = 0; round < 100; ++round) {
    Limits limits;
    limits.max_bytes = 400 + rng() % 6000;
    limits.max_tool_bytes = 1 + rng() % 32;
    const int n = 1 + static_cast<int>(rng() % 200);
    ExpectPartialFoldsEqualTheWhole(RandomEvents(rng, n), limits, round);
    ASSERT_FALSE(HasFatalFailure());
  }
}

// Folds `events` into a whole transcript and into one whose sealable
// prefix leaves at random points (`rng`; its entries kept aside, as a
// spill file would), as the file engine keeps hot transcripts; the cap
// drops sealed entries by bookkeeping. After every event the head and
// byte count equal the whole fold's, the held entries equal its entries,
// no open tool is sealed, and (every `unseal_every` events) unsealing a
// copy with the kept entries gives the whole.
void ExpectSealedFoldsEqualTheWhole(std::mt19937_64& rng,
                                    const std::vector<RandomEvent>& events,
                                    const Limits& limits, int round,
                                    int unseal_every = 1) {
  Transcript whole;
  Transcript sealed;
  std::map<uint64_t, Entry> aside;  // the sealed entries, by index
  for (const RandomEvent& r : events) {
    const int i = r.seq;
    const EventView ev = r.view();
    whole.Fold(ev, limits);
    sealed.Fold(ev, limits);
    if (rng() % 4 == 0) {
      const uint64_t end = sealed.sealable_end();
      ASSERT_GE(end, sealed.held_index());
      if (!sealed.empty()) {
        ASSERT_LT(end, sealed.end_index());  // never the last entry
      }
      for (uint64_t idx : sealed.open_tool_indexes()) ASSERT_GE(idx, end);
      for (uint64_t idx = sealed.held_index(); idx < end; ++idx) {
        aside[idx] = sealed.at(idx);
      }
      sealed.Seal(end);
      ASSERT_EQ(sealed.held_index(), end);
    }
    std::string a, b;
    whole.EncodeHead(&a);
    sealed.EncodeHead(&b);
    ASSERT_EQ(a, b) << "round " << round << " event " << i;
    ASSERT_EQ(sealed.bytes(), whole.bytes());
    ASSERT_EQ(sealed.resident_bytes() + sealed.sealed_bytes(), whole.bytes());
    ASSERT_EQ(sealed.open_tool_indexes(), whole.open_tool_indexes());
    ASSERT_LE(sealed.first_index(), sealed.held_index());
    for (uint64_t idx = sealed.held_index(); idx < sealed.end_index(); ++idx) {
      ASSERT_TRUE(sealed.at(idx) == whole.at(idx));
    }
    // Entries sealed before never changed since.
    for (uint64_t idx = sealed.first_index(); idx < sealed.held_index();
         ++idx) {
      ASSERT_TRUE(aside.at(idx) == whole.at(idx));
    }
    if (i % unseal_every != 0 && i != static_cast<int>(events.size())) {
      continue;
    }
    Transcript copy = sealed;
    std::vector<Entry> back;
    for (uint64_t idx = copy.first_index(); idx < copy.held_index(); ++idx) {
      back.push_back(aside.at(idx));
    }
    ASSERT_TRUE(copy.Unseal(std::move(back)).ok());
    ASSERT_TRUE(copy == whole) << "round " << round << " event " << i;
  }
  // Unseal refuses the wrong entries and changes nothing then.
  if (sealed.held_index() > sealed.first_index()) {
    Transcript copy = sealed;
    EXPECT_EQ(copy.Unseal({}).code(), StatusCode::kDataLoss);
    std::vector<Entry> back;
    for (uint64_t idx = copy.first_index(); idx < copy.held_index(); ++idx) {
      back.push_back(aside.at(idx));
    }
    back.front().text += "x";
    EXPECT_EQ(copy.Unseal(std::move(back)).code(), StatusCode::kDataLoss);
    EXPECT_TRUE(copy == sealed);
  }
}

TEST(TranscriptTest, SealedPrefixesKeepTheWholeFold) {
  std::mt19937_64 rng(20261216);
  for (int round = 0; round < 100; ++round) {
    Limits limits;
    limits.max_bytes = 400 + rng() % 6000;
    limits.max_tool_bytes = 1 + rng() % 32;
    const int n = 1 + static_cast<int>(rng() % 200);
    ExpectSealedFoldsEqualTheWhole(rng, RandomEvents(rng, n), limits, round);
    ASSERT_FALSE(HasFatalFailure());
  }
}

// Decision 0031: a tool start waits for its completion while at most
// kOpenToolWindow entries follow it. At the window's edge the completion
// still completes the start; one entry later the start stays as it is,
// the late completion is an entry of its own, and the start no longer
// stops a seal. Decoding (whole and partial, the latter from a head
// written before the window that still lists the start) closes it as the
// fold did.
// FirstChangeableAfter: for every earlier seq S, no entry before the
// index it gives has changed after S (so a page of the entries changed
// after S may start there), on streams whose tool starts stay open long
// and complete near the window's edge, and a page read from there is the
// brute-force answer.
TEST(TranscriptTest, NoEntryBeforeTheFirstChangeableOneChangedSince) {
  std::mt19937_64 rng(20261206);
  for (int round = 0; round < 6; ++round) {
    Transcript t;
    const int n = 1500 + static_cast<int>(rng() % 1500);
    for (int seq = 1; seq <= n; ++seq) {
      RandomEvent ev(rng, seq, /*ids=*/round % 2 == 0 ? 40 : 300, /*tools=*/30);
      t.Fold(ev.view(), Limits{});
      if (seq % 97 != 0 && seq != n) continue;
      for (int k = 0; k < 20; ++k) {
        const auto s = static_cast<EventSeq>(rng() % static_cast<uint64_t>(seq));
        const uint64_t from = FirstChangeableAfter(t, s);
        ASSERT_GE(from, t.held_index());
        for (uint64_t i = t.held_index(); i < from; ++i) {
          ASSERT_LE(t.at(i).last_seq, s) << "seq " << seq << " S " << s << " i " << i;
        }
        std::vector<uint64_t> want, got;
        for (uint64_t i = t.first_index(); i < t.end_index(); ++i) {
          if (t.at(i).last_seq > s) want.push_back(i);
        }
        TranscriptQuery q;
        q.limit = 1000;
        q.changed_after_seq = s;
        while (true) {
          TranscriptPage page = ReadTranscriptPage(t, q, ~0u, ~uint64_t{0});
          for (const TranscriptEntry& e : page.entries) got.push_back(e.index);
          ASSERT_GE(page.next, q.after);
          q.after = page.next;
          if (page.next + 1 >= page.end_index) break;
        }
        ASSERT_EQ(got, want) << "seq " << seq << " S " << s;
      }
    }
  }
}

TEST(TranscriptTest, AToolStartWaitsForItsCompletionThroughTheWindowOnly) {
  constexpr uint64_t kWindow = Transcript::kOpenToolWindow;
  auto start = [](const std::string& id) {
    return Ev{"tool.started",
              R"({"acp":{},"title":"T","toolCallId":")" + id + "\"}"};
  };
  auto done = [](const std::string& id) {
    return Ev{"tool.completed",
              R"({"acp":{},"text":"out","toolCallId":")" + id + "\"}"};
  };
  const Ev usage{"usage.updated", R"({"acp":{},"inputTokens":1})"};
  for (uint64_t after : {kWindow, kWindow + 1}) {
    SCOPED_TRACE("entries after the start: " + std::to_string(after));
    std::vector<Ev> events = {start("t1")};
    for (uint64_t i = 0; i < after; ++i) events.push_back(usage);
    Transcript before = FoldAll(events);
    events.push_back(done("t1"));
    Transcript t = FoldAll(events);
    const bool waited = after <= kWindow;
    EXPECT_EQ(before.open_tool_indexes(),
              waited ? std::vector<uint64_t>{1} : std::vector<uint64_t>{});
    EXPECT_EQ(before.sealable_end(), waited ? 1u : before.end_index() - 1);
    EXPECT_EQ(t.at(1).completed, waited);
    EXPECT_EQ(t.at(1).text, waited ? "out" : "");
    ASSERT_EQ(t.size(), after + (waited ? 1 : 2));
    if (!waited) {
      const Entry& late = t.at(t.end_index() - 1);
      EXPECT_EQ(late.id, "t1");
      EXPECT_FALSE(late.started);
      EXPECT_TRUE(late.completed);
      EXPECT_EQ(late.text, "out");
    }
    EXPECT_TRUE(RoundTrip(before) == before);
    EXPECT_TRUE(RoundTrip(t) == t);

    // An open list that still names the start (as postgres's `open_idx`
    // written before the window would), so the start's entry is loaded
    // with the last one.
    std::string head;
    before.EncodeHead(&head);
    Transcript part;
    ASSERT_TRUE(Transcript::DecodePartial(
                    head, before.bytes(),
                    {{1, before.at(1)},
                     {before.end_index() - 1, before.at(before.end_index() - 1)}},
                    [&](uint64_t idx) { return before.at(idx).Bytes(); }, &part)
                    .ok());
    EXPECT_EQ(part.open_tool_indexes(), before.open_tool_indexes());
  }
}

// Long streams with many tool ids, where most starts are never completed
// (an agent cancelled mid-tool, again and again): the window closes them
// as the stream goes, and the partial and sealed ways of keeping the
// transcript still equal the whole fold, event by event.
TEST(TranscriptTest, LongStreamsWithStartsLeftOpenKeepEveryWayEqual) {
  std::mt19937_64 rng(31);
  for (int round = 0; round < 4; ++round) {
    Limits limits;
    // The last round under a cap, so that the cap's drops (which close a
    // start they take) and the window's closes meet.
    limits.max_bytes = round < 3 ? uint64_t{64} << 20 : 100 << 10;
    limits.max_tool_bytes = 1 + rng() % 32;
    const std::vector<RandomEvent> events =
        RandomEvents(rng, 4000, /*ids=*/200, /*tools=*/15);
    ExpectPartialFoldsEqualTheWhole(events, limits, round);
    ASSERT_FALSE(HasFatalFailure());
    ExpectSealedFoldsEqualTheWhole(rng, events, limits, round,
                                   /*unseal_every=*/250);
    ASSERT_FALSE(HasFatalFailure());
    Transcript whole;
    for (const RandomEvent& r : events) whole.Fold(r.view(), limits);
    ASSERT_GT(whole.size(), Transcript::kOpenToolWindow + 100);
    if (round == 3) {
      ASSERT_FALSE(whole.complete());  // the cap dropped some
    }
    for (uint64_t idx : whole.open_tool_indexes()) {
      EXPECT_LE(whole.end_index() - 1 - idx, Transcript::kOpenToolWindow);
    }
    // Starts the window closed: never completed, no later start of their
    // id (which would have replaced them), and past the window.
    std::map<std::string, uint64_t> last_start;
    for (uint64_t i = whole.first_index(); i < whole.end_index(); ++i) {
      const Entry& e = whole.at(i);
      if (e.kind == EntryKind::kTool && e.started) last_start[e.id] = i;
    }
    uint64_t closed_by_window = 0;
    for (const auto& [id, i] : last_start) {
      const Entry& e = whole.at(i);
      if (!e.completed &&
          whole.end_index() - 1 - i > Transcript::kOpenToolWindow) {
        ++closed_by_window;
      }
    }
    EXPECT_GT(closed_by_window, 10u);
    EXPECT_TRUE(RoundTrip(whole) == whole);
  }
}

// A copy of a capped transcript indexes its entries as the original does
// (the copy used to restart at index 1, so a snapshot of a capped
// transcript encoded the wrong entries).
TEST(TranscriptTest, ACopyOfACappedTranscriptKeepsItsIndexes) {
  std::vector<Ev> events;
  for (int i = 0; i < 20; ++i) {
    events.push_back({"message.delta", Delta(std::string(100, 'a' + i),
                                             "m" + std::to_string(i))});
  }
  Limits limits;
  limits.max_bytes = 1000;
  const Transcript t = FoldAll(events, limits);
  ASSERT_GT(t.first_index(), 1u);
  const Transcript copy = t;
  for (uint64_t i = t.first_index(); i < t.end_index(); ++i) {
    EXPECT_EQ(copy.at(i).text, t.at(i).text);
  }
  EXPECT_TRUE(RoundTrip(copy) == t);
}

TEST(TranscriptTest, DecodePartialRefusesEntriesOutsideTheHead) {
  Transcript t = FoldAll({{"message.delta", Delta("a", "m1")},
                          {"message.delta", Delta("b", "m2")}});
  std::string head;
  t.EncodeHead(&head);
  Transcript out;
  // The newest entry (2) is required.
  EXPECT_FALSE(Transcript::DecodePartial(head, t.bytes(), {{1, t.at(1)}},
                                         nullptr, &out)
                   .ok());
  EXPECT_FALSE(Transcript::DecodePartial(head, t.bytes(), {{3, t.at(2)}},
                                         nullptr, &out)
                   .ok());
  EXPECT_TRUE(Transcript::DecodePartial(head, t.bytes(), {{2, t.at(2)}},
                                        nullptr, &out)
                  .ok());
  EXPECT_EQ(out.end_index(), 3u);
  EXPECT_EQ(out.size(), 2u);
}

}  // namespace
}  // namespace acpstore::transcript
