// FileEventLog: pending events stay hidden until durable, drops across the
// pending boundary, per-segment liveness, location arithmetic.

#include "engine/file_event_log.h"

#include <gtest/gtest.h>

#include "io/file_system.h"
#include "journal/format.h"

namespace acpstore::engine {
namespace {

Event Ev(EventSeq seq, std::string payload) {
  Event e;
  e.seq = seq;
  e.event_type = "note";
  e.payload = std::move(payload);
  return e;
}

class FileEventLogTest : public ::testing::Test {
 protected:
  FileEventLogTest()
      : cache_(1 << 20),
        reader_(io::PosixFileSystem(), "/nonexistent-acpstore-dir", &cache_),
        context_(&reader_),
        log_(&context_) {}

  // Appends events [first, first + payloads.size()) pending in `ticket`.
  void AppendPending(uint64_t ticket, EventSeq first,
                     const std::vector<std::string>& payloads) {
    spans_.clear();
    for (size_t i = 0; i < payloads.size(); ++i) {
      spans_.push_back({static_cast<uint32_t>(10 + 100 * i), 50});
    }
    context_.BeginPending(ticket, spans_);
    for (size_t i = 0; i < payloads.size(); ++i) {
      log_.Append(Ev(first + i, payloads[i]));
    }
    ASSERT_TRUE(context_.End());
  }

  PayloadCache cache_;
  FileEventReader reader_;
  FileLogContext context_;
  FileEventLog log_;
  std::vector<record::EventSpan> spans_;
};

TEST_F(FileEventLogTest, PendingEventsAreHiddenFromReadersUntilDurable) {
  AppendPending(1, 1, {"a", "bb"});
  EXPECT_EQ(log_.Info().last_seq, 2u);
  EXPECT_EQ(log_.Info().retained, 2u);
  EXPECT_EQ(log_.VisibleInfo().last_seq, 0u);
  EXPECT_EQ(log_.VisibleInfo().retained, 0u);
  std::vector<Event> out;
  ASSERT_TRUE(log_.Read(0, 10, kNoByteCap, &out).ok());
  EXPECT_TRUE(out.empty());
  // Deciders still see them (clientEventId dedupe).
  EXPECT_EQ(log_.Get(2)->payload, "bb");

  log_.MarkDurable(1, journal::RecordLocation{3, 1000, 400}, 2);
  EventStreamInfo info = log_.VisibleInfo();
  EXPECT_EQ(info.first_seq, 1u);
  EXPECT_EQ(info.last_seq, 2u);
  EXPECT_EQ(info.retained, 2u);
  EXPECT_EQ(info.bytes, 3u);
  // Served from the cache: the journal directory does not even exist.
  ASSERT_TRUE(log_.Read(0, 10, kNoByteCap, &out).ok());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].payload, "bb");
  EXPECT_EQ(context_.live_by_segment().at(3), 2u);
}

TEST_F(FileEventLogTest, ADropIntoPendingEventsHidesThemForGood) {
  AppendPending(7, 1, {"a", "b", "c"});
  EXPECT_EQ(log_.DropThrough(2), 2u);
  EXPECT_EQ(log_.Info().first_seq, 3u);
  EXPECT_EQ(log_.VisibleInfo().retained, 0u);
  EXPECT_EQ(log_.VisibleInfo().first_seq, log_.VisibleInfo().last_seq + 1);
  log_.MarkDurable(7, journal::RecordLocation{1, 100, 400}, 3);
  EventStreamInfo info = log_.VisibleInfo();
  EXPECT_EQ(info.first_seq, 3u);
  EXPECT_EQ(info.last_seq, 3u);
  EXPECT_EQ(info.retained, 1u);
  EXPECT_EQ(context_.index_entries(), 1u);
}

TEST_F(FileEventLogTest, DurableAppendsLocateEventsInsideTheirRecord) {
  std::vector<record::EventSpan> spans = {{20, 30}, {50, 40}};
  context_.BeginDurable(journal::RecordLocation{2, 500, 100}, spans);
  log_.Append(Ev(1, "x"));
  log_.Append(Ev(2, "y"));
  ASSERT_TRUE(context_.End());
  FileEventLog::Image image;
  log_.Capture(&image);
  ASSERT_EQ(image.durable.size(), 2u);
  EXPECT_EQ(
      image.durable[1].location,
      (EventLocation{2, static_cast<uint32_t>(500 + journal::kHeaderSize + 50),
                     40}));
  EXPECT_EQ(log_.VisibleInfo().last_seq, 2u);
}

TEST_F(FileEventLogTest, AppendsThatDoNotMatchTheSpansAreReported) {
  std::vector<record::EventSpan> one = {{20, 30}};
  context_.BeginPending(1, one);
  log_.Append(Ev(1, "x"));
  log_.Append(Ev(2, "y"));
  EXPECT_FALSE(context_.End());
}

TEST_F(FileEventLogTest, LivenessFollowsDropsAndDestruction) {
  {
    FileEventLog other(&context_);
    std::vector<record::EventSpan> spans = {{0, 10}, {10, 10}};
    context_.BeginDurable(journal::RecordLocation{5, 100, 100}, spans);
    other.Append(Ev(1, "1"));
    other.Append(Ev(2, "2"));
    ASSERT_TRUE(context_.End());
    context_.BeginDurable(journal::RecordLocation{6, 100, 100},
                          {spans.data(), 1});
    other.Append(Ev(3, "3"));
    ASSERT_TRUE(context_.End());
    EXPECT_EQ(context_.live_by_segment().at(5), 2u);
    EXPECT_EQ(*other.LastSeqInSegmentsThrough(5), 2u);
    EXPECT_EQ(*other.LastSeqInSegmentsThrough(9), 3u);
    EXPECT_FALSE(other.LastSeqInSegmentsThrough(4).has_value());
    other.DropThrough(2);
    EXPECT_EQ(context_.live_by_segment().count(5), 0u);
    EXPECT_EQ(context_.live_by_segment().at(6), 1u);
  }
  EXPECT_TRUE(context_.live_by_segment().empty());
  EXPECT_EQ(context_.index_entries(), 0u);
}

}  // namespace
}  // namespace acpstore::engine
