// The reader's corruption policy, one scenario per case, plus exhaustive
// truncation and bit-flip sweeps over journals the writer produced.

#include "journal/journal_reader.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "io/string_file.h"
#include "journal/journal_test_util.h"
#include "journal/record_reader.h"

namespace acpstore::journal {
namespace {

class JournalReaderTest : public JournalTest {
 protected:
  // Writes `payloads` as a journal and returns their locations.
  std::vector<RecordLocation> Write(const std::vector<std::string>& payloads,
                                    uint64_t segment_bytes = 64 << 20) {
    auto c = Open(SyncMode::kAlways, segment_bytes);
    std::vector<RecordLocation> out;
    for (const std::string& p : payloads) {
      Result<RecordLocation> r = Commit(*c, p);
      EXPECT_TRUE(r.ok()) << r.status();
      if (r.ok()) out.push_back(*r);
    }
    EXPECT_TRUE(c->Close().ok());
    return out;
  }

  // Reads `bytes` as the journal's last segment, in memory: the sweeps below
  // run thousands of reads.
  static Replayed ReadInMemory(const std::string& bytes) {
    Replayed out;
    JournalReader reader(std::make_unique<io::StringFile>("mem", bytes),
                         bytes.size(), 1, /*last_segment=*/true);
    JournalRecord rec;
    for (;;) {
      Result<bool> more = reader.Next(&rec);
      if (!more) {
        out.status = more.status();
        return out;
      }
      if (!*more) break;
      out.payloads.emplace_back(rec.payload);
      out.locations.push_back(rec.location);
    }
    out.result.end = {1, reader.end_offset()};
    out.result.torn_bytes = reader.torn_bytes();
    return out;
  }

  static std::vector<std::string> Payloads(int n) {
    std::vector<std::string> out;
    for (int i = 0; i < n; ++i) {
      out.push_back("record-" + std::to_string(i) +
                    std::string(i * 3, 'a' + i));
    }
    return out;
  }
};

TEST_F(JournalReaderTest, ReadsBackEveryRecordInOrder) {
  const auto payloads = Payloads(5);
  const auto locations = Write(payloads);
  Replayed r = ReplayAll();
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.payloads, payloads);
  EXPECT_EQ(r.locations, locations);
  EXPECT_EQ(r.result.torn_bytes, 0u);
  EXPECT_EQ(r.result.end, locations.back().end());
}

TEST_F(JournalReaderTest, TornTailIsCleanEof) {
  const auto locations = Write(Payloads(3));
  std::string bytes = SegmentBytes(1);
  // Half of a fourth record's header, as a crash mid-write leaves it.
  std::string fourth;
  AppendRecord(&fourth, RecordType::kMutation, "never acknowledged");
  SetSegmentBytes(1, bytes + fourth.substr(0, 20));
  Replayed r = ReplayAll();
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.payloads, Payloads(3));
  EXPECT_EQ(r.result.end, locations.back().end());
  EXPECT_EQ(r.result.torn_bytes, 20u);
}

TEST_F(JournalReaderTest, ZeroFilledTailIsCleanEof) {
  const auto locations = Write(Payloads(3));
  SetSegmentBytes(1, SegmentBytes(1) + std::string(4096, '\0'));
  Replayed r = ReplayAll();
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.payloads.size(), 3u);
  EXPECT_EQ(r.result.torn_bytes, 4096u);
}

TEST_F(JournalReaderTest, ChecksumMismatchBeforeTailIsCorruption) {
  const auto locations = Write(Payloads(4));
  std::string bytes = SegmentBytes(1);
  // Damage the payload of record 1; records 2 and 3 still verify.
  bytes[locations[1].offset + kHeaderSize + 2] ^= 0x40;
  SetSegmentBytes(1, bytes);
  Replayed r = ReplayAll();
  ASSERT_EQ(r.status.code(), StatusCode::kCorruption) << r.status;
  EXPECT_NE(r.status.message().find(SegmentPath(dir_, 1)), std::string::npos);
  const StatusDetail* offset = r.status.Detail("offset");
  ASSERT_NE(offset, nullptr);
  EXPECT_EQ(std::get<int64_t>(offset->value),
            static_cast<int64_t>(locations[1].offset));
  EXPECT_EQ(r.payloads.size(), 1u) << "records before the damage were read";
}

TEST_F(JournalReaderTest, DamagedTailOfASealedSegmentIsCorruption) {
  // Tiny segments: each record gets its own segment.
  Write(Payloads(3), /*segment_bytes=*/40);
  ASSERT_GE(ListSegments(fs_, dir_)->size(), 3u);
  std::string first = SegmentBytes(1);
  SetSegmentBytes(1, first.substr(0, first.size() - 1));
  Replayed r = ReplayAll();
  EXPECT_EQ(r.status.code(), StatusCode::kCorruption) << r.status;
  EXPECT_NE(r.status.message().find("sealed"), std::string::npos) << r.status;
}

TEST_F(JournalReaderTest, MissingSegmentIsCorruption) {
  Write(Payloads(3), /*segment_bytes=*/40);
  ASSERT_TRUE(fs_.Remove(SegmentPath(dir_, 2)).ok());
  Replayed r = ReplayAll();
  EXPECT_EQ(r.status.code(), StatusCode::kCorruption);
  EXPECT_NE(r.status.message().find(SegmentFileName(2)), std::string::npos);
}

TEST_F(JournalReaderTest, ReplayFromAPositionSkipsWhatCameBefore) {
  const auto payloads = Payloads(6);
  const auto locations = Write(payloads, /*segment_bytes=*/120);
  for (size_t i = 0; i < locations.size(); ++i) {
    Replayed r = ReplayAll(locations[i].start());
    ASSERT_TRUE(r.status.ok()) << r.status;
    EXPECT_EQ(r.payloads,
              std::vector<std::string>(payloads.begin() + i, payloads.end()));
  }
  // Segments a snapshot covers may be deleted.
  ASSERT_TRUE(fs_.Remove(SegmentPath(dir_, 1)).ok());
  Replayed r = ReplayAll(locations.back().start());
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.payloads.back(), payloads.back());
}

TEST_F(JournalReaderTest, StartPastTheEndIsCorruption) {
  const auto locations = Write(Payloads(2));
  Replayed r = ReplayAll({1, locations.back().end().offset + 100});
  EXPECT_EQ(r.status.code(), StatusCode::kCorruption) << r.status;
}

TEST_F(JournalReaderTest, WrongSegmentNumberInHeaderIsCorruption) {
  Write(Payloads(2));
  ASSERT_TRUE(fs_.Rename(SegmentPath(dir_, 1), SegmentPath(dir_, 5)).ok());
  Replayed r = ReplayAll();
  EXPECT_EQ(r.status.code(), StatusCode::kCorruption);
  EXPECT_NE(r.status.message().find("names segment 1"), std::string::npos)
      << r.status;
}

// Cut the journal at every byte offset: recovery yields exactly the records
// that were complete before the cut, and the writer continues cleanly.
TEST_F(JournalReaderTest, EveryTruncationPointRecovers) {
  const auto payloads = Payloads(6);
  const auto locations = Write(payloads);
  const std::string full = SegmentBytes(1);
  for (size_t cut = 0; cut <= full.size(); ++cut) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    size_t complete = 0;
    while (complete < locations.size() &&
           locations[complete].end().offset <= cut) {
      ++complete;
    }
    const uint64_t good_end =
        complete > 0 ? locations[complete - 1].end().offset
                     : (cut >= kFirstRecordOffset ? kFirstRecordOffset : 0);
    Replayed r = ReadInMemory(full.substr(0, cut));
    ASSERT_TRUE(r.status.ok()) << r.status;
    ASSERT_EQ(r.payloads, std::vector<std::string>(
                              payloads.begin(), payloads.begin() + complete));
    EXPECT_EQ(r.result.end, (JournalPosition{1, good_end}));
    EXPECT_EQ(r.result.torn_bytes, cut - good_end);

    // Recovery from the file continues the journal after the cut (for cuts
    // in the last record and a few in the header: each round fsyncs).
    const bool in_header = cut == 0 || cut == kHeaderSize ||
                           cut == kFirstRecordOffset - 1 ||
                           cut == kFirstRecordOffset;
    if (complete + 1 < locations.size() && !in_header) continue;
    SetSegmentBytes(1, full.substr(0, cut));
    {
      auto c = Open();
      ASSERT_NE(c, nullptr);
      ASSERT_TRUE(Commit(*c, "after-recovery").ok());
      ASSERT_TRUE(c->Close().ok());
    }
    Replayed again = ReplayAll();
    ASSERT_TRUE(again.status.ok()) << again.status;
    ASSERT_EQ(again.payloads.size(), complete + 1);
    EXPECT_EQ(again.payloads.back(), "after-recovery");
    EXPECT_EQ(again.result.torn_bytes, 0u);
  }
}

// Flip every bit of a small journal: damage in the last record reads as a
// torn tail (a clean prefix), anywhere else it is reported; never is a
// record returned with content other than what was written.
TEST_F(JournalReaderTest, BitFlipSweep) {
  const auto payloads = Payloads(4);
  const auto locations = Write(payloads);
  const std::string full = SegmentBytes(1);
  const uint64_t last_start = locations.back().offset;
  for (size_t bit = 0; bit < full.size() * 8; ++bit) {
    SCOPED_TRACE("bit " + std::to_string(bit));
    std::string bytes = full;
    bytes[bit / 8] ^= static_cast<char>(1 << (bit % 8));
    Replayed r = ReadInMemory(bytes);
    for (size_t i = 0; i < r.payloads.size(); ++i) {
      ASSERT_EQ(r.payloads[i], payloads[i]) << "wrong data returned";
    }
    if (bit / 8 >= last_start) {
      ASSERT_TRUE(r.status.ok()) << r.status;
      EXPECT_EQ(r.payloads.size(), payloads.size() - 1);
      EXPECT_EQ(r.result.end, locations[payloads.size() - 2].end());
    } else {
      ASSERT_EQ(r.status.code(), StatusCode::kCorruption) << r.status;
    }
  }
}

TEST_F(JournalReaderTest, SegmentHeaderInTheMiddleIsCorruption) {
  Write(Payloads(2));
  SetSegmentBytes(1, SegmentBytes(1) + SegmentHeaderRecord(1));
  Replayed r = ReplayAll();
  EXPECT_EQ(r.status.code(), StatusCode::kCorruption) << r.status;
}

TEST_F(JournalReaderTest, ReaderOverAnInMemoryFile) {
  std::string bytes = SegmentHeaderRecord(3);
  AppendRecord(&bytes, RecordType::kMutation, "one");
  AppendRecord(&bytes, RecordType::kMutation, "");
  const uint64_t size = bytes.size();
  JournalReader reader(
      std::make_unique<io::StringFile>("mem", std::move(bytes)), size, 3,
      /*last_segment=*/true);
  JournalRecord rec;
  ASSERT_TRUE(*reader.Next(&rec));
  EXPECT_EQ(rec.payload, "one");
  ASSERT_TRUE(*reader.Next(&rec));
  EXPECT_EQ(rec.payload, "");
  EXPECT_FALSE(*reader.Next(&rec));
  EXPECT_FALSE(*reader.Next(&rec)) << "end is sticky";
  EXPECT_EQ(reader.end_offset(), size);
}

TEST_F(JournalReaderTest, ReadRecordAtReturnsThePayload) {
  const auto payloads = Payloads(4);
  const auto locations = Write(payloads);
  RecordReader reader(fs_, dir_);
  for (size_t i = 0; i < locations.size(); ++i) {
    auto with_hint = reader.ReadRecordAt(locations[i]);
    ASSERT_TRUE(with_hint.ok()) << with_hint.status();
    EXPECT_EQ(with_hint->payload, payloads[i]);
    EXPECT_EQ(with_hint->type, RecordType::kMutation);
    auto without =
        reader.ReadRecordAt(locations[i].segment, locations[i].offset);
    ASSERT_TRUE(without.ok()) << without.status();
    EXPECT_EQ(without->payload, payloads[i]);
  }
}

TEST_F(JournalReaderTest, ReadRecordAtChecksumMismatchIsDataLoss) {
  const auto locations = Write(Payloads(3));
  std::string bytes = SegmentBytes(1);
  bytes[locations[1].offset + kHeaderSize] ^= 1;
  SetSegmentBytes(1, bytes);
  RecordReader reader(fs_, dir_);
  for (uint32_t hint : {locations[1].size, 0u}) {
    auto r = reader.ReadRecordAt(1, locations[1].offset, hint);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), StatusCode::kDataLoss) << r.error();
    EXPECT_NE(r.error().message().find(SegmentPath(dir_, 1)),
              std::string::npos);
  }
  EXPECT_TRUE(reader.ReadRecordAt(locations[0]).ok());
  // A location that is not a record boundary, or a wrong size, is refused.
  EXPECT_EQ(reader.ReadRecordAt(1, locations[0].offset + 1).status().code(),
            StatusCode::kDataLoss);
  EXPECT_EQ(reader.ReadRecordAt(1, locations[0].offset, locations[0].size + 1)
                .status()
                .code(),
            StatusCode::kDataLoss);
}

}  // namespace
}  // namespace acpstore::journal
