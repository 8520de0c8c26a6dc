// The version, build type and compiler come from CMake as definitions of
// this file alone (src/base/CMakeLists.txt); the commit from the generated
// build_commit.cc, so that a new commit does not recompile this file either.

#include "base/build_info.h"

namespace acpstore {

// Defined in the generated build_commit.cc.
extern const char kBuildCommit[];

const BuildInfo& GetBuildInfo() {
  static const BuildInfo kInfo{
      .version = ACPSTORE_VERSION,
      .commit = kBuildCommit,
      .build_type = ACPSTORE_BUILD_TYPE,
      .compiler = ACPSTORE_COMPILER,
  };
  return kInfo;
}

std::string BuildInfoLine() {
  const BuildInfo& b = GetBuildInfo();
  std::string line = "acpstore ";
  line.append(b.version).append(" (commit ").append(b.commit);
  line.append(", ").append(b.build_type).append(", ").append(b.compiler);
  line.append(")");
  return line;
}

}  // namespace acpstore
