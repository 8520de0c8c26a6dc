// What this binary is: its release version, the git commit it was built
// from, the build type and the compiler. `acpstore --version`, GET
// /v1/stats ("build") and GET /metrics (acpstore_build_info) report it, so
// an operator can tell which release wrote or serves a data directory.
//
// The version is set in one place, `project(acpstore VERSION ...)` in the
// top-level CMakeLists.txt. The commit is written into a small generated
// .cc at build time (cmake/build_commit.cmake), so a new commit recompiles
// that one file and relinks; nothing else is rebuilt.

#ifndef ACPSTORE_BASE_BUILD_INFO_H_
#define ACPSTORE_BASE_BUILD_INFO_H_

#include <string>
#include <string_view>

namespace acpstore {

struct BuildInfo {
  std::string_view version;     // "0.1.0"
  std::string_view commit;      // short hash, or "unknown" outside git
  std::string_view build_type;  // CMAKE_BUILD_TYPE, e.g. "RelWithDebInfo"
  std::string_view compiler;    // e.g. "GNU 12.2.0"
};

const BuildInfo& GetBuildInfo();

// "acpstore 0.1.0 (commit 94f60a7c1b2d, RelWithDebInfo, GNU 12.2.0)".
std::string BuildInfoLine();

}  // namespace acpstore

#endif  // ACPSTORE_BASE_BUILD_INFO_H_
