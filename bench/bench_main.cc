// acpstore_bench: runs one benchmark workload (bench.h) and prints its
// tables. `acpstore bench` will run the same library.
//
//   acpstore_bench append --runs 3 --csv append.csv
//   acpstore_bench rss --events 100000
//
// Exit codes: 0 done, 1 the workload failed, 2 bad command line.

#include <CLI/CLI.hpp>
#include <iostream>

#include "bench.h"
#include "bench_cli.h"

int main(int argc, char** argv) {
  CLI::App app(
      "acpstore_bench: acpstore's benchmark workloads "
      "(docs/benchmarks.md)",
      "acpstore_bench");
  acpstore::bench::BenchOptions options;
  acpstore::bench::AddBenchOptions(app, &options);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  acpstore::Status s = acpstore::bench::RunBench(options, std::cout);
  if (!s.ok()) {
    std::cerr << "acpstore_bench: " << s << std::endl;
    return 1;
  }
  return 0;
}
