// The `acpstore` binary: one executable, one subcommand per task (SPEC §7).
// Subcommands register themselves through command.h; this file only parses
// the command line and runs the chosen one.
//
// Exit codes: 0 success, 1 the work failed, 2 bad command line or option
// value (one line on stderr naming the option).

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>

#include "base/build_info.h"
#include "cli/command.h"

namespace acpstore::cli {

void PrintError(std::string_view message) {
  std::cerr << "acpstore: " << message << std::endl;
}

std::string DefaultDataDir() {
  const char* env = std::getenv("ACPSTORE_DATA_DIR");
  return env != nullptr && *env != '\0' ? env : "./acpstore-data";
}

namespace {

int Main(int argc, char** argv) {
  CLI::App app(
      "acpstore: a durable, memory-bounded store for AI-agent sessions",
      "acpstore");
  // Version, commit, build type and compiler (base/build_info.h).
  app.set_version_flag("--version", BuildInfoLine());
  app.require_subcommand(1);
  Runner run;
  // One line per subcommand; see command.h.
  AddServeCommand(app, &run);
  AddKeysCommand(app, &run);
  AddInspectCommand(app, &run);
  AddVerifyCommand(app, &run);
  AddCompactCommand(app, &run);
  AddMigrateCommand(app, &run);
  AddImportAegisCommand(app, &run);
  AddExportAegisCommand(app, &run);
  AddTailCommand(app, &run);
  AddTranscriptCommand(app, &run);
  AddBenchCommand(app, &run);
  // CLI11 would report "A subcommand is required" for a misspelt one, or
  // for a misspelt one of a command that has its own (`keys nosuch`).
  if (argc > 1 && argv[1][0] != '-') {
    CLI::App* command = nullptr;
    try {
      command = app.get_subcommand(argv[1]);
    } catch (const CLI::Error&) {
      PrintError("unknown command '" + std::string(argv[1]) +
                 "' (see --help)");
      return kExitUsage;
    }
    if (argc > 2 && argv[2][0] != '-' && !command->get_subcommands({}).empty()) {
      try {
        command->get_subcommand(argv[2]);
      } catch (const CLI::Error&) {
        PrintError("unknown " + std::string(argv[1]) + " command '" +
                   std::string(argv[2]) + "' (see " + std::string(argv[1]) +
                   " --help)");
        return kExitUsage;
      }
    }
  }
  // CLI11 answers --version as soon as it meets it, so anything after it
  // went unnoticed (exit 0); it takes nothing else.
  if (argc > 2 && std::string_view(argv[1]) == "--version") {
    PrintError("--version takes no other arguments, got '" +
               std::string(argv[2]) + "' (see --help)");
    return kExitUsage;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {  // --help, --version
    return app.exit(e);
  } catch (const CLI::Error& e) {
    PrintError(std::string(e.what()) + " (see --help)");
    return kExitUsage;
  }
  if (!run) {
    PrintError("no command given (see --help)");
    return kExitUsage;
  }
  return run();
}

}  // namespace
}  // namespace acpstore::cli

// Failures are values; an exception that gets this far is a bug, and
// std::terminate's report of it is the most useful thing to do with it.
int main(int argc, char** argv) {  // NOLINT(bugprone-exception-escape)
  return acpstore::cli::Main(argc, argv);
}
