// Helpers over any FileSystem: atomic replace, whole-file read, paths.

#include "io/file_system.h"

#include <cerrno>

#include "base/uuid.h"

namespace acpstore::io {

Status WriteFileAtomically(FileSystem& fs, const std::string& path,
                           std::string_view data) {
  // A random name with O_EXCL: two writers, or a stale temp file left by a
  // crash, can never make us write into someone else's file.
  const std::string tmp = path + ".tmp-" + base::RandomHex128();
  ACPSTORE_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file,
                            fs.CreateNew(tmp));
  Status s = file->Append(data);
  if (s.ok()) s = file->Sync();
  Status closed = file->Close();
  if (s.ok()) s = std::move(closed);
  if (s.ok()) s = fs.Rename(tmp, path);
  if (!s.ok()) {
    (void)fs.Remove(tmp);  // best effort; the error that matters is `s`
    return s;
  }
  // Without this the rename may be undone by a power loss.
  return fs.SyncDir(DirName(path));
}

Result<std::string> ReadFileToString(FileSystem& fs, const std::string& path) {
  ACPSTORE_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> file,
                            fs.OpenReadable(path));
  std::string out;
  constexpr size_t kChunk = 1 << 16;
  for (;;) {
    const size_t old = out.size();
    out.resize(old + kChunk);
    Result<std::string_view> got = file->ReadAt(old, kChunk, out.data() + old);
    if (!got) return std::move(got).error();
    out.resize(old + got->size());
    if (got->size() < kChunk) return out;
  }
}

std::string JoinPath(std::string_view dir, std::string_view name) {
  std::string out(dir);
  if (!out.empty() && out.back() != '/') out.push_back('/');
  out.append(name);
  return out;
}

std::string DirName(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  const size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return ".";
  if (slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

namespace {

bool HasErrno(const Status& status, int64_t errno_value) {
  const StatusDetail* d = status.Detail("errno");
  if (d == nullptr) return false;
  const auto* err = std::get_if<int64_t>(&d->value);
  return err != nullptr && *err == errno_value;
}

}  // namespace

bool IsNotFoundError(const Status& status) { return HasErrno(status, ENOENT); }

bool IsNotADirectoryError(const Status& status) {
  return HasErrno(status, ENOTDIR);
}

}  // namespace acpstore::io
