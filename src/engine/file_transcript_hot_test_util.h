// The hot-transcript workload of decision 0021's tests, shared with
// decision 0027's (snapshots that refer to sealed parts in older ones):
// sessions appended to all the time, shaped like the HTTP batch
// benchmark's tool events, each event also folded whole in memory (what
// the memory engine keeps) so every read can be compared with it.

#ifndef ACPSTORE_ENGINE_FILE_TRANSCRIPT_HOT_TEST_UTIL_H_
#define ACPSTORE_ENGINE_FILE_TRANSCRIPT_HOT_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "engine/file_store_test_util.h"
#include "engine/transcript_dump_test_util.h"
#include "transcript/transcript.h"
#include "transcript/transcript_page.h"

namespace acpstore::engine {

inline constexpr int kSessions = 6;
// What one session's open tail may hold in this workload: the open tool
// (a 2.5 KB input) and the message after it (two ~300 B deltas), with the
// entries' overhead. Everything before is sealed.
inline constexpr uint64_t kTailBound = 6 << 10;

class TranscriptHotTest : public FileStoreTest {
 protected:
  TranscriptHotTest() {
    // A 64 KiB budget: transcripts get a 16 KiB share.
    options_.memory_budget_bytes = 64 << 10;
  }

  static std::string Id(int s) { return "hot-" + std::to_string(s); }
  uint64_t Share() const { return options_.memory_budget_bytes / 4; }

  void Append(int s, const std::string& type, const std::string& payload) {
    NewEvent e;
    e.event_type = type;
    e.payload = payload;
    Result<Event> r = db().Append(kAlice, Id(s), std::move(e));
    ASSERT_TRUE(r.ok()) << r.error();
    // The same event folded whole, as the memory engine keeps it.
    whole_[s].Fold(transcript::EventView{r->seq, r->event_type, r->occurred_at,
                                         r->payload},
                   limits_);
  }

  // One round of an agent turn per session, shaped like the HTTP batch
  // benchmark's tool events: the previous round's tool completes, a new
  // one starts with a 2.5 KB input (open until the next round), and a
  // message streams after it; usage now and then.
  void Round(int round) {
    for (int s = 0; s < kSessions; ++s) {
      const std::string r = std::to_string(round);
      if (round > 0) {
        Append(s, "tool.completed",
               R"({"status":"completed","text":"result )" + r +
                   R"( \"ok\"","toolCallId":"t)" + std::to_string(round - 1) +
                   "\"}");
      }
      Append(s, "tool.started",
             R"({"acp":{"raw":"frame"},"input":{"cmd":")" +
                 std::string(2500, static_cast<char>('a' + (s + round) % 26)) +
                 R"("},"kind":"execute","title":"run )" + r +
                 R"(","toolCallId":"t)" + r + "\"}");
      for (int d = 0; d < 2; ++d) {
        Append(s, "message.delta",
               R"({"messageId":"m)" + r + R"(","text":"s)" + std::to_string(s) +
                   "-" + r + "-" + std::to_string(d) + " caf\\u00e9 " +
                   std::string(300, 'x') + "\"}");
      }
      if (round % 5 == 4) {
        Append(s, "usage.updated", R"({"inputTokens":7,"outputTokens":3})");
      }
    }
  }

  Result<std::string> StoreDump(int s) {
    // Pages of 7: several, starting inside the sealed part.
    return DumpTranscript(
        [&](const TranscriptQuery& q) {
          return db().ReadTranscript(kAlice, Id(s), q);
        },
        7);
  }
  std::string WholeDump(int s) {
    return DumpTranscript(
               [&](const TranscriptQuery& q) -> Result<TranscriptPage> {
                 return transcript::ReadTranscriptPage(
                     whole_[s], q, transcript::CheckTranscriptQuery(q).value(),
                     kNoByteCap);
               },
               7)
        .value();
  }
  void ExpectAllEqualTheWholeFold() {
    for (int s = 0; s < kSessions; ++s) {
      Result<std::string> d = StoreDump(s);
      ASSERT_TRUE(d.ok()) << d.error();
      EXPECT_EQ(*d, WholeDump(s)) << "session " << s;
    }
  }

  transcript::Limits limits_;
  std::map<int, transcript::Transcript> whole_;
};

}  // namespace acpstore::engine

#endif  // ACPSTORE_ENGINE_FILE_TRANSCRIPT_HOT_TEST_UTIL_H_
