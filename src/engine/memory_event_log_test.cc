// Tests for MemoryEventLog: dense reads, retention drops, high-water mark.

#include "engine/memory_event_log.h"

#include <gtest/gtest.h>

namespace acpstore::engine {
namespace {

Event Ev(EventSeq seq, std::string payload = "{}") {
  Event e;
  e.seq = seq;
  e.payload = std::move(payload);
  return e;
}

TEST(MemoryEventLogTest, NewLogIsEmptyStartingAtOne) {
  MemoryEventLog log;
  EventStreamInfo info = log.Info();
  EXPECT_EQ(info.first_seq, 1u);
  EXPECT_EQ(info.last_seq, 0u);
  EXPECT_EQ(info.retained, 0u);
}

TEST(MemoryEventLogTest, ReadsAfterCursorUpToLimit) {
  MemoryEventLog log;
  for (EventSeq s = 1; s <= 5; ++s) log.Append(Ev(s, "[1]"));
  std::vector<Event> out;
  ASSERT_TRUE(log.Read(2, 2, kNoByteCap, &out).ok());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].seq, 3u);
  EXPECT_EQ(out[1].seq, 4u);
  EXPECT_EQ(log.Info().bytes, 15u);
}

TEST(MemoryEventLogTest, DropAdvancesFirstSeqAndKeepsHighWaterMark) {
  MemoryEventLog log;
  for (EventSeq s = 1; s <= 4; ++s) log.Append(Ev(s));
  EXPECT_EQ(log.DropThrough(2), 2u);
  EXPECT_EQ(log.Info().first_seq, 3u);
  EXPECT_EQ(log.DropThrough(4), 2u);
  EventStreamInfo info = log.Info();
  EXPECT_EQ(info.first_seq, 5u);
  EXPECT_EQ(info.last_seq, 4u);
  EXPECT_EQ(info.retained, 0u);
  EXPECT_EQ(info.bytes, 0u);
  log.Append(Ev(5));
  EXPECT_EQ(log.Info().first_seq, 5u);
  EXPECT_EQ(log.Info().last_seq, 5u);
}

TEST(MemoryEventLogTest, ReadBelowFirstSeqStartsAtFirstRetained) {
  MemoryEventLog log;
  for (EventSeq s = 1; s <= 4; ++s) log.Append(Ev(s));
  log.DropThrough(2);
  std::vector<Event> out;
  ASSERT_TRUE(log.Read(0, 10, kNoByteCap, &out).ok());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].seq, 3u);
  EXPECT_FALSE(log.Get(2).ok());
  EXPECT_EQ(log.Get(4)->seq, 4u);
}

}  // namespace
}  // namespace acpstore::engine
