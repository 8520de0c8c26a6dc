// `acpstore import-aegis FILE`: moves an Aegis state file
// (acp-local-storage.json) into a file-engine data directory, or with
// --postgres-url into a postgres-engine schema (SPEC §8,
// docs/aegis_format.md, docs/operations.md "Migrating from Aegis").
//
// stdout: every report line (a repair: "<json path>: <what>"; a skipped
// record: "<json path>: <why>; skipped"; an unknown field with its count),
// then the summary: counts per kind (read, imported or "to import" where
// nothing was written, repaired, skipped), repairs per kind, and the
// tenants and owner key ids found, with the `keys create --id` command for
// each once the import was written. stderr: progress on a terminal, and fatal
// errors. Exit status (SPEC §8): 0 when nothing was skipped (the import
// was written, or the dry run found it complete); 1 when a record was
// skipped, or nothing was written (--strict with reports, ids that
// collide, a data directory that holds data without --merge, a store that
// fails); 2 for a file that is not a usable Aegis file, or a bad command
// line. The data directory (or database) is opened only to write: a dry
// run, a --strict import with reports and an unusable file leave it as it
// was, and never connect to PostgreSQL.
//
// Thread-safety: main thread only.

#include <CLI/CLI.hpp>
#include <algorithm>
#include <iostream>
#include <memory>
#include <string>

#include "acpstore/store.h"
#include "aegis/importer.h"
#include "cli/command.h"
#include "cli/store_location.h"
#include "cli/option_parsing.h"
#include "cli/tool_output.h"
#include "engine/migration_target.h"

namespace acpstore::cli {
namespace {

struct ImportFlags : StoreLocation {
  std::string file;
  bool strict = false;
  bool dry_run = false;
  bool merge = false;
  std::string max_payload_bytes = "1MiB";
  std::string transcript_max_bytes = "16MiB";
  std::string transcript_max_tool_bytes = "16KiB";
};

// Single-quotes `s` for a shell when it holds anything unusual.
std::string ShellWord(const std::string& s) {
  bool plain = !s.empty();
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                    c == '.' || c == '/' || c == ':' || c == '@';
    plain = plain && ok;
  }
  if (plain) return s;
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Where the import goes, for the summary.
std::string Destination(const ImportFlags& f) {
  if (f.postgres_url.empty()) return f.data_dir;
  return "postgres schema \"" + f.postgres_schema + "\"";
}

// The `keys create` options naming the same store. The URL is not
// repeated: it may hold a password.
std::string KeyStoreArgs(const ImportFlags& f) {
  if (f.postgres_url.empty()) return "--data-dir " + ShellWord(f.data_dir);
  return "--postgres-url URL --postgres-schema " + ShellWord(f.postgres_schema);
}

std::string Cell(uint64_t n, size_t width) {
  std::string s = std::to_string(n);
  return std::string(width > s.size() ? width - s.size() : 0, ' ') + s;
}

// Where nothing was written (a dry run, or an import aborted by --strict or
// colliding ids) the counts are of what the import would bring, and no
// `keys create` command is suggested: an aborted --merge printed
// "imported" counts and the commands before "nothing was written" (found
// by a review).
void PrintSummary(const ImportFlags& f, const aegis::ImportReport& r) {
  std::cout << "read " << FormatBytes(r.bytes) << " from " << f.file << " ("
            << Plural(r.reads, "read") << " of the file)\n";
  std::cout << "                read"
            << (r.written ? "  imported" : " to import")
            << "  repaired   skipped\n";
  auto row = [](const char* kind, const aegis::KindCounts& k) {
    std::string label = kind;
    label.resize(12, ' ');
    std::cout << label << Cell(k.read, 8) << Cell(k.imported, 10)
              << Cell(k.repaired, 10) << Cell(k.skipped, 10) << "\n";
  };
  row("sessions", r.sessions);
  row("events", r.events);
  row("actions", r.actions);
  row("pauses", r.pauses);
  // Every count agrees with its noun and verb (found by a probe: "1
  // record ... were skipped").
  const auto one = [](uint64_t n, const char* singular, const char* plural) {
    return n == 1 ? singular : plural;
  };
  if (r.events_filled > 0) {
    std::cout << Plural(r.events_filled, "placeholder event") << " filled "
              << one(r.events_filled, "a seq", "seqs")
              << " missing from the file\n";
  }
  bool any_repair = false;
  for (size_t k = 0; k < aegis::kRepairKindCount; ++k) {
    if (r.repairs[k] == 0) continue;
    if (!any_repair) std::cout << "repairs:\n";
    any_repair = true;
    std::cout << Cell(r.repairs[k], 10) << "  "
              << aegis::RepairKindName(static_cast<aegis::RepairKind>(k))
              << "\n";
  }
  if (r.problems > 0) {
    std::cout << Plural(r.problems, "report line") << " (listed above)\n";
  }
  if (r.advanced_sessions > 0) {
    std::cout << Plural(r.advanced_sessions, "session")
              << one(r.advanced_sessions, " keeps", " keep")
              << " numbering events after an older high-water mark\n";
  }
  if (!r.collisions.empty()) {
    std::cout << Plural(r.collisions.size(), "id")
              << one(r.collisions.size(), " already exists in ",
                     " already exist in ")
              << Destination(f) << ":\n";
    for (const std::string& c : r.collisions) std::cout << "  " << c << "\n";
  }
  // Listed with a `keys create` command each once written; a dry run lists
  // them bare; an aborted import not at all.
  if (r.owners.empty() || (!r.written && !r.aborted.empty())) return;
  if (r.written) {
    std::cout << "tenants and owner key ids; give each owner a key with the "
                 "same id (role writer; admin or reader as you see fit)"
              << (f.postgres_url.empty()
                      ? ""
                      : "; URL is the --postgres-url of this import")
              << ":\n";
  } else {
    std::cout << "tenants and owner key ids the import would bring (once it "
                 "is written, it prints a keys create command for each):\n";
  }
  for (const auto& [tenant, owners] : r.owners) {
    std::cout << "  tenant " << tenant << ": "
              << Plural(owners.size(), "owner") << "\n";
    for (const std::string& owner : owners) {
      if (r.written) {
        std::cout << "    acpstore keys create " << KeyStoreArgs(f)
                  << " --tenant " << ShellWord(tenant) << " --id "
                  << ShellWord(owner) << " --role writer\n";
      } else {
        std::cout << "    " << owner << "\n";
      }
    }
  }
}

int RunImport(const ImportFlags& f) {
  Result<uint64_t> max_payload = ParseSize(f.max_payload_bytes);
  if (!max_payload || *max_payload == 0 || *max_payload > (1u << 30)) {
    PrintError("--max-payload-bytes: " +
               (max_payload ? std::string("must be from 1 byte to 1GiB")
                            : std::string(max_payload.error().message())));
    return kExitUsage;
  }
  Result<TranscriptSizes> transcripts =
      ParseTranscriptLimits(f.transcript_max_bytes, f.transcript_max_tool_bytes);
  if (!transcripts) {
    PrintError(transcripts.error().message());
    return kExitUsage;
  }
  aegis::ImportOptions options;
  options.strict = f.strict;
  options.dry_run = f.dry_run;
  options.merge = f.merge;
  options.batch_bytes = 2 << 20;
  options.max_in_flight = 3;
  options.map.limits.max_payload_bytes = static_cast<uint32_t>(*max_payload);
  options.map.max_stored_payload_bytes = std::max<uint32_t>(
      options.map.max_stored_payload_bytes,
      options.map.limits.max_payload_bytes);
  options.on_problem = [](const std::string& p) { std::cout << p << "\n"; };

  // Opened only when the import is to be written.
  engine::MigrationStore store;
  bool open_failed = false;
  const aegis::StoreOpener open = [&]() -> Result<engine::MigrationTarget*> {
    StoreOptions so;
    so.limits = options.map.limits;
    // The transcripts built from the imported events, under the server's
    // limits: others would cut them differently for good.
    so.transcript_max_bytes = transcripts->max_bytes;
    so.transcript_max_tool_bytes = transcripts->max_tool_bytes;
    // An offline tool: nothing may be dropped or swept while importing;
    // the server applies its retention once it runs.
    so.maintenance_interval_ms = 0;
    so.retention = RetentionOptions{0, 0, 0, 0, 0};
    if (!f.postgres_url.empty()) {
      so.engine = Engine::kPostgres;
      so.postgres_url = f.postgres_url;
      so.postgres_schema = f.postgres_schema;
      so.postgres_pool = 2;  // the import writes on its own connection
    } else {
      so.engine = Engine::kFile;
      so.data_dir = f.data_dir;
      // The import never reads events back: a small payload cache keeps
      // the tool's memory well below the file's size. It must still
      // exceed the batches in flight (counted twice by the engine: 3 x 2
      // MiB x 2); a payload larger than a batch commits alone
      // (import_pipeline.h).
      so.memory_budget_bytes = 24ull << 20;
    }
    Result<engine::MigrationStore> opened = engine::OpenForMigration(so);
    if (!opened) {
      open_failed = true;
      return opened.error();
    }
    store = std::move(*opened);
    return store.target();
  };

  Result<aegis::ImportReport> report = [&] {
    ProgressLine progress("import-aegis");
    engine::ToolProgress cb = progress.Callback();
    if (cb) options.progress = cb;
    return aegis::ImportAegis(f.file, open, options);
  }();
  if (!report) {
    std::cout.flush();
    const bool written_to = static_cast<bool>(store);
    PrintError(std::string(report.error().message()) +
               (written_to ? "" : "; nothing was written"));
    // A file that cannot be used at all is 2; a store that fails is 1.
    const bool unusable = !open_failed && !store &&
                          report.error().code() == StatusCode::kInvalidArgument;
    return unusable ? kExitUsage : kExitFailure;
  }
  PrintSummary(f, *report);
  if (!report->aborted.empty()) {
    std::cout << "nothing was written: " << report->aborted << "\n";
    std::cout.flush();
    return kExitFailure;
  }
  if (f.dry_run) {
    std::cout << "dry run: nothing was written\n";
  } else {
    std::cout << "imported into " << Destination(f) << "\n";
  }
  if (report->skipped() > 0) {
    std::cout << Plural(report->skipped(), "record")
              << (report->skipped() == 1 ? " could not be made valid and was"
                                         : " could not be made valid and were")
              << " skipped (listed above)\n";
  }
  std::cout.flush();
  store.reset();  // close: fsync and snapshot before reporting success
  return report->skipped() > 0 ? kExitFailure : kExitOk;
}

}  // namespace

void AddImportAegisCommand(CLI::App& root, Runner* run) {
  auto flags = std::make_shared<ImportFlags>();
  CLI::App* cmd = root.add_subcommand(
      "import-aegis",
      "Import an Aegis state file (acp-local-storage.json) into a data "
      "directory no server holds, or a postgres-engine schema");
  cmd->add_option("FILE", flags->file, "The Aegis state file (version 1)")
      ->required();
  AddStoreLocationOptions(*cmd, *flags, "Data directory",
                          "Import into this postgres-engine database instead "
                          "of --data-dir (servers may be running on it)");
  cmd->add_flag("--strict", flags->strict,
                "Abort, writing nothing (the data directory is not even "
                "created, the database not contacted), if anything would "
                "be repaired, skipped or left out");
  cmd->add_flag("--dry-run", flags->dry_run,
                "Check and report only; the data directory or database is "
                "not touched");
  cmd->add_flag("--merge", flags->merge,
                "Import into a data directory or schema that already holds "
                "data (ids that exist there still abort the import)");
  cmd->add_option("--max-payload-bytes", flags->max_payload_bytes,
                  "The server's payload limit [default 1MiB]: larger "
                  "payloads (up to 16MiB) are imported as they are and "
                  "reported; beyond that they become placeholders")
      ->type_name("SIZE");
  cmd->add_option("--transcript-max-bytes", flags->transcript_max_bytes,
                  "As the server runs with (serve --transcript-max-bytes; "
                  "0 = no transcripts) [default 16MiB]: the imported "
                  "sessions' transcripts are built under it")
      ->type_name("SIZE");
  cmd->add_option("--transcript-max-tool-bytes",
                  flags->transcript_max_tool_bytes,
                  "As the server runs with (serve "
                  "--transcript-max-tool-bytes) [default 16KiB]")
      ->type_name("SIZE");
  cmd->callback([run, flags] {
    *run = [flags] {
      if (int chosen = flags->Choose(); chosen != kExitOk) return chosen;
      return RunImport(*flags);
    };
  });
}

}  // namespace acpstore::cli
