// The transcript stream's frames: what a stream sends over several calls
// while appends land between the pages of one call.

#include "server/transcript_frames.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <utility>

#include "acpstore/blocking_store.h"
#include "acpstore/store.h"

namespace acpstore::server {
namespace {

const Scope kScope{"t1", "k1", Scope::Access::kOwner};

class TranscriptFramesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StoreOptions o;
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
  ASSERT_TRUE(TranscriptFrames(read, &seq, &frames).ok());
  std::map<uint64_t, std::string> last;
  Collect(frames, &last);
  ASSERT_EQ(last.size(), 1100u);  // the entries as of the first page
  EXPECT_NE(last[900].find(R"("completed":false)"), std::string::npos);
  // The next call (the appends' events wake the stream) sends both.
  std::string more;
  ASSERT_TRUE(TranscriptFrames(read, &seq, &more).ok());
  Collect(more, &last);
  ASSERT_EQ(last.size(), 1101u);
  EXPECT_NE(last[900].find(R"("completed":true)"), std::string::npos) << last[900];
  EXPECT_EQ(seq, db_->GetSession(kScope, "s")->events.last_seq);
  std::string none;
  ASSERT_TRUE(TranscriptFrames(read, &seq, &none).ok());
  EXPECT_TRUE(none.empty());
}

}  // namespace
}  // namespace acpstore::server
