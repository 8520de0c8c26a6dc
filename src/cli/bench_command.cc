// `acpstore bench WORKLOAD`: the benchmark workloads of docs/benchmarks.md
// (bench/, the same library as the acpstore_bench tool), with the same
// options. Exit 0 when the workload ran, 1 when it failed.
//
// Built in only with -DACPSTORE_BENCH_COMMAND=ON (ACPSTORE_HAVE_BENCH
// defined), so that the shipped binary holds no benchmark code and links no
// SQLite; otherwise the subcommand says so and points to acpstore_bench.
//
// Thread-safety: main thread only (the workloads start their own threads).

#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>

#include "cli/command.h"

#ifdef ACPSTORE_HAVE_BENCH
#include "bench.h"
#include "bench_cli.h"
#endif

namespace acpstore::cli {

void AddBenchCommand(CLI::App& root, Runner* run) {
  CLI::App* cmd = root.add_subcommand(
      "bench",
      "Run a benchmark workload (append, rss, recovery, incident, http, "
      "queue, replay) and print its tables; see docs/benchmarks.md");
#ifdef ACPSTORE_HAVE_BENCH
  auto options = std::make_shared<bench::BenchOptions>();
  bench::AddBenchOptions(*cmd, options.get());
  cmd->callback([run, options] {
    *run = [options] {
      Status s = bench::RunBench(*options, std::cout);
      if (!s.ok()) {
        PrintError("bench: " + s.ToString());
        return kExitFailure;
      }
      return kExitOk;
    };
  });
#else
  cmd->allow_extras();
  cmd->callback([run] {
    *run = [] {
      PrintError(
          "bench: not built into this binary; use acpstore_bench, or "
          "configure with -DACPSTORE_BENCH_COMMAND=ON");
      return kExitFailure;
    };
  });
#endif
}

}  // namespace acpstore::cli
