// FileSnapshotter: snapshots (capture under the pipeline's lock, write on
// this thread), keeping the newest two, and deleting journal segments
// nothing needs any more. See file_snapshotter.h and docs/recovery.md.

#include "engine/file_snapshotter.h"

#include <algorithm>
#include <set>
#include <utility>
#include <variant>

#include "base/thread_name.h"
#include "engine/file_snapshot.h"
#include "journal/segment_files.h"
#include "snapshot/snapshot_dir.h"
#include "snapshot/snapshot_format.h"

namespace acpstore::engine {

FileSnapshotter::FileSnapshotter(Clock* clock, io::FileSystem& fs,
                                 const FileLayout& layout,
                                 FileEventReader& reader,
                                 FileCommitPipeline& pipeline,
                                 uint64_t next_number,
                                 std::optional<KeptSnapshot> loaded,
                                 uint64_t loaded_bytes)
    : clock_(clock),
      fs_(fs),
      layout_(layout),
      reader_(reader),
      pipeline_(pipeline),
      snapshot_bytes_(loaded_bytes) {
  base::MutexLock lock(&op_mu_);
  next_number_ = next_number;
  if (loaded) kept_.push_back(*loaded);
}

FileSnapshotter::~FileSnapshotter() { StopBackground(); }

// -------------------------------------------------------------- background

void FileSnapshotter::StartBackground() {
  {
    base::MutexLock lock(&bg_mu_);
    bg_started_ = true;
  }
  bg_thread_ = std::thread([this] {
    base::NameThisThread("acp-snapshot");
    BackgroundLoop();
  });
}

void FileSnapshotter::StopBackground() {
  {
    base::MutexLock lock(&bg_mu_);
    bg_stop_ = true;
  }
  bg_cv_.SignalAll();
  bg_idle_cv_.SignalAll();
  if (bg_thread_.joinable()) bg_thread_.join();
}

void FileSnapshotter::WaitForBackground() {
  base::MutexLock lock(&bg_mu_);
  while (bg_started_ && !bg_stop_ &&
         (bg_busy_ || bg_snapshots_ > 0 || bg_reclaim_ || bg_evict_)) {
    bg_idle_cv_.Wait(&bg_mu_);
  }
}

void FileSnapshotter::Request(int snapshots, bool reclaim) {
  {
    base::MutexLock lock(&bg_mu_);
    bg_snapshots_ = std::max(bg_snapshots_, snapshots);
    bg_reclaim_ = bg_reclaim_ || reclaim;
  }
  bg_cv_.Signal();
}

void FileSnapshotter::RequestEviction() {
  {
    base::MutexLock lock(&bg_mu_);
    bg_evict_ = true;
  }
  bg_cv_.Signal();
}

void FileSnapshotter::BackgroundLoop() {
  for (;;) {
    int snapshots = 0;
    bool reclaim = false;
    bool evict = false;
    {
      base::MutexLock lock(&bg_mu_);
      while (!bg_stop_ && bg_snapshots_ == 0 && !bg_reclaim_ && !bg_evict_) {
        bg_cv_.Wait(&bg_mu_);
      }
      if (bg_stop_) return;
      snapshots = bg_snapshots_;
      reclaim = bg_reclaim_;
      evict = bg_evict_;
      bg_snapshots_ = 0;
      bg_reclaim_ = false;
      bg_evict_ = false;
      bg_busy_ = true;
    }
    {
      base::MutexLock lock(&op_mu_);
      bool ok = true;
      for (int i = 0; i < snapshots && ok; ++i) ok = SnapshotLocked().ok();
      // A snapshot reclaims after itself; otherwise reclaim on request.
      if (snapshots == 0 && reclaim) (void)ReclaimLocked();
      // A snapshot evicts after itself too. A failed pass leaves the
      // transcripts resident: memory over its share, never a lost one.
      if (snapshots == 0 && evict) (void)EvictLocked();
    }
    {
      base::MutexLock lock(&bg_mu_);
      bg_busy_ = false;
    }
    bg_idle_cv_.SignalAll();
  }
}

// --------------------------------------------------------------- snapshots

Status FileSnapshotter::SnapshotNow(bool self_contained) {
  base::MutexLock lock(&op_mu_);
  return SnapshotLocked(self_contained);
}

std::string FileSnapshotter::snapshot_failing() const {
  base::MutexLock lock(&damage_mu_);
  return snapshot_failing_;
}

Status FileSnapshotter::EvictNow(bool all) {
  base::MutexLock lock(&op_mu_);
  return EvictLocked(all);
}

void FileSnapshotter::ReArm(uint64_t generation, bool progressed) {
  // Folds tell again once they pass the share, if this pass evicted
  // something or got under it. A working set larger than the share (all
  // of it used since the previous pass, or folded while it was being
  // written out) would otherwise have every write ask for a pass that
  // evicts nothing and writes whole transcripts in vain; maintenance asks
  // once a second instead (FileStore::RunMaintenance).
  pipeline_.WithTranscripts([&](StoreState& st, uint64_t g) {
    if (g != generation) return;
    if (progressed ||
        st.counters().transcript_bytes <= layout_.transcript_budget) {
      st.ClearTranscriptsOver();
    }
  });
}

Status FileSnapshotter::EvictIfIdle() {
  if (!op_mu_.TryLock()) return Status::OK();
  Status s = EvictLocked(/*all=*/true);
  op_mu_.Unlock();
  return s;
}

Result<size_t> FileSnapshotter::ReclaimSegments() {
  base::MutexLock lock(&op_mu_);
  return ReclaimLocked();
}

Status FileSnapshotter::SnapshotLocked(bool self_contained) {
  // Every attempt is counted, so that a failing one shows (it was silent:
  // found by a probe with an unwritable snapshot/ directory).
  Status s = WriteSnapshotLocked(self_contained);
  base::MutexLock lock(&damage_mu_);
  if (s.ok()) {
    snapshot_failing_.clear();
  } else {
    snapshots_failed_.fetch_add(1);
    snapshot_failing_ = s.ToString();
  }
  return s;
}

Status FileSnapshotter::WriteSnapshotLocked(bool self_contained) {
  StateImage image;
  ACPSTORE_ASSIGN_OR_RETURN(FileCommitPipeline::Capture capture,
                            pipeline_.BeginCapture(&image));
  // Everything the image holds must be durable before a snapshot may say
  // so, in every sync mode; and if any of it failed, the image is void.
  Result<journal::JournalPosition> flushed = pipeline_.Flush();
  ACPSTORE_ASSIGN_OR_RETURN(FileCommitPipeline::Window window,
                            pipeline_.EndCapture(capture, flushed.status()));
  journal::JournalPosition covered = capture.covered;
  if (capture.pending) {
    auto it = window.find(capture.through);
    if (it == window.end()) {
      return Status::Internal("snapshot: the last record it covers is unknown");
    }
    covered = it->second.end();
    ACPSTORE_RETURN_IF_ERROR(ResolvePending(window, &image));
  }
  std::vector<std::shared_ptr<const TranscriptRef>> refs;
  std::vector<std::shared_ptr<const TranscriptSealed>> sealed;
  // Decision 0027: sealed parts already in a file that stays (a kept
  // snapshot or one it refers to) are referred to, not copied again; the
  // newer kept one and its files stay with this one.
  SnapshotRefs snapshot_refs;
  if (!self_contained && !kept_.empty()) {
    auto referable = [&](uint64_t n) {
      Result<uint64_t> size = fs_.FileSize(
          snapshot::ReferredFilePath(fs_, layout_.snapshot_dir, n));
      if (size.ok()) snapshot_refs.referable[n] = *size;
    };
    const KeptSnapshot& newest = kept_.back();
    referable(newest.number);
    for (const auto& [n, bytes] : newest.refers) referable(n);
  }
  // Decision 0030: the parts sealed since the previous snapshot lie in the
  // spill file; published beside this snapshot (durable before it is),
  // they are referred to there instead of copied. Not when they are under
  // three quarters of the file (the rest: evicted transcripts, which are
  // copied, or entries the cap dropped): a file published nearer the half
  // rule could be re-homed at the next snapshot, its parts written twice
  // after all.
  bool published = false;
  if (!self_contained && spill_ != nullptr) {
    const uint64_t live = SealedBytesIn(image, spill_->file());
    if (live > 0 && kPublishShare.HeldBy(live, spill_->bytes())) {
      const uint64_t parts_number = next_number_++;
      const uint64_t size = spill_->bytes();
      Status s = spill_->Publish(parts_number);
      published = true;  // or half: either way no more writes to it
      if (s.ok()) {
        snapshot_refs.spill = spill_->file();
        snapshot_refs.spill_number = parts_number;
        snapshot_refs.referable[parts_number] = size;
      }
    }
  }
  const uint64_t number = next_number_++;
  std::vector<DamagedTranscript> damaged;
  Result<uint64_t> bytes = WriteSnapshot(
      fs_, layout_.snapshot_dir, number, covered, clock_->NowMs(), image,
      layout_.transcript_budget > 0 ? &refs : nullptr,
      layout_.transcript_budget > 0 ? &sealed : nullptr,
      self_contained ? nullptr : &snapshot_refs, &damaged);
  // A published spill file is never written to again; its parts stay
  // readable through the handles referring to them, and memory moves to
  // where this snapshot put them (below). Unpublished, or this snapshot
  // failed: the next snapshot copies them.
  if (published) spill_.reset();
  if (!bytes.ok()) {
    pipeline_.CaptureNotWritten();
    return bytes.error();
  }
  if (!damaged.empty()) {
    // Decision 0034: left out of the snapshot (a load rebuilds them), and
    // rebuilt in memory now.
    pipeline_.WithTranscripts([&](StoreState& st, uint64_t) {
      for (DamagedTranscript& d : damaged) {
        const SessionImage& s = image.sessions[d.session];
        RebuildDamaged(st, s.session.tenant_id, s.session.id, s.incarnation,
                       s.transcript ? s.transcript_sealed.get() : nullptr,
                       s.transcript ? nullptr : s.transcript_ref.get(),
                       std::move(d.status));
      }
    });
  }
  if (!refs.empty()) {
    // Decision 0018: every transcript still as captured now has its copy
    // in this snapshot (evicted ones move here from an older snapshot or
    // the spill file, which can then go).
    pipeline_.WithTranscripts([&](StoreState& st, uint64_t generation) {
      if (generation != capture.generation) return;
      for (size_t i = 0; i < refs.size(); ++i) {
        if (refs[i] == nullptr) continue;
        const Session& s = image.sessions[i].session;
        SessionEntry* e = st.MutableSessionInTenant(s.tenant_id, s.id);
        if (e == nullptr || e->incarnation != image.sessions[i].incarnation) {
          continue;
        }
        (void)st.AttachTranscriptRef(e, std::move(refs[i]));
        // Decision 0021: sealed prefixes move to this snapshot too.
        if (i < sealed.size() && sealed[i] != nullptr) {
          st.MoveSealed(e, image.sessions[i].transcript_sealed.get(),
                        std::move(sealed[i]));
        }
      }
    });
    image = StateImage();  // the captured entries, before eviction
    spill_.reset();
    (void)EvictLocked();
  }
  kept_.push_back(KeptSnapshot{number, covered, snapshot_refs.referred});
  if (kept_.size() > 2) kept_.erase(kept_.begin(), kept_.end() - 2);
  DeleteUnkeptLocked();
  snapshots_written_.fetch_add(1);
  return ReclaimLocked().status();
}

void FileSnapshotter::DeleteUnkeptLocked() {
  // Older files (and damaged newer ones left for inspection) go now,
  // except those a kept snapshot refers to (decision 0027; parts files,
  // decision 0030, alike): recovery from either kept snapshot needs them.
  // A reference never chains, so the kept snapshots' own lists are the
  // whole set. A parts file whose snapshot failed is unreferenced and
  // goes too.
  std::set<uint64_t> keep;
  for (const KeptSnapshot& k : kept_) {
    keep.insert(k.number);
    for (const auto& [n, bytes] : k.refers) keep.insert(n);
  }
  const uint64_t newest = kept_.back().number;
  (void)snapshot::DeleteUnkept(fs_, layout_.snapshot_dir, keep, newest);
  uint64_t bytes = 0;
  auto count = [&](uint64_t n) {
    Result<uint64_t> size =
        fs_.FileSize(snapshot::ReferredFilePath(fs_, layout_.snapshot_dir, n));
    if (size.ok()) bytes += *size;
  };
  count(newest);
  for (const auto& [n, b] : kept_.back().refers) count(n);
  snapshot_bytes_.store(bytes);
}

// -------------------------------------------------------------- eviction

Status FileSnapshotter::EvictLocked(bool all) {
  const uint64_t budget = layout_.transcript_budget;
  if (budget == 0) return Status::OK();
  const uint64_t target = budget - budget / 4;
  struct Cold {
    std::string tenant_id;
    std::string id;
    uint64_t incarnation = 0;
    transcript::Transcript transcript;  // shares the state's entries
    std::shared_ptr<const TranscriptSealed> sealed;
  };
  std::vector<Cold> cold;
  uint64_t generation = 0;
  uint64_t evicted_bytes = 0;
  size_t evicted = 0;
  pipeline_.WithTranscripts([&](StoreState& st, uint64_t g) {
    generation = g;
    // What the spill file holds that is still needed: evicted transcripts
    // and sealed prefixes (decision 0021).
    evicted_bytes = st.counters().transcript_evicted_bytes +
                    st.counters().transcript_sealed_bytes;
    const uint64_t used_by = st.BeginEvictionPass(all);
    // Those with a copy on disk first: leaving costs nothing.
    evicted += st.EvictTranscriptsDownTo(target, used_by);
    for (SessionEntry* e : st.ColdDirtyTranscripts(target, used_by)) {
      cold.push_back(Cold{e->session.tenant_id, e->session.id, e->incarnation,
                          e->transcript, e->transcript_sealed});
    }
  });
  if (cold.empty()) {
    Result<size_t> sealed = SealLocked(target);
    ReArm(generation, evicted > 0 || (sealed.ok() && *sealed > 0));
    return sealed.status();
  }
  if (spill_ == nullptr) {
    ACPSTORE_ASSIGN_OR_RETURN(
        spill_, TranscriptSpill::Create(fs_, layout_.snapshot_dir));
  }
  std::vector<std::shared_ptr<const TranscriptRef>> refs;
  refs.reserve(cold.size());
  std::vector<Status> damage(cold.size());
  for (size_t i = 0; i < cold.size(); ++i) {
    Result<std::shared_ptr<const TranscriptRef>> r =
        spill_->Write(cold[i].transcript, cold[i].sealed.get());
    if (!r.ok() && r.error().code() == StatusCode::kDataLoss) {
      // Decision 0034: its sealed prefix is damaged on disk (nothing was
      // written); rebuilt below rather than failing every pass.
      damage[i] = std::move(r).error();
      refs.push_back(nullptr);
      continue;
    }
    if (!r.ok()) {
      spill_.reset();
      return r.error();
    }
    refs.push_back(std::move(*r));
  }
  pipeline_.WithTranscripts([&](StoreState& st, uint64_t g) {
    for (size_t i = 0; i < cold.size(); ++i) {
      if (damage[i].ok()) continue;
      RebuildDamaged(st, cold[i].tenant_id, cold[i].id, cold[i].incarnation,
                     cold[i].sealed.get(), nullptr, std::move(damage[i]));
    }
    if (g != generation) return;
    for (size_t i = 0; i < cold.size(); ++i) {
      if (refs[i] == nullptr) continue;
      SessionEntry* e = st.MutableSessionInTenant(cold[i].tenant_id, cold[i].id);
      if (e == nullptr || e->incarnation != cold[i].incarnation ||
          e->transcript_evicted || e->transcript_ref != nullptr) {
        continue;
      }
      // Folded since the copy was taken: it stays (dirty) for next time.
      if (st.AttachTranscriptRef(e, std::move(refs[i]))) {
        st.EvictTranscript(e);
        ++evicted;
      }
    }
  });
  Result<size_t> sealed = SealLocked(target);
  ReArm(generation, evicted > 0 || (sealed.ok() && *sealed > 0));
  ACPSTORE_RETURN_IF_ERROR(sealed.status());
  // The spill file only grows; a snapshot moves its transcripts into the
  // snapshot and lets it go. Only once most of it is garbage (transcripts
  // read back and written again): a snapshot copies every evicted
  // transcript, and while it writes no eviction pass runs.
  if (spill_->bytes() > 2 * evicted_bytes + 4 * budget) Request(1, false);
  return Status::OK();
}

Result<size_t> FileSnapshotter::SealLocked(uint64_t target) {
  // Decision 0021: transcripts still resident past the target after the
  // cold ones left (a hot set: written to since the last pass) keep only
  // their open tail; the entries no event can change any more go to the
  // spill file, largest transcripts first.
  struct Hot {
    std::string tenant_id;
    std::string id;
    uint64_t incarnation = 0;
    uint64_t held = 0;  // the transcript's held_index() when taken
    // Its sealable entries [held, held + size), shared with the state:
    // entries no later fold changes, so only they are taken, not the
    // whole transcript (whose copy would share its open tail too, and
    // make the next fold clone it).
    std::vector<std::shared_ptr<const transcript::Entry>> entries;
    std::vector<TranscriptSealed::Part> parts;
  };
  std::vector<Hot> hot;
  uint64_t generation = 0;
  pipeline_.WithTranscripts([&](StoreState& st, uint64_t g) {
    generation = g;
    for (SessionEntry* e : st.SealCandidates(target)) {
      const transcript::Transcript& t = e->transcript;
      const uint64_t end = t.sealable_end();
      if (end <= t.held_index()) continue;
      hot.push_back(Hot{e->session.tenant_id, e->session.id, e->incarnation,
                        t.held_index(), t.ShareHeld(end)});
    }
  });
  if (hot.empty()) return size_t{0};
  if (spill_ == nullptr) {
    ACPSTORE_ASSIGN_OR_RETURN(
        spill_, TranscriptSpill::Create(fs_, layout_.snapshot_dir));
  }
  // Not worth a part (and a pass that re-arms the signal) below this: a
  // hot set whose open tails alone pass the share would otherwise seal a
  // few bytes per transcript at every fold that signals.
  const uint64_t min_bytes = layout_.transcript_budget / 64;
  for (Hot& h : hot) {
    uint64_t bytes = 0;
    for (const auto& e : h.entries) bytes += e->Bytes();
    if (bytes < min_bytes) {
      h.entries.clear();
      continue;
    }
    Result<std::vector<TranscriptSealed::Part>> parts =
        spill_->WriteSealed(h.held, h.entries);
    if (!parts.ok()) {
      spill_.reset();
      return parts.error();
    }
    h.parts = std::move(*parts);
  }
  size_t sealed = 0;
  pipeline_.WithTranscripts([&](StoreState& st, uint64_t g) {
    if (g != generation) return;
    for (Hot& h : hot) {
      if (h.entries.empty()) continue;
      SessionEntry* e = st.MutableSessionInTenant(h.tenant_id, h.id);
      if (e == nullptr || e->incarnation != h.incarnation) continue;
      if (st.SealTranscript(e, h.held, h.held + h.entries.size(),
                            std::move(h.parts))) {
        ++sealed;
      }
    }
  });
  hot.clear();
  return sealed;
}

// ------------------------------------------------------------------ damage

std::vector<Status> FileSnapshotter::damaged_transcripts() const {
  base::MutexLock lock(&damage_mu_);
  return {damaged_.begin(), damaged_.end()};
}

void FileSnapshotter::RebuildDamaged(StoreState& st, std::string_view tenant_id,
                                     std::string_view id, uint64_t incarnation,
                                     const TranscriptSealed* sealed,
                                     const TranscriptRef* evicted,
                                     Status damage) {
  SessionEntry* e = st.MutableSessionInTenant(tenant_id, id);
  if (e == nullptr || e->incarnation != incarnation) return;  // gone since
  // Changed since (loaded, evicted anew, its sealed prefix moved or cut
  // past the damage by the cap): the next snapshot or pass that meets the
  // damage, if it is still there, comes back here.
  bool same = evicted != nullptr
                  ? e->transcript_evicted && e->transcript_ref.get() == evicted
                  : !e->transcript_evicted && sealed != nullptr &&
                        e->transcript_sealed.get() == sealed;
  if (const StatusDetail* end = damage.Detail(kDamagedEntriesEnd);
      same && end != nullptr && evicted == nullptr) {
    const auto* v = std::get_if<int64_t>(&end->value);
    same = v == nullptr ||
           e->transcript.first_index() < static_cast<uint64_t>(*v);
  }
  if (!same) return;
  if (!st.RebuildDamagedTranscript(tenant_id, id).ok()) return;
  damage.With("tenant", tenant_id).With("session", id);
  damaged_total_.fetch_add(1);
  base::MutexLock lock(&damage_mu_);
  damaged_.push_back(std::move(damage));
  if (damaged_.size() > kMaxDamageNoted) damaged_.pop_front();
}

// ----------------------------------------------------------------- reclaim

Result<size_t> FileSnapshotter::ReclaimLocked() {
  // Only below the older kept snapshot: should the newest one turn out
  // damaged, recovery starts from the older and needs what follows it.
  if (kept_.size() < 2) return size_t{0};
  const uint64_t below = kept_.front().covered.segment;
  ACPSTORE_ASSIGN_OR_RETURN(std::vector<uint64_t> segments,
                            journal::ListSegments(fs_, layout_.journal_dir));
  const FileCommitPipeline::Dead dead =
      pipeline_.DeadSegments(segments, below);
  if (dead.segments.empty()) return size_t{0};
  // The drops that emptied these segments may still be in flight: once
  // they are durable, no recovery can need the events' bytes again.
  ACPSTORE_RETURN_IF_ERROR(pipeline_.Flush().status());
  if (!pipeline_.GenerationIs(dead.generation)) return size_t{0};
  size_t deleted = 0;
  for (uint64_t s : dead.segments) {
    reader_.Forget(s);
    ACPSTORE_RETURN_IF_ERROR(
        fs_.Remove(journal::SegmentPath(layout_.journal_dir, s)));
    ++deleted;
    pipeline_.SegmentDeleted(s);
    segments_deleted_.fetch_add(1);
  }
  // Durable deletions: a crash must not bring a reclaimed segment back.
  // Recovery would not need it (every event in it was dropped before the
  // older kept snapshot), but it would hold its disk space until the next
  // reclaim and show up in inspect and verify as a stray segment.
  ACPSTORE_RETURN_IF_ERROR(fs_.SyncDir(layout_.journal_dir));
  return deleted;
}

}  // namespace acpstore::engine
