// The PostgreSQL peers of the append workload, and what the postgres
// engine's benchmark needs of a server: its CPU time and a scratch schema.
//
// Peers (one connection per writer, synchronous_commit = on, each writer
// on its own session, one append in flight; all three store the same
// events in events(session, seq, payload bytea, PRIMARY KEY(session, seq))):
//
//  * kMaxPlusOne, subject "postgres-sync-on": one autocommit
//    `INSERT ... SELECT $1, coalesce(max(seq), 0) + 1, $2 ... WHERE
//    session = $1` per append - one statement, one transaction.
//  * kInsert, subject "postgres-insert": one autocommit
//    `INSERT ... VALUES ($1, $2, $3)` with the seq the writer knows (it
//    owns its session) - the cheapest durable single-row append there is.
//  * kAegis, subject "postgres-aegis": the design Aegis's Postgres event
//    store uses, modelled from its description (not its code): per append
//    BEGIN; SELECT pg_advisory_xact_lock(hash(session)); INSERT ... SELECT
//    coalesce(max(seq), 0) + 1 ...; COMMIT - four round trips.
//
// Each reports events/s, latency, the bench process's CPU per event (the
// libpq client) and the PostgreSQL server's (PgServerCpu).
//
// Runs only when the benchmark was built with libpq (CMake found it) and a
// server is named by BenchOptions::postgres_url or the environment
// variable ACPSTORE_BENCH_POSTGRES_URL; otherwise it prints why, once, and
// does nothing.
//
// Thread-safety: the workload's main thread; it starts and joins its own
// writers. Lifetime: a peer's table is created and dropped per call.

#ifndef ACPSTORE_BENCH_POSTGRES_PEER_H_
#define ACPSTORE_BENCH_POSTGRES_PEER_H_

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "acpstore/result.h"
#include "acpstore/status.h"
#include "bench.h"
#include "report.h"

namespace acpstore::bench {

enum class PgPeer { kMaxPlusOne, kInsert, kAegis };

// The table subject of a peer ("postgres-sync-on", ...).
const char* PgPeerSubject(PgPeer peer);

// options.postgres_url, else $ACPSTORE_BENCH_POSTGRES_URL, else "".
std::string BenchPostgresUrl(const BenchOptions& options);

// Adds one measurement of each peer for `config` as run `run`.
Status RunPostgresPeers(const BenchOptions& options, const std::string& config,
                        int writers, uint64_t events,
                        const std::vector<std::string>& payloads, int run,
                        Reporter& report);

// CPU time of a PostgreSQL server on this machine: the postmaster's own
// and its reaped children's (utime, stime, cutime, cstime of
// /proc/<postmaster>/stat) plus every live child's (backends, WAL writer,
// checkpointer, ...). A difference of two samples is the server's CPU over
// the interval, backends that exited in between included.
class PgServerCpu {
 public:
  // Finds the postmaster behind `url` (the parent of a backend's pid);
  // kUnavailable if it is not on this machine or not readable.
  static Result<PgServerCpu> Find(const std::string& url);
  double Seconds() const;
  pid_t postmaster() const { return postmaster_; }

 private:
  explicit PgServerCpu(pid_t postmaster) : postmaster_(postmaster) {}
  pid_t postmaster_;
};

// DROP SCHEMA `schema` CASCADE, if it exists (the engine's scratch schema).
Status DropPostgresSchema(const std::string& url, const std::string& schema);

}  // namespace acpstore::bench

#endif  // ACPSTORE_BENCH_POSTGRES_PEER_H_
