// acpstore_benchlib: the benchmark workloads of docs/benchmarks.md. A
// library with a thin main (bench_main.cc) so that `acpstore bench` can
// link the same code.
//
//   append    durable append throughput and latency with 1/16/64 writers,
//             beside the raw fdatasync limit and SQLite doing the same work
//   rss       peak and current RSS while N events go into S sessions, then
//             the time to reopen them (with and without a snapshot)
//   recovery  the same run as rss (the reopen needs that history)
//   incident  the shape of the incident that motivated acpstore (359
//             sessions, 220 of them appending, 8,614 events), ×10, ×100
//   http      the real `acpstore serve` over loopback: single appends
//             over 64 keep-alive connections, batches of 100, SSE fan-out
//             to 1,000 subscribers, server RSS
//   queue     enqueue -> lease -> complete cycles with 1/4/16/64 workers,
//             file and memory engines beside SQLite
//   replay    ListEvents and Subscription replay of 10,000 events, cold
//             and warm, beside SQLite
//
// Thread-safety: RunBench runs one workload at a time on the calling
// thread (which starts and joins its own workers). Lifetime: scratch
// directories live under options.dir only while a workload runs.

#ifndef ACPSTORE_BENCH_BENCH_H_
#define ACPSTORE_BENCH_BENCH_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "acpstore/options.h"
#include "acpstore/status.h"

namespace acpstore::bench {

struct BenchOptions {
  std::string workload = "append";
  // kFile (default), kMemory or kPostgres (append and http only; needs
  // postgres_url; the engine's tables go in a scratch schema).
  Engine engine = Engine::kFile;
  // Parent of the scratch data directories, removed afterwards. Default
  // /tmp.
  std::string dir = "/tmp";
  // Where to append one CSV row per measured value. Empty: no CSV.
  std::string csv_path;
  // Multiplies every default event count. Default 1.
  double scale = 1.0;
  // Events per configuration; 0 = the workload's default × scale
  // (append: 50,000, capped by `seconds`; rss: 1,000,000; incident:
  // 8,614 and 861,400).
  uint64_t events = 0;
  // Concurrent writers, each with one append in flight. Empty = the
  // workload's default (append: 1, 16, 64; rss and incident: 16).
  std::vector<int> writers;
  // rss: sessions the events are spread over. 0 = 2,000.
  uint64_t sessions = 0;
  // append, and http's single and batch phases: the events appended
  // (--mix). "tool" (default): every event a tool event of payload_bytes
  // (tool.started, tool.completed, tool.output cycling; the transcript
  // keeps their input and output, so it is nearly as big as the events:
  // transcripts' worst case). "acp": each writer or connection appends an
  // Aegis-shaped ACP session to its own session (AcpWriterStream,
  // acp_session.h: deltas, tools, usage, the raw ACP frame in every
  // payload; payload_bytes unused there), each event's type drawn on its
  // own. "acp-runs": the same, in turns (AcpTurnEvents: runs of deltas,
  // then tool calls, as an agent streams them).
  std::string mix = "tool";
  // Canonical size of each event payload (a tool event). Default 2,500.
  size_t payload_bytes = 2500;
  // append: payload sizes to sweep (--payload-bytes 256,2500,65536).
  // Empty: {payload_bytes}. The CLI sets payload_bytes to the first.
  std::vector<size_t> payload_sizes;
  // append: time cap per configuration, seconds. Default 4.
  double seconds = 4.0;
  // Repetitions of each configuration; tables print the median. Default 1.
  int runs = 1;
  // StoreOptions::memory_budget_bytes. Default 64 MiB.
  uint64_t memory_budget_bytes = 64ULL << 20;
  // Default kAlways.
  SyncMode sync = SyncMode::kAlways;
  // append: sync modes to sweep (--sync always,interval,none). Empty:
  // {sync}. The CLI sets sync to the first.
  std::vector<SyncMode> sync_modes;
  // append: also measure the raw fdatasync limit and SQLite. Default on.
  bool peers = true;
  // append: a libpq connection string for the PostgreSQL peers (and, with
  // engine kPostgres, the engine's database). Empty:
  // $ACPSTORE_BENCH_POSTGRES_URL, else no PostgreSQL peer.
  std::string postgres_url;
  // engine kPostgres: StoreOptions::postgres_pool (--postgres-pool).
  uint32_t postgres_pool = 8;
  // StoreOptions::transcript_max_bytes (--transcript-max-bytes; 0 turns
  // transcripts off, for the on/off comparison of SPEC §13).
  uint64_t transcript_max_bytes = 16ull << 20;
  // StoreOptions::postgres_transcript_checkpoint_events
  // (--transcript-checkpoint-events).
  uint64_t transcript_checkpoint_events = 256;
  // append, engine kPostgres: stores opened on the same database, as that
  // many servers would (each its own pool, commit queue, session and fold
  // caches). Default 1.
  int stores = 1;
  // append with stores > 1: "sticky" (default: a writer's appends all go
  // through one store, as behind a load balancer with session affinity) or
  // "alternate" (the n-th append through store n % stores: every session
  // written through every store).
  std::string routing = "sticky";

  // http: the `acpstore` binary to run as the server. Empty: the one built
  // beside this benchmark (compiled in).
  std::string server_bin;
  // http: HTTP threads of the server (--threads); 0 = its default (one
  // per CPU in its affinity mask).
  int server_threads = 0;
  // http: SSE subscribers on one session and events/s appended to it.
  int subscribers = 1000;
  int sse_rate = 1000;
  // http: canonical bytes of each SSE event's payload.
  size_t sse_payload_bytes = 512;
  // http: the phases to run, in this order: single, batch, sse, wrk (the
  // last runs `wrk`, if on PATH, for the single-append figure).
  std::vector<std::string> http_phases = {"single", "batch", "sse"};
};

// The names RunBench accepts.
const std::vector<std::string>& WorkloadNames();

// Runs options.workload, printing tables to `out` (progress goes there
// too). Fails with kInvalidArgument for an unknown workload or bad option,
// or with the store's or file system's error.
Status RunBench(const BenchOptions& options, std::ostream& out);

}  // namespace acpstore::bench

#endif  // ACPSTORE_BENCH_BENCH_H_
