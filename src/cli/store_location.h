// Where an offline tool finds its store: a file-engine data directory, or
// with --postgres-url a postgres-engine schema. inspect, verify, keys,
// import-aegis and export-aegis take the same three options with the same
// environment variables, declared once here so their names, defaults and
// help cannot drift apart.
//
// Thread-safety: main thread only, before any command runs.

#ifndef ACPSTORE_CLI_STORE_LOCATION_H_
#define ACPSTORE_CLI_STORE_LOCATION_H_

#include <string>
#include <string_view>

namespace CLI {  // NOLINT(readability-identifier-naming): CLI11's namespace
class App;
}  // namespace CLI

namespace acpstore::cli {

struct StoreLocation {
  std::string data_dir;      // $ACPSTORE_DATA_DIR, else ./acpstore-data
  std::string postgres_url;  // set: the postgres engine, not data_dir
  std::string postgres_schema = "acpstore";

  StoreLocation();
  bool postgres() const { return !postgres_url.empty(); }
};

// Adds --data-dir, --postgres-url (env ACPSTORE_POSTGRES_URL) and
// --postgres-schema (env ACPSTORE_POSTGRES_SCHEMA) to `cmd`, bound to
// `where`, which must outlive the parse. `data_dir_help` and
// `postgres_help` describe what this command does with each.
void AddStoreLocationOptions(CLI::App& cmd, StoreLocation& where,
                             std::string_view data_dir_help,
                             std::string_view postgres_help);

}  // namespace acpstore::cli

#endif  // ACPSTORE_CLI_STORE_LOCATION_H_
