// The PostgreSQL peer of the append workload: the same events, the same
// schema as the SQLite peer - events(session, seq, payload,
// PRIMARY KEY(session, seq)), seq = max(seq) + 1 in the statement - with
// synchronous_commit = on, one transaction per append and one connection
// per writer (64 connections for 64 writers).
//
// Runs only when the benchmark was built with libpq (CMake found it) and a
// server is named by BenchOptions::postgres_url or the environment
// variable ACPSTORE_BENCH_POSTGRES_URL; otherwise it prints why, once, and
// does nothing.
//
// Thread-safety: the workload's main thread; it starts and joins its own
// writers. Lifetime: its table is created and dropped per call.

#ifndef ACPSTORE_BENCH_POSTGRES_PEER_H_
#define ACPSTORE_BENCH_POSTGRES_PEER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "acpstore/status.h"
#include "bench.h"
#include "report.h"

namespace acpstore::bench {

// Adds a "postgres-sync-on" measurement for `config` as run `run`.
Status RunPostgresPeers(const BenchOptions& options, const std::string& config,
                        int writers, uint64_t events,
                        const std::vector<std::string>& payloads, int run,
                        Reporter& report);

}  // namespace acpstore::bench

#endif  // ACPSTORE_BENCH_POSTGRES_PEER_H_
