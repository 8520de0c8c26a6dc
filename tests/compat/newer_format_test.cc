// SPEC §3, format compatibility, end to end on the file engine: a data
// directory holding a snapshot or a journal segment written by a newer
// release (its header says version + 1; every checksum valid) is refused by
// OpenStore, by `compact` and by `compact --repair`, with an error naming
// both versions, and none of them changes a byte of it. Without the
// distinction, recovery would skip the snapshot as damaged and fall back to
// an older one (replaying a journal already cut behind it), and the repairer
// would throw the records away.

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "acpstore/blocking_store.h"
#include "acpstore/store.h"
#include "base/coding.h"
#include "base/crc32c.h"
#include "base/format_version.h"
#include "engine/file_tools.h"
#include "io/file_system.h"
#include "io/test_dir.h"
#include "journal/format.h"
#include "journal/segment_files.h"
#include "record/mutation_format.h"
#include "snapshot/snapshot_dir.h"
#include "snapshot/snapshot_format.h"

namespace acpstore {
namespace {

class NewerFormatTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.engine = Engine::kFile;
    options_.data_dir = tmp_.Join("data");
    options_.maintenance_interval_ms = 0;
    {
      std::unique_ptr<Store> store = OpenStore(options_).value();
      BlockingStore b(*store);
      const Scope scope{.tenant_id = "t", .owner_key_id = "k",
                        .access = Scope::Access::kTenantWrite};
      ASSERT_TRUE(b.CreateSession(scope, NewSession{}).ok());
    }
    // A snapshot, and a journal tail after it.
    ASSERT_TRUE(engine::Compact(options_.data_dir, false).ok());
    {
      std::unique_ptr<Store> store = OpenStore(options_).value();
      BlockingStore b(*store);
      const Scope scope{.tenant_id = "t", .owner_key_id = "k",
                        .access = Scope::Access::kTenantWrite};
      ASSERT_TRUE(b.CreateSession(scope, NewSession{}).ok());
    }
  }

  std::string JournalDir() const { return options_.data_dir + "/journal"; }
  std::string SnapshotDir() const { return options_.data_dir + "/snapshot"; }

  // Every file of the data directory, by path, with its bytes.
  std::map<std::string, std::string> Files() {
    std::map<std::string, std::string> out;
    for (const std::string& dir : {JournalDir(), SnapshotDir()}) {
      const std::vector<std::string> names = fs_.ListDir(dir).value();
      for (const std::string& name : names) {
        const std::string path = dir + "/" + name;
        out[path] = io::ReadFileToString(fs_, path).value();
      }
    }
    return out;
  }

  void Overwrite(const std::string& path, const std::string& bytes) {
    ASSERT_TRUE(io::WriteFileAtomically(fs_, path, bytes).ok());
  }

  // Opening, compacting and repairing all refuse, naming `what` and both
  // versions, and leave every file as it was.
  void ExpectRefused(const std::string& what, uint32_t found,
                     uint32_t supported) {
    const std::map<std::string, std::string> before = Files();
    const std::string versions = "has format version " +
                                 std::to_string(found) +
                                 "; this acpstore reads versions up to " +
                                 std::to_string(supported);
    Result<std::unique_ptr<Store>> store = OpenStore(options_);
    ASSERT_FALSE(store.ok());
    EXPECT_TRUE(IsNewerFormat(store.status())) << store.status();
    EXPECT_NE(store.status().message().find(what + " " + versions),
              std::string::npos)
        << store.status();
    for (bool repair : {false, true}) {
      Result<engine::CompactReport> r =
          engine::Compact(options_.data_dir, repair);
      ASSERT_FALSE(r.ok()) << "repair " << repair;
      EXPECT_NE(r.status().message().find(versions), std::string::npos)
          << r.status();
    }
    // Verify refuses too, and never calls it damage.
    Result<engine::VerifyReport> v = engine::Verify(options_.data_dir);
    ASSERT_FALSE(v.ok()) << (v.ok() ? v->problems.size() : 0) << " problems";
    EXPECT_TRUE(IsNewerFormat(v.status())) << v.status();
    EXPECT_NE(v.status().message().find(versions), std::string::npos)
        << v.status();
    EXPECT_EQ(Files(), before);
  }

  io::TempDir tmp_;
  io::FileSystem& fs_ = io::PosixFileSystem();
  StoreOptions options_;
};

TEST_F(NewerFormatTest, NewerSnapshotIsRefusedNotSkipped) {
  auto snapshots = snapshot::ListSnapshots(fs_, SnapshotDir()).value();
  ASSERT_FALSE(snapshots.empty());
  const std::string path = snapshots.front().path;  // the newest
  std::string bytes = io::ReadFileToString(fs_, path).value();
  std::string field;
  base::PutFixed32(&field, snapshot::kFormatVersion + 1);
  bytes.replace(8, 4, field);
  field.clear();
  base::PutFixed32(&field,
                   base::crc32c::Mask(base::crc32c::Value(
                       bytes.data(), snapshot::kHeaderCrcOffset)));
  bytes.replace(snapshot::kHeaderCrcOffset, 4, field);
  Overwrite(path, bytes);
  ExpectRefused("snapshot " + path, snapshot::kFormatVersion + 1,
                snapshot::kFormatVersion);
}

TEST_F(NewerFormatTest, NewerJournalSegmentIsRefused) {
  auto segments = journal::ListSegments(fs_, JournalDir()).value();
  ASSERT_FALSE(segments.empty());
  const uint64_t last = segments.back();
  const std::string path = journal::SegmentPath(JournalDir(), last);
  std::string bytes = io::ReadFileToString(fs_, path).value();
  // The segment header record, rebuilt with the next version (valid CRCs).
  std::string payload(journal::kSegmentMagic);
  base::PutFixed32(&payload, journal::kFormatVersion + 1);
  base::PutFixed64(&payload, last);
  std::string header;
  journal::AppendRecord(&header, journal::RecordType::kSegmentHeader, payload);
  ASSERT_EQ(header.size(), journal::kFirstRecordOffset);
  bytes.replace(0, header.size(), header);
  Overwrite(path, bytes);
  ExpectRefused("journal segment " + path, journal::kFormatVersion + 1,
                journal::kFormatVersion);
}

// A record of a newer mutation encoding inside a segment of this format
// (a newer release that kept the segment format): refused by every tool,
// never damage (verify reported it as damaged: found by a probe).
TEST_F(NewerFormatTest, NewerMutationRecordIsRefusedNotDamage) {
  auto segments = journal::ListSegments(fs_, JournalDir()).value();
  ASSERT_FALSE(segments.empty());
  const std::string path = journal::SegmentPath(JournalDir(), segments.back());
  std::string bytes = io::ReadFileToString(fs_, path).value();
  // A mutation whose version byte is the next one (the decoder reads it
  // first), framed with valid checksums.
  const std::string payload(1, static_cast<char>(record::format::kMutationVersion + 1));
  journal::AppendRecord(&bytes, journal::RecordType::kMutation, payload);
  Overwrite(path, bytes);
  ExpectRefused("mutation encoding", record::format::kMutationVersion + 1,
                record::format::kMutationVersion);
}

}  // namespace
}  // namespace acpstore
