// Mutation and record codec: round trips over random records, the decoder's
// strictness (each refusal named after its case), exhaustive truncation
// and bit-flip sweeps, and golden bytes that pin the format down.

#include "record/mutation_codec.h"

#include <gtest/gtest.h>

#include <string>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

#include "base/crc32c.h"
#include "base/format_version.h"
#include "record/mutation_format.h"
#include "record/random_records.h"
#include "record/record_codec.h"

namespace acpstore::record {
namespace {

// ------------------------------------------------------- field comparison

std::vector<std::pair<std::string, std::string>> Warnings(const Session& s) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& w : s.validation_warnings)
    out.emplace_back(w.code, w.message);
  return out;
}
auto Fields(const Session& s) {
  return std::make_tuple(
      s.id, s.tenant_id, s.owner_key_id, s.conversation_id, s.transcript_id,
      s.parent_session_id, s.root_session_id, s.correlation_id,
      s.resume_from_session_id, s.acp_agent_session_id, s.claude_session_id,
      s.current_backend_run_id, s.status, s.created_at, s.updated_at,
      s.closed_at, s.failed_at, s.backend_metadata, Warnings(s));
}
auto Fields(const Event& e) {
  return std::make_tuple(e.session_id, e.tenant_id, e.owner_key_id, e.seq,
                         e.client_event_id, e.event_type, e.occurred_at,
                         e.ingested_at, e.backend_run_id, e.payload_ref,
                         e.payload);
}
auto Fields(const Action& a) {
  return std::make_tuple(
      a.action_id, a.session_id, a.tenant_id, a.owner_key_id, a.type,
      a.idempotency_key, a.approval_id, a.control_request_id, a.status,
      a.created_at, a.available_at, a.updated_at, a.leased_until,
      a.attempt_count, a.lease_token, a.metadata, a.result_metadata,
      a.error_metadata, a.completed_at, a.failed_at, a.cancelled_at);
}
auto Fields(const Pause& p) {
  return std::make_tuple(
      p.pause_id, p.session_id, p.tenant_id, p.owner_key_id, p.status,
      p.idempotency_key, p.reason, p.requested_by, p.requested_at, p.metadata,
      p.intervention_id, p.intervention_by, p.intervention_started_at,
      p.intervention_completed_by, p.intervention_completed_at, p.guidance,
      p.resume_id, p.resumed_by, p.resumed_at, p.resume_metadata, p.updated_at,
      p.earlier_intervention_ids);
}

void ExpectSameOp(const MutationOp& a, const MutationOp& b) {
  ASSERT_EQ(a.index(), b.index());
  std::visit(
      [&b](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        const T& y = std::get<T>(b);
        if constexpr (std::is_same_v<T, UpsertSessionOp>) {
          EXPECT_EQ(Fields(x.session), Fields(y.session));
        } else if constexpr (std::is_same_v<T, AppendEventsOp>) {
          EXPECT_EQ(x.tenant_id, y.tenant_id);
          EXPECT_EQ(x.session_id, y.session_id);
          ASSERT_EQ(x.events.size(), y.events.size());
          for (size_t i = 0; i < x.events.size(); ++i) {
            EXPECT_EQ(Fields(x.events[i]), Fields(y.events[i]));
          }
        } else if constexpr (std::is_same_v<T, DropEventsOp>) {
          EXPECT_EQ(std::tie(x.tenant_id, x.session_id, x.through_seq),
                    std::tie(y.tenant_id, y.session_id, y.through_seq));
        } else if constexpr (std::is_same_v<T, UpsertActionOp>) {
          EXPECT_EQ(Fields(x.action), Fields(y.action));
        } else if constexpr (std::is_same_v<T, DeleteActionOp>) {
          EXPECT_EQ(std::tie(x.tenant_id, x.action_id),
                    std::tie(y.tenant_id, y.action_id));
        } else if constexpr (std::is_same_v<T, DeleteSessionOp>) {
          EXPECT_EQ(std::tie(x.tenant_id, x.session_id),
                    std::tie(y.tenant_id, y.session_id));
        } else if constexpr (std::is_same_v<T, AdvanceSeqOp>) {
          EXPECT_EQ(std::tie(x.tenant_id, x.session_id, x.through_seq),
                    std::tie(y.tenant_id, y.session_id, y.through_seq));
        } else {
          EXPECT_EQ(Fields(x.pause), Fields(y.pause));
        }
      },
      a);
}

void ExpectSameMutation(const Mutation& a, const Mutation& b) {
  ASSERT_EQ(a.ops.size(), b.ops.size());
  for (size_t i = 0; i < a.ops.size(); ++i) {
    SCOPED_TRACE("op " + std::to_string(i));
    ExpectSameOp(a.ops[i], b.ops[i]);
  }
}

std::string Encode(const Mutation& m, std::vector<EventSpan>* spans = nullptr) {
  std::string out;
  EncodeMutation(m, &out, spans);
  return out;
}

Status Decode(std::string_view bytes, Mutation* out) {
  return DecodeMutation(&bytes, out);
}

std::vector<Event> AllEvents(const Mutation& m) {
  std::vector<Event> out;
  for (const auto& op : m.ops) {
    if (const auto* a = std::get_if<AppendEventsOp>(&op)) {
      out.insert(out.end(), a->events.begin(), a->events.end());
    }
  }
  return out;
}

// ------------------------------------------------------------ round trips

TEST(MutationCodecTest, RandomMutationsRoundTrip) {
  for (uint64_t seed = 0; seed < 500; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    RandomRecords r(seed);
    const Mutation m = r.RandomMutation();
    const std::string bytes = Encode(m);
    std::string_view input = bytes;
    Mutation back;
    ASSERT_TRUE(DecodeMutation(&input, &back).ok());
    EXPECT_TRUE(input.empty());
    ExpectSameMutation(m, back);
    // One encoding per value: re-encoding gives the same bytes.
    EXPECT_EQ(Encode(back), bytes);
  }
}

TEST(MutationCodecTest, EmptyMutationRoundTrips) {
  const std::string bytes = Encode(Mutation{});
  EXPECT_EQ(bytes, std::string("\x01\x00", 2));
  Mutation back;
  back.DeleteSession("t", "s");
  ASSERT_TRUE(Decode(bytes, &back).ok());
  EXPECT_TRUE(back.empty());
}

// SPEC §3, format compatibility: an encoding from a newer release is refused
// naming both versions (never decoded as something else), and is told apart
// from damage.
TEST(MutationCodecTest, NewerVersionsAreRefusedNamingBothVersions) {
  std::string bytes = Encode(Mutation{});
  bytes[0] = static_cast<char>(format::kMutationVersion + 1);
  Mutation back;
  Status s = Decode(bytes, &back);
  EXPECT_TRUE(IsNewerFormat(s)) << s;
  EXPECT_NE(s.message().find(
                "mutation encoding has format version " +
                std::to_string(format::kMutationVersion + 1) +
                "; this acpstore reads versions up to " +
                std::to_string(format::kMutationVersion)),
            std::string::npos)
      << s;
  bytes[0] = 0;
  EXPECT_FALSE(IsNewerFormat(Decode(bytes, &back)));

  RandomRecords r(3);
  std::string session;
  EncodeSession(r.RandomSession(), &session);
  session[0] = static_cast<char>(format::kSessionVersion + 1);
  std::string_view input = session;
  Session out;
  s = DecodeSession(&input, &out);
  EXPECT_TRUE(IsNewerFormat(s)) << s;
  EXPECT_NE(s.message().find(
                "has format version " +
                std::to_string(format::kSessionVersion + 1) +
                "; this acpstore reads versions up to " +
                std::to_string(format::kSessionVersion)),
            std::string::npos)
      << s;
}

// Pause version 2 added earlier_intervention_ids (bit 12). A version 1
// record (0.1.0's, without the bit) still reads back; a version 1 record
// claiming the bit is damage, not a format this build may guess at.
TEST(MutationCodecTest, APauseOfVersion1ReadsAndMayNotCarryBit12) {
  RandomRecords r(5);
  Pause p = r.RandomPause();
  p.earlier_intervention_ids.clear();
  std::string bytes;
  EncodePause(p, &bytes);
  ASSERT_EQ(bytes[0], 2);
  bytes[0] = 1;
  std::string_view input = bytes;
  Pause back;
  ASSERT_TRUE(DecodePause(&input, &back).ok());
  EXPECT_EQ(Fields(back), Fields(p));

  p.earlier_intervention_ids = {"i-1", "i-2"};
  bytes.clear();
  EncodePause(p, &bytes);
  input = bytes;
  ASSERT_TRUE(DecodePause(&input, &back).ok());
  EXPECT_EQ(back.earlier_intervention_ids, p.earlier_intervention_ids);
  bytes[0] = 1;
  input = bytes;
  Status s = DecodePause(&input, &back);
  EXPECT_EQ(s.code(), StatusCode::kCorruption) << s;
  EXPECT_NE(s.message().find("unknown presence bits 4096"), std::string::npos)
      << s;
}

TEST(MutationCodecTest, SessionStreamSummaryIsNotStored) {
  RandomRecords r(7);
  Session s = r.RandomSession();
  s.events = {5, 9, 5, 1234};
  std::string bytes;
  EncodeSession(s, &bytes);
  std::string_view input = bytes;
  Session back;
  ASSERT_TRUE(DecodeSession(&input, &back).ok());
  EXPECT_EQ(back.events.first_seq, 1u);
  EXPECT_EQ(back.events.last_seq, 0u);
  EXPECT_EQ(Fields(back), Fields(s));
}

TEST(MutationCodecTest, RecordDecodersConsumeOneRecordAndLeaveTheRest) {
  RandomRecords r(11);
  const Action a = r.RandomAction();
  const Pause p = r.RandomPause();
  std::string bytes;
  EncodeAction(a, &bytes);
  EncodePause(p, &bytes);
  std::string_view input = bytes;
  Action a2;
  Pause p2;
  ASSERT_TRUE(DecodeAction(&input, &a2).ok());
  ASSERT_TRUE(DecodePause(&input, &p2).ok());
  EXPECT_TRUE(input.empty());
  EXPECT_EQ(Fields(a2), Fields(a));
  EXPECT_EQ(Fields(p2), Fields(p));
}

// ------------------------------------------------------------ event spans

TEST(MutationCodecTest, EventSpansDecodeAloneToTheirEvents) {
  for (uint64_t seed = 0; seed < 100; ++seed) {
    RandomRecords r(seed);
    const Mutation m = r.EveryOpMutation();
    std::vector<EventSpan> spans;
    const std::string bytes = Encode(m, &spans);
    const std::vector<Event> events = AllEvents(m);
    ASSERT_EQ(spans.size(), events.size());
    for (size_t i = 0; i < spans.size(); ++i) {
      ASSERT_LE(spans[i].offset + spans[i].length, bytes.size());
      Event e;
      Status s = DecodeEventAt(
          std::string_view(bytes).substr(spans[i].offset, spans[i].length), &e);
      ASSERT_TRUE(s.ok()) << s;
      EXPECT_EQ(Fields(e), Fields(events[i]));
    }
  }
}

// EncodeMutation frames each event from its head and its payload in place
// (no intermediate copy of the event); the bytes are exactly those of
// framing the whole encoded event, EncodeFramedEvent, at every payload
// length (1-, 2- and 3-byte length varints).
TEST(MutationCodecTest, EventsAreFramedAsTheirWholeEncoding) {
  for (uint64_t seed = 0; seed < 100; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    RandomRecords r(seed);
    Mutation m = r.EveryOpMutation();
    std::vector<Event> extra = {r.RandomEvent(), r.RandomEvent(),
                                r.RandomEvent()};
    extra[0].payload.assign(127 + seed, 'x');
    extra[1].payload.assign(16383 + seed, 'y');
    extra[2].payload.assign(2500, '"');
    m.AppendEvents("t", "s", std::move(extra));
    std::vector<EventSpan> spans;
    const std::string bytes = Encode(m, &spans);
    const std::vector<Event> events = AllEvents(m);
    ASSERT_EQ(spans.size(), events.size());
    for (size_t i = 0; i < spans.size(); ++i) {
      std::string framed;
      EncodeFramedEvent(events[i], &framed);
      ASSERT_EQ(bytes.substr(spans[i].offset, spans[i].length), framed) << i;
    }
  }
}

TEST(MutationCodecTest, SpansAreRelativeToTheMutationNotTheBuffer) {
  RandomRecords r(3);
  Mutation m;
  m.AppendEvents("t", "s", {r.RandomEvent(), r.RandomEvent()});
  std::vector<EventSpan> alone, after_header;
  const std::string plain = Encode(m, &alone);
  std::string framed = "JOURNAL-HEADER";
  EncodeMutation(m, &framed, &after_header);
  EXPECT_EQ(alone, after_header);
  EXPECT_EQ(framed.substr(14), plain);
}

TEST(MutationCodecTest, SpansAccumulateAcrossAppendOps) {
  RandomRecords r(5);
  Mutation m;
  m.AppendEvents("t", "a", {r.RandomEvent()});
  m.UpsertSession(r.RandomSession());
  m.AppendEvents("t", "b", {r.RandomEvent(), r.RandomEvent()});
  std::vector<EventSpan> spans = {{1, 1}};  // appended to, not replaced
  Encode(m, &spans);
  ASSERT_EQ(spans.size(), 4u);
  EXPECT_LT(spans[1].offset + spans[1].length, spans[2].offset);
  EXPECT_EQ(spans[2].offset + spans[2].length, spans[3].offset);
}

TEST(MutationCodecTest, DecodeReportsTheSpansEncodeReported) {
  for (uint64_t seed = 0; seed < 500; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    RandomRecords r(seed);
    // Mix random mutations with ones holding every op kind.
    const Mutation m = seed % 2 == 0 ? r.RandomMutation() : r.EveryOpMutation();
    std::vector<EventSpan> encoded;
    const std::string bytes = Encode(m, &encoded);
    std::string_view input = bytes;
    Mutation back;
    std::vector<EventSpan> decoded;
    ASSERT_TRUE(DecodeMutation(&input, &back, &decoded).ok());
    EXPECT_TRUE(input.empty());
    EXPECT_EQ(decoded, encoded);
    ExpectSameMutation(m, back);
  }
}

TEST(MutationCodecTest, DecodedSpansAppendAndAreRelativeToTheInput) {
  RandomRecords r(6);
  Mutation m;
  m.AppendEvents("t", "a", {r.RandomEvent(), r.RandomEvent()});
  std::vector<EventSpan> encoded;
  const std::string bytes = Encode(m, &encoded);
  // The record body handed to the decoder starts after a journal header.
  const std::string framed = "HEADER" + bytes;
  std::string_view input = std::string_view(framed).substr(6);
  Mutation back;
  std::vector<EventSpan> decoded = {{7, 7}};  // appended to, not replaced
  ASSERT_TRUE(DecodeMutation(&input, &back, &decoded).ok());
  ASSERT_EQ(decoded.size(), 3u);
  EXPECT_EQ(decoded[0], (EventSpan{7, 7}));
  EXPECT_EQ(decoded[1], encoded[0]);
  EXPECT_EQ(decoded[2], encoded[1]);
}

TEST(MutationCodecTest, FailedDecodeLeavesTheSpansAlone) {
  RandomRecords r(12);
  Mutation m;
  m.AppendEvents("t", "a", {r.RandomEvent(), r.RandomEvent()});
  m.DeleteSession("t", "a");
  const std::string bytes = Encode(m);
  // Cut inside the last op: both events decode, then the mutation fails.
  const std::string cut = bytes.substr(0, bytes.size() - 1);
  std::string_view input = cut;
  Mutation back;
  std::vector<EventSpan> spans;
  EXPECT_EQ(DecodeMutation(&input, &back, &spans).code(),
            StatusCode::kCorruption);
  EXPECT_TRUE(spans.empty());
}

TEST(MutationCodecTest, BitFlipInsideEventSubRecordIsDataLoss) {
  RandomRecords r(21);
  Mutation m;
  Event e = r.RandomEvent();
  e.payload = R"({"delta":"hello"})";
  m.AppendEvents("t", "s", {e});
  std::vector<EventSpan> spans;
  const std::string bytes = Encode(m, &spans);
  const std::string sub = bytes.substr(spans[0].offset, spans[0].length);
  for (size_t bit = 0; bit < sub.size() * 8; ++bit) {
    std::string damaged = sub;
    damaged[bit / 8] ^= static_cast<char>(1 << (bit % 8));
    Event out;
    Status s = DecodeEventAt(damaged, &out);
    ASSERT_EQ(s.code(), StatusCode::kDataLoss) << "bit " << bit << ": " << s;
  }
}

TEST(MutationCodecTest, BitFlipInsideEventSubRecordFailsTheMutation) {
  RandomRecords r(22);
  Mutation m;
  m.AppendEvents("t", "s", {r.RandomEvent(), r.RandomEvent()});
  std::vector<EventSpan> spans;
  const std::string bytes = Encode(m, &spans);
  for (const EventSpan& span : spans) {
    for (size_t bit = 0; bit < span.length * 8; ++bit) {
      std::string damaged = bytes;
      damaged[span.offset + bit / 8] ^= static_cast<char>(1 << (bit % 8));
      Mutation out;
      Status s = Decode(damaged, &out);
      ASSERT_EQ(s.code(), StatusCode::kCorruption) << "bit " << bit;
    }
  }
}

TEST(MutationCodecTest, SpanLongerThanTheEventIsDataLoss) {
  RandomRecords r(4);
  std::string sub;
  EncodeFramedEvent(r.RandomEvent(), &sub);
  Event out;
  EXPECT_EQ(DecodeEventAt(sub + "x", &out).code(), StatusCode::kDataLoss);
  EXPECT_EQ(DecodeEventAt(sub.substr(0, sub.size() - 1), &out).code(),
            StatusCode::kDataLoss);
  EXPECT_EQ(DecodeEventAt("", &out).code(), StatusCode::kDataLoss);
}

TEST(MutationCodecTest, ChecksummedGarbageEventIsCorruptionNotDataLoss) {
  const std::string garbage = "\x01\x00\x05";  // string runs past the end
  std::string sub;
  base::PutFixed32(&sub, base::crc32c::Mask(base::crc32c::Value(garbage)));
  base::PutLengthPrefixed(&sub, garbage);
  Event out;
  EXPECT_EQ(DecodeEventAt(sub, &out).code(), StatusCode::kCorruption);
}

// ----------------------------------------------------------- strictness

TEST(MutationCodecTest, EveryTruncationPointFailsCleanly) {
  RandomRecords r(99);
  const std::string bytes = Encode(r.EveryOpMutation());
  for (size_t n = 0; n < bytes.size(); ++n) {
    // A copy of exactly n bytes, so ASan catches any read past the end.
    const std::string prefix = bytes.substr(0, n);
    std::string_view input = prefix;
    Mutation out;
    Status s = DecodeMutation(&input, &out);
    ASSERT_EQ(s.code(), StatusCode::kCorruption) << "length " << n;
    EXPECT_EQ(input.size(), n) << "input must be unchanged on failure";
  }
}

TEST(MutationCodecTest, TrailingBytesAreCorruption) {
  std::string bytes = Encode(RandomRecords(1).EveryOpMutation());
  bytes.push_back('\0');
  Mutation out;
  Status s = Decode(bytes, &out);
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_NE(s.message().find("trailing"), std::string_view::npos) << s;
}

TEST(MutationCodecTest, UnknownOpTagIsCorruption) {
  for (char tag : {'\x00', '\x09', '\xff'}) {
    Mutation out;
    Status s = Decode(std::string("\x01\x01", 2) + tag, &out);
    EXPECT_EQ(s.code(), StatusCode::kCorruption);
    EXPECT_NE(s.message().find("unknown op tag"), std::string_view::npos) << s;
  }
}

TEST(MutationCodecTest, UnsupportedVersionIsCorruption) {
  Mutation out;
  EXPECT_EQ(Decode(std::string("\x00\x00", 2), &out).code(),
            StatusCode::kCorruption);
  EXPECT_EQ(Decode(std::string("\x02\x00", 2), &out).code(),
            StatusCode::kCorruption);
}

// A minimal session: version 1, no optionals, five empty strings, then the
// status byte at offset 7 of the session.
std::string MinimalSessionWithStatus(char status) {
  return std::string("\x01\x00\x00\x00\x00\x00\x00", 7) + status +
         std::string("\x00\x00\x00", 3);
}

TEST(MutationCodecTest, BadEnumValueIsCorruption) {
  const std::string ok = MinimalSessionWithStatus('\x07');
  std::string_view ok_input = ok;
  Session s;
  ASSERT_TRUE(DecodeSession(&ok_input, &s).ok());
  EXPECT_EQ(s.status, SessionStatus::kFailed);
  const std::string bad = MinimalSessionWithStatus('\x08');
  std::string_view input = bad;
  Status st = DecodeSession(&input, &s);
  EXPECT_EQ(st.code(), StatusCode::kCorruption);
  EXPECT_NE(st.message().find("session.status"), std::string_view::npos) << st;
}

TEST(MutationCodecTest, UnknownPresenceBitIsCorruption) {
  std::string bytes("\x01", 1);  // version, then presence
  base::PutVarint32(&bytes, format::session_bit::kAll + 1);
  bytes += std::string(5, '\0') + '\x00' + std::string(3, '\0');
  std::string_view input = bytes;
  Session s;
  Status st = DecodeSession(&input, &s);
  EXPECT_EQ(st.code(), StatusCode::kCorruption);
  EXPECT_NE(st.message().find("presence"), std::string_view::npos) << st;
}

TEST(MutationCodecTest, HugeCountsAreRefusedBeforeAllocating) {
  Mutation out;
  std::string ops = std::string("\x01", 1);
  base::PutVarint32(&ops, 0xffffffffu);
  EXPECT_EQ(Decode(ops, &out).code(), StatusCode::kCorruption);

  std::string events("\x01\x01\x03\x01t\x01s", 7);
  base::PutVarint32(&events, 0xffffffffu);
  EXPECT_EQ(Decode(events, &out).code(), StatusCode::kCorruption);
}

TEST(MutationCodecTest, ErrorsNameTheOpAndOffset) {
  std::string bytes = Encode(RandomRecords(8).EveryOpMutation());
  bytes.resize(bytes.size() - 1);
  Mutation out;
  Status s = Decode(bytes, &out);
  EXPECT_NE(s.message().find("op 7 (advance_seq)"), std::string_view::npos)
      << s;
  ASSERT_NE(s.Detail("offset"), nullptr);
}

// --------------------------------------------------------------- golden

std::string Hex(std::string_view bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    if (!out.empty()) out.push_back(' ');
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

// The worked example of docs/mutation_format.md. If this fails, the disk
// format changed: that needs a new version number, not a new expectation.
TEST(MutationCodecTest, GoldenBytesOfTheWorkedExample) {
  Event e;
  e.session_id = "s1";
  e.tenant_id = "t";
  e.owner_key_id = "k";
  e.seq = 1;
  e.event_type = "x";
  e.occurred_at = 1000;
  e.ingested_at = 1001;
  e.payload = "{}";
  Mutation m;
  m.AppendEvents("t", "s1", {e});
  m.DropEvents("t", "s1", 0);
  std::vector<EventSpan> spans;
  const std::string bytes = Encode(m, &spans);
  EXPECT_EQ(Hex(bytes),
            "01 02 03 01 74 02 73 31 01 9b 9f 86 c5 13 01 00 02 73 31 01 74 "
            "01 6b 01 01 78 e8 07 e9 07 02 7b 7d 04 01 74 02 73 31 00");
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0], (EventSpan{9, 24}));
}

// advance_seq (tag 8) of docs/mutation_format.md: the import's high-water
// mark. A new tag in version 1, so older journals decode unchanged.
TEST(MutationCodecTest, GoldenBytesOfAdvanceSeq) {
  Mutation m;
  m.AdvanceSeq("t", "s1", 300);
  const std::string bytes = Encode(m);
  EXPECT_EQ(Hex(bytes), "01 01 08 01 74 02 73 31 ac 02");
  Mutation out;
  ASSERT_TRUE(Decode(bytes, &out).ok());
  ExpectSameMutation(m, out);
  EXPECT_EQ(out.DebugString(), "advance_seq t/s1 through 300\n");
}

}  // namespace
}  // namespace acpstore::record
