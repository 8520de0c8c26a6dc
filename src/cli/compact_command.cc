// `acpstore compact [--repair]`: on a data directory no server holds,
// writes a fresh snapshot and deletes the journal segments no retained
// event needs; with --repair, salvages what verifies from a directory that
// no longer opens into a new journal, keeping the damaged files aside and
// listing everything lost (SPEC §3, §7).
//
// Thread-safety: main thread only.

#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>
#include <string>

#include "cli/command.h"
#include "cli/option_parsing.h"
#include "cli/store_location.h"
#include "cli/tool_output.h"
#include "engine/file_tools.h"

namespace acpstore::cli {
namespace {

struct CompactFlags {
  StoreLocation where;
  bool repair = false;
  std::string transcript_max_bytes = "16MiB";
  std::string transcript_max_tool_bytes = "16KiB";
};

int RunCompact(CompactFlags& f) {
  // The store the other tools would work on, by the same rule: where that
  // is a postgres schema (--postgres-url, or ACPSTORE_POSTGRES_URL without
  // --data-dir), compacting ./acpstore-data instead would be a guess.
  if (int chosen = f.where.Choose(); chosen != kExitOk) return chosen;
  if (f.where.postgres()) return RefuseFileOnly("compact", f.where);
  Result<TranscriptSizes> sizes =
      ParseTranscriptLimits(f.transcript_max_bytes, f.transcript_max_tool_bytes);
  if (!sizes) {
    PrintError(sizes.error().message());
    return kExitUsage;
  }
  transcript::Limits transcripts;
  transcripts.max_bytes = sizes->max_bytes;
  transcripts.max_tool_bytes = sizes->max_tool_bytes;
  // The progress line is cleared before the report is printed.
  Result<engine::CompactReport> report = [&] {
    ProgressLine progress(f.repair ? "repair" : "compact");
    return engine::Compact(f.where.data_dir, f.repair, progress.Callback(),
                           nullptr, transcripts);
  }();
  if (!report) {
    PrintError(report.error().message());
    return kExitFailure;
  }
  const engine::CompactReport& r = *report;
  if (r.repaired) {
    std::cout << "repaired: " << r.records_salvaged << " records salvaged, "
              << r.events_kept << " events kept, " << r.events_lost
              << " events lost\n";
    for (const engine::Problem& p : r.lost) {
      std::cout << "lost: " << DescribeProblem(p) << "\n";
    }
    std::string kept;
    for (const std::string* dir : {&r.old_journal_dir, &r.old_snapshot_dir}) {
      if (dir->empty()) continue;
      if (!kept.empty()) kept += " and ";
      kept += *dir;
    }
    // A repair keeps the old files even when it lost nothing (a healthy
    // directory, or damage only in records a snapshot covers): "damaged"
    // then would be a guess, and usually wrong.
    if (!kept.empty() && (!r.lost.empty() || r.events_lost > 0)) {
      std::cout << "damaged files kept in " << kept << "\n";
    } else if (!kept.empty()) {
      std::cout << "nothing lost; the previous files are kept in " << kept
                << "\n";
    }
  } else {
    for (const std::string& s : r.snapshots_skipped) {
      std::cout << "damaged snapshot replaced (its state came from an older "
                   "snapshot and the journal): "
                << s << "\n";
    }
    for (const engine::Problem& p : r.lost) {
      std::cout << "rebuilt: " << DescribeProblem(p) << "\n";
    }
  }
  std::cout << "compacted: " << Plural(r.segments_before, "segment") << ", "
            << FormatBytes(r.bytes_before) << " -> "
            << Plural(r.segments_after, "segment") << ", "
            << FormatBytes(r.bytes_after) << "; snapshot "
            << r.snapshot_number << std::endl;
  return kExitOk;
}

}  // namespace

void AddCompactCommand(CLI::App& root, Runner* run) {
  auto flags = std::make_shared<CompactFlags>();
  CLI::App* cmd = root.add_subcommand(
      "compact",
      "Snapshot and drop unneeded journal segments of a file-engine data "
      "directory; --repair salvages a damaged one");
  AddFileOnlyStoreOptions(*cmd, flags->where, "Data directory");
  cmd->add_option("--transcript-max-bytes", flags->transcript_max_bytes,
                  "As the server runs with (serve --transcript-max-bytes): "
                  "what compact folds itself (the journal past the snapshot, "
                  "a rebuild) is capped by it for good; 0 = no transcripts")
      ->capture_default_str();
  cmd->add_option("--transcript-max-tool-bytes",
                  flags->transcript_max_tool_bytes,
                  "As the server runs with (serve --transcript-max-tool-bytes): "
                  "the cut of a tool's input and result in what compact folds")
      ->capture_default_str();
  cmd->add_flag("--repair", flags->repair,
                "Salvage every record that verifies into a new journal; the "
                "damaged files are kept aside and every loss is listed");
  cmd->callback(
      [run, flags] { *run = [flags] { return RunCompact(*flags); }; });
}

}  // namespace acpstore::cli
