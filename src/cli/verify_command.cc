// `acpstore verify`: checks every checksum of a file-engine data directory
// (journal records, event sub-records, snapshots) and lists all damage
// (SPEC §3, §7). Exit 0 when clean, 1 on corruption or when it cannot run
// (e.g. a server holds the directory).
//
// Thread-safety: main thread only.

#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>
#include <string>

#include "cli/command.h"
#include "cli/tool_output.h"
#include "engine/file_tools.h"

namespace acpstore::cli {
namespace {

std::string Describe(const engine::Problem& p) {
  std::string out = p.file + " at offset " + std::to_string(p.offset);
  if (p.length > 0) out += " (" + std::to_string(p.length) + " bytes)";
  return out + ": " + p.what;
}

int RunVerify(const std::string& data_dir) {
  // The progress line is cleared before the report is printed.
  Result<engine::VerifyReport> report = [&] {
    ProgressLine progress("verify");
    return engine::Verify(data_dir, progress.Callback());
  }();
  if (!report) {
    PrintError(report.error().message());
    return kExitFailure;
  }
  const engine::VerifyReport& r = *report;
  for (const engine::Problem& p : r.problems) {
    std::cout << "damaged: " << Describe(p) << "\n";
  }
  if (r.torn_tail) {
    std::cout << "torn tail (not damage; cut at the next open): "
              << Describe(*r.torn_tail) << "\n";
  }
  std::cout << "checked " << Plural(r.segments, "segment") << ", "
            << Plural(r.records, "record") << ", " << Plural(r.events, "event")
            << ", " << Plural(r.snapshots, "snapshot") << ", "
            << FormatBytes(r.bytes) << ": "
            << (r.ok() ? "OK"
                       : Plural(r.problems.size(), "damaged range") +
                             " (see `acpstore compact --repair`)")
            << std::endl;
  return r.ok() ? kExitOk : kExitFailure;
}

}  // namespace

void AddVerifyCommand(CLI::App& root, Runner* run) {
  auto data_dir = std::make_shared<std::string>(DefaultDataDir());
  CLI::App* cmd = root.add_subcommand(
      "verify",
      "Check every checksum in a file-engine data directory; exit 1 on "
      "corruption");
  cmd->add_option("--data-dir", *data_dir,
                  "Data directory [env ACPSTORE_DATA_DIR, default "
                  "./acpstore-data]")
      ->type_name("DIR");
  cmd->callback(
      [run, data_dir] { *run = [data_dir] { return RunVerify(*data_dir); }; });
}

}  // namespace acpstore::cli
