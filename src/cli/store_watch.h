// StoreWatch: logs what the store reports only through its counters, so
// that an operator reading the log sees it without polling /readyz: a
// snapshot that could not be written (the file engine goes on without
// it, and recovery time and journal space grow) and reads that met
// damaged records. One warning per change of the counters, checked every
// `interval`; never a token, payload or metadata value. For stores whose
// Stats() is cheap (the file engine's counters are in memory).
//
// Thread-safety: one background thread; Stop (or the destructor) joins it.

#ifndef ACPSTORE_CLI_STORE_WATCH_H_
#define ACPSTORE_CLI_STORE_WATCH_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "acpstore/store.h"

namespace acpstore::cli {

class StoreWatch {
 public:
  // `store` outlives the watch. Default interval: 5 s.
  explicit StoreWatch(Store& store,
                      std::chrono::milliseconds interval = std::chrono::seconds(5));
  ~StoreWatch();
  StoreWatch(const StoreWatch&) = delete;
  StoreWatch& operator=(const StoreWatch&) = delete;

  // Logs what changed since the last check, once more, then stops.
  void Stop();

 private:
  void Check();
  void Loop();

  Store& store_;
  const std::chrono::milliseconds interval_;
  uint64_t snapshots_failed_ = 0;
  uint64_t data_loss_reads_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace acpstore::cli

#endif  // ACPSTORE_CLI_STORE_WATCH_H_
