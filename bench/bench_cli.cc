// AddBenchOptions (bench_cli.h).

#include "bench_cli.h"

#include <CLI/CLI.hpp>
#include <map>
#include <string>

namespace acpstore::bench {

void AddBenchOptions(CLI::App& app, BenchOptions* options) {
  app.add_option("workload", options->workload,
                 "append | rss | recovery | incident")
      ->required()
      ->check(CLI::IsMember(WorkloadNames()));
  app.add_option("--events", options->events,
                 "events per configuration (default: the workload's, "
                 "times --scale)");
  app.add_option("--writers", options->writers,
                 "concurrent writers, comma-separated (append: 1,16,64; "
                 "others: 16)")
      ->delimiter(',');
  app.add_option("--scale", options->scale,
                 "multiplies the default event counts")
      ->capture_default_str();
  app.add_option("--sessions", options->sessions,
                 "rss: sessions to spread the events over (default 2000)");
  app.add_option("--payload-bytes", options->payload_bytes,
                 "bytes of each event payload")
      ->capture_default_str();
  app.add_option("--seconds", options->seconds,
                 "append: time cap per configuration")
      ->capture_default_str();
  app.add_option("--runs", options->runs, "repetitions; tables print medians")
      ->capture_default_str();
  app.add_option("--dir", options->dir,
                 "parent of the scratch data directories (removed after)")
      ->capture_default_str();
  app.add_option("--csv", options->csv_path,
                 "append one row per measured value to this CSV file");
  app.add_option_function<uint64_t>(
      "--memory-budget-mib",
      [options](uint64_t mib) { options->memory_budget_bytes = mib << 20; },
      "StoreOptions::memory_budget_bytes in MiB (default 64)");
  static const std::map<std::string, Engine> kEngines = {
      {"file", Engine::kFile}, {"memory", Engine::kMemory}};
  app.add_option("--engine", options->engine, "file | memory (default file)")
      ->transform(CLI::CheckedTransformer(kEngines, CLI::ignore_case));
  static const std::map<std::string, SyncMode> kSync = {
      {"always", SyncMode::kAlways},
      {"interval", SyncMode::kInterval},
      {"none", SyncMode::kNone}};
  app.add_option("--sync", options->sync,
                 "always | interval | none (default always)")
      ->transform(CLI::CheckedTransformer(kSync, CLI::ignore_case));
  app.add_flag_function(
      "--no-peers", [options](int64_t) { options->peers = false; },
      "append: skip the raw fdatasync and SQLite peers");
}

}  // namespace acpstore::bench
