// Snapshot directory listing, selection and clean-up. See the header.

#include "snapshot/snapshot_dir.h"

#include <algorithm>
#include <string_view>
#include <utility>

#include "snapshot/snapshot_reader.h"

namespace acpstore::snapshot {
namespace {

// Entry names of `dir`; a missing directory is empty.
Result<std::vector<std::string>> Names(io::FileSystem& fs,
                                       const std::string& dir) {
  Result<std::vector<std::string>> names = fs.ListDir(dir);
  if (!names && io::IsNotFoundError(names.error())) {
    return std::vector<std::string>{};
  }
  return names;
}

// The files of `dir` whose names `parse` gives a number, by number:
// highest first with `newest_first`, else lowest first.
Result<std::vector<SnapshotFile>> ListNumbered(
    io::FileSystem& fs, const std::string& dir,
    std::optional<uint64_t> (*parse)(std::string_view), bool newest_first) {
  ACPSTORE_ASSIGN_OR_RETURN(std::vector<std::string> names, Names(fs, dir));
  std::vector<SnapshotFile> out;
  for (const std::string& name : names) {
    if (std::optional<uint64_t> n = parse(name)) {
      out.push_back({*n, io::JoinPath(dir, name)});
    }
  }
  std::sort(out.begin(), out.end(),
            [newest_first](const SnapshotFile& a, const SnapshotFile& b) {
              return newest_first ? a.number > b.number : a.number < b.number;
            });
  return out;
}

}  // namespace

Result<std::vector<SnapshotFile>> ListSnapshots(io::FileSystem& fs,
                                                const std::string& dir) {
  return ListNumbered(fs, dir, ParseSnapshotFileName, /*newest_first=*/true);
}

Result<SnapshotHeader> ValidateSnapshot(io::FileSystem& fs,
                                        const std::string& path) {
  ACPSTORE_ASSIGN_OR_RETURN(std::unique_ptr<SnapshotReader> reader,
                            SnapshotReader::Open(fs, path));
  std::string_view chunk;
  while (reader->Next(&chunk)) {
  }
  if (!reader->status().ok()) return reader->status();
  return reader->header();
}

Result<SnapshotSelection> SelectNewestValid(io::FileSystem& fs,
                                            const std::string& dir) {
  ACPSTORE_ASSIGN_OR_RETURN(std::vector<SnapshotFile> files,
                            ListSnapshots(fs, dir));
  SnapshotSelection out;
  for (SnapshotFile& file : files) {
    Result<SnapshotHeader> header = ValidateSnapshot(fs, file.path);
    if (header) {
      out.header = *header;
      out.chosen = std::move(file);
      return out;
    }
    out.skipped.push_back({file.path, header.status()});
  }
  return out;
}

Result<size_t> DeleteOlderThan(io::FileSystem& fs, const std::string& dir,
                               uint64_t number) {
  ACPSTORE_ASSIGN_OR_RETURN(std::vector<SnapshotFile> files,
                            ListSnapshots(fs, dir));
  size_t deleted = 0;
  for (const SnapshotFile& file : files) {
    if (file.number >= number) continue;
    ACPSTORE_RETURN_IF_ERROR(fs.Remove(file.path));
    ++deleted;
  }
  // Durable, so a crash cannot bring back an older snapshot than the
  // kept ones (recovery would ignore it, but it would hold its space).
  if (deleted > 0) ACPSTORE_RETURN_IF_ERROR(fs.SyncDir(dir));
  return deleted;
}

Result<std::vector<SnapshotFile>> ListPartsFiles(io::FileSystem& fs,
                                                 const std::string& dir) {
  return ListNumbered(fs, dir, ParsePartsFileName, /*newest_first=*/false);
}

std::string ReferredFilePath(io::FileSystem& fs, const std::string& dir,
                             uint64_t number) {
  std::string parts = io::JoinPath(dir, PartsFileName(number));
  Result<bool> exists = fs.Exists(parts);
  if (exists.ok() && *exists) return parts;
  return io::JoinPath(dir, SnapshotFileName(number));
}

Result<size_t> DeleteUnkept(io::FileSystem& fs, const std::string& dir,
                            const std::set<uint64_t>& keep, uint64_t below) {
  ACPSTORE_ASSIGN_OR_RETURN(std::vector<SnapshotFile> files,
                            ListSnapshots(fs, dir));
  ACPSTORE_ASSIGN_OR_RETURN(std::vector<SnapshotFile> parts,
                            ListPartsFiles(fs, dir));
  files.insert(files.end(), parts.begin(), parts.end());
  size_t deleted = 0;
  for (const SnapshotFile& file : files) {
    if (file.number >= below || keep.count(file.number) > 0) continue;
    ACPSTORE_RETURN_IF_ERROR(fs.Remove(file.path));
    ++deleted;
  }
  // Durable, so a crash cannot bring back an older snapshot than the
  // kept ones (recovery would ignore it, but it would hold its space).
  if (deleted > 0) ACPSTORE_RETURN_IF_ERROR(fs.SyncDir(dir));
  return deleted;
}

Result<size_t> RemoveTempFiles(io::FileSystem& fs, const std::string& dir) {
  ACPSTORE_ASSIGN_OR_RETURN(std::vector<std::string> names, Names(fs, dir));
  size_t deleted = 0;
  for (const std::string& name : names) {
    if (!IsTempFileName(name)) continue;
    ACPSTORE_RETURN_IF_ERROR(fs.Remove(io::JoinPath(dir, name)));
    ++deleted;
  }
  return deleted;
}

namespace {
constexpr std::string_view kDamagedInfix = ".damaged-";
}  // namespace

Result<std::string> SetAsideDamaged(io::FileSystem& fs, const std::string& dir,
                                    const std::string& path, int64_t stamp) {
  const std::string base = path + std::string(kDamagedInfix) +
                           std::to_string(stamp);
  std::string kept = base;
  for (int n = 2;; ++n) {
    ACPSTORE_ASSIGN_OR_RETURN(bool taken, fs.Exists(kept));
    if (!taken) break;
    kept = base + "-" + std::to_string(n);
  }
  ACPSTORE_RETURN_IF_ERROR(fs.Rename(path, kept));
  ACPSTORE_RETURN_IF_ERROR(fs.SyncDir(dir));
  return kept;
}

Result<std::vector<std::string>> ListSetAside(io::FileSystem& fs,
                                              const std::string& dir) {
  ACPSTORE_ASSIGN_OR_RETURN(std::vector<std::string> names, Names(fs, dir));
  std::vector<std::string> out;
  for (const std::string& name : names) {
    const size_t at = name.find(kDamagedInfix);
    if (at == std::string::npos) continue;
    const std::string kept = name.substr(0, at);
    if (ParseSnapshotFileName(kept) || ParsePartsFileName(kept)) {
      out.push_back(io::JoinPath(dir, name));
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<uint64_t> NextSnapshotNumber(io::FileSystem& fs,
                                    const std::string& dir) {
  ACPSTORE_ASSIGN_OR_RETURN(std::vector<SnapshotFile> files,
                            ListSnapshots(fs, dir));
  ACPSTORE_ASSIGN_OR_RETURN(std::vector<SnapshotFile> parts,
                            ListPartsFiles(fs, dir));
  uint64_t highest = files.empty() ? 0 : files.front().number;
  // A parts file whose snapshot never got published may be the highest:
  // its number is not given out again.
  if (!parts.empty()) highest = std::max(highest, parts.back().number);
  return highest + 1;
}

}  // namespace acpstore::snapshot
