// TempDir (test_dir.h): held while it lives, gone after, even when a test
// left its tree read-only; directories whose process died are swept, live
// ones and an older build's are not.

#include "io/test_dir.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace acpstore::io {
namespace {

namespace fs = std::filesystem;
namespace in = test_dir_internal;

bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

TEST(TempDirTest, IsHeldWhileItLivesAndGoneAfter) {
  std::string path;
  {
    TempDir dir;
    path = dir.path();
    EXPECT_TRUE(in::IsLockedKind(fs::path(path).filename().string())) << path;
    EXPECT_NE(path.find("-" + std::to_string(::getpid()) + "-"),
              std::string::npos)
        << path;
    std::ofstream(dir.Join("f")) << "x";
    // Another open description (as another process's sweep has) cannot
    // take its lock.
    const int fd = in::LockDir(path, /*wait=*/false);
    EXPECT_LT(fd, 0);
    if (fd >= 0) ::close(fd);
  }
  EXPECT_FALSE(Exists(path)) << path;
}

TEST(TempDirTest, ATreeLeftReadOnlyIsRemovedAllTheSame) {
  std::string path;
  {
    TempDir dir;
    path = dir.path();
    fs::create_directories(dir.Join("a/b"));
    std::ofstream(dir.Join("a/b/f")) << "x";
    fs::create_directories(dir.Join("c"));
    std::ofstream(dir.Join("c/g")) << "y";
    // As a test that made a data directory read-only and failed before
    // making it writable again leaves it (root removes it anyway).
    ASSERT_EQ(::chmod(dir.Join("a/b").c_str(), 0500), 0);
    ASSERT_EQ(::chmod(dir.Join("a").c_str(), 0500), 0);
    ASSERT_EQ(::chmod(dir.Join("c").c_str(), 0), 0);
  }
  EXPECT_FALSE(Exists(path)) << path;
}

TEST(TempDirTest, OnlyTheDirectoriesOfDeadProcessesAreSwept) {
  TempDir root;
  auto make = [&](const std::string& name) {
    fs::create_directories(root.Join(name + "/data/journal"));
    std::ofstream(root.Join(name + "/data/LOCK")) << "1\n";
    return root.Join(name);
  };
  // Its process died: nothing holds it.
  const std::string dead = make("acpstore-test-4194304-AbCdEf");
  // Held, as its live TempDir holds it.
  const std::string live = make("acpstore-test-1-GhIjKl");
  const int held = in::LockDir(live, /*wait=*/false);
  ASSERT_GE(held, 0);
  // An older build's: never locked, so never taken for a dead one.
  const std::string old = make("acpstore-test-MnOpQr");
  // Not of the kind.
  const std::string other = make("acpstore-crash-StUvWx");
  std::ofstream(root.Join("acpstore-test-2-YzAbCd")) << "a file";

  in::SweepAbandoned(root.path());
  EXPECT_FALSE(Exists(dead));
  EXPECT_TRUE(Exists(live + "/data/LOCK"));
  EXPECT_TRUE(Exists(old + "/data/LOCK"));
  EXPECT_TRUE(Exists(other + "/data/LOCK"));
  EXPECT_TRUE(Exists(root.Join("acpstore-test-2-YzAbCd")));

  // Once its holder is gone, it goes too.
  ::close(held);
  in::SweepAbandoned(root.path());
  EXPECT_FALSE(Exists(live));
  EXPECT_TRUE(Exists(old));
}

TEST(TempDirTest, NamesOfTheKind) {
  EXPECT_TRUE(in::IsLockedKind("acpstore-test-12-abcdef"));
  EXPECT_FALSE(in::IsLockedKind("acpstore-test-abcdef"));
  EXPECT_FALSE(in::IsLockedKind("acpstore-test--abcdef"));
  EXPECT_FALSE(in::IsLockedKind("acpstore-test-1x-abcdef"));
  EXPECT_FALSE(in::IsLockedKind("acpstore-test-12-abcde"));
  EXPECT_FALSE(in::IsLockedKind("acpstore-test-12-abcdefg"));
  EXPECT_FALSE(in::IsLockedKind("other-12-abcdef"));
}

}  // namespace
}  // namespace acpstore::io
