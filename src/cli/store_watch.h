// StoreWatch: logs what the store reports only through its counters, so
// that an operator reading the log sees it without polling /readyz: a
// snapshot that could not be written (the file engine goes on without
// it, and recovery time and journal space grow) and reads that met
// damaged records. One warning per change of the counters, checked every
// `interval`; never a token, payload or metadata value. For stores whose
// Stats() is cheap (the file engine's counters are in memory).
//
// Thread-safety: one background thread (engine::PeriodicThread); Stop (or
// the destructor) joins it.

#ifndef ACPSTORE_CLI_STORE_WATCH_H_
#define ACPSTORE_CLI_STORE_WATCH_H_

#include <chrono>
#include <cstdint>
#include <optional>

#include "acpstore/store.h"
#include "engine/periodic_thread.h"

namespace acpstore::cli {

class StoreWatch {
 public:
  // Checks once now, then every `interval` (default 5 s) on its own
  // thread. `store` outlives the watch.
  explicit StoreWatch(Store& store,
                      std::chrono::milliseconds interval = std::chrono::seconds(5));
  ~StoreWatch();
  StoreWatch(const StoreWatch&) = delete;
  StoreWatch& operator=(const StoreWatch&) = delete;

  // Stops the thread, then logs what changed since the last check.
  void Stop();

 private:
  void Check();

  Store& store_;
  // Read and written by one thread at a time: the constructor's check,
  // then the periodic thread's, then Stop's after the thread is joined.
  uint64_t snapshots_failed_ = 0;
  uint64_t data_loss_reads_ = 0;
  std::optional<engine::PeriodicThread> thread_;
};

}  // namespace acpstore::cli

#endif  // ACPSTORE_CLI_STORE_WATCH_H_
