// Scenarios for FaultInjectionFileSystem: what a simulated crash keeps and
// drops, and how injected faults fire.

#include "io/fault_injection_file_system.h"

#include <gtest/gtest.h>

#include <string>

#include "io/test_dir.h"

namespace acpstore::io {
namespace {

using Fault = FaultInjectionFileSystem::Fault;

class FaultInjectionTest : public ::testing::Test {
 protected:
  std::unique_ptr<WritableFile> Open(const std::string& name) {
    auto f = fs_.OpenAppendable(dir_.Join(name));
    EXPECT_TRUE(f.ok()) << f.status();
    return f.ok() ? std::move(*f) : nullptr;
  }
  std::string Read(const std::string& name) {
    auto r = ReadFileToString(PosixFileSystem(), dir_.Join(name));
    return r.ok() ? *r : "<missing>";
  }
  void Crash() { ASSERT_TRUE(fs_.SimulateCrash().ok()); }

  TempDir dir_;
  FaultInjectionFileSystem fs_{PosixFileSystem()};
};

TEST_F(FaultInjectionTest, CrashDropsUnsyncedBytesAndKeepsSyncedOnes) {
  ASSERT_TRUE(fs_.SyncDir(dir_.path()).ok());
  auto f = Open("f");
  ASSERT_TRUE(fs_.SyncDir(dir_.path()).ok());
  ASSERT_TRUE(f->Append("durable").ok());
  ASSERT_TRUE(f->Sync().ok());
  ASSERT_TRUE(f->Append("-volatile").ok());
  EXPECT_EQ(fs_.written_size(dir_.Join("f")), 16u);
  EXPECT_EQ(fs_.synced_size(dir_.Join("f")), 7u);
  Crash();
  EXPECT_EQ(Read("f"), "durable");
}

TEST_F(FaultInjectionTest, CrashRemovesFilesCreatedWithoutDirSync) {
  auto f = Open("f");
  ASSERT_TRUE(f->Append("data").ok());
  ASSERT_TRUE(f->Sync().ok());
  Crash();
  EXPECT_FALSE(*fs_.Exists(dir_.Join("f")));
}

TEST_F(FaultInjectionTest, DirSyncMakesACreateDurable) {
  auto f = Open("f");
  ASSERT_TRUE(f->Append("data").ok());
  ASSERT_TRUE(f->Sync().ok());
  ASSERT_TRUE(fs_.SyncDir(dir_.path() + "/").ok());
  Crash();
  EXPECT_EQ(Read("f"), "data");
}

TEST_F(FaultInjectionTest, PreexistingFilesAreTakenAsDurable) {
  ASSERT_TRUE(
      WriteFileAtomically(PosixFileSystem(), dir_.Join("f"), "old").ok());
  auto f = Open("f");
  ASSERT_TRUE(f->Append("+new").ok());
  Crash();
  EXPECT_EQ(Read("f"), "old");
}

TEST_F(FaultInjectionTest, UnsyncedRenameIsUndoneAndTheTargetRestored) {
  ASSERT_TRUE(
      WriteFileAtomically(PosixFileSystem(), dir_.Join("snap"), "old").ok());
  auto tmp = fs_.CreateNew(dir_.Join("tmp"));
  ASSERT_TRUE(tmp.ok());
  ASSERT_TRUE((*tmp)->Append("new").ok());
  ASSERT_TRUE((*tmp)->Sync().ok());
  ASSERT_TRUE((*tmp)->Close().ok());
  ASSERT_TRUE(fs_.Rename(dir_.Join("tmp"), dir_.Join("snap")).ok());
  EXPECT_EQ(Read("snap"), "new");
  Crash();
  EXPECT_EQ(Read("snap"), "old");
  EXPECT_FALSE(*fs_.Exists(dir_.Join("tmp"))) << "its create was not durable";
}

TEST_F(FaultInjectionTest, AtomicWriteIsDurableOnceItReturns) {
  ASSERT_TRUE(WriteFileAtomically(fs_, dir_.Join("snap"), "v1").ok());
  ASSERT_TRUE(WriteFileAtomically(fs_, dir_.Join("snap"), "v2").ok());
  Crash();
  EXPECT_EQ(Read("snap"), "v2");
  EXPECT_EQ(fs_.ListDir(dir_.path())->size(), 1u);
}

TEST_F(FaultInjectionTest, AtomicWriteInterruptedBeforeDirSyncKeepsOldContent) {
  ASSERT_TRUE(WriteFileAtomically(fs_, dir_.Join("snap"), "v1").ok());
  fs_.InjectFault(Fault(FaultInjectionFileSystem::kSyncDir, EIO));
  EXPECT_FALSE(WriteFileAtomically(fs_, dir_.Join("snap"), "v2").ok());
  Crash();
  EXPECT_EQ(Read("snap"), "v1");
}

TEST_F(FaultInjectionTest, HandlesOpenedBeforeACrashFailAfterIt) {
  auto f = Open("f");
  Crash();
  Status s = f->Append("x");
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_FALSE(f->Sync().ok());
}

TEST_F(FaultInjectionTest, EnospcAfterNAppendsWritesHalfThenFails) {
  fs_.InjectFault(
      Fault(FaultInjectionFileSystem::kAppend, ENOSPC).Skip(2).Times(1));
  auto f = Open("f");
  ASSERT_TRUE(f->Append("aa").ok());
  ASSERT_TRUE(f->Append("bb").ok());
  Status s = f->Append("cccc");
  EXPECT_EQ(s.code(), StatusCode::kInsufficientStorage) << s;
  EXPECT_EQ(f->size(), 6u) << "half of the failed write landed";
  EXPECT_EQ(Read("f"), "aabbcc");
  EXPECT_TRUE(f->Append("d").ok()) << "the fault fired only once";
  EXPECT_EQ(fs_.injected_failures(), 1u);
}

TEST_F(FaultInjectionTest, PathPredicateLimitsWhereFaultsFire) {
  fs_.InjectFault(
      Fault(FaultInjectionFileSystem::kSync, EIO)
          .OnPaths([](const std::string& p) { return p.ends_with(".log"); }));
  auto log = Open("a.log");
  auto other = Open("b.dat");
  EXPECT_EQ(log->Sync().code(), StatusCode::kIoError);
  EXPECT_TRUE(other->Sync().ok());
  fs_.ClearFaults();
  EXPECT_TRUE(log->Sync().ok());
}

TEST_F(FaultInjectionTest, FailedSyncLeavesBytesUnsynced) {
  ASSERT_TRUE(fs_.SyncDir(dir_.path()).ok());
  auto f = Open("f");
  ASSERT_TRUE(fs_.SyncDir(dir_.path()).ok());
  ASSERT_TRUE(f->Append("abc").ok());
  fs_.InjectFault(Fault(FaultInjectionFileSystem::kSync).Times(1));
  EXPECT_FALSE(f->Sync().ok());
  EXPECT_EQ(fs_.synced_size(dir_.Join("f")), 0u);
  Crash();
  EXPECT_EQ(Read("f"), "");
}

TEST_F(FaultInjectionTest, CountsSyncs) {
  auto f = Open("f");
  ASSERT_TRUE(f->Sync().ok());
  ASSERT_TRUE(f->Sync().ok());
  ASSERT_TRUE(fs_.SyncDir(dir_.path()).ok());
  EXPECT_EQ(fs_.sync_count(), 2u);
  EXPECT_EQ(fs_.dir_sync_count(), 1u);
}

TEST_F(FaultInjectionTest, TruncateLowersTheSyncedLength) {
  ASSERT_TRUE(fs_.SyncDir(dir_.path()).ok());
  auto f = Open("f");
  ASSERT_TRUE(fs_.SyncDir(dir_.path()).ok());
  ASSERT_TRUE(f->Append("abcdef").ok());
  ASSERT_TRUE(f->Sync().ok());
  ASSERT_TRUE(f->Truncate(2).ok());
  ASSERT_TRUE(f->Append("XY").ok());
  EXPECT_EQ(fs_.synced_size(dir_.Join("f")), 2u);
  Crash();
  EXPECT_EQ(Read("f"), "ab");
}

}  // namespace
}  // namespace acpstore::io
