// `acpstore import-aegis FILE`: moves an Aegis state file
// (acp-local-storage.json) into a file-engine data directory (SPEC §8,
// docs/aegis_format.md, docs/operations.md "Migrating from Aegis").
//
// stdout: every problem ("<json path>: <reason>", the record is skipped),
// then the summary: counts per kind, and the tenants and owner key ids
// found with the `keys create --id` command for each. stderr: progress on a
// terminal, and fatal errors. Exit 0 when the import was written (or the
// dry run found it writable), 1 when nothing was written (a bad or
// truncated file, --strict with problems, ids that collide, a data
// directory that holds data without --merge), 2 for a bad command line.
//
// Thread-safety: main thread only.

#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>
#include <string>

#include "acpstore/store.h"
#include "aegis/importer.h"
#include "cli/command.h"
#include "cli/option_parsing.h"
#include "cli/tool_output.h"

namespace acpstore::cli {
namespace {

struct ImportFlags {
  std::string file;
  std::string data_dir = DefaultDataDir();
  bool strict = false;
  bool dry_run = false;
  bool merge = false;
  std::string max_payload_bytes = "1MiB";
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

std::string Cell(uint64_t n, size_t width) {
  std::string s = std::to_string(n);
  return std::string(width > s.size() ? width - s.size() : 0, ' ') + s;
}

void PrintSummary(const ImportFlags& f, const aegis::ImportReport& r) {
  std::cout << "read " << FormatBytes(r.bytes) << " from " << f.file << " ("
            << Plural(r.reads, "read") << " of the file)\n";
  std::cout << "                read  imported   skipped\n";
  auto row = [](const char* kind, const aegis::KindCounts& k) {
    std::string label = kind;
    label.resize(12, ' ');
    std::cout << label << Cell(k.read, 8) << Cell(k.imported, 10)
              << Cell(k.skipped, 10) << "\n";
  };
  row("sessions", r.sessions);
  row("events", r.events);
  row("actions", r.actions);
  row("pauses", r.pauses);
  if (r.problems > 0) {
    std::cout << Plural(r.problems, "problem") << " (listed above)\n";
  }
  if (r.advanced_sessions > 0) {
    std::cout << Plural(r.advanced_sessions, "session")
              << " keep numbering events after an older high-water mark\n";
  }
  for (const std::string& key : r.unknown_keys) {
    std::cout << "ignored top-level key \"" << key << "\"\n";
  }
  if (!r.collisions.empty()) {
    std::cout << Plural(r.collisions.size(), "id") << " already exist in "
              << f.data_dir << ":\n";
    for (const std::string& c : r.collisions) std::cout << "  " << c << "\n";
  }
  if (!r.owners.empty()) {
    std::cout << "tenants and owner key ids; give each owner a key with the "
                 "same id (role writer; admin or reader as you see fit):\n";
    for (const auto& [tenant, owners] : r.owners) {
      std::cout << "  tenant " << tenant << ": "
                << Plural(owners.size(), "owner") << "\n";
      for (const std::string& owner : owners) {
        std::cout << "    acpstore keys create --data-dir "
                  << ShellWord(f.data_dir) << " --tenant " << ShellWord(tenant)
                  << " --id " << ShellWord(owner) << " --role writer\n";
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
  aegis::ImportOptions options;
  options.strict = f.strict;
  options.dry_run = f.dry_run;
  options.merge = f.merge;
  options.batch_bytes = 2 << 20;
  options.max_in_flight = 3;
  options.limits.max_payload_bytes = static_cast<uint32_t>(*max_payload);
  options.on_problem = [](const std::string& p) { std::cout << p << "\n"; };

  std::unique_ptr<Store> store;
  struct stat st;
  const bool dir_exists = ::stat(f.data_dir.c_str(), &st) == 0;
  if (!f.dry_run || dir_exists) {
    StoreOptions so;
    so.engine = Engine::kFile;
    so.data_dir = f.data_dir;
    so.limits = options.limits;
    // An offline tool: nothing may be dropped or swept while importing;
    // the server applies its retention once it runs.
    so.maintenance_interval_ms = 0;
    so.retention = RetentionOptions{0, 0, 0, 0, 0};
    // The import never reads events back: a small payload cache keeps the
    // tool's memory well below the file's size. It must still exceed the
    // batches in flight (counted twice by the engine: 3 x 2 MiB x 2).
    so.memory_budget_bytes = 24ull << 20;
    Result<std::unique_ptr<Store>> opened = OpenStore(so);
    if (!opened) {
      PrintError(std::string(opened.error().message()));
      return kExitFailure;
    }
    store = std::move(*opened);
  }

  Result<aegis::ImportReport> report = [&] {
    ProgressLine progress("import-aegis");
    engine::ToolProgress cb = progress.Callback();
    if (cb) options.progress = cb;
    return aegis::ImportAegis(f.file, store.get(), options);
  }();
  if (!report) {
    std::cout.flush();
    PrintError(std::string(report.error().message()) + "; nothing was written");
    return kExitFailure;
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
    std::cout << "imported into " << f.data_dir << "\n";
  }
  std::cout.flush();
  store.reset();  // close: fsync and snapshot before reporting success
  return kExitOk;
}

}  // namespace

void AddImportAegisCommand(CLI::App& root, Runner* run) {
  auto flags = std::make_shared<ImportFlags>();
  CLI::App* cmd = root.add_subcommand(
      "import-aegis",
      "Import an Aegis state file (acp-local-storage.json) into a data "
      "directory no server holds");
  cmd->add_option("FILE", flags->file, "The Aegis state file (version 1)")
      ->required();
  cmd->add_option("--data-dir", flags->data_dir,
                  "Data directory [env ACPSTORE_DATA_DIR, default "
                  "./acpstore-data]")
      ->type_name("DIR");
  cmd->add_flag("--strict", flags->strict,
                "Abort, writing nothing, if any record breaks the spec");
  cmd->add_flag("--dry-run", flags->dry_run,
                "Check and report only; write nothing");
  cmd->add_flag("--merge", flags->merge,
                "Import into a data directory that already holds data (ids "
                "that exist there still abort the import)");
  cmd->add_option("--max-payload-bytes", flags->max_payload_bytes,
                  "Largest event payload accepted (canonical JSON) [default "
                  "1MiB]; match the server's setting")
      ->type_name("SIZE");
  cmd->callback([run, flags] { *run = [flags] { return RunImport(*flags); }; });
}

}  // namespace acpstore::cli
