// What acpstore's durable append is compared with, in the same run:
//
//  * RunRawSync - the raw limit: one thread writing the same bytes
//    sequentially to one file, one fdatasync per batch of `batch` records.
//    No engine can acknowledge durable appends faster on this disk; with
//    `writers` concurrent appends the best a group commit can do is a
//    batch of `writers`.
//  * RunHandoffSync - the same bytes, appended the way the engine is:
//    `writers` threads of DriveAppends (load.h; the same closed loop, wait
//    and completions) hand each record to one committer thread, which
//    writes everything queued, fdatasyncs once and runs the batch's
//    completions. No decisions, index, encoding or checksums: what is
//    left is the disk plus the threads' hand-offs and wake-ups, which no
//    engine driven by that load avoids. Its CPU per event is the floor of
//    the engine's in the same run.
//  * RunSqlite - SQLite doing the same work: WAL mode, a table
//    events(session, seq, payload, PRIMARY KEY(session, seq)), the seq
//    assigned as max(seq) + 1 in the transaction. kPerAppend: one
//    transaction per append on one shared connection behind a mutex
//    (SQLite allows one writer; a mutex beats busy_timeout's sleeps).
//    kBatched: writers hand appends to one committer thread that puts
//    everything pending into one transaction (group commit in the
//    application).
//
// Thread-safety: each call runs alone, with its own threads.

#ifndef ACPSTORE_BENCH_PEERS_H_
#define ACPSTORE_BENCH_PEERS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "acpstore/status.h"
#include "load.h"

namespace acpstore::bench {

struct PeerResult {
  uint64_t events = 0;
  double seconds = 0;
  // Raw: the time of each batch's write + fdatasync (every record of the
  // batch waits that long at least). SQLite: per append, as the engine.
  std::vector<uint32_t> latencies_us;
  uint64_t syncs = 0;  // raw: fdatasyncs; SQLite: commits
  // RunHandoffSync: the process's CPU seconds over the load alone (as the
  // engine's figure is taken), not its setup; the others leave it at -1.
  double cpu_seconds = -1;
  Status error;
};

// Writes records of `record_bytes` (cut from `payloads`) into `dir`/raw.log
// in batches of `batch`, until `max_events` or `max_seconds`.
PeerResult RunRawSync(const std::string& dir,
                      const std::vector<std::string>& payloads,
                      size_t record_bytes, size_t batch, uint64_t max_events,
                      double max_seconds);

struct HandoffSpec {
  std::string dir;  // handoff.log is written there, and removed
  size_t record_bytes = 0;
  int writers = 1;
  uint64_t max_events = 0;
  double max_seconds = 0;
  const std::vector<std::string>* payloads = nullptr;  // as DriveAppends
  LoadSpec::Wait wait = LoadSpec::Wait::kSpinThenSleep;  // the engine's
};

PeerResult RunHandoffSync(const HandoffSpec& spec);

enum class SqliteMode { kPerAppend, kBatched };

struct SqliteSpec {
  std::string dir;
  std::string synchronous = "FULL";  // or "NORMAL"
  SqliteMode mode = SqliteMode::kPerAppend;
  int writers = 1;  // each appends to its own session
  uint64_t max_events = 0;
  double max_seconds = 0;
  const std::vector<std::string>* payloads = nullptr;
};

PeerResult RunSqlite(const SqliteSpec& spec);

}  // namespace acpstore::bench

#endif  // ACPSTORE_BENCH_PEERS_H_
