// TempDir makes a fresh directory under $TMPDIR (or /tmp) for one test and
// removes it, with everything in it, when destroyed. Test-only and
// header-only; a test that includes it links acpstore_io all the same (the
// layering check holds every include to the links).
//
// Nothing is left behind, whatever the test did:
// - Removal that fails is tried again for up to 5 s, each time after
//   making every directory in the tree writable by its owner: a writer
//   still finishing (a child process being reaped, a thread being
//   joined) and a tree a failed test left read-only both used to leave
//   the directory behind, silently. One that still cannot go is named on
//   stderr.
// - A process that dies without running destructors (a crash,
//   std::terminate, SIGKILL at a timeout) cannot remove its directories.
//   Each TempDir holds an exclusive flock(2) on its directory for its
//   lifetime, which the kernel drops when the process dies, however it
//   dies; the first TempDir of every process removes the directories no
//   process holds any more. The directory's name carries the creating
//   process's id (acpstore-test-<pid>-XXXXXX) and only names of that form
//   are ever swept: an older build's directories are not locked and are
//   left alone.
//
// Thread-safety: none needed; one per test (the sweep runs once per
// process).

#ifndef ACPSTORE_IO_TEST_DIR_H_
#define ACPSTORE_IO_TEST_DIR_H_

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>

namespace acpstore::io {

namespace test_dir_internal {

inline constexpr std::string_view kPrefix = "acpstore-test-";

inline std::string Root() {
  const char* base = std::getenv("TMPDIR");
  return base != nullptr && *base != '\0' ? base : "/tmp";
}

// "acpstore-test-<pid>-XXXXXX": made by a TempDir that locks it.
inline bool IsLockedKind(std::string_view name) {
  if (!name.starts_with(kPrefix)) return false;
  name.remove_prefix(kPrefix.size());
  const size_t dash = name.find('-');
  if (dash == 0 || dash == std::string_view::npos) return false;
  return std::all_of(name.begin(), name.begin() + dash,
                     [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }) &&
         name.size() - dash - 1 == 6;
}

// Opens `path` (a directory, not a symlink) and takes its lock: blocking,
// or failing at once when another open description holds it. -1 if not.
inline int LockDir(const std::string& path, bool wait) {
  const int fd =
      ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return -1;
  int r;
  do {
    r = ::flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB));
  } while (r != 0 && errno == EINTR);
  if (r != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Gives the owner rwx on `path` and every directory under it, so that
// removal can list and empty them all.
inline void MakeRemovable(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::permissions(path, fs::perms::owner_all, fs::perm_options::add, ec);
  fs::recursive_directory_iterator it(
      path, fs::directory_options::skip_permission_denied, ec);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code ignored;
    if (it->is_directory(ignored) && !it->is_symlink(ignored)) {
      // Before the iterator goes into it.
      fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add,
                      ignored);
    }
  }
}

// Removes `path` and everything in it, trying again (after making it
// removable) for up to `patience`, and at least once more; false, with
// why, if it is still there.
inline bool RemoveTree(const std::string& path, std::string* why,
                       std::chrono::milliseconds patience) {
  namespace fs = std::filesystem;
  auto pause = std::chrono::milliseconds(10);
  const auto give_up = std::chrono::steady_clock::now() + patience;
  for (int attempt = 0;; ++attempt) {
    std::error_code ec;
    fs::remove_all(path, ec);
    std::error_code gone;
    if (fs::symlink_status(path, gone).type() == fs::file_type::not_found) {
      return true;
    }
    if (attempt > 0 && std::chrono::steady_clock::now() >= give_up) {
      *why = ec ? ec.message() : "it came back while it was being removed";
      return false;
    }
    MakeRemovable(path);
    if (attempt > 0) {
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, std::chrono::milliseconds(500));
    }
  }
}

// Removes the directories of this kind under `root` that no process
// holds: their TempDir's process died before its destructor ran.
inline void SweepAbandoned(const std::string& root) {
  DIR* d = ::opendir(root.c_str());
  if (d == nullptr) return;
  while (const dirent* e = ::readdir(d)) {
    if (!IsLockedKind(e->d_name)) continue;
    const std::string path = root + "/" + e->d_name;
    const int fd = LockDir(path, /*wait=*/false);
    if (fd < 0) continue;  // alive (or not a directory)
    // A TempDir between its mkdtemp and its lock is caught here too: it
    // waits for this lock, finds its directory gone and makes another.
    // No waiting: nothing writes into it any more, and every test process
    // sweeps once.
    std::string why;
    if (!RemoveTree(path, &why, std::chrono::milliseconds(0))) {
      std::fprintf(stderr, "TempDir: cannot remove abandoned %s: %s\n",
                   path.c_str(), why.c_str());
    }
    ::close(fd);
  }
  ::closedir(d);
}

}  // namespace test_dir_internal

class TempDir {
 public:
  TempDir() {
    namespace in = test_dir_internal;
    const std::string root = in::Root();
    static std::once_flag swept;
    std::call_once(swept, [&] { in::SweepAbandoned(root); });
    for (int attempt = 0;; ++attempt) {
      std::string templ = root + "/" + std::string(in::kPrefix) +
                          std::to_string(::getpid()) + "-XXXXXX";
      if (::mkdtemp(templ.data()) == nullptr) {
        throw std::runtime_error("mkdtemp failed for " + templ);
      }
      const int fd = in::LockDir(templ, /*wait=*/true);
      // Still the directory made above: not removed by another process's
      // sweep that took its lock first.
      struct stat held, named;
      if (fd >= 0 && ::fstat(fd, &held) == 0 &&
          ::stat(templ.c_str(), &named) == 0 && held.st_dev == named.st_dev &&
          held.st_ino == named.st_ino) {
        path_ = templ;
        lock_fd_ = fd;
        return;
      }
      if (fd >= 0) ::close(fd);
      if (attempt == 10) {
        throw std::runtime_error("could not make and lock " + templ);
      }
    }
  }
  ~TempDir() {
    std::string why;
    if (!test_dir_internal::RemoveTree(path_, &why, std::chrono::seconds(5))) {
      // Unlocked below: the next test process's sweep tries again.
      std::fprintf(stderr, "TempDir: cannot remove %s: %s\n", path_.c_str(),
                   why.c_str());
    }
    ::close(lock_fd_);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string Join(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
  int lock_fd_ = -1;  // flock(LOCK_EX) on path_: the mark of a live owner
};

}  // namespace acpstore::io

#endif  // ACPSTORE_IO_TEST_DIR_H_
