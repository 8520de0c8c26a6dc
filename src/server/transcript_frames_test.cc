// The transcript stream's frames: what a stream sends over several calls
// while appends land between the pages of one call.

#include "server/transcript_frames.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "acpstore/blocking_store.h"
#include "acpstore/store.h"

namespace acpstore::server {
namespace {

const Scope kScope{"t1", "k1", Scope::Access::kOwner};
constexpr size_t kNoCap = ~size_t{0};

class TranscriptFramesTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(StoreOptions{}); }
  void Open(StoreOptions o) {
    o.engine = Engine::kMemory;
    store_ = OpenStore(o).value();
    db_ = std::make_unique<BlockingStore>(*store_);
    NewSession s;
    s.id = "s";
    ASSERT_TRUE(db_->CreateSession(kScope, std::move(s)).ok());
  }
  void Append(const std::string& type, const std::string& payload) {
    NewEvent e;
    e.event_type = type;
    e.payload = payload;
    ASSERT_TRUE(db_->Append(kScope, "s", std::move(e)).ok());
  }
  // A new assistant entry (a new messageId each time).
  void Message(int n) {
    Append("message.delta", R"({"messageId":"m)" + std::to_string(n) +
                                R"(","text":"t"})");
  }
  // Frames by index: the last version of each entry sent, as its JSON.
  static void Collect(const std::string& frames,
                      std::map<uint64_t, std::string>* last) {
    size_t at = 0;
    while ((at = frames.find("data: ", at)) != std::string::npos) {
      const size_t end = frames.find('\n', at);
      const std::string json = frames.substr(at + 6, end - at - 6);
      const size_t i = json.find("\"index\":") + 8;
      (*last)[std::stoull(json.substr(i))] = json;
      at = end;
    }
  }

  std::unique_ptr<Store> store_;
  std::unique_ptr<BlockingStore> db_;
};

// Pages hold 1,000 changed entries. A tool completes on page 1 after it was
// read, and a new entry appears on page 2 before it is read: the stream
// moved past the completion's seq and never sent it (found by a probe:
// 5-7 completions of 100 lost per run on a 10,000-entry transcript).
TEST_F(TranscriptFramesTest, AChangeToAnEarlierPageDuringTheReadIsSentNext) {
  // The start at index 900 (page 1) stays open: fewer than 256 entries
  // follow it (decision 0031).
  for (int i = 0; i < 899; ++i) Message(i);
  Append("tool.started", R"({"toolCallId":"c1","title":"Read"})");
  for (int i = 899; i < 1099; ++i) Message(i);
  EventSeq seq = 0;
  TranscriptStreamState told;
  std::string frames;
  int reads = 0;
  auto read = [&](const TranscriptQuery& q) {
    if (++reads == 2) {  // between page 1 and page 2
      Append("tool.completed",
             R"({"toolCallId":"c1","status":"completed","output":"done"})");
      Message(100000);  // index 1101, on page 2
    }
    return db_->ReadTranscript(kScope, "s", q);
  };
  bool left = false;
  ASSERT_TRUE(
      TranscriptFrames(read, &seq, &told, kNoCap, &frames, &left).ok());
  EXPECT_FALSE(left);
  std::map<uint64_t, std::string> last;
  Collect(frames, &last);
  ASSERT_EQ(last.size(), 1100u);  // the entries as of the first page
  EXPECT_NE(last[900].find(R"("completed":false)"), std::string::npos);
  // The next call (the appends' events wake the stream) sends both.
  std::string more;
  ASSERT_TRUE(TranscriptFrames(read, &seq, &told, kNoCap, &more, &left).ok());
  Collect(more, &last);
  ASSERT_EQ(last.size(), 1101u);
  EXPECT_NE(last[900].find(R"("completed":true)"), std::string::npos) << last[900];
  EXPECT_EQ(seq, db_->GetSession(kScope, "s")->events.last_seq);
  std::string none;
  ASSERT_TRUE(TranscriptFrames(read, &seq, &told, kNoCap, &none, &left).ok());
  EXPECT_TRUE(none.empty());
}

// Found by a probe: a client resuming from before the entries the cap
// dropped got the next kept entry with no word of the gap (the events
// stream says `event: truncated`).
TEST_F(TranscriptFramesTest, AResumeFromBeforeTheKeptEntriesIsToldWhatWasDropped) {
  StoreOptions o;
  o.transcript_max_bytes = 1024;
  Open(o);
  for (int i = 0; i < 20; ++i) Message(i);  // seq i + 1, index i + 1
  const TranscriptPage page =
      db_->ReadTranscript(kScope, "s", TranscriptQuery{}).value();
  ASSERT_GT(page.first_index, 3u);
  ASSERT_EQ(page.entries.front().first_seq, page.first_index);
  const std::string marker = "event: truncated\ndata: {\"firstIndex\":" +
                             std::to_string(page.first_index) + "}\n\n";
  // What a stream resuming after `from` is sent first.
  auto frames_from = [&](EventSeq from) {
    EventSeq seq = from;
    TranscriptStreamState told;
    std::string frames;
    bool left = false;
    EXPECT_TRUE(TranscriptFrames(
                    [&](const TranscriptQuery& q) {
                      return db_->ReadTranscript(kScope, "s", q);
                    },
                    &seq, &told, kNoCap, &frames, &left)
                    .ok());
    return frames;
  };
  for (EventSeq from : {EventSeq{0}, EventSeq{1}, page.first_index - 2}) {
    const std::string frames = frames_from(from);
    EXPECT_EQ(frames.rfind(marker, 0), 0u) << "from " << from << ": " << frames;
    EXPECT_EQ(frames.find("truncated", marker.size()), std::string::npos);
    EXPECT_NE(frames.find("\"index\":" + std::to_string(page.first_index) + ","),
              std::string::npos);
  }
  // From the seq just before the first kept entry's: nothing was missed.
  for (EventSeq from : {page.first_index - 1, page.first_index + 2}) {
    const std::string frames = frames_from(from);
    EXPECT_EQ(frames.find("truncated"), std::string::npos) << frames;
    EXPECT_FALSE(frames.empty());
  }
}

// A transcript holds up to --transcript-max-bytes (16 MiB): one call sent
// every changed entry in one string, held whole for a client that does
// not read (found by a probe). A call stops once its frames reach
// max_bytes; the calls that follow send the rest, each entry once, in
// lastSeq order, as a resume from the last id sent would.
TEST_F(TranscriptFramesTest, ACallStopsAtMaxBytesAndTheNextGoesOn) {
  const std::string text(10000, 'a');
  for (int i = 0; i < 20; ++i) {
    Append("message.delta", R"({"messageId":"m)" + std::to_string(i) +
                                R"(","text":")" + text + "\"}");
  }
  auto read = [&](const TranscriptQuery& q) {
    return db_->ReadTranscript(kScope, "s", q);
  };
  EventSeq seq = 0;
  TranscriptStreamState told;
  std::map<uint64_t, std::string> last;
  std::vector<EventSeq> ids;
  int calls = 0;
  for (bool left = true; left; ++calls) {
    ASSERT_LT(calls, 100);
    std::string frames;
    ASSERT_TRUE(
        TranscriptFrames(read, &seq, &told, 25000, &frames, &left).ok());
    // Stops at the first frame that reaches the cap: at most one entry
    // (~10 KB here) past it.
    EXPECT_LT(frames.size(), 25000u + 11000u);
    if (left) {
      EXPECT_GE(frames.size(), 25000u);
    }
    for (size_t at = 0; (at = frames.find("id: ", at)) != std::string::npos;) {
      ids.push_back(std::stoull(frames.substr(at + 4)));
      at = frames.find('\n', at);
    }
    Collect(frames, &last);
  }
  EXPECT_EQ(calls, 7);  // 3 entries (30 KB) a call
  EXPECT_EQ(last.size(), 20u);
  ASSERT_EQ(ids.size(), 20u);  // each entry once, ascending
  for (size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(ids[i], i + 1);
  EXPECT_EQ(seq, 20u);
}

// ?textAppends=true: a growing message is read from the bytes the stream
// sent on (the store copies only the new text) and sent as appends; a
// tool is sent whole; a message of the same index but another first seq
// (another entry) is not appended to.
TEST_F(TranscriptFramesTest, AGrowingMessageIsReadAndSentFromWhereTheStreamLeftIt) {
  Append("message.delta", R"({"messageId":"m1","text":"ab"})");
  std::vector<TranscriptQuery> queries;
  std::vector<TranscriptEntry> read_entries;
  auto read = [&](const TranscriptQuery& q) {
    queries.push_back(q);
    Result<TranscriptPage> page = db_->ReadTranscript(kScope, "s", q);
    if (page.ok()) {
      for (const TranscriptEntry& e : page->entries) read_entries.push_back(e);
    }
    return page;
  };
  EventSeq seq = 0;
  TranscriptStreamState state;
  state.text_appends = true;
  bool left = false;
  std::string frames;
  ASSERT_TRUE(TranscriptFrames(read, &seq, &state, kNoCap, &frames, &left).ok());
  EXPECT_NE(frames.find("event: entry\n"), std::string::npos) << frames;
  EXPECT_EQ(state.sent.index, 1u);
  EXPECT_EQ(state.sent.bytes, 2u);
  Append("message.delta", R"({"messageId":"m1","text":"c\u00e9"})");
  Append("message.delta", R"({"messageId":"m1","text":"d"})");
  read_entries.clear();
  frames.clear();
  ASSERT_TRUE(TranscriptFrames(read, &seq, &state, kNoCap, &frames, &left).ok());
  EXPECT_EQ(queries.back().held_text.index, 1u);
  ASSERT_EQ(read_entries.size(), 1u);
  EXPECT_EQ(read_entries[0].text_offset, 2u);
  EXPECT_EQ(read_entries[0].text, "c\u00e9d");
  EXPECT_NE(frames.find("id: 3\nevent: append\ndata: {\"index\":1,\"lastSeq\":3,"
                        "\"lastAt\":\""),
            std::string::npos)
      << frames;
  EXPECT_NE(frames.find("\"text\":\"c\u00e9d\"}\n\n"), std::string::npos) << frames;
  EXPECT_EQ(state.sent.bytes, 6u);

  // A tool: whole, twice; the message's state stays.
  Append("tool.started", R"({"toolCallId":"t1","title":"Run"})");
  Append("tool.completed", R"({"toolCallId":"t1","text":"x"})");
  frames.clear();
  ASSERT_TRUE(TranscriptFrames(read, &seq, &state, kNoCap, &frames, &left).ok());
  EXPECT_EQ(frames.find("event: append"), std::string::npos) << frames;
  EXPECT_EQ(state.sent.index, 1u);

  // Another entry at the index the state names (as after a session was
  // deleted and re-created): the store does not cut it, and it is sent
  // whole.
  state.sent.first_seq = 99;
  state.sent.index = 3;
  state.sent.kind = "assistant";
  state.sent.bytes = 0;
  Append("message.delta", R"({"messageId":"m2","text":"new"})");
  read_entries.clear();
  frames.clear();
  ASSERT_TRUE(TranscriptFrames(read, &seq, &state, kNoCap, &frames, &left).ok());
  ASSERT_EQ(read_entries.size(), 1u);
  EXPECT_EQ(read_entries[0].text_offset, 0u);
  EXPECT_NE(frames.find("event: entry\n"), std::string::npos) << frames;
  EXPECT_EQ(state.sent.index, 3u);
  EXPECT_EQ(state.sent.bytes, 3u);
}

}  // namespace
}  // namespace acpstore::server
