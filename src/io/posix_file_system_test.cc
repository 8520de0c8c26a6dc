// Scenarios for the POSIX FileSystem and the helpers over it.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <string>
#include <vector>

#include "io/file_system.h"
#include "io/posix_error.h"
#include "io/test_dir.h"

namespace acpstore::io {
namespace {

class PosixFileSystemTest : public ::testing::Test {
 protected:
  uint32_t Mode(const std::string& path) {
    struct stat st;
    EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
    return st.st_mode & 0777;
  }
  std::string Read(const std::string& path) {
    Result<std::string> r = ReadFileToString(fs_, path);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : "";
  }

  FileSystem& fs_ = PosixFileSystem();
  TempDir dir_;
};

TEST_F(PosixFileSystemTest, CreateDirMakesMissingParentsPrivate) {
  const std::string nested = dir_.Join("a/b/c");
  ASSERT_TRUE(fs_.CreateDir(nested).ok());
  EXPECT_TRUE(fs_.CreateDir(nested).ok()) << "existing directory is fine";
  EXPECT_EQ(Mode(dir_.Join("a")) & 0077, 0u);
  EXPECT_EQ(Mode(nested) & 0077, 0u);
}

TEST_F(PosixFileSystemTest, NewFilesArePrivate) {
  auto f = fs_.OpenAppendable(dir_.Join("f"));
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(Mode(dir_.Join("f")) & 0077, 0u);
}

TEST_F(PosixFileSystemTest, AppendWritesEveryPieceInOrder) {
  auto f = fs_.OpenAppendable(dir_.Join("f"));
  ASSERT_TRUE(f.ok());
  // More pieces than IOV_MAX (1024), some empty, so writev is chunked.
  std::vector<std::string> owned;
  std::string expected;
  for (int i = 0; i < 3000; ++i) {
    owned.push_back(i % 7 == 0 ? "" : std::to_string(i) + ",");
    expected += owned.back();
  }
  std::vector<std::string_view> pieces(owned.begin(), owned.end());
  ASSERT_TRUE((*f)->Append(pieces).ok());
  ASSERT_TRUE((*f)->Append("tail").ok());
  EXPECT_EQ((*f)->size(), expected.size() + 4);
  ASSERT_TRUE((*f)->Sync().ok());
  ASSERT_TRUE((*f)->Close().ok());
  EXPECT_EQ(Read(dir_.Join("f")), expected + "tail");
}

TEST_F(PosixFileSystemTest, ReopenedFileAppendsAtItsEnd) {
  ASSERT_TRUE((*fs_.OpenAppendable(dir_.Join("f")))->Append("abc").ok());
  auto f = fs_.OpenAppendable(dir_.Join("f"));
  ASSERT_TRUE(f.ok());
  EXPECT_EQ((*f)->size(), 3u);
  ASSERT_TRUE((*f)->Append("def").ok());
  EXPECT_EQ(Read(dir_.Join("f")), "abcdef");
}

TEST_F(PosixFileSystemTest, TruncateCutsAndLaterAppendsContinueThere) {
  auto f = fs_.OpenAppendable(dir_.Join("f"));
  ASSERT_TRUE((*f)->Append("0123456789").ok());
  ASSERT_TRUE((*f)->Truncate(4).ok());
  EXPECT_EQ((*f)->size(), 4u);
  ASSERT_TRUE((*f)->Append("xy").ok());
  EXPECT_EQ(Read(dir_.Join("f")), "0123xy");
  ASSERT_TRUE(fs_.Truncate(dir_.Join("f"), 2).ok());
  EXPECT_EQ(*fs_.FileSize(dir_.Join("f")), 2u);
}

TEST_F(PosixFileSystemTest, ReadAtIsShortOnlyAtEndOfFile) {
  ASSERT_TRUE(WriteFileAtomically(fs_, dir_.Join("f"), "hello world").ok());
  auto r = fs_.OpenReadable(dir_.Join("f"));
  ASSERT_TRUE(r.ok());
  char buf[32];
  EXPECT_EQ(*(*r)->ReadAt(6, 5, buf), "world");
  EXPECT_EQ(*(*r)->ReadAt(6, 32, buf), "world");
  EXPECT_EQ(*(*r)->ReadAt(100, 4, buf), "");
}

TEST_F(PosixFileSystemTest, CreateNewRefusesAnExistingFile) {
  ASSERT_TRUE(fs_.CreateNew(dir_.Join("f")).ok());
  auto again = fs_.CreateNew(dir_.Join("f"));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code(), StatusCode::kIoError);
}

TEST_F(PosixFileSystemTest, RenameRemoveListAndExists) {
  ASSERT_TRUE(WriteFileAtomically(fs_, dir_.Join("a"), "A").ok());
  ASSERT_TRUE(WriteFileAtomically(fs_, dir_.Join("b"), "B").ok());
  ASSERT_TRUE(fs_.Rename(dir_.Join("a"), dir_.Join("b")).ok());
  EXPECT_EQ(Read(dir_.Join("b")), "A");
  EXPECT_FALSE(*fs_.Exists(dir_.Join("a")));
  ASSERT_TRUE(WriteFileAtomically(fs_, dir_.Join("c"), "C").ok());
  auto names = fs_.ListDir(dir_.path());
  ASSERT_TRUE(names.ok());
  std::sort(names->begin(), names->end());
  EXPECT_EQ(*names, (std::vector<std::string>{"b", "c"}));
  ASSERT_TRUE(fs_.Remove(dir_.Join("c")).ok());
  EXPECT_FALSE(*fs_.Exists(dir_.Join("c")));
  ASSERT_TRUE(fs_.SyncDir(dir_.path()).ok());
}

TEST_F(PosixFileSystemTest, ErrorsNameThePathAndTheErrno) {
  auto r = fs_.OpenReadable(dir_.Join("missing"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), StatusCode::kIoError);
  EXPECT_NE(r.error().message().find(dir_.Join("missing")), std::string::npos);
  EXPECT_NE(r.error().message().find("No such file"), std::string::npos);
  EXPECT_TRUE(IsNotFoundError(r.error()));
  EXPECT_FALSE(IsNotFoundError(Status::IoError("x")));
}

TEST_F(PosixFileSystemTest, NoSpaceIsInsufficientStorage) {
  // /dev/full fails every write with ENOSPC.
  auto f = fs_.OpenAppendable("/dev/full");
  ASSERT_TRUE(f.ok()) << "no /dev/full (Linux always has it): " << f.status();
  Status s = (*f)->Append("x");
  EXPECT_EQ(s.code(), StatusCode::kInsufficientStorage) << s;
  EXPECT_EQ(PosixError("write", "p", EIO).code(), StatusCode::kIoError);
}

TEST_F(PosixFileSystemTest, SecondLockFailsAtOnceNamingTheHolder) {
  const std::string lock_path = dir_.Join("LOCK");
  auto first = fs_.Lock(lock_path);
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = fs_.Lock(lock_path);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code(), StatusCode::kUnavailable);
  EXPECT_NE(second.error().message().find(lock_path), std::string::npos);
  EXPECT_NE(second.error().message().find("pid " + std::to_string(::getpid())),
            std::string::npos)
      << second.error();
}

// A shared lock (export-aegis reading a data directory) changes nothing on
// disk, excludes an exclusive holder and is excluded by one, and does not
// create a missing lock file.
TEST_F(PosixFileSystemTest, SharedLockWritesNothingAndExcludesAnExclusiveOne) {
  const std::string lock_path = dir_.Join("LOCK");
  EXPECT_TRUE(IsNotFoundError(fs_.LockShared(lock_path).status()));
  EXPECT_FALSE(*fs_.Exists(lock_path));
  {
    auto exclusive = fs_.Lock(lock_path);
    ASSERT_TRUE(exclusive.ok()) << exclusive.status();
    auto refused = fs_.LockShared(lock_path);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code(), StatusCode::kUnavailable);
  }
  ASSERT_TRUE(WriteFileAtomically(fs_, lock_path, "12345\n").ok());
  {
    auto shared = fs_.LockShared(lock_path);
    ASSERT_TRUE(shared.ok()) << shared.status();
    auto another = fs_.LockShared(lock_path);
    EXPECT_TRUE(another.ok()) << another.status();
    auto exclusive = fs_.Lock(lock_path);
    ASSERT_FALSE(exclusive.ok());
    EXPECT_EQ(exclusive.error().code(), StatusCode::kUnavailable);
    // The pid in the file is not the shared holder's; the message says
    // only what the file says.
    EXPECT_NE(exclusive.error().message().find("the lock file names pid "
                                               "12345"),
              std::string::npos)
        << exclusive.error();
  }
  EXPECT_EQ(*ReadFileToString(fs_, lock_path), "12345\n");
  // A read-only copy (root could write it anyway: then the content check
  // above is what shows nothing was written).
  ASSERT_EQ(::chmod(lock_path.c_str(), 0400), 0);
  EXPECT_TRUE(fs_.LockShared(lock_path).ok());
  EXPECT_EQ(*ReadFileToString(fs_, lock_path), "12345\n");
}

TEST_F(PosixFileSystemTest, LockIsReleasedWhenItsHolderIsDestroyed) {
  const std::string lock_path = dir_.Join("LOCK");
  {
    auto held = fs_.Lock(lock_path);
    ASSERT_TRUE(held.ok());
  }
  EXPECT_TRUE(fs_.Lock(lock_path).ok());
}

TEST_F(PosixFileSystemTest, WriteFileAtomicallyReplacesAndLeavesNoTempFile) {
  const std::string path = dir_.Join("snap");
  ASSERT_TRUE(WriteFileAtomically(fs_, path, "old").ok());
  ASSERT_TRUE(WriteFileAtomically(fs_, path, "new").ok());
  EXPECT_EQ(Read(path), "new");
  EXPECT_EQ(Mode(path) & 0077, 0u);
  EXPECT_EQ(*fs_.ListDir(dir_.path()), std::vector<std::string>{"snap"});
}

TEST(PathTest, JoinAndDirName) {
  EXPECT_EQ(JoinPath("a", "b"), "a/b");
  EXPECT_EQ(JoinPath("a/", "b"), "a/b");
  EXPECT_EQ(DirName("a/b/c"), "a/b");
  EXPECT_EQ(DirName("a/b/"), "a");
  EXPECT_EQ(DirName("/x"), "/");
  EXPECT_EQ(DirName("x"), ".");
}

}  // namespace
}  // namespace acpstore::io
