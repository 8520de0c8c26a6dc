// FoldCache: see pg_fold_cache.h.

#include "postgres/pg_fold_cache.h"

#include <algorithm>

#include "engine/keys.h"

namespace acpstore::postgres {
namespace {

// Per entry and per event: the map node, the strings' headers.
constexpr uint64_t kEntryOverhead = 256;
constexpr uint64_t kEventOverhead = 96;

uint64_t EventBytes(const std::vector<FoldEvent>& events) {
  uint64_t n = 0;
  for (const FoldEvent& e : events) {
    n += kEventOverhead + e.event_type.size() + e.payload.size();
  }
  return n;
}

}  // namespace

uint64_t StoredCheckpoint::MemoryBytes() const {
  uint64_t n = head.size() + 64 * stored_text.size();
  for (const auto& [index, e] : entries) n += 64 + e.Bytes();
  return n;
}

std::string FoldCache::Key(std::string_view tenant_id,
                           std::string_view session_id) {
  return engine::TenantKey(tenant_id, session_id);
}

FoldCache::Entry& FoldCache::Touch(const std::string& key,
                                   uint64_t incarnation) {
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    lru_.push_front(key);
    Entry& e = entries_[key];
    e.incarnation = incarnation;
    e.lru = lru_.begin();
    return e;
  }
  Entry& e = it->second;
  lru_.splice(lru_.begin(), lru_, e.lru);
  if (e.incarnation != incarnation) {
    // Deleted and created again since: nothing of the old one applies.
    const auto lru = e.lru;
    bytes_ -= e.bytes;
    e = Entry();
    e.incarnation = incarnation;
    e.lru = lru;
  }
  return e;
}

void FoldCache::Prune(Entry& e) {
  if (!e.fold) return;
  const EventSeq f = e.folded_seq;
  for (auto it = e.runs.begin(); it != e.runs.end();) {
    if (it->first > f) break;  // by first seq: the rest are after f
    Run& run = it->second;
    if (run.last <= f) {
      e.events -= run.events.size();
      e.runs_bytes -= run.bytes;
      it = e.runs.erase(it);
      continue;
    }
    // Straddles f (a fold read from the database at another boundary):
    // its part after f stays, as a run of its own.
    Run rest{.last = run.last, .events = {}};
    for (FoldEvent& x : run.events) {
      if (x.seq > f) rest.events.push_back(std::move(x));
    }
    rest.bytes = EventBytes(rest.events);
    e.events -= run.events.size() - rest.events.size();
    e.runs_bytes -= run.bytes - rest.bytes;
    e.runs.erase(it);
    e.runs.emplace(f + 1, std::move(rest));
    break;
  }
}

void FoldCache::ClearRuns(Entry& e) {
  e.runs.clear();
  e.events = 0;
  e.runs_bytes = 0;
}

void FoldCache::Erase(std::unordered_map<std::string, Entry>::iterator it) {
  bytes_ -= it->second.bytes;
  lru_.erase(it->second.lru);
  entries_.erase(it);
}

void FoldCache::Account(Entry& e) {
  bytes_ -= e.bytes;
  e.bytes = kEntryOverhead + e.fold_bytes + e.runs_bytes;
  bytes_ += e.bytes;
  while (bytes_ > max_bytes_ && !lru_.empty()) {
    // The least recently used first; `e` (the most recent) last.
    Erase(entries_.find(lru_.back()));
  }
}

void FoldCache::Appended(std::vector<AppendedRun> runs) {
  {
    base::MutexLock lock(&mu_);
    AppendedLocked(runs);
  }
  reported_.SignalAll();
}

void FoldCache::AppendedLocked(std::vector<AppendedRun>& runs) {
  for (AppendedRun& r : runs) {
    if (r.first_seq == 0 || r.last_seq < r.first_seq) continue;
    const std::string key = Key(r.tenant_id, r.session_id);
    Entry& e = Touch(key, r.incarnation);
    e.in_flight.erase(r.first_seq);
    // Behind the fold (its checkpoint committed first): nothing to keep.
    if (e.fold && r.last_seq <= e.folded_seq) continue;
    auto [it, added] = e.runs.try_emplace(r.first_seq);
    if (!added) {  // cannot happen
      e.events -= it->second.events.size();
      e.runs_bytes -= it->second.bytes;
    }
    const uint64_t bytes = EventBytes(r.events);
    e.events += r.events.size();
    e.runs_bytes += bytes;
    it->second =
        Run{.last = r.last_seq, .events = std::move(r.events), .bytes = bytes};
    if (e.events > kMaxLogEvents) ClearRuns(e);
    Prune(e);
    Account(e);
  }
}

FoldCache::Cover FoldCache::Covers(const Entry& e, EventSeq folded_seq,
                                   EventSeq row_folded_seq,
                                   EventSeq last_seq) {
  // The runs after the fold (and those in flight) must cover
  // (folded_seq, last_seq] exactly, one after the other: a gap is another
  // server's appends (or a batch left out), a run past last_seq is not
  // what the locked row says.
  std::map<EventSeq, std::pair<EventSeq, bool>> ranges;  // first -> last
  for (const auto& [first, run] : e.runs) ranges[first] = {run.last, false};
  for (const auto& [first, last] : e.in_flight) {
    ranges.try_emplace(first, last, true);
  }
  EventSeq next = folded_seq + 1;
  bool waits = false;
  for (const auto& [first, r] : ranges) {
    const auto& [last, in_flight] = r;
    if (last <= folded_seq) continue;
    if (first > last_seq) break;  // after the row's last: not needed
    if (first != next) return Cover::kNo;
    waits = waits || in_flight;
    next = last + 1;
  }
  if (next != last_seq + 1) return Cover::kNo;
  if (waits) return Cover::kInFlight;
  // The row's folded_seq past the fold: appends of skipped types only
  // (their counter UPDATE moves it while nothing is unfolded), which left
  // the tables as the fold has them; an event of a folded type there
  // means somebody folded it (not this fold): read.
  for (const auto& [first, run] : e.runs) {
    if (first > row_folded_seq) break;
    for (const FoldEvent& x : run.events) {
      if (x.seq > folded_seq && x.seq <= row_folded_seq) return Cover::kNo;
    }
  }
  return Cover::kYes;
}

void FoldCache::Committing(const std::vector<AppendedRun>& runs) {
  base::MutexLock lock(&mu_);
  for (const AppendedRun& r : runs) {
    if (r.first_seq == 0 || r.last_seq < r.first_seq) continue;
    Entry& e = Touch(Key(r.tenant_id, r.session_id), r.incarnation);
    e.in_flight[r.first_seq] = r.last_seq;
  }
}

void FoldCache::Abandoned(const std::vector<AppendedRun>& runs) {
  {
    base::MutexLock lock(&mu_);
    for (const AppendedRun& r : runs) {
      auto it = entries_.find(Key(r.tenant_id, r.session_id));
      if (it == entries_.end()) continue;
      it->second.in_flight.erase(r.first_seq);
    }
  }
  reported_.SignalAll();
}

std::optional<FoldCache::Hot> FoldCache::Take(std::string_view tenant_id,
                                              std::string_view session_id,
                                              uint64_t incarnation,
                                              EventSeq folded_seq,
                                              EventSeq first_seq,
                                              EventSeq last_seq) {
  const std::string key = Key(tenant_id, session_id);
  base::MutexLock lock(&mu_);
  const auto deadline = std::chrono::steady_clock::now() + in_flight_wait_;
  for (;;) {
    auto found = entries_.find(key);
    Cover cover = Cover::kNo;
    if (found != entries_.end()) {
      const Entry& e = found->second;
      // The fold, or none at 0 when this server appended the session's
      // every event (no checkpoint can have written its tables: one
      // would have moved folded_seq past an event of a folded type).
      const bool fresh = !e.fold.has_value() && !e.runs.empty() &&
                         e.runs.begin()->first == 1;
      const EventSeq f = e.fold ? e.folded_seq : 0;
      if (e.incarnation == incarnation && (e.fold.has_value() || fresh) &&
          f <= folded_seq && first_seq <= f + 1) {
        cover = Covers(e, f, folded_seq, last_seq);
      }
    }
    if (cover == Cover::kYes) break;
    if (cover == Cover::kNo || !reported_.WaitUntil(&mu_, deadline)) {
      misses_.fetch_add(1);
      return std::nullopt;
    }
  }
  Entry& e = entries_.find(key)->second;
  hits_.fetch_add(1);
  Hot hot;
  if (e.fold) hot.stored = std::move(*e.fold);  // else: no head row yet
  e.fold.reset();
  e.fold_bytes = 0;
  // Only folded types are kept: none in (fold, folded_seq] (Covers).
  for (auto& [first, run] : e.runs) {
    for (FoldEvent& x : run.events) {
      if (x.seq > folded_seq) hot.tail.push_back(std::move(x));
    }
  }
  ClearRuns(e);
  Account(e);
  return hot;
}

void FoldCache::Checkpointed(std::string_view tenant_id,
                             std::string_view session_id, uint64_t incarnation,
                             EventSeq folded_seq, StoredCheckpoint stored) {
  const std::string key = Key(tenant_id, session_id);
  base::MutexLock lock(&mu_);
  Entry& e = Touch(key, incarnation);
  e.fold_bytes = stored.MemoryBytes();
  e.fold = std::move(stored);
  e.folded_seq = folded_seq;
  Prune(e);
  Account(e);
}

size_t FoldCache::size() const {
  base::MutexLock lock(&mu_);
  return entries_.size();
}

uint64_t FoldCache::bytes() const {
  base::MutexLock lock(&mu_);
  return bytes_;
}

}  // namespace acpstore::postgres
