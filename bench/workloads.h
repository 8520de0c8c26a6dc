// The workloads behind RunBench (bench.h), one file each, and what they
// share: store options, the scope, session ids.
//
// Thread-safety: each Run*Workload runs on one thread (starting its own
// writers). Lifetime: a workload's stores and scratch directories are gone
// when it returns.

#ifndef ACPSTORE_BENCH_WORKLOADS_H_
#define ACPSTORE_BENCH_WORKLOADS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "acpstore/options.h"
#include "acpstore/records.h"
#include "acpstore/status.h"
#include "bench.h"
#include "report.h"

namespace acpstore::bench {

Status RunAppendWorkload(const BenchOptions& options, Reporter& report);
// rss and recovery: one history, measured while it is written and reopened.
Status RunHistoryWorkload(const BenchOptions& options, Reporter& report);
Status RunIncidentWorkload(const BenchOptions& options, Reporter& report);
// The real server over HTTP (http_workload.cc).
Status RunHttpWorkload(const BenchOptions& options, Reporter& report);
// enqueue -> lease -> complete cycles (queue_workload.cc).
Status RunQueueWorkload(const BenchOptions& options, Reporter& report);
// ListEvents and Subscription replay, cold and warm (replay_workload.cc).
Status RunReplayWorkload(const BenchOptions& options, Reporter& report);

// The engine's options for a scratch data directory: engine, sync and
// memory budget from `options`, every other field at its default.
StoreOptions BenchStoreOptions(const BenchOptions& options,
                               const std::string& data_dir);
Scope BenchScope();
// "<prefix>0", "<prefix>1", ...
std::vector<std::string> SessionIds(const std::string& prefix, size_t n);
// options.events if set, else fallback × options.scale (at least 1).
uint64_t ScaledEvents(const BenchOptions& options, uint64_t fallback);
std::string EngineName(Engine engine);

}  // namespace acpstore::bench

#endif  // ACPSTORE_BENCH_WORKLOADS_H_
