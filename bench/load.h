// DriveAppends: the append load every engine workload uses. `writers`
// threads each keep one append in flight (submit, wait for the completion,
// submit the next), as agents behind a server would, until `events` were
// appended or `max_seconds` passed.
//
// Thread-safety: call from one thread; it starts and joins the writers.
// The hooks run on writer threads. Lifetime: borrows the store and the
// spec's vectors for the call.

#ifndef ACPSTORE_BENCH_LOAD_H_
#define ACPSTORE_BENCH_LOAD_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "acpstore/records.h"
#include "acpstore/status.h"
#include "acpstore/store.h"

namespace acpstore::bench {

struct LoadSpec {
  Scope scope;
  const std::vector<std::string>* sessions = nullptr;
  // The tool-event mix: the n-th event has type ToolEventType(n) and
  // payload (*payloads)[n % size].
  const std::vector<std::string>* payloads = nullptr;
  // Instead, when set: each writer appends this stream in order, its k-th
  // append (*events)[k % size] (an ACP session per writer, acp_session.h).
  const std::vector<NewEvent>* events_stream = nullptr;
  int writers = 1;
  uint64_t events = 0;
  double max_seconds = 0;  // 0: no time cap
  // The session (index into *sessions) of the n-th event (0-based, in
  // the order writers claim them), appended by writer `writer`.
  // Default: n % sessions.
  std::function<size_t(uint64_t n, int writer)> pick_session;
  // With several stores: the store (index into DriveAppends' `stores`)
  // the n-th event goes through. Default: the first.
  std::function<size_t(uint64_t n, int writer)> pick_store;
  // Called once, by the writer whose completion made the count of
  // acknowledged events reach each value of `checkpoints` (ascending).
  std::vector<uint64_t> checkpoints;
  std::function<void(uint64_t acknowledged, double seconds)> at_checkpoint;
  // How a writer waits for its append's completion. kSpinThenSleep
  // (std::atomic wait: libstdc++ spins, then yields a dozen times, then
  // sleeps on a futex) suits engines that complete within a disk flush:
  // the completion often finds its writer still spinning, so the engine's
  // thread makes no wake-up call (file engine, 64 writers: 56-59k events/s
  // at 29-30 us/event against 41-42k at 36-37 with kSleep, two same-run
  // pairs). kSleep (FUTEX_WAIT at once) suits completions a network round
  // trip away, which no spin catches: its yields were a fifth of the
  // postgres runs' samples, counted in their CPU per append.
  enum class Wait { kSpinThenSleep, kSleep };
  Wait wait = Wait::kSpinThenSleep;
};

struct LoadResult {
  uint64_t events = 0;  // acknowledged
  double seconds = 0;
  std::vector<uint32_t> latencies_us;  // one per acknowledged append
  Status error;                        // the first failed append
};

LoadResult DriveAppends(Store& store, const LoadSpec& spec);
// The same load through several stores of one database (spec.pick_store).
LoadResult DriveAppends(const std::vector<Store*>& stores,
                        const LoadSpec& spec);

// The same load into anything that takes appends the way a Store does:
// `submit` is called on writer `writer`'s thread for the n-th append, with
// the session spec.pick_session chose, and must call `done` exactly once,
// on any thread (spec.pick_store is not consulted).
using SubmitAppend = std::function<void(
    uint64_t n, int writer, const std::string& session, AppendRequest req,
    Completion<AppendResult> done)>;
LoadResult DriveAppends(const SubmitAppend& submit, const LoadSpec& spec);

// Creates sessions with these ids in `scope`; the first failure.
Status CreateSessions(Store& store, const Scope& scope,
                      const std::vector<std::string>& ids);

}  // namespace acpstore::bench

#endif  // ACPSTORE_BENCH_LOAD_H_
