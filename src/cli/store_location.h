// Where an offline tool finds its store: a file-engine data directory, or
// with --postgres-url a postgres-engine schema. inspect, verify, keys,
// import-aegis and export-aegis take the same three options with the same
// environment variables, declared once here so their names, defaults and
// help cannot drift apart; inspect and verify are registered here whole
// (AddStoreReportCommand).
//
// Thread-safety: main thread only, before any command runs.

#ifndef ACPSTORE_CLI_STORE_LOCATION_H_
#define ACPSTORE_CLI_STORE_LOCATION_H_

#include <string>
#include <string_view>

#include "cli/command.h"

namespace acpstore::cli {

struct StoreLocation {
  std::string data_dir;      // $ACPSTORE_DATA_DIR, else ./acpstore-data
  std::string postgres_url;  // set: the postgres engine, not data_dir
  std::string postgres_schema = "acpstore";

  StoreLocation();
  bool postgres() const { return !postgres_url.empty(); }
};

// Adds --data-dir to `cmd`, bound to `dir` (which must outlive the parse
// and starts as DefaultDataDir()); `help` says what the command does with
// it. For a command of the file engine only (compact).
void AddDataDirOption(CLI::App& cmd, std::string& dir, std::string_view help);

// Adds --data-dir, --postgres-url (env ACPSTORE_POSTGRES_URL) and
// --postgres-schema (env ACPSTORE_POSTGRES_SCHEMA) to `cmd`, bound to
// `where`, which must outlive the parse. `data_dir_help` and
// `postgres_help` describe what this command does with each.
void AddStoreLocationOptions(CLI::App& cmd, StoreLocation& where,
                             std::string_view data_dir_help,
                             std::string_view postgres_help);

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
