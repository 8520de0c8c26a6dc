// FileSystem is the narrow set of file operations the journal and snapshots
// need, behind an interface so tests can swap in FaultInjectionFileSystem
// (drops unsynced bytes on a simulated crash, injects ENOSPC/EIO).
//
// Every failure is a Status naming the operation and the path, with the
// errno text: ENOSPC/EDQUOT are kInsufficientStorage, everything else
// kIoError, and the errno number is attached as detail "errno".
//
// Thread-safety: FileSystem methods may be called from any thread.
// A WritableFile is used by one thread at a time; a RandomAccessFile may be
// shared (ReadAt is pread). Handles do not reference the FileSystem that
// made them unless the implementation says so (FaultInjectionFileSystem's
// handles must not outlive it).

#ifndef ACPSTORE_IO_FILE_SYSTEM_H_
#define ACPSTORE_IO_FILE_SYSTEM_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "acpstore/result.h"
#include "acpstore/status.h"

namespace acpstore::io {

// A file opened for appending. Bytes are durable only after Sync()
// succeeds; if Sync() fails the file's contents are unknown and the caller
// must stop trusting it (the journal turns read-only).
class WritableFile {
 public:
  virtual ~WritableFile() = default;  // closes; see Close() for errors

  // Appends every piece, in order, with as few syscalls as possible
  // (writev). On failure some prefix of the bytes may have been written;
  // size() counts only what the OS accepted.
  virtual Status Append(std::span<const std::string_view> pieces) = 0;
  Status Append(std::string_view data) { return Append(std::span(&data, 1)); }

  // fdatasync: the data and the file size are durable. A new file's
  // directory entry is durable only after FileSystem::SyncDir.
  virtual Status Sync() = 0;

  // Cuts the file to `size` bytes; later appends continue from there.
  virtual Status Truncate(uint64_t size) = 0;

  virtual Status Close() = 0;

  // Bytes in the file as this handle knows them.
  virtual uint64_t size() const = 0;
  virtual const std::string& path() const = 0;
};

// A file opened for positional reads.
class RandomAccessFile {
 public:
  virtual ~RandomAccessFile() = default;

  // Reads up to `n` bytes at `offset` into `scratch` and returns a view of
  // them; shorter than `n` only at end of file.
  virtual Result<std::string_view> ReadAt(uint64_t offset, size_t n,
                                          char* scratch) const = 0;
  virtual const std::string& path() const = 0;
};

// An advisory lock (exclusive, or shared: FileSystem::LockShared), released
// when the object is destroyed.
class FileLock {
 public:
  virtual ~FileLock() = default;
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  // Creates `path` and any missing parents with mode 0700. OK if it exists.
  virtual Status CreateDir(const std::string& path) = 0;

  // Opens `path` for appending at its end, creating it (mode 0600) if it
  // does not exist.
  virtual Result<std::unique_ptr<WritableFile>> OpenAppendable(
      const std::string& path) = 0;

  // Creates `path` (mode 0600); fails if it already exists (O_EXCL).
  virtual Result<std::unique_ptr<WritableFile>> CreateNew(
      const std::string& path) = 0;

  virtual Result<std::unique_ptr<RandomAccessFile>> OpenReadable(
      const std::string& path) = 0;

  // fsync of a directory: makes creates, renames and unlinks in it durable.
  virtual Status SyncDir(const std::string& path) = 0;

  // Atomically replaces `to`, if it exists.
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  // Removes a file, or an empty directory.
  virtual Status Remove(const std::string& path) = 0;

  // Names (not paths) of the entries in `path`, without "." and "..", in
  // no particular order.
  virtual Result<std::vector<std::string>> ListDir(const std::string& path) = 0;

  virtual Result<uint64_t> FileSize(const std::string& path) = 0;
  virtual Result<bool> Exists(const std::string& path) = 0;
  virtual Status Truncate(const std::string& path, uint64_t size) = 0;

  // Takes an exclusive advisory lock on `path` (created 0600 if missing)
  // without waiting. If another holder has it, fails at once with
  // kUnavailable naming the path and, when known, the holder's pid.
  virtual Result<std::unique_ptr<FileLock>> Lock(const std::string& path) = 0;
  // Takes a shared advisory lock on the existing file `path` without
  // waiting, opening it read-only: nothing is created or written, so it
  // works on a read-only copy. Shared holders exclude an exclusive Lock and
  // one another's never; while an exclusive holder has it, fails at once
  // with kUnavailable as Lock does. A missing file fails (ENOENT,
  // IsNotFoundError).
  virtual Result<std::unique_ptr<FileLock>> LockShared(
      const std::string& path) = 0;
};

// The process-wide POSIX file system. Stateless; lives forever.
FileSystem& PosixFileSystem();

// Replaces `path` so that a crash leaves either the old or the new content,
// never a mix: write to "<path>.tmp-<random>" (O_EXCL) → fsync → rename →
// fsync the directory. The temp file is removed on failure.
Status WriteFileAtomically(FileSystem& fs, const std::string& path,
                           std::string_view data);

// The whole content of `path`.
Result<std::string> ReadFileToString(FileSystem& fs, const std::string& path);

// "dir/name"; `dir` may end with '/'.
std::string JoinPath(std::string_view dir, std::string_view name);
// The directory part of `path` ("." when there is none).
std::string DirName(std::string_view path);

// True for an error whose errno detail is ENOENT (the path does not exist).
bool IsNotFoundError(const Status& status);
// True for an error whose errno detail is ENOTDIR (a path that should be a
// directory, or one of its parents, is not one).
bool IsNotADirectoryError(const Status& status);

}  // namespace acpstore::io

#endif  // ACPSTORE_IO_FILE_SYSTEM_H_
