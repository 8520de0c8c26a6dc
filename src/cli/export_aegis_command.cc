// `acpstore export-aegis FILE`: writes a file-engine data directory, or
// with --postgres-url a postgres-engine schema, back as an Aegis state
// file, to roll a migration back (SPEC §8). The file is
// written under a temporary name and renamed into place (0600); an
// existing FILE is replaced. A data directory is only read
// (engine::OpenFileReadOnly): nothing in it changes, and a read-only copy
// exports too. A postgres schema is refused unless it exists at this
// build's version, so the store's open migrates nothing. Exit 0 on
// success, 1 on failure.
//
// Thread-safety: main thread only.

#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>
#include <string>

#include "acpstore/store.h"
#include "aegis/exporter.h"
#include "cli/command.h"
#include "cli/store_location.h"
#include "cli/tool_output.h"
#include "engine/migration_target.h"
#ifdef ACPSTORE_WITH_POSTGRES
#include "postgres/pg_tools.h"
#endif

namespace acpstore::cli {
namespace {

struct ExportFlags : StoreLocation {
  std::string file;
};

int RunExport(const ExportFlags& f) {
  // Postgres: the store (its connection) behind the target; file: the
  // target alone, which owns what it read.
  engine::MigrationStore store;
  std::unique_ptr<engine::MigrationTarget> read_only;
  engine::MigrationTarget* target = nullptr;
  if (!f.postgres_url.empty()) {
    StoreOptions so;
    so.engine = Engine::kPostgres;
    so.postgres_url = f.postgres_url;
    so.postgres_schema = f.postgres_schema;
    so.postgres_pool = 2;
#ifdef ACPSTORE_WITH_POSTGRES
    // Opening would create (migrate) a schema a typo named: the export
    // would then write an empty state over FILE. And it would migrate an
    // older schema: an export only reads, so it changes no database.
    Status held = postgres::MustHoldCurrentSchema(
        f.postgres_url, f.postgres_schema, "export-aegis");
    if (!held.ok()) {
      PrintError(std::string(held.message()));
      return kExitFailure;
    }
#endif
    so.maintenance_interval_ms = 0;  // export what is there, drop nothing
    so.retention = RetentionOptions{0, 0, 0, 0, 0};
    Result<engine::MigrationStore> opened = engine::OpenForMigration(so);
    if (!opened) {
      PrintError(std::string(opened.error().message()));
      return kExitFailure;
    }
    store = std::move(*opened);
    target = store.target();
  } else {
    // Read-only: an open for writing cut a torn journal tail (the export
    // changed the store it was rolling back from) and failed on a
    // read-only copy of a data directory (found by a probe). Like every
    // offline tool it refuses a directory with no store rather than
    // creating one, so a typo cannot replace FILE with an empty state.
    Result<std::unique_ptr<engine::MigrationTarget>> opened =
        engine::OpenFileReadOnly(f.data_dir);
    if (!opened) {
      PrintError(std::string(opened.error().message()));
      return kExitFailure;
    }
    read_only = std::move(*opened);
    target = read_only.get();
  }
  Result<aegis::ExportReport> report = [&] {
    ProgressLine progress("export-aegis");
    aegis::ExportOptions options;
    options.progress = progress.Callback();
    return aegis::ExportAegis(target, f.file, options);
  }();
  if (!report) {
    PrintError(std::string(report.error().message()));
    return kExitFailure;
  }
  std::cout << "wrote " << f.file << " (" << FormatBytes(report->bytes)
            << "): " << Plural(report->sessions, "session") << ", "
            << Plural(report->events, "event") << ", "
            << Plural(report->actions, "action") << ", "
            << Plural(report->pauses, "pause") << std::endl;
  // What a rollback to Aegis cannot carry (SPEC §8).
  for (const std::string& w : report->warnings) {
    std::cout << "warning: " << w << "\n";
  }
  // Each count agrees with its verb: "1 leased action loses its lease".
  const auto one = [](uint64_t n, const char* singular, const char* plural) {
    return n == 1 ? singular : plural;
  };
  if (report->leased_actions > 0) {
    std::cout << "warning: " << Plural(report->leased_actions, "leased action")
              << one(report->leased_actions,
                     " loses its lease token (Aegis has no lease holders); "
                     "only lease expiry moves it on\n",
                     " lose their lease tokens (Aegis has no lease holders); "
                     "only lease expiry moves them on\n");
  }
  if (report->dropped_client_event_ids > 0) {
    std::cout << "warning: "
              << Plural(report->dropped_client_event_ids, "event")
              << one(report->dropped_client_event_ids, " loses its",
                     " lose their")
              << " clientEventId (Aegis has no such field)\n";
  }
  if (report->dropped_resume_fields > 0) {
    std::cout << "warning: "
              << Plural(report->dropped_resume_fields, "pause record")
              << one(report->dropped_resume_fields, " loses", " lose")
              << " resumeId/resumeMetadata (Aegis's file store does not "
                 "keep them)\n";
  }
  std::cout.flush();
  return kExitOk;
}

}  // namespace

void AddExportAegisCommand(CLI::App& root, Runner* run) {
  auto flags = std::make_shared<ExportFlags>();
  CLI::App* cmd = root.add_subcommand(
      "export-aegis",
      "Write a data directory (no server may hold it) or a postgres-engine "
      "schema as an Aegis state file, to roll a migration back");
  cmd->add_option("FILE", flags->file, "The state file to write")->required();
  AddStoreLocationOptions(
      *cmd, *flags, "Data directory",
      "Export this postgres-engine database instead of --data-dir");
  cmd->callback([run, flags] {
    *run = [flags] {
      if (int chosen = flags->Choose(); chosen != kExitOk) return chosen;
      return RunExport(*flags);
    };
  });
}

}  // namespace acpstore::cli
