// Tests of record framing and segment naming, including the worked example
// in docs/journal_format.md (keep them in sync).

#include "journal/format.h"

#include <gtest/gtest.h>

#include <string>

#include "base/format_version.h"
#include "journal/segment_files.h"

namespace acpstore::journal {
namespace {

std::string Hex(std::string_view bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    if (!out.empty()) out.push_back(' ');
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

TEST(FormatTest, WorkedExampleFromTheDocs) {
  std::string record;
  AppendRecord(&record, RecordType::kMutation, "hello");
  EXPECT_EQ(Hex(record),
            "e2 2c f0 3d 05 00 00 00 02 bb 1f 1c 19 68 65 6c 6c 6f");
}

TEST(FormatTest, SegmentHeaderFromTheDocs) {
  EXPECT_EQ(Hex(SegmentHeaderRecord(1)),
            "98 60 ae bb 14 00 00 00 01 f0 a1 d2 44 41 43 50 53 4a 52 4e 4c "
            "01 00 00 00 01 00 00 00 00 00 00 00");
  EXPECT_EQ(SegmentHeaderRecord(1).size(), kFirstRecordOffset);
}

TEST(FormatTest, RecordRoundTrips) {
  std::string record;
  AppendRecord(&record, RecordType::kMutation, std::string(1000, 'x'));
  RecordHeader h;
  ASSERT_TRUE(DecodeHeader(record, &h));
  EXPECT_EQ(h.type, RecordType::kMutation);
  EXPECT_EQ(h.length, 1000u);
  EXPECT_TRUE(PayloadMatches(h, std::string_view(record).substr(kHeaderSize)));
  EXPECT_FALSE(PayloadMatches(h, std::string(1000, 'y')));
}

TEST(FormatTest, BeginFinishEqualsAppend) {
  std::string a, b = "prefix";
  AppendRecord(&a, RecordType::kMutation, "payload");
  const size_t at = BeginRecord(&b);
  b.append("payload");
  FinishRecord(&b, at, RecordType::kMutation);
  EXPECT_EQ(b.substr(6), a);
}

TEST(FormatTest, ZeroFilledHeaderIsNotARecord) {
  RecordHeader h;
  EXPECT_FALSE(DecodeHeader(std::string(kHeaderSize, '\0'), &h));
}

TEST(FormatTest, EverySingleBitFlipInAHeaderIsDetected) {
  std::string record;
  AppendRecord(&record, RecordType::kMutation, "abc");
  for (size_t bit = 0; bit < kHeaderSize * 8; ++bit) {
    std::string bad = record;
    bad[bit / 8] ^= static_cast<char>(1 << (bit % 8));
    RecordHeader h;
    EXPECT_FALSE(DecodeHeader(bad, &h)) << "bit " << bit;
  }
}

TEST(FormatTest, SegmentHeaderChecksNumberMagicAndVersion) {
  std::string rec = SegmentHeaderRecord(7);
  std::string_view payload = std::string_view(rec).substr(kHeaderSize);
  EXPECT_TRUE(CheckSegmentHeader(payload, 7, "p").ok());
  EXPECT_EQ(CheckSegmentHeader(payload, 8, "p").code(),
            StatusCode::kCorruption);
  std::string bad_magic(payload);
  bad_magic[0] = 'X';
  EXPECT_EQ(CheckSegmentHeader(bad_magic, 7, "p").code(),
            StatusCode::kCorruption);
  std::string zero_version(payload);
  zero_version[8] = 0;
  Status s = CheckSegmentHeader(zero_version, 7, "p");
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_FALSE(IsNewerFormat(s)) << s;
}

// SPEC §3, format compatibility: a segment from a newer release is refused
// naming both versions, and told apart from damage.
TEST(FormatTest, NewerSegmentVersionIsRefusedNamingBothVersions) {
  std::string rec = SegmentHeaderRecord(7);
  std::string payload(std::string_view(rec).substr(kHeaderSize));
  payload[8] = static_cast<char>(kFormatVersion + 1);
  Status s = CheckSegmentHeader(payload, 7, "seg.log");
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_TRUE(IsNewerFormat(s)) << s;
  EXPECT_NE(s.message().find("seg.log has format version " +
                             std::to_string(kFormatVersion + 1) +
                             "; this acpstore reads versions up to " +
                             std::to_string(kFormatVersion)),
            std::string::npos)
      << s;
}

TEST(SegmentFilesTest, NamesAreSixteenDigitsAndParseBack) {
  EXPECT_EQ(SegmentFileName(7), "0000000000000007.log");
  EXPECT_EQ(ParseSegmentFileName("0000000000000007.log"), 7u);
  EXPECT_EQ(ParseSegmentFileName("9999999999999999.log"), 9999999999999999u);
  EXPECT_FALSE(ParseSegmentFileName("0000000000000000.log"));
  EXPECT_FALSE(ParseSegmentFileName("000000000000007.log"));
  EXPECT_FALSE(ParseSegmentFileName("000000000000000a.log"));
  EXPECT_FALSE(ParseSegmentFileName("0000000000000007.log.tmp-1"));
}

}  // namespace
}  // namespace acpstore::journal
