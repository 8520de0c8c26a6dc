// Where an offline tool finds its store: a file-engine data directory, or
// with --postgres-url a postgres-engine schema. inspect, verify, keys,
// import-aegis and export-aegis take the same three options with the same
// environment variables, declared once here so their names, defaults and
// help cannot drift apart; inspect and verify are registered here whole
// (AddStoreReportCommand); compact, which has no postgres mode, takes
// --data-dir and --postgres-url only to refuse the latter by the same rule
// (AddFileOnlyStoreOptions). Which store a run uses is decided in one
// place, ChooseStore (option_parsing.h), through StoreLocation::Choose.
//
// Thread-safety: main thread only, before any command runs.

#ifndef ACPSTORE_CLI_STORE_LOCATION_H_
#define ACPSTORE_CLI_STORE_LOCATION_H_

#include <string>
#include <string_view>

#include "cli/command.h"
#include "cli/option_parsing.h"

namespace acpstore::cli {

struct StoreLocation {
  std::string data_dir;      // $ACPSTORE_DATA_DIR, else ./acpstore-data
  std::string postgres_url;  // after Choose: set for the postgres engine
  std::string postgres_schema = "acpstore";
  bool data_dir_flag = false;      // --data-dir was on the command line
  bool postgres_url_flag = false;  // --postgres-url was

  StoreLocation();
  bool postgres() const { return !postgres_url.empty(); }

  // Settles the store after the parse (ChooseStore): postgres_url ends up
  // holding the URL to use, or empty for data_dir. Prints the refusal
  // (and returns kExitUsage) or the note; kExitOk otherwise. Every run
  // calls it before it touches a store.
  int Choose();
};

// Where ACPSTORE_POSTGRES_URL says the store is: Source::kEnvironment when
// it is set and not empty.
Source PostgresUrlVariable();

// Adds --data-dir to `cmd`, bound to `dir` (which must outlive the parse
// and starts as DefaultDataDir()); `*given` (which must outlive it too)
// becomes true when the flag is on the command line. `help` says what the
// command does with it.
void AddDataDirOption(CLI::App& cmd, std::string& dir, bool* given,
                      std::string_view help);

// Adds --data-dir, --postgres-url (env ACPSTORE_POSTGRES_URL, read by
// Choose, not by CLI11, so that a flag and the variable can be told apart)
// and --postgres-schema (env ACPSTORE_POSTGRES_SCHEMA) to `cmd`, bound to
// `where`, which must outlive the parse. `data_dir_help` and
// `postgres_help` describe what this command does with each.
void AddStoreLocationOptions(CLI::App& cmd, StoreLocation& where,
                             std::string_view data_dir_help,
                             std::string_view postgres_help);

// For a tool with no postgres mode (compact): --data-dir as above, and
// --postgres-url taken but not listed in --help, so that Choose applies
// the rule the other tools share (both flags: "name two stores", exit 2)
// and the tool can refuse a postgres store by name; without it CLI11
// answered "The following arguments were not expected: --postgres-url"
// (found by a review). After Choose, where.postgres() is a store the tool
// must refuse (exit 2); RefuseFileOnly says why, naming the flag or the
// variable that chose it.
void AddFileOnlyStoreOptions(CLI::App& cmd, StoreLocation& where,
                             std::string_view data_dir_help);
int RefuseFileOnly(std::string_view command, const StoreLocation& where);

// Refuses, at parse (exit 2), a --postgres-schema name no store can use
// (postgres::CheckSchemaName: empty, or over 56 bytes). Every command that
// takes the option adds it; serve checks its own (serve.cc).
void AddPostgresSchemaCheck(CLI::Option* option);

// A read-only report over either kind of store with a --json switch
// (inspect, verify): subcommand `name` with the options above and --json,
// whose run calls `on_files` for a data directory and `on_postgres` with
// --postgres-url. `on_postgres` is null in a build without libpq: then
// --postgres-url fails (exit 1) saying so.
struct StoreReport {
  using OnFiles = int (*)(const std::string& data_dir, bool as_json);
  using OnPostgres = int (*)(const std::string& url, const std::string& schema,
                             bool as_json);

  std::string_view name;
  std::string_view description;
  std::string_view postgres_help;  // what --postgres-url does instead
  OnFiles on_files;
  OnPostgres on_postgres;
};
void AddStoreReportCommand(CLI::App& root, Runner* run,
                           const StoreReport& report);

}  // namespace acpstore::cli

#endif  // ACPSTORE_CLI_STORE_LOCATION_H_
