// TempDir makes a fresh directory under $TMPDIR (or /tmp) for one test and
// removes it, with everything in it, when destroyed. Test-only and
// header-only; a test that includes it links acpstore_io all the same (the
// layering check holds every include to the links).
//
// Thread-safety: none needed; one per test.

#ifndef ACPSTORE_IO_TEST_DIR_H_
#define ACPSTORE_IO_TEST_DIR_H_

#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace acpstore::io {

class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string templ =
        std::string(base != nullptr && *base != '\0' ? base : "/tmp") +
        "/acpstore-test-XXXXXX";
    if (::mkdtemp(templ.data()) == nullptr) {
      throw std::runtime_error("mkdtemp failed for " + templ);
    }
    path_ = templ;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string Join(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace acpstore::io

#endif  // ACPSTORE_IO_TEST_DIR_H_
