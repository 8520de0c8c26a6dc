// The command-line options of the benchmark workloads, registered on a
// CLI11 app, so acpstore_bench and `acpstore bench` parse them alike.
// CLI11 is only forward-declared here.
//
// Thread-safety: main thread, before parsing.

#ifndef ACPSTORE_BENCH_BENCH_CLI_H_
#define ACPSTORE_BENCH_BENCH_CLI_H_

#include "bench.h"

namespace CLI {
class App;
}  // namespace CLI

namespace acpstore::bench {

// Adds the WORKLOAD positional and every option of BenchOptions to `app`,
// writing into *options (which must outlive parsing).
void AddBenchOptions(CLI::App& app, BenchOptions* options);

}  // namespace acpstore::bench

#endif  // ACPSTORE_BENCH_BENCH_CLI_H_
