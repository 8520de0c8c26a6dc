// The POSIX FileSystem: open/writev/pread/fdatasync/rename/flock. See
// file_system.h for the contract. Every fd is O_CLOEXEC; files are created
// 0600 and directories 0700 (SPEC §3), before the umask.

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <string>
#include <vector>

#include "io/file_system.h"
#include "io/posix_error.h"

namespace acpstore::io {
namespace {

int RetryOnEintr(int (*fn)(int), int fd) {
  int r;
  do {
    r = fn(fd);
  } while (r < 0 && errno == EINTR);
  return r;
}

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(int fd, std::string path, uint64_t size)
      : fd_(fd), path_(std::move(path)), size_(size) {}
  ~PosixWritableFile() override {
    if (fd_ >= 0) ::close(fd_);
  }

  Status Append(std::span<const std::string_view> pieces) override {
    if (fd_ < 0) return Closed("write");
    std::vector<iovec> iov;
    iov.reserve(std::min<size_t>(pieces.size(), IOV_MAX));
    size_t next = 0;       // first piece not yet in iov
    size_t skip = 0;       // bytes of pieces[next_unwritten] already written
    size_t unwritten = 0;  // first piece not completely written
    while (unwritten < pieces.size()) {
      iov.clear();
      for (next = unwritten; next < pieces.size() && iov.size() < IOV_MAX;
           ++next) {
        std::string_view p = pieces[next];
        if (next == unwritten) p.remove_prefix(skip);
        if (p.empty()) continue;
        iov.push_back({const_cast<char*>(p.data()), p.size()});
      }
      if (iov.empty()) break;
      ssize_t n = ::writev(fd_, iov.data(), static_cast<int>(iov.size()));
      if (n < 0) {
        if (errno == EINTR) continue;
        return PosixError("write", path_, errno);
      }
      size_ += static_cast<uint64_t>(n);
      // Advance (unwritten, skip) past n bytes.
      auto left = static_cast<size_t>(n);
      while (unwritten < pieces.size()) {
        const size_t rest = pieces[unwritten].size() - skip;
        if (left < rest) {
          skip += left;
          break;
        }
        left -= rest;
        skip = 0;
        ++unwritten;
        if (left == 0) break;
      }
    }
    return Status::OK();
  }

  Status Sync() override {
    if (fd_ < 0) return Closed("fdatasync");
    if (RetryOnEintr(::fdatasync, fd_) != 0) {
      return PosixError("fdatasync", path_, errno);
    }
    return Status::OK();
  }

  Status Truncate(uint64_t size) override {
    if (fd_ < 0) return Closed("truncate");
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) {
      return PosixError("truncate", path_, errno);
    }
    size_ = size;
    return Status::OK();
  }

  Status Close() override {
    if (fd_ < 0) return Status::OK();
    const int fd = fd_;
    fd_ = -1;
    // Never retry close on EINTR: the fd is gone either way on Linux.
    if (::close(fd) != 0) return PosixError("close", path_, errno);
    return Status::OK();
  }

  uint64_t size() const override { return size_; }
  const std::string& path() const override { return path_; }

 private:
  Status Closed(std::string_view op) const {
    return Status::IoError(std::string(op) + " " + path_ + ": file is closed");
  }

  int fd_;
  const std::string path_;
  uint64_t size_;
};

class PosixRandomAccessFile final : public RandomAccessFile {
 public:
  PosixRandomAccessFile(int fd, std::string path)
      : fd_(fd), path_(std::move(path)) {}
  ~PosixRandomAccessFile() override { ::close(fd_); }

  Result<std::string_view> ReadAt(uint64_t offset, size_t n,
                                  char* scratch) const override {
    size_t done = 0;
    while (done < n) {
      ssize_t r = ::pread(fd_, scratch + done, n - done,
                          static_cast<off_t>(offset + done));
      if (r < 0) {
        if (errno == EINTR) continue;
        return PosixError("read", path_, errno);
      }
      if (r == 0) break;  // end of file
      done += static_cast<size_t>(r);
    }
    return std::string_view(scratch, done);
  }

  const std::string& path() const override { return path_; }

 private:
  const int fd_;
  const std::string path_;
};

class PosixFileLock final : public FileLock {
 public:
  explicit PosixFileLock(int fd) : fd_(fd) {}
  ~PosixFileLock() override { ::close(fd_); }  // releases the flock

 private:
  const int fd_;
};

// Reads a short file through an fd, for the lock holder's pid.
std::string ReadSmall(int fd) {
  char buf[64];
  ssize_t n = ::pread(fd, buf, sizeof(buf), 0);
  if (n <= 0) return "";
  std::string s(buf, static_cast<size_t>(n));
  while (!s.empty() && (s.back() == '\n' || s.back() == '\0')) s.pop_back();
  return s;
}

// flock(`how` | LOCK_NB) on `fd`; on failure closes it. flock, not fcntl:
// flock locks belong to the open file description, so a second Lock() in
// the same process fails too, as it must.
Status Flock(int fd, int how, const std::string& path) {
  if (::flock(fd, how | LOCK_NB) == 0) return Status::OK();
  const int err = errno;
  std::string holder = err == EWOULDBLOCK ? ReadSmall(fd) : "";
  ::close(fd);
  if (err != EWOULDBLOCK) return PosixError("flock", path, err);
  std::string msg = "another process holds the lock " + path;
  // The pid the last exclusive holder wrote: a shared holder (LockShared)
  // writes none, so it may not be the process that holds it now.
  if (!holder.empty()) msg += " (the lock file names pid " + holder + ")";
  msg += "; only one acpstore process may use a data directory";
  return Status::Unavailable(msg).With("path", path);
}

class PosixFileSystemImpl final : public FileSystem {
 public:
  Status CreateDir(const std::string& path) override {
    if (path.empty()) return Status::InvalidArgument("mkdir: empty path");
    // mkdir -p: create each missing component in turn.
    for (size_t pos = path.find('/', 1);; pos = path.find('/', pos + 1)) {
      const std::string prefix = path.substr(0, pos);
      if (::mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST) {
        return PosixError("mkdir", prefix, errno);
      }
      if (pos == std::string::npos) break;
    }
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return PosixError("stat", path, errno);
    if (!S_ISDIR(st.st_mode)) {
      return Status::IoError("mkdir " + path +
                             ": exists and is not a directory")
          .With("path", path);
    }
    return Status::OK();
  }

  Result<std::unique_ptr<WritableFile>> OpenAppendable(
      const std::string& path) override {
    return OpenForWrite(path, O_CREAT);
  }

  Result<std::unique_ptr<WritableFile>> CreateNew(
      const std::string& path) override {
    return OpenForWrite(path, O_CREAT | O_EXCL);
  }

  Result<std::unique_ptr<RandomAccessFile>> OpenReadable(
      const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return PosixError("open", path, errno);
    return std::unique_ptr<RandomAccessFile>(
        std::make_unique<PosixRandomAccessFile>(fd, path));
  }

  Status SyncDir(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return PosixError("open", path, errno);
    Status s;
    if (RetryOnEintr(::fsync, fd) != 0) s = PosixError("fsync", path, errno);
    ::close(fd);
    return s;
  }

  Status Rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) {
      return PosixError("rename", from + " -> " + to, errno);
    }
    return Status::OK();
  }

  Status Remove(const std::string& path) override {
    if (::unlink(path.c_str()) == 0) return Status::OK();
    if (errno != EISDIR) return PosixError("unlink", path, errno);
    if (::rmdir(path.c_str()) != 0) return PosixError("rmdir", path, errno);
    return Status::OK();
  }

  Result<std::vector<std::string>> ListDir(const std::string& path) override {
    DIR* dir = ::opendir(path.c_str());
    if (dir == nullptr) return PosixError("opendir", path, errno);
    std::vector<std::string> names;
    errno = 0;
    while (struct dirent* e = ::readdir(dir)) {
      std::string_view name = e->d_name;
      if (name != "." && name != "..") names.emplace_back(name);
    }
    const int err = errno;
    ::closedir(dir);
    if (err != 0) return PosixError("readdir", path, err);
    return names;
  }

  Result<uint64_t> FileSize(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return PosixError("stat", path, errno);
    return static_cast<uint64_t>(st.st_size);
  }

  Result<bool> Exists(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) == 0) return true;
    if (errno == ENOENT || errno == ENOTDIR) return false;
    return PosixError("stat", path, errno);
  }

  Status Truncate(const std::string& path, uint64_t size) override {
    if (::truncate(path.c_str(), static_cast<off_t>(size)) != 0) {
      return PosixError("truncate", path, errno);
    }
    return Status::OK();
  }

  Result<std::unique_ptr<FileLock>> Lock(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return PosixError("open", path, errno);
    ACPSTORE_RETURN_IF_ERROR(Flock(fd, LOCK_EX, path));
    // Best effort: the pid only improves the message of Flock.
    const std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd, 0) == 0) {
      [[maybe_unused]] ssize_t n = ::pwrite(fd, pid.data(), pid.size(), 0);
    }
    return std::unique_ptr<FileLock>(std::make_unique<PosixFileLock>(fd));
  }

  Result<std::unique_ptr<FileLock>> LockShared(
      const std::string& path) override {
    // Read-only and no O_CREAT: a shared holder changes nothing on disk
    // (flock needs no write access), not even the pid the exclusive
    // holder writes.
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return PosixError("open", path, errno);
    ACPSTORE_RETURN_IF_ERROR(Flock(fd, LOCK_SH, path));
    return std::unique_ptr<FileLock>(std::make_unique<PosixFileLock>(fd));
  }

 private:
  Result<std::unique_ptr<WritableFile>> OpenForWrite(const std::string& path,
                                                     int extra_flags) {
    int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC | extra_flags,
                    0600);
    if (fd < 0) return PosixError("open", path, errno);
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      Status s = PosixError("stat", path, errno);
      ::close(fd);
      return s;
    }
    return std::unique_ptr<WritableFile>(std::make_unique<PosixWritableFile>(
        fd, path, static_cast<uint64_t>(st.st_size)));
  }
};

}  // namespace

FileSystem& PosixFileSystem() {
  static PosixFileSystemImpl* fs = new PosixFileSystemImpl();
  return *fs;
}

}  // namespace acpstore::io
