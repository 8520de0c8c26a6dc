// StoreWatch. See store_watch.h.

#include "cli/store_watch.h"

#include <spdlog/spdlog.h>

#include <utility>

namespace acpstore::cli {

StoreWatch::StoreWatch(Store& store, std::chrono::milliseconds interval)
    : store_(store), interval_(interval) {
  // What the store had at open (damage found while recovering) is logged
  // by the first check, after the open's own lines.
  thread_ = std::thread([this] { Loop(); });
}

StoreWatch::~StoreWatch() { Stop(); }

void StoreWatch::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return;
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
  Check();
}

void StoreWatch::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    lock.unlock();
    Check();
    lock.lock();
    cv_.wait_for(lock, interval_, [this] { return stop_; });
  }
}

void StoreWatch::Check() {
  const StoreStats s = store_.Stats();
  if (s.snapshots_failed > snapshots_failed_) {
    spdlog::warn(
        "{} snapshot(s) could not be written ({} in all): {}; nothing "
        "acknowledged is lost (it is in the journal), but recovery time and "
        "journal space grow until one is",
        s.snapshots_failed - snapshots_failed_, s.snapshots_failed,
        s.snapshot_failing.empty() ? "the latest one succeeded since"
                                   : s.snapshot_failing);
    snapshots_failed_ = s.snapshots_failed;
  }
  if (s.data_loss_reads > data_loss_reads_) {
    spdlog::warn(
        "{} read(s) met stored records failing their checksum ({} in all); "
        "run `acpstore verify` at the next maintenance window",
        s.data_loss_reads - data_loss_reads_, s.data_loss_reads);
    data_loss_reads_ = s.data_loss_reads;
  }
}

}  // namespace acpstore::cli
