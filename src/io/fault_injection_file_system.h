// FaultInjectionFileSystem wraps another FileSystem for crash and failure
// tests:
//
//  * Crash model. It tracks, for every file written through it, how many
//    bytes were written and how many were synced, and which creates and
//    renames happened since their directory was last SyncDir'ed.
//    SimulateCrash() then does what a power loss may do: truncates each file
//    to its synced length, and undoes unsynced creates (the file vanishes)
//    and renames (the old name comes back, and a replaced target gets its
//    previous content back). Unlinks and files never written through it are
//    taken as durable. Handles opened before the crash fail afterwards.
//  * Faults. InjectFault() makes matching operations fail with an errno
//    (ENOSPC → kInsufficientStorage, EIO → kIoError), after N matching
//    operations and/or only for paths a predicate accepts. A failed Append
//    writes the first half of its bytes first, as a real short write would.
//  * Counters of file syncs and directory syncs.
//
// Thread-safety: thread-safe; one mutex serialises every operation,
// including the underlying I/O (fine for tests, never for production).
// Lifetime: `base` is borrowed and must outlive this object; handles it
// returns must not outlive it.

#ifndef ACPSTORE_IO_FAULT_INJECTION_FILE_SYSTEM_H_
#define ACPSTORE_IO_FAULT_INJECTION_FILE_SYSTEM_H_

#include <cerrno>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/mutex.h"
#include "io/file_system.h"

namespace acpstore::io {

class FaultInjectionFileSystem final : public FileSystem {
 public:
  // Operations a fault can match; combine with |.
  enum Op : uint32_t {
    kAppend = 1u << 0,
    kSync = 1u << 1,  // WritableFile::Sync
    kSyncDir = 1u << 2,
    kCreate = 1u << 3,  // OpenAppendable, CreateNew
    kRename = 1u << 4,
    kTruncate = 1u << 5,  // both the handle's and the FileSystem's
    kRemove = 1u << 6,
    kRead = 1u << 7,  // RandomAccessFile::ReadAt
  };

  // Fails `ops` with errno `error`, e.g.
  //   fs.InjectFault(Fault(kAppend, ENOSPC).Skip(2).Times(1));
  struct Fault {
    explicit Fault(uint32_t match_ops, int err = EIO)
        : ops(match_ops), error(err) {}
    // Let this many matching operations succeed first.
    Fault& Skip(uint64_t n) {
      skip = n;
      return *this;
    }
    // Then fail this many (default: forever).
    Fault& Times(uint64_t n) {
      times = n;
      return *this;
    }
    // Only paths `matches` accepts count (default: every path).
    Fault& OnPaths(std::function<bool(const std::string& path)> matches) {
      path_matches = std::move(matches);
      return *this;
    }

    uint32_t ops;
    int error;
    uint64_t skip = 0;
    uint64_t times = std::numeric_limits<uint64_t>::max();
    std::function<bool(const std::string& path)> path_matches;
  };

  explicit FaultInjectionFileSystem(FileSystem& base);
  ~FaultInjectionFileSystem() override;

  // FileSystem.
  Status CreateDir(const std::string& path) override;
  Result<std::unique_ptr<WritableFile>> OpenAppendable(
      const std::string& path) override;
  Result<std::unique_ptr<WritableFile>> CreateNew(
      const std::string& path) override;
  Result<std::unique_ptr<RandomAccessFile>> OpenReadable(
      const std::string& path) override;
  Status SyncDir(const std::string& path) override;
  Status Rename(const std::string& from, const std::string& to) override;
  Status Remove(const std::string& path) override;
  Result<std::vector<std::string>> ListDir(const std::string& path) override;
  Result<uint64_t> FileSize(const std::string& path) override;
  Result<bool> Exists(const std::string& path) override;
  Status Truncate(const std::string& path, uint64_t size) override;
  Result<std::unique_ptr<FileLock>> Lock(const std::string& path) override;
  Result<std::unique_ptr<FileLock>> LockShared(
      const std::string& path) override;

  // Drops everything not yet durable (see the file comment). Faults stay.
  Status SimulateCrash();

  void InjectFault(Fault fault);
  void ClearFaults();

  // Successful WritableFile::Sync calls / SyncDir calls so far.
  uint64_t sync_count() const;
  uint64_t dir_sync_count() const;
  // Operations failed by an injected fault so far.
  uint64_t injected_failures() const;
  // Bytes written / synced through a tracked file; nullopt if not tracked.
  std::optional<uint64_t> written_size(const std::string& path) const;
  std::optional<uint64_t> synced_size(const std::string& path) const;

 private:
  class File;
  class Reader;
  struct FileState {
    uint64_t written = 0;
    uint64_t synced = 0;
  };
  // A create or rename not yet made durable by SyncDir of its directory.
  struct DirOp {
    bool is_rename = false;
    std::string path;                     // created path, or rename target
    std::string from;                     // rename source
    std::optional<std::string> replaced;  // rename: target's old content
  };

  // Fails with an injected error if a fault matches.
  Status MaybeFail(Op op, const std::string& path) REQUIRES(mu_);
  Result<std::unique_ptr<WritableFile>> OpenLocked(const std::string& path,
                                                   bool exclusive)
      REQUIRES(mu_);
  // Fails for a handle opened before the last SimulateCrash.
  Status CheckEpoch(uint64_t epoch, const std::string& path) const
      REQUIRES(mu_);

  FileSystem& base_;

  struct ArmedFault {
    Fault fault;
    uint64_t seen = 0;
    uint64_t failed = 0;
  };

  mutable base::Mutex mu_;
  // Bumped by SimulateCrash; handles from an older epoch are dead.
  uint64_t epoch_ GUARDED_BY(mu_) = 0;
  // FileStates are shared with open handles, which update them under mu_.
  std::map<std::string, std::shared_ptr<FileState>> files_ GUARDED_BY(mu_);
  std::vector<DirOp> dir_ops_ GUARDED_BY(mu_);
  std::vector<ArmedFault> faults_ GUARDED_BY(mu_);
  uint64_t sync_count_ GUARDED_BY(mu_) = 0;
  uint64_t dir_sync_count_ GUARDED_BY(mu_) = 0;
  uint64_t injected_failures_ GUARDED_BY(mu_) = 0;
};

}  // namespace acpstore::io

#endif  // ACPSTORE_IO_FAULT_INJECTION_FILE_SYSTEM_H_
