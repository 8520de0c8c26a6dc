// See store_location.h.

#include "cli/store_location.h"

#include <CLI/CLI.hpp>

#include "cli/command.h"

namespace acpstore::cli {

StoreLocation::StoreLocation() : data_dir(DefaultDataDir()) {}

void AddStoreLocationOptions(CLI::App& cmd, StoreLocation& where,
                             std::string_view data_dir_help,
                             std::string_view postgres_help) {
  cmd.add_option("--data-dir", where.data_dir,
                 std::string(data_dir_help) +
                     " [env ACPSTORE_DATA_DIR, default ./acpstore-data]")
      ->type_name("DIR");
  cmd.add_option("--postgres-url", where.postgres_url,
                 std::string(postgres_help))
      ->type_name("URL")
      ->envname("ACPSTORE_POSTGRES_URL");
  cmd.add_option("--postgres-schema", where.postgres_schema,
                 "With --postgres-url: the schema [default acpstore]")
      ->type_name("NAME")
      ->envname("ACPSTORE_POSTGRES_SCHEMA");
}

}  // namespace acpstore::cli
