// `acpstore migrate`: brings the postgres engine's schema to the version
// this binary knows, offline (SPEC §10); `serve --engine postgres` does the
// same at start. Refuses a schema newer than this binary. Exit 0 when the
// schema is current, 1 when the database cannot be reached or refuses.
//
// Thread-safety: main thread only.

#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>
#include <string>

#include "cli/command.h"
#include "cli/store_location.h"
#ifdef ACPSTORE_WITH_POSTGRES
#include "postgres/pg_conn.h"
#include "postgres/pg_migrate.h"
#endif

namespace acpstore::cli {
namespace {

int RunMigrate(const std::string& url, const std::string& schema) {
  if (url.empty()) {
    PrintError("--postgres-url: required");
    return kExitUsage;
  }
#ifdef ACPSTORE_WITH_POSTGRES
  Result<std::unique_ptr<postgres::PgConn>> conn =
      postgres::PgConn::Connect(url, schema);
  if (!conn) {
    PrintError(conn.error().message());
    return kExitFailure;
  }
  Result<postgres::MigrationReport> r = postgres::Migrate(**conn, schema);
  if (!r) {
    PrintError(r.error().message());
    return kExitFailure;
  }
  if (r->from_version == r->to_version) {
    std::cout << "schema \"" << schema << "\" is at version "
              << r->to_version << " (current)" << std::endl;
  } else {
    std::cout << "schema \"" << schema << "\" migrated from version "
              << r->from_version << " to " << r->to_version << std::endl;
  }
  return kExitOk;
#else
  (void)schema;
  PrintError("this acpstore was built without libpq: no postgres engine");
  return kExitFailure;
#endif
}

}  // namespace

void AddMigrateCommand(CLI::App& root, Runner* run) {
  auto url = std::make_shared<std::string>();
  auto schema = std::make_shared<std::string>("acpstore");
  CLI::App* cmd = root.add_subcommand(
      "migrate",
      "Create or migrate the postgres engine's schema to this version");
  cmd->add_option("--postgres-url", *url, "libpq connection string or URI")
      ->type_name("URL")
      ->envname("ACPSTORE_POSTGRES_URL");
  AddPostgresSchemaCheck(
      cmd->add_option("--postgres-schema", *schema,
                      "The schema acpstore owns, at most 56 bytes [default "
                      "acpstore]")
          ->type_name("NAME")
          ->envname("ACPSTORE_POSTGRES_SCHEMA"));
  cmd->callback([run, url, schema] {
    *run = [url, schema] { return RunMigrate(*url, *schema); };
  });
}

}  // namespace acpstore::cli
