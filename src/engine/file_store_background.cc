// FileStore's background work: snapshots (capture under mu_, write on this
// thread), keeping the newest two, and deleting journal segments nothing
// needs any more. See file_store.h and docs/recovery.md.

#include <algorithm>
#include <utility>

#include "engine/file_retention.h"
#include "engine/file_snapshot.h"
#include "engine/file_store_internal.h"
#include "journal/segment_files.h"
#include "snapshot/snapshot_dir.h"

namespace acpstore::engine {

void FileStore::RequestBackground(int snapshots, bool reclaim) {
  {
    base::MutexLock lock(&bg_mu_);
    bg_snapshots_ = std::max(bg_snapshots_, snapshots);
    bg_reclaim_ = bg_reclaim_ || reclaim;
  }
  bg_cv_.Signal();
}

void FileStore::BackgroundLoop() {
  for (;;) {
    int snapshots = 0;
    bool reclaim = false;
    {
      base::MutexLock lock(&bg_mu_);
      while (!bg_stop_ && bg_snapshots_ == 0 && !bg_reclaim_) {
        bg_cv_.Wait(&bg_mu_);
      }
      if (bg_stop_) return;
      snapshots = bg_snapshots_;
      reclaim = bg_reclaim_;
      bg_snapshots_ = 0;
      bg_reclaim_ = false;
    }
    base::MutexLock lock(&snapshot_mu_);
    bool ok = true;
    for (int i = 0; i < snapshots && ok; ++i) ok = SnapshotLocked().ok();
    // A snapshot reclaims after itself; otherwise reclaim on request.
    if (snapshots == 0 && reclaim) (void)ReclaimLocked();
  }
}

Status FileStore::SnapshotNow() {
  base::MutexLock lock(&snapshot_mu_);
  return SnapshotLocked();
}

Result<size_t> FileStore::ReclaimSegments() {
  base::MutexLock lock(&snapshot_mu_);
  return ReclaimLocked();
}

Status FileStore::SnapshotLocked() {
  StateImage image;
  uint64_t through = 0;
  uint64_t generation = 0;
  bool pending = false;
  journal::JournalPosition covered;
  {
    base::MutexLock lock(&mu_);
    if (!failed_.ok()) return failed_;
    if (degraded_) {
      return Status::InsufficientStorage("no snapshot while the disk is full");
    }
    // Only copies: encoding and writing happen below, without the lock.
    CaptureState(*state_, &image);
    through = last_ticket_;
    generation = generation_;
    pending = done_ticket_ < last_ticket_;
    covered = acked_end_;
    if (pending) {
      window_through_ = through;
      window_.clear();
    }
    bytes_since_snapshot_ = 0;
    unsnapshotted_ = false;
  }
  // Everything the image holds must be durable before a snapshot may say
  // so, in every sync mode; and if any of it failed, the image is void.
  Result<journal::JournalPosition> flushed = committer_->Flush();
  std::map<uint64_t, journal::RecordLocation> window;
  {
    base::MutexLock lock(&mu_);
    window.swap(window_);
    window_through_.reset();
    Status bad;
    if (!flushed.ok()) {
      bad = flushed.error();
    } else if (generation_ != generation || !failed_.ok()) {
      bad = Status::Unavailable(
          "a journal write failed while the snapshot was taken");
    }
    if (!bad.ok()) {
      unsnapshotted_ = true;
      return bad;
    }
  }
  if (pending) {
    auto it = window.find(through);
    if (it == window.end()) {
      return Status::Internal("snapshot: the last record it covers is unknown");
    }
    covered = it->second.end();
    ACPSTORE_RETURN_IF_ERROR(ResolvePending(window, &image));
  }
  const uint64_t number = next_snapshot_number_++;
  Result<uint64_t> bytes = WriteSnapshot(fs_, layout_.snapshot_dir, number,
                                         covered, clock_->NowMs(), image);
  if (!bytes.ok()) {
    base::MutexLock lock(&mu_);
    unsnapshotted_ = true;
    return bytes.error();
  }
  kept_.push_back(KeptSnapshot{number, covered});
  if (kept_.size() > 2) kept_.erase(kept_.begin(), kept_.end() - 2);
  // Older files (and damaged newer ones left for inspection) go now.
  (void)snapshot::DeleteOlderThan(fs_, layout_.snapshot_dir,
                                  kept_.front().number);
  {
    base::MutexLock lock(&mu_);
    snapshot_bytes_ = *bytes;
    ++info_.snapshots_written;
  }
  return ReclaimLocked().status();
}

Result<size_t> FileStore::ReclaimLocked() {
  // Only below the older kept snapshot: should the newest one turn out
  // damaged, recovery starts from the older and needs what follows it.
  if (kept_.size() < 2) return size_t{0};
  const uint64_t below = kept_.front().covered.segment;
  ACPSTORE_ASSIGN_OR_RETURN(std::vector<uint64_t> segments,
                            journal::ListSegments(fs_, layout_.journal_dir));
  std::vector<uint64_t> dead;
  uint64_t generation = 0;
  {
    base::MutexLock lock(&mu_);
    if (!failed_.ok() || degraded_) return size_t{0};
    dead = DeadSegments(segments, *context_, below);
    generation = generation_;
  }
  if (dead.empty()) return size_t{0};
  // The drops that emptied these segments may still be in flight: once
  // they are durable, no recovery can need the events' bytes again.
  ACPSTORE_RETURN_IF_ERROR(committer_->Flush().status());
  {
    base::MutexLock lock(&mu_);
    if (generation_ != generation) return size_t{0};
  }
  size_t deleted = 0;
  for (uint64_t s : dead) {
    reader_.Forget(s);
    ACPSTORE_RETURN_IF_ERROR(
        fs_.Remove(journal::SegmentPath(layout_.journal_dir, s)));
    ++deleted;
    base::MutexLock lock(&mu_);
    auto it = segment_sizes_.find(s);
    if (it != segment_sizes_.end()) {
      journal_bytes_ -= it->second;
      segment_sizes_.erase(it);
    }
    ++info_.segments_deleted;
  }
  return deleted;
}

}  // namespace acpstore::engine
