// StoreWatch. See store_watch.h.

#include "cli/store_watch.h"

#include <spdlog/spdlog.h>

namespace acpstore::cli {

StoreWatch::StoreWatch(Store& store, std::chrono::milliseconds interval)
    : store_(store) {
  // What the store had at open (damage found while recovering) is logged
  // now, after the open's own lines.
  Check();
  thread_.emplace("acp-watch", interval, [this] { Check(); });
}

StoreWatch::~StoreWatch() { Stop(); }

void StoreWatch::Stop() {
  if (!thread_) return;
  thread_.reset();  // stops and joins
  Check();
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
