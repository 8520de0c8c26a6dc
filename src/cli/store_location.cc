// See store_location.h.

#include "cli/store_location.h"

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <memory>
#include <string>

#include "cli/command.h"
#ifdef ACPSTORE_WITH_POSTGRES
#include "postgres/pg_notify_payload.h"
#endif

namespace acpstore::cli {

namespace {

constexpr const char* kPostgresUrlVariable = "ACPSTORE_POSTGRES_URL";

}  // namespace

StoreLocation::StoreLocation() : data_dir(DefaultDataDir()) {}

Source PostgresUrlVariable() {
  const char* env = std::getenv(kPostgresUrlVariable);
  return env != nullptr && *env != '\0' ? Source::kEnvironment
                                         : Source::kUnset;
}

int StoreLocation::Choose() {
  if (postgres_url_flag && postgres_url.empty()) {
    PrintError("--postgres-url: must not be empty");
    return kExitUsage;
  }
  Result<StoreChoice> choice =
      ChooseStore(data_dir_flag ? Source::kFlag : Source::kUnset,
                  postgres_url_flag ? Source::kFlag : PostgresUrlVariable());
  if (!choice) {
    PrintError(choice.error().message());
    return kExitUsage;
  }
  if (!choice->note.empty()) PrintError(choice->note);
  if (!choice->postgres) {
    postgres_url.clear();
  } else if (!postgres_url_flag) {
    postgres_url = std::getenv(kPostgresUrlVariable);
  }
  return kExitOk;
}

void AddDataDirOption(CLI::App& cmd, std::string& dir, bool* given,
                      std::string_view help) {
  cmd.add_option("--data-dir", dir,
                 std::string(help) +
                     " [env ACPSTORE_DATA_DIR, default ./acpstore-data]")
      ->type_name("DIR")
      ->each([given](const std::string&) { *given = true; });
}

namespace {

CLI::Option* AddPostgresUrlOption(CLI::App& cmd, StoreLocation& where,
                                  std::string_view help) {
  bool* given = &where.postgres_url_flag;
  return cmd
      .add_option("--postgres-url", where.postgres_url,
                  std::string(help) + " [env ACPSTORE_POSTGRES_URL]")
      ->type_name("URL")
      ->each([given](const std::string&) { *given = true; });
}

}  // namespace

void AddStoreLocationOptions(CLI::App& cmd, StoreLocation& where,
                             std::string_view data_dir_help,
                             std::string_view postgres_help) {
  AddDataDirOption(cmd, where.data_dir, &where.data_dir_flag, data_dir_help);
  AddPostgresUrlOption(cmd, where, postgres_help);
  AddPostgresSchemaCheck(
      cmd.add_option("--postgres-schema", where.postgres_schema,
                     "With --postgres-url: the schema, at most 56 bytes "
                     "[default acpstore]")
          ->type_name("NAME")
          ->envname("ACPSTORE_POSTGRES_SCHEMA"));
}

void AddFileOnlyStoreOptions(CLI::App& cmd, StoreLocation& where,
                             std::string_view data_dir_help) {
  AddDataDirOption(cmd, where.data_dir, &where.data_dir_flag, data_dir_help);
  AddPostgresUrlOption(cmd, where, "Refused: for the file engine only")
      ->group("");  // hidden
}

int RefuseFileOnly(std::string_view command, const StoreLocation& where) {
  PrintError(
      std::string(command) + " is for the file engine only, and " +
      (where.postgres_url_flag ? "--postgres-url" : kPostgresUrlVariable) +
      " names a postgres schema: give --data-dir to " + std::string(command) +
      " a data directory");
  return kExitUsage;
}

void AddPostgresSchemaCheck(CLI::Option* option) {
#ifdef ACPSTORE_WITH_POSTGRES
  option->check(
      [](const std::string& name) -> std::string {
        Status s = postgres::CheckSchemaName(name);
        return s.ok() ? std::string() : std::string(s.message());
      },
      "NAME");
#else
  (void)option;  // no postgres engine: --postgres-url fails on its own
#endif
}

void AddStoreReportCommand(CLI::App& root, Runner* run,
                           const StoreReport& report) {
  auto where = std::make_shared<StoreLocation>();
  auto as_json = std::make_shared<bool>(false);
  CLI::App* cmd = root.add_subcommand(std::string(report.name),
                                      std::string(report.description));
  AddStoreLocationOptions(*cmd, *where, "Data directory", report.postgres_help);
  cmd->add_flag("--json", *as_json,
                "One JSON object on stdout instead of the summary");
  cmd->callback([run, where, as_json, report] {
    *run = [where, as_json, report] {
      if (int chosen = where->Choose(); chosen != kExitOk) return chosen;
      if (!where->postgres()) return report.on_files(where->data_dir, *as_json);
      if (report.on_postgres == nullptr) {
        PrintError("this acpstore was built without libpq: no --postgres-url");
        return kExitFailure;
      }
      return report.on_postgres(where->postgres_url, where->postgres_schema,
                                *as_json);
    };
  });
}

}  // namespace acpstore::cli
