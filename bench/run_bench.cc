// RunBench (bench.h): validates the options and runs the named workload.

#include <algorithm>
#include <cmath>

#include "bench.h"
#include "postgres_peer.h"
#include "workloads.h"

namespace acpstore::bench {

const std::vector<std::string>& WorkloadNames() {
  static const std::vector<std::string> kNames = {"append", "rss", "recovery",
                                                  "incident", "http",
                                                  "queue",    "replay"};
  return kNames;
}

StoreOptions BenchStoreOptions(const BenchOptions& options,
                               const std::string& data_dir) {
  StoreOptions store;
  store.engine = options.engine;
  store.data_dir = data_dir;
  store.sync = options.sync;
  store.memory_budget_bytes = options.memory_budget_bytes;
  store.transcript_max_bytes = options.transcript_max_bytes;
  store.postgres_transcript_checkpoint_events =
      options.transcript_checkpoint_events;
  if (options.engine == Engine::kPostgres) {
    store.postgres_url = BenchPostgresUrl(options);
    store.postgres_pool = options.postgres_pool;
  }
  return store;
}

Scope BenchScope() {
  return Scope{.tenant_id = "bench-tenant", .owner_key_id = "bench-key"};
}

std::vector<std::string> SessionIds(const std::string& prefix, size_t n) {
  std::vector<std::string> ids;
  ids.reserve(n);
  for (size_t i = 0; i < n; ++i) ids.push_back(prefix + std::to_string(i));
  return ids;
}

uint64_t ScaledEvents(const BenchOptions& options, uint64_t fallback) {
  if (options.events > 0) return options.events;
  return std::max<uint64_t>(
      1, static_cast<uint64_t>(std::llround(fallback * options.scale)));
}

std::string EngineName(Engine engine) {
  switch (engine) {
    case Engine::kMemory:
      return "memory";
    case Engine::kFile:
      return "file";
    case Engine::kPostgres:
      return "postgres";
  }
  return "?";
}

Status RunBench(const BenchOptions& options, std::ostream& out) {
  if (options.runs < 1) return Status::InvalidArgument("--runs must be >= 1");
  if (!(options.scale > 0)) {
    return Status::InvalidArgument("--scale must be > 0");
  }
  if (options.payload_bytes < 128) {
    return Status::InvalidArgument("--payload-bytes must be >= 128");
  }
  for (size_t bytes : options.payload_sizes) {
    if (bytes < 128) {
      return Status::InvalidArgument("--payload-bytes must be >= 128");
    }
  }
  for (int w : options.writers) {
    if (w < 1 || w > 1024) {
      return Status::InvalidArgument("--writers must be in 1..1024");
    }
  }
  if (options.engine == Engine::kPostgres) {
    if (options.workload != "append" && options.workload != "http") {
      return Status::InvalidArgument(
          "--engine postgres runs the append and http workloads only");
    }
    if (BenchPostgresUrl(options).empty()) {
      return Status::InvalidArgument(
          "--engine postgres needs --postgres-url (or "
          "$ACPSTORE_BENCH_POSTGRES_URL)");
    }
  }
  if (options.postgres_pool < 1 || options.postgres_pool > 1000) {
    return Status::InvalidArgument("--postgres-pool must be in 1..1000");
  }
  Reporter report(out, options.workload);
  ACPSTORE_RETURN_IF_ERROR(report.OpenCsv(options.csv_path));
  out << "acpstore_bench " << options.workload << ": engine "
      << EngineName(options.engine) << ", " << options.runs << " run(s), "
      << (options.mix == "acp"        ? std::string("ACP session mix")
          : options.mix == "acp-runs" ? std::string("ACP session mix in turns")
                               : "payload " +
                                     std::to_string(options.payload_bytes) +
                                     " B")
      << ", scratch under "
      << options.dir << "\n";
  if (options.workload == "append") return RunAppendWorkload(options, report);
  if (options.workload == "rss" || options.workload == "recovery") {
    return RunHistoryWorkload(options, report);
  }
  if (options.workload == "incident") {
    return RunIncidentWorkload(options, report);
  }
  if (options.workload == "http") return RunHttpWorkload(options, report);
  if (options.workload == "queue") return RunQueueWorkload(options, report);
  if (options.workload == "replay") return RunReplayWorkload(options, report);
  return Status::InvalidArgument(
      "unknown workload '" + options.workload +
      "' (append, rss, recovery, incident, http, queue, replay)");
}

}  // namespace acpstore::bench
