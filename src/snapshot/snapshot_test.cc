// Snapshot writer, reader and directory scenarios: round trips, the
// reader's corruption policy (exhaustive truncation and bit-flip sweeps),
// selection of the newest valid snapshot, and crashes at every step of
// publishing one, with a file system that drops what was never synced.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "base/coding.h"
#include "base/crc32c.h"
#include "base/format_version.h"
#include "io/fault_injection_file_system.h"
#include "io/string_file.h"
#include "io/test_dir.h"
#include "snapshot/snapshot_dir.h"
#include "snapshot/snapshot_reader.h"
#include "snapshot/snapshot_writer.h"

namespace acpstore::snapshot {
namespace {

using io::FaultInjectionFileSystem;

struct ReadBack {
  Status status;
  SnapshotHeader header;
  std::vector<std::string> chunks;
};

// Reads a whole snapshot through the reader, as recovery would.
ReadBack ReadAll(std::unique_ptr<SnapshotReader> reader) {
  ReadBack out;
  out.header = reader->header();
  std::string_view chunk;
  while (reader->Next(&chunk)) out.chunks.emplace_back(chunk);
  out.status = reader->status();
  return out;
}

// Reads snapshot bytes held in memory.
ReadBack ReadBytes(const std::string& bytes) {
  auto reader =
      SnapshotReader::Open(std::make_unique<io::StringFile>("mem.snap", bytes),
                           bytes.size(), std::nullopt);
  if (!reader) return {reader.status(), {}, {}};
  return ReadAll(std::move(*reader));
}

std::vector<std::string> SomeChunks() {
  return {"session:s1", "", std::string(1, '\0'), "action:a1",
          std::string(300, 'p')};
}

class SnapshotTest : public ::testing::Test {
 protected:
  SnapshotTest() : fs_(io::PosixFileSystem()), dir_(tmp_.Join("snapshot")) {}

  SnapshotHeader Header(uint64_t number) {
    return {number, {number, 1000 * number}, 1700000000000 + int64_t(number)};
  }

  Status Write(uint64_t number,
               const std::vector<std::string>& chunks = SomeChunks()) {
    auto w = SnapshotWriter::Create(fs_, dir_, Header(number));
    if (!w) return w.status();
    for (const std::string& c : chunks) ACPSTORE_RETURN_IF_ERROR((*w)->Add(c));
    return (*w)->Finish();
  }

  std::string PathOf(uint64_t number) {
    return io::JoinPath(dir_, SnapshotFileName(number));
  }
  std::string Bytes(uint64_t number) {
    return *io::ReadFileToString(io::PosixFileSystem(), PathOf(number));
  }
  void SetBytes(uint64_t number, const std::string& bytes) {
    ASSERT_TRUE(
        io::WriteFileAtomically(io::PosixFileSystem(), PathOf(number), bytes)
            .ok());
  }
  ReadBack Read(uint64_t number) {
    auto reader = SnapshotReader::Open(fs_, PathOf(number));
    if (!reader) return {reader.status(), {}, {}};
    return ReadAll(std::move(*reader));
  }
  std::vector<std::string> DirNames() {
    return *io::PosixFileSystem().ListDir(dir_);
  }
  std::optional<uint64_t> Chosen() {
    auto sel = SelectNewestValid(fs_, dir_);
    EXPECT_TRUE(sel.ok()) << sel.status();
    if (!sel || !sel->chosen) return std::nullopt;
    return sel->chosen->number;
  }

  io::TempDir tmp_;
  FaultInjectionFileSystem fs_;
  const std::string dir_;
};

// ------------------------------------------------------------ round trip

TEST_F(SnapshotTest, RoundTrip) {
  std::vector<std::string> chunks = SomeChunks();
  chunks.push_back(std::string(200 << 10, 'x'));  // larger than read-ahead
  for (int i = 0; i < 2000; ++i)
    chunks.push_back("record-" + std::to_string(i));
  ASSERT_TRUE(Write(42, chunks).ok());
  ReadBack r = Read(42);
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.chunks, chunks);
  EXPECT_EQ(r.header.number, 42u);
  EXPECT_EQ(r.header.covered, (SnapshotPosition{42, 42000}));
  EXPECT_EQ(r.header.created_at, 1700000000042);
}

TEST_F(SnapshotTest, EmptySnapshotRoundTrips) {
  ASSERT_TRUE(Write(1, {}).ok());
  ReadBack r = Read(1);
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_TRUE(r.chunks.empty());
}

TEST_F(SnapshotTest, FileIsNamedByNumberAndPrivate) {
  ASSERT_TRUE(Write(7).ok());
  EXPECT_EQ(DirNames(), std::vector<std::string>{"00000000000000000007.snap"});
  struct stat st;
  ASSERT_EQ(::stat(PathOf(7).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(SnapshotTest, FinishSyncsTheFileAndTheDirectory) {
  const uint64_t syncs = fs_.sync_count(), dir_syncs = fs_.dir_sync_count();
  ASSERT_TRUE(Write(1).ok());
  EXPECT_EQ(fs_.sync_count(), syncs + 1);
  EXPECT_EQ(fs_.dir_sync_count(), dir_syncs + 1);
}

TEST_F(SnapshotTest, OversizedChunkIsRefusedAndKillsTheWriter) {
  auto w = SnapshotWriter::Create(fs_, dir_, Header(1));
  ASSERT_TRUE(w.ok());
  EXPECT_EQ((*w)->Add(std::string(kMaxChunkBytes + 1, 'x')).code(),
            StatusCode::kInvalidArgument);
  EXPECT_FALSE((*w)->Finish().ok());
  EXPECT_TRUE(DirNames().empty());
}

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

// The worked example of docs/snapshot_format.md. If this fails, the disk
// format changed: that needs a new format version, not a new expectation.
TEST_F(SnapshotTest, GoldenBytesOfTheWorkedExample) {
  auto w = SnapshotWriter::Create(fs_, dir_, {1, {1, 33}, 1767225600000});
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Add("hi").ok());
  ASSERT_TRUE((*w)->Finish().ok());
  EXPECT_EQ(Hex(Bytes(1)),
            "41 43 50 53 4e 41 50 31 01 00 00 00 01 00 00 00 "
            "00 00 00 00 01 00 00 00 00 00 00 00 21 00 00 00 "
            "00 00 00 00 00 a8 da 76 9b 01 00 00 06 9d 50 ec "
            "e2 7f aa c1 02 00 00 00 01 68 69 7f 15 01 04 14 "
            "00 00 00 02 01 00 00 00 00 00 00 00 3b 00 00 00 "
            "00 00 00 00 d9 c4 91 ef");
}

// ------------------------------------------------------ corruption policy

// SPEC §3, format compatibility: a snapshot whose header (valid magic and
// checksum) has a newer version is refused naming both versions, and is told
// apart from damage so recovery does not fall back to an older snapshot.
TEST_F(SnapshotTest, NewerFormatVersionIsRefusedNamingBothVersions) {
  ASSERT_TRUE(Write(1).ok());
  std::string bytes = Bytes(1);
  std::string version;
  base::PutFixed32(&version, kFormatVersion + 1);
  bytes.replace(8, 4, version);
  std::string crc;
  base::PutFixed32(&crc,
                   base::crc32c::Mask(base::crc32c::Value(bytes.data(), kHeaderCrcOffset)));
  bytes.replace(kHeaderCrcOffset, 4, crc);
  SetBytes(1, bytes);
  ReadBack r = Read(1);
  EXPECT_EQ(r.status.code(), StatusCode::kCorruption);
  EXPECT_TRUE(IsNewerFormat(r.status)) << r.status;
  EXPECT_NE(r.status.message().find(
                PathOf(1) + " has format version " +
                std::to_string(kFormatVersion + 1) +
                "; this acpstore reads versions up to " +
                std::to_string(kFormatVersion)),
            std::string::npos)
      << r.status;
  // Damage is not "newer": a bad header checksum stays plain corruption.
  bytes[9] ^= 1;
  SetBytes(1, bytes);
  EXPECT_FALSE(IsNewerFormat(Read(1).status));
}

TEST_F(SnapshotTest, TruncatedSnapshotIsRejected) {
  ASSERT_TRUE(Write(1).ok());
  const std::string bytes = Bytes(1);
  for (size_t n = 0; n < bytes.size(); ++n) {
    ReadBack r = ReadBytes(bytes.substr(0, n));
    ASSERT_EQ(r.status.code(), StatusCode::kCorruption) << "length " << n;
  }
  EXPECT_TRUE(ReadBytes(bytes).status.ok());
}

TEST_F(SnapshotTest, BitFlipIsRejected) {
  ASSERT_TRUE(Write(1).ok());
  const std::string bytes = Bytes(1);
  for (size_t bit = 0; bit < bytes.size() * 8; ++bit) {
    std::string damaged = bytes;
    damaged[bit / 8] ^= static_cast<char>(1 << (bit % 8));
    ASSERT_EQ(ReadBytes(damaged).status.code(), StatusCode::kCorruption)
        << "bit " << bit;
  }
}

TEST_F(SnapshotTest, BytesAfterTheFooterAreRejected) {
  ASSERT_TRUE(Write(1).ok());
  ReadBack r = ReadBytes(Bytes(1) + std::string(1, '\0'));
  EXPECT_EQ(r.status.code(), StatusCode::kCorruption);
  EXPECT_NE(r.status.message().find("after the footer"), std::string::npos);
}

TEST_F(SnapshotTest, DroppedWholeChunkIsRejected) {
  ASSERT_TRUE(Write(1, {"aaaa", "bbbb", "cccc"}).ok());
  const std::string bytes = Bytes(1);
  const size_t chunk = kChunkHeaderSize + 4;
  // Cut out the middle chunk: every remaining chunk still verifies alone.
  const std::string cut = bytes.substr(0, kHeaderSize + chunk) +
                          bytes.substr(kHeaderSize + 2 * chunk);
  EXPECT_EQ(ReadBytes(cut).status.code(), StatusCode::kCorruption);
}

TEST_F(SnapshotTest, ErrorsNameTheFileAndOffset) {
  ASSERT_TRUE(Write(1).ok());
  std::string bytes = Bytes(1);
  const size_t second_chunk = kHeaderSize + kChunkHeaderSize + 10;
  bytes[second_chunk + kChunkHeaderSize - 1] ^= 1;  // its type byte
  SetBytes(1, bytes);
  ReadBack r = Read(1);
  ASSERT_EQ(r.status.code(), StatusCode::kCorruption);
  EXPECT_EQ(r.chunks.size(), 1u);  // the first chunk was handed out
  EXPECT_NE(r.status.message().find(PathOf(1)), std::string::npos) << r.status;
  ASSERT_NE(r.status.Detail("offset"), nullptr);
  EXPECT_EQ(std::get<int64_t>(r.status.Detail("offset")->value),
            static_cast<int64_t>(second_chunk));
}

TEST_F(SnapshotTest, HugeChunkLengthIsRejectedWithoutAllocating) {
  std::string bytes = EncodeHeader(Header(1));
  AppendChunk(&bytes, ChunkType::kData, "x");
  bytes[kHeaderSize + 4 + 3] = '\x7f';  // length ~2 GiB
  EXPECT_EQ(ReadBytes(bytes).status.code(), StatusCode::kCorruption);
}

TEST_F(SnapshotTest, HeaderNumberMustMatchFileName) {
  ASSERT_TRUE(Write(1).ok());
  SetBytes(2, Bytes(1));
  EXPECT_EQ(Read(2).status.code(), StatusCode::kCorruption);
  EXPECT_TRUE(Read(1).status.ok());
}

// ---------------------------------------------------------------- choice

TEST_F(SnapshotTest, NewestValidIsChosenWhenNewestIsDamaged) {
  for (uint64_t n : {1, 2, 3}) ASSERT_TRUE(Write(n).ok());
  std::string bytes = Bytes(3);
  bytes[bytes.size() / 2] ^= 0x20;
  SetBytes(3, bytes);
  auto sel = SelectNewestValid(fs_, dir_);
  ASSERT_TRUE(sel.ok()) << sel.status();
  ASSERT_TRUE(sel->chosen.has_value());
  EXPECT_EQ(sel->chosen->number, 2u);
  EXPECT_EQ(sel->header.covered, (SnapshotPosition{2, 2000}));
  ASSERT_EQ(sel->skipped.size(), 1u);
  EXPECT_EQ(sel->skipped[0].path, PathOf(3));
  EXPECT_EQ(sel->skipped[0].status.code(), StatusCode::kCorruption);
}

// A damaged snapshot an open skipped is kept for inspection under a name
// nothing lists as a snapshot, so no later open loads it and no clean-up
// deletes it; a second one of the same name gets a suffix.
TEST_F(SnapshotTest, SetAsideFilesAreKeptButNeverListedOrDeleted) {
  for (uint64_t n : {1, 2, 3}) ASSERT_TRUE(Write(n).ok());
  const std::string bytes = Bytes(3);
  Result<std::string> kept = SetAsideDamaged(fs_, dir_, PathOf(3), 1234);
  ASSERT_TRUE(kept.ok()) << kept.status();
  EXPECT_EQ(*kept, PathOf(3) + ".damaged-1234");
  ASSERT_TRUE(Write(3).ok());
  Result<std::string> again = SetAsideDamaged(fs_, dir_, PathOf(3), 1234);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, PathOf(3) + ".damaged-1234-2");
  EXPECT_EQ(ListSetAside(fs_, dir_).value(),
            (std::vector<std::string>{*kept, *again}));
  EXPECT_EQ(Chosen(), 2u);
  EXPECT_EQ(ListSnapshots(fs_, dir_)->size(), 2u);
  ASSERT_TRUE(DeleteUnkept(fs_, dir_, {}, 100).ok());
  ASSERT_TRUE(RemoveTempFiles(fs_, dir_).ok());
  EXPECT_EQ(ListSetAside(fs_, dir_)->size(), 2u);
  EXPECT_EQ(*io::ReadFileToString(fs_, *kept), bytes);
}

TEST_F(SnapshotTest, NoSnapshotsChoosesNothing) {
  EXPECT_EQ(Chosen(), std::nullopt);  // the directory does not even exist
  ASSERT_TRUE(Write(1).ok());
  SetBytes(1, "garbage");
  auto sel = SelectNewestValid(fs_, dir_);
  ASSERT_TRUE(sel.ok());
  EXPECT_FALSE(sel->chosen.has_value());
  EXPECT_EQ(sel->skipped.size(), 1u);
}

TEST_F(SnapshotTest, DeleteOlderThanKeepsThatOneAndNewer) {
  for (uint64_t n : {1, 2, 3, 4}) ASSERT_TRUE(Write(n).ok());
  const uint64_t dir_syncs = fs_.dir_sync_count();
  auto deleted = DeleteOlderThan(fs_, dir_, 3);
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(*deleted, 2u);
  // The deletions are made durable with one directory sync; deleting
  // nothing syncs nothing.
  EXPECT_EQ(fs_.dir_sync_count(), dir_syncs + 1);
  ASSERT_TRUE(DeleteOlderThan(fs_, dir_, 3).ok());
  EXPECT_EQ(fs_.dir_sync_count(), dir_syncs + 1);
  auto left = ListSnapshots(fs_, dir_);
  ASSERT_TRUE(left.ok());
  ASSERT_EQ(left->size(), 2u);
  EXPECT_EQ((*left)[0].number, 4u);
  EXPECT_EQ((*left)[1].number, 3u);
  EXPECT_EQ(*NextSnapshotNumber(fs_, dir_), 5u);
}

// Decision 0030: parts files share the snapshots' numbers. They are not
// snapshots (never listed or chosen), count towards the next number, are
// deleted with unkept snapshots, and a number resolves to its one file.
TEST_F(SnapshotTest, PartsFilesShareTheNumbersAndTheCleanUp) {
  for (uint64_t n : {1, 3, 5}) ASSERT_TRUE(Write(n).ok());
  for (uint64_t n : {2, 4, 6}) {
    ASSERT_TRUE(io::WriteFileAtomically(io::PosixFileSystem(),
                                        io::JoinPath(dir_, PartsFileName(n)),
                                        "parts")
                    .ok());
  }
  EXPECT_EQ(ListSnapshots(fs_, dir_)->size(), 3u);
  EXPECT_EQ(Chosen(), 5u);
  // 6 has no snapshot (its own failed): its number is not given again.
  EXPECT_EQ(*NextSnapshotNumber(fs_, dir_), 7u);
  auto parts = ListPartsFiles(fs_, dir_);
  ASSERT_TRUE(parts.ok());
  ASSERT_EQ(parts->size(), 3u);
  EXPECT_EQ((*parts)[0].number, 2u);
  EXPECT_EQ((*parts)[2].number, 6u);
  EXPECT_EQ(ReferredFilePath(fs_, dir_, 4), io::JoinPath(dir_, PartsFileName(4)));
  EXPECT_EQ(ReferredFilePath(fs_, dir_, 3), PathOf(3));
  // Keep 5 and what it refers to (the parts file 4 and snapshot 1); 6 is
  // not below 5, so it stays for the snapshot that comes after it.
  const uint64_t dir_syncs = fs_.dir_sync_count();
  auto deleted = DeleteUnkept(fs_, dir_, {5, 4, 1}, 5);
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(*deleted, 2u);  // snapshot 3 and parts file 2
  EXPECT_EQ(fs_.dir_sync_count(), dir_syncs + 1);  // made durable
  std::vector<std::string> names = DirNames();
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{SnapshotFileName(1),
                                             PartsFileName(4),
                                             SnapshotFileName(5),
                                             PartsFileName(6)}));
}

// ------------------------------------------------------ crashes, failures

TEST_F(SnapshotTest, CrashBeforeRenameLeavesOldSnapshot) {
  ASSERT_TRUE(Write(1).ok());
  auto w = SnapshotWriter::Create(fs_, dir_, Header(2));
  ASSERT_TRUE(w.ok());
  for (int i = 0; i < 100; ++i)
    ASSERT_TRUE((*w)->Add(std::string(64 << 10, 'n')).ok());
  ASSERT_TRUE(fs_.SimulateCrash().ok());
  w->reset();
  EXPECT_EQ(Chosen(), 1u);
  EXPECT_EQ(DirNames(), std::vector<std::string>{SnapshotFileName(1)});
}

TEST_F(SnapshotTest, CrashBeforeDirectorySyncLeavesOldSnapshot) {
  ASSERT_TRUE(Write(1).ok());
  fs_.InjectFault(
      FaultInjectionFileSystem::Fault(FaultInjectionFileSystem::kSyncDir));
  EXPECT_FALSE(Write(2).ok());  // renamed, but not durably
  ASSERT_TRUE(fs_.SimulateCrash().ok());
  fs_.ClearFaults();
  EXPECT_EQ(Chosen(), 1u);
  EXPECT_FALSE(*io::PosixFileSystem().Exists(PathOf(2)));
}

TEST_F(SnapshotTest, CrashAfterFinishKeepsNewSnapshot) {
  ASSERT_TRUE(Write(1).ok());
  ASSERT_TRUE(Write(2).ok());
  ASSERT_TRUE(fs_.SimulateCrash().ok());
  EXPECT_EQ(Chosen(), 2u);
  EXPECT_TRUE(Read(2).status.ok());
}

TEST_F(SnapshotTest, WriteFailureRemovesTempFile) {
  fs_.InjectFault(FaultInjectionFileSystem::Fault(
      FaultInjectionFileSystem::kAppend, ENOSPC));
  Status s = Write(1);
  EXPECT_EQ(s.code(), StatusCode::kInsufficientStorage) << s;
  EXPECT_TRUE(DirNames().empty());
}

TEST_F(SnapshotTest, AbandonedAndDestroyedWritersRemoveTempFiles) {
  auto a = SnapshotWriter::Create(fs_, dir_, Header(1));
  auto b = SnapshotWriter::Create(fs_, dir_, Header(2));
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE((*a)->Add("x").ok());
  EXPECT_EQ(DirNames().size(), 2u);
  (*a)->Abandon();
  b->reset();
  EXPECT_TRUE(DirNames().empty());
}

TEST_F(SnapshotTest, StaleTempFilesAreNotListedAndAreRemoved) {
  ASSERT_TRUE(Write(1).ok());
  auto w = SnapshotWriter::Create(fs_, dir_, Header(2));
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(fs_.SyncDir(dir_).ok());  // the temp file's entry is durable
  ASSERT_TRUE(fs_.SimulateCrash().ok());
  // The crashed process never got to clean up.
  fs_.InjectFault(
      FaultInjectionFileSystem::Fault(FaultInjectionFileSystem::kRemove));
  w->reset();
  fs_.ClearFaults();
  EXPECT_EQ(DirNames().size(), 2u);
  EXPECT_EQ(ListSnapshots(fs_, dir_)->size(), 1u);
  EXPECT_EQ(Chosen(), 1u);
  auto removed = RemoveTempFiles(fs_, dir_);
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, 1u);
  EXPECT_EQ(DirNames(), std::vector<std::string>{SnapshotFileName(1)});
}

TEST(SnapshotFileNameTest, ParsesOnlyExactNames) {
  EXPECT_EQ(SnapshotFileName(42), "00000000000000000042.snap");
  EXPECT_EQ(ParseSnapshotFileName("00000000000000000042.snap"), 42u);
  EXPECT_EQ(ParseSnapshotFileName("18446744073709551615.snap"), UINT64_MAX);
  EXPECT_EQ(ParseSnapshotFileName("18446744073709551616.snap"), std::nullopt);
  EXPECT_EQ(ParseSnapshotFileName("0000000000000000042.snap"), std::nullopt);
  EXPECT_EQ(ParseSnapshotFileName("00000000000000000042.snap.tmp-ab"),
            std::nullopt);
  EXPECT_TRUE(IsTempFileName("00000000000000000042.snap.tmp-ab"));
  EXPECT_FALSE(IsTempFileName("00000000000000000042.snap"));
  EXPECT_FALSE(IsTempFileName("x.snap.tmp-ab"));
  EXPECT_EQ(PartsFileName(42), "00000000000000000042.parts");
  EXPECT_EQ(ParsePartsFileName("00000000000000000042.parts"), 42u);
  EXPECT_EQ(ParsePartsFileName("00000000000000000042.snap"), std::nullopt);
  EXPECT_EQ(ParseSnapshotFileName("00000000000000000042.parts"), std::nullopt);
  EXPECT_EQ(ParsePartsFileName("0000000000000000042.parts"), std::nullopt);
}

}  // namespace
}  // namespace acpstore::snapshot
