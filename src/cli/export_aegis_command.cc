// `acpstore export-aegis FILE`: writes a file-engine data directory, or
// with --postgres-url a postgres-engine schema, back as an Aegis state
// file, to roll a migration back (SPEC §8). The file is
// written under a temporary name and renamed into place (0600); an
// existing FILE is replaced. Exit 0 on success, 1 on failure.
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
#include "engine/file_recovery.h"
#include "engine/migration_target.h"
#include "io/file_system.h"
#ifdef ACPSTORE_WITH_POSTGRES
#include "postgres/pg_tools.h"
#endif

namespace acpstore::cli {
namespace {

struct ExportFlags : StoreLocation {
  std::string file;
};

int RunExport(const ExportFlags& f) {
  StoreOptions so;
  if (!f.postgres_url.empty()) {
    so.engine = Engine::kPostgres;
    so.postgres_url = f.postgres_url;
    so.postgres_schema = f.postgres_schema;
    so.postgres_pool = 2;
#ifdef ACPSTORE_WITH_POSTGRES
    // Opening would create (migrate) a schema a typo named: the export
    // would then write an empty state over FILE.
    Status held = postgres::MustHoldSchema(f.postgres_url, f.postgres_schema);
    if (!held.ok()) {
      PrintError(std::string(held.message()));
      return kExitFailure;
    }
#endif
  } else {
    so.engine = Engine::kFile;
    so.data_dir = f.data_dir;
    // Opening would create an empty store where there is none, and the
    // export would replace FILE with an empty state (a typo in the
    // rollback command wiped the Aegis file: found by a probe).
    Status held = engine::MustHoldStore(io::PosixFileSystem(),
                                        engine::FileLayout(f.data_dir));
    if (!held.ok()) {
      PrintError(std::string(held.message()));
      return kExitFailure;
    }
  }
  so.maintenance_interval_ms = 0;  // export what is there, drop nothing
  so.retention = RetentionOptions{0, 0, 0, 0, 0};
  Result<engine::MigrationStore> store = engine::OpenForMigration(so);
  if (!store) {
    PrintError(std::string(store.error().message()));
    return kExitFailure;
  }
  Result<aegis::ExportReport> report = [&] {
    ProgressLine progress("export-aegis");
    aegis::ExportOptions options;
    options.progress = progress.Callback();
    return aegis::ExportAegis(store->target(), f.file, options);
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
  if (report->leased_actions > 0) {
    std::cout << "warning: " << Plural(report->leased_actions, "leased action")
              << " lose their lease tokens (Aegis has no lease holders); "
                 "only lease expiry moves them on\n";
  }
  if (report->dropped_client_event_ids > 0) {
    std::cout << "warning: "
              << Plural(report->dropped_client_event_ids, "event")
              << " lose their clientEventId (Aegis has no such field)\n";
  }
  if (report->dropped_resume_fields > 0) {
    std::cout << "warning: "
              << Plural(report->dropped_resume_fields, "pause record")
              << " lose resumeId/resumeMetadata (Aegis's file store does not "
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
  cmd->callback([run, flags] { *run = [flags] { return RunExport(*flags); }; });
}

}  // namespace acpstore::cli
