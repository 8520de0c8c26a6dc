// StringFile is a RandomAccessFile over bytes in memory: fuzzers and tests
// feed arbitrary content to readers without touching the disk.
//
// Thread-safety: immutable after construction; ReadAt may be called from
// any thread.

#ifndef ACPSTORE_IO_STRING_FILE_H_
#define ACPSTORE_IO_STRING_FILE_H_

#include <algorithm>
#include <cstring>
#include <string>

#include "io/file_system.h"

namespace acpstore::io {

class StringFile final : public RandomAccessFile {
 public:
  StringFile(std::string path, std::string contents)
      : path_(std::move(path)), contents_(std::move(contents)) {}

  Result<std::string_view> ReadAt(uint64_t offset, size_t n,
                                  char* scratch) const override {
    if (offset >= contents_.size()) return std::string_view();
    n = std::min<uint64_t>(n, contents_.size() - offset);
    std::memcpy(scratch, contents_.data() + offset, n);
    return std::string_view(scratch, n);
  }
  const std::string& path() const override { return path_; }
  uint64_t size() const { return contents_.size(); }

 private:
  const std::string path_;
  const std::string contents_;
};

}  // namespace acpstore::io

#endif  // ACPSTORE_IO_STRING_FILE_H_
