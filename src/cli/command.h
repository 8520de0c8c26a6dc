// The subcommands of the `acpstore` binary. Each lives in its own file and
// registers itself on the root CLI::App through one Add*Command function
// that main.cc calls; adding a subcommand (inspect, tail, bench, ...) means
// one new file and one line in main.cc. CLI11 types are only
// forward-declared here, so option parsing and the commands' logic stay in
// the few files that need them.
//
// Thread-safety: main thread only, before any command runs.

#ifndef ACPSTORE_CLI_COMMAND_H_
#define ACPSTORE_CLI_COMMAND_H_

#include <functional>
#include <string>
#include <string_view>

namespace CLI {  // NOLINT(readability-identifier-naming): CLI11's namespace
class App;
class Option;
}  // namespace CLI

namespace acpstore::cli {

// Exit codes of every subcommand.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // the work failed (I/O, not found, corruption)
inline constexpr int kExitUsage = 2;    // bad command line or option value

// What main runs once parsing is done: the chosen subcommand's callback
// stores it, so commands run outside CLI11's parse (and its exceptions).
using Runner = std::function<int()>;

void AddServeCommand(CLI::App& root, Runner* run);
void AddKeysCommand(CLI::App& root, Runner* run);
// Offline tools over a file-engine data directory (engine/file_tools.h).
void AddInspectCommand(CLI::App& root, Runner* run);
void AddVerifyCommand(CLI::App& root, Runner* run);
void AddCompactCommand(CLI::App& root, Runner* run);
// The postgres engine's schema (SPEC §10).
void AddMigrateCommand(CLI::App& root, Runner* run);
// Aegis migration (SPEC §8) and the SSE follower.
void AddImportAegisCommand(CLI::App& root, Runner* run);
void AddExportAegisCommand(CLI::App& root, Runner* run);
void AddTailCommand(CLI::App& root, Runner* run);
void AddTranscriptCommand(CLI::App& root, Runner* run);
// The benchmark workloads (bench/, docs/benchmarks.md).
void AddBenchCommand(CLI::App& root, Runner* run);

// Prints "acpstore: <message>" as one line on stderr.
void PrintError(std::string_view message);

// The default data directory: $ACPSTORE_DATA_DIR, else ./acpstore-data.
std::string DefaultDataDir();

}  // namespace acpstore::cli

#endif  // ACPSTORE_CLI_COMMAND_H_
