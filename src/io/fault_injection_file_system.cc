// FaultInjectionFileSystem: crash simulation and injected I/O errors over a
// real FileSystem. See fault_injection_file_system.h.

#include "io/fault_injection_file_system.h"

#include <algorithm>
#include <filesystem>

#include "io/posix_error.h"

namespace acpstore::io {
namespace {

std::string_view OpName(FaultInjectionFileSystem::Op op) {
  switch (op) {
    case FaultInjectionFileSystem::kAppend:
      return "write";
    case FaultInjectionFileSystem::kSync:
      return "fdatasync";
    case FaultInjectionFileSystem::kSyncDir:
      return "fsync";
    case FaultInjectionFileSystem::kCreate:
      return "open";
    case FaultInjectionFileSystem::kRename:
      return "rename";
    case FaultInjectionFileSystem::kTruncate:
      return "truncate";
    case FaultInjectionFileSystem::kRemove:
      return "unlink";
    case FaultInjectionFileSystem::kRead:
      return "read";
  }
  return "io";
}

// "a/b/" and "a//b" name the same directory as "a/b".
std::string NormalDir(const std::string& dir) {
  std::string s = std::filesystem::path(dir).lexically_normal().string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

}  // namespace

class FaultInjectionFileSystem::File final : public WritableFile {
 public:
  File(FaultInjectionFileSystem* fs, std::unique_ptr<WritableFile> base,
       std::shared_ptr<FileState> state, uint64_t epoch)
      : fs_(fs),
        base_(std::move(base)),
        state_(std::move(state)),
        epoch_(epoch) {}

  Status Append(std::span<const std::string_view> pieces) override {
    base::MutexLock lock(&fs_->mu_);
    ACPSTORE_RETURN_IF_ERROR(fs_->CheckEpoch(epoch_, path()));
    Status injected = fs_->MaybeFail(kAppend, path());
    if (!injected.ok()) {
      // A real ENOSPC/EIO usually lands after part of the data: write half.
      size_t total = 0;
      for (std::string_view p : pieces) total += p.size();
      size_t budget = total / 2;
      std::vector<std::string_view> prefix;
      for (std::string_view p : pieces) {
        if (budget == 0) break;
        prefix.push_back(p.substr(0, std::min(budget, p.size())));
        budget -= prefix.back().size();
      }
      (void)base_->Append(prefix);
      state_->written = base_->size();
      return injected;
    }
    Status s = base_->Append(pieces);
    state_->written = base_->size();
    return s;
  }

  Status Sync() override {
    base::MutexLock lock(&fs_->mu_);
    ACPSTORE_RETURN_IF_ERROR(fs_->CheckEpoch(epoch_, path()));
    ACPSTORE_RETURN_IF_ERROR(fs_->MaybeFail(kSync, path()));
    ACPSTORE_RETURN_IF_ERROR(base_->Sync());
    state_->synced = state_->written;
    ++fs_->sync_count_;
    return Status::OK();
  }

  Status Truncate(uint64_t size) override {
    base::MutexLock lock(&fs_->mu_);
    ACPSTORE_RETURN_IF_ERROR(fs_->CheckEpoch(epoch_, path()));
    ACPSTORE_RETURN_IF_ERROR(fs_->MaybeFail(kTruncate, path()));
    ACPSTORE_RETURN_IF_ERROR(base_->Truncate(size));
    state_->written = size;
    state_->synced = std::min(state_->synced, size);
    return Status::OK();
  }

  Status Close() override { return base_->Close(); }
  uint64_t size() const override { return base_->size(); }
  const std::string& path() const override { return base_->path(); }

 private:
  FaultInjectionFileSystem* const fs_;
  const std::unique_ptr<WritableFile> base_;
  const std::shared_ptr<FileState> state_;  // shared with fs_->files_
  const uint64_t epoch_;
};

class FaultInjectionFileSystem::Reader final : public RandomAccessFile {
 public:
  Reader(FaultInjectionFileSystem* fs, std::unique_ptr<RandomAccessFile> base)
      : fs_(fs), base_(std::move(base)) {}

  Result<std::string_view> ReadAt(uint64_t offset, size_t n,
                                  char* scratch) const override {
    {
      base::MutexLock lock(&fs_->mu_);
      ACPSTORE_RETURN_IF_ERROR(fs_->MaybeFail(kRead, path()));
    }
    return base_->ReadAt(offset, n, scratch);
  }
  const std::string& path() const override { return base_->path(); }

 private:
  FaultInjectionFileSystem* const fs_;
  const std::unique_ptr<RandomAccessFile> base_;
};

FaultInjectionFileSystem::FaultInjectionFileSystem(FileSystem& base)
    : base_(base) {}
FaultInjectionFileSystem::~FaultInjectionFileSystem() = default;

Status FaultInjectionFileSystem::CheckEpoch(uint64_t epoch,
                                            const std::string& path) const {
  if (epoch == epoch_) return Status::OK();
  return Status::IoError(path + ": handle opened before a simulated crash");
}

Status FaultInjectionFileSystem::MaybeFail(Op op, const std::string& path) {
  for (ArmedFault& armed : faults_) {
    const Fault& f = armed.fault;
    if ((f.ops & op) == 0) continue;
    if (f.path_matches && !f.path_matches(path)) continue;
    if (armed.seen++ < f.skip || armed.failed >= f.times) continue;
    ++armed.failed;
    ++injected_failures_;
    return PosixError(OpName(op), path, f.error).With("injected", "true");
  }
  return Status::OK();
}

Status FaultInjectionFileSystem::CreateDir(const std::string& path) {
  return base_.CreateDir(path);
}

Result<std::unique_ptr<WritableFile>> FaultInjectionFileSystem::OpenLocked(
    const std::string& path, bool exclusive) {
  ACPSTORE_RETURN_IF_ERROR(MaybeFail(kCreate, path));
  ACPSTORE_ASSIGN_OR_RETURN(bool existed, base_.Exists(path));
  ACPSTORE_ASSIGN_OR_RETURN(
      std::unique_ptr<WritableFile> file,
      exclusive ? base_.CreateNew(path) : base_.OpenAppendable(path));
  if (!existed) dir_ops_.push_back(DirOp{false, path, "", std::nullopt});
  std::shared_ptr<FileState>& state = files_[path];
  if (state == nullptr) {
    // A file that existed before we saw it is taken as durable.
    state = std::make_shared<FileState>();
    state->written = state->synced = file->size();
  }
  return std::unique_ptr<WritableFile>(
      std::make_unique<File>(this, std::move(file), state, epoch_));
}

Result<std::unique_ptr<WritableFile>> FaultInjectionFileSystem::OpenAppendable(
    const std::string& path) {
  base::MutexLock lock(&mu_);
  return OpenLocked(path, /*exclusive=*/false);
}

Result<std::unique_ptr<WritableFile>> FaultInjectionFileSystem::CreateNew(
    const std::string& path) {
  base::MutexLock lock(&mu_);
  return OpenLocked(path, /*exclusive=*/true);
}

Result<std::unique_ptr<RandomAccessFile>>
FaultInjectionFileSystem::OpenReadable(const std::string& path) {
  ACPSTORE_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> file,
                            base_.OpenReadable(path));
  return std::unique_ptr<RandomAccessFile>(
      std::make_unique<Reader>(this, std::move(file)));
}

Status FaultInjectionFileSystem::SyncDir(const std::string& path) {
  base::MutexLock lock(&mu_);
  ACPSTORE_RETURN_IF_ERROR(MaybeFail(kSyncDir, path));
  ACPSTORE_RETURN_IF_ERROR(base_.SyncDir(path));
  ++dir_sync_count_;
  const std::string dir = NormalDir(path);
  std::erase_if(dir_ops_, [&](const DirOp& op) {
    return NormalDir(DirName(op.path)) == dir;
  });
  return Status::OK();
}

Status FaultInjectionFileSystem::Rename(const std::string& from,
                                        const std::string& to) {
  base::MutexLock lock(&mu_);
  ACPSTORE_RETURN_IF_ERROR(MaybeFail(kRename, from));
  DirOp op{true, to, from, std::nullopt};
  ACPSTORE_ASSIGN_OR_RETURN(bool target_exists, base_.Exists(to));
  if (target_exists) {
    ACPSTORE_ASSIGN_OR_RETURN(op.replaced, ReadFileToString(base_, to));
  }
  ACPSTORE_RETURN_IF_ERROR(base_.Rename(from, to));
  files_.erase(to);
  if (auto it = files_.find(from); it != files_.end()) {
    files_[to] = std::move(it->second);
    files_.erase(from);
  }
  dir_ops_.push_back(std::move(op));
  return Status::OK();
}

Status FaultInjectionFileSystem::Remove(const std::string& path) {
  base::MutexLock lock(&mu_);
  ACPSTORE_RETURN_IF_ERROR(MaybeFail(kRemove, path));
  ACPSTORE_RETURN_IF_ERROR(base_.Remove(path));
  files_.erase(path);
  return Status::OK();
}

Result<std::vector<std::string>> FaultInjectionFileSystem::ListDir(
    const std::string& path) {
  return base_.ListDir(path);
}

Result<uint64_t> FaultInjectionFileSystem::FileSize(const std::string& path) {
  return base_.FileSize(path);
}

Result<bool> FaultInjectionFileSystem::Exists(const std::string& path) {
  return base_.Exists(path);
}

Status FaultInjectionFileSystem::Truncate(const std::string& path,
                                          uint64_t size) {
  base::MutexLock lock(&mu_);
  ACPSTORE_RETURN_IF_ERROR(MaybeFail(kTruncate, path));
  ACPSTORE_RETURN_IF_ERROR(base_.Truncate(path, size));
  if (auto it = files_.find(path); it != files_.end()) {
    it->second->written = size;
    it->second->synced = std::min(it->second->synced, size);
  }
  return Status::OK();
}

Result<std::unique_ptr<FileLock>> FaultInjectionFileSystem::Lock(
    const std::string& path) {
  return base_.Lock(path);
}

Result<std::unique_ptr<FileLock>> FaultInjectionFileSystem::LockShared(
    const std::string& path) {
  return base_.LockShared(path);
}

Status FaultInjectionFileSystem::SimulateCrash() {
  base::MutexLock lock(&mu_);
  // 1. Unsynced bytes are lost.
  for (const auto& [path, state] : files_) {
    ACPSTORE_ASSIGN_OR_RETURN(bool exists, base_.Exists(path));
    if (!exists) continue;
    ACPSTORE_ASSIGN_OR_RETURN(uint64_t size, base_.FileSize(path));
    if (size > state->synced) {
      ACPSTORE_RETURN_IF_ERROR(base_.Truncate(path, state->synced));
    }
  }
  // 2. Directory entries not made durable by SyncDir are undone, newest
  // first, so a create-then-rename unwinds to nothing.
  for (auto it = dir_ops_.rbegin(); it != dir_ops_.rend(); ++it) {
    ACPSTORE_ASSIGN_OR_RETURN(bool exists, base_.Exists(it->path));
    if (!it->is_rename) {
      if (exists) ACPSTORE_RETURN_IF_ERROR(base_.Remove(it->path));
      continue;
    }
    if (exists) ACPSTORE_RETURN_IF_ERROR(base_.Rename(it->path, it->from));
    if (it->replaced.has_value()) {
      ACPSTORE_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> old,
                                base_.CreateNew(it->path));
      ACPSTORE_RETURN_IF_ERROR(old->Append(*it->replaced));
      ACPSTORE_RETURN_IF_ERROR(old->Sync());
      ACPSTORE_RETURN_IF_ERROR(old->Close());
    }
  }
  // 3. What is left is durable; the dead process's handles stay dead.
  files_.clear();
  dir_ops_.clear();
  ++epoch_;
  return Status::OK();
}

void FaultInjectionFileSystem::InjectFault(Fault fault) {
  base::MutexLock lock(&mu_);
  faults_.push_back(ArmedFault{std::move(fault), 0, 0});
}

void FaultInjectionFileSystem::ClearFaults() {
  base::MutexLock lock(&mu_);
  faults_.clear();
}

uint64_t FaultInjectionFileSystem::sync_count() const {
  base::MutexLock lock(&mu_);
  return sync_count_;
}

uint64_t FaultInjectionFileSystem::dir_sync_count() const {
  base::MutexLock lock(&mu_);
  return dir_sync_count_;
}

uint64_t FaultInjectionFileSystem::injected_failures() const {
  base::MutexLock lock(&mu_);
  return injected_failures_;
}

std::optional<uint64_t> FaultInjectionFileSystem::written_size(
    const std::string& path) const {
  base::MutexLock lock(&mu_);
  auto it = files_.find(path);
  if (it == files_.end()) return std::nullopt;
  return it->second->written;
}

std::optional<uint64_t> FaultInjectionFileSystem::synced_size(
    const std::string& path) const {
  base::MutexLock lock(&mu_);
  auto it = files_.find(path);
  if (it == files_.end()) return std::nullopt;
  return it->second->synced;
}

}  // namespace acpstore::io
