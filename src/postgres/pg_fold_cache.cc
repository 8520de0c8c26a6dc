// FoldCache: see pg_fold_cache.h.

#include "postgres/pg_fold_cache.h"

#include <algorithm>

#include "engine/keys.h"

namespace acpstore::postgres {
namespace {

// Per entry and per event: the map node, the strings' headers.
constexpr uint64_t kEntryOverhead = 256;
constexpr uint64_t kEventOverhead = 96;

uint64_t LogBytes(const std::vector<FoldEvent>& log) {
  uint64_t n = 0;
  for (const FoldEvent& e : log) {
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
  if (e.seen <= f) {
    // The fold is past everything logged: the log starts afresh at it.
    e.base = f;
    e.seen = f;
    e.log.clear();
    return;
  }
  auto keep = std::find_if(e.log.begin(), e.log.end(),
                           [f](const FoldEvent& x) { return x.seq > f; });
  e.log.erase(e.log.begin(), keep);
}

void FoldCache::Erase(std::unordered_map<std::string, Entry>::iterator it) {
  bytes_ -= it->second.bytes;
  lru_.erase(it->second.lru);
  entries_.erase(it);
}

void FoldCache::Account(Entry& e) {
  bytes_ -= e.bytes;
  e.bytes = kEntryOverhead + LogBytes(e.log) +
            (e.fold ? e.fold->MemoryBytes() : 0);
  bytes_ += e.bytes;
  while (bytes_ > max_bytes_ && !lru_.empty()) {
    // The least recently used first; `e` (the most recent) last.
    Erase(entries_.find(lru_.back()));
  }
}

void FoldCache::Appended(std::vector<AppendedRun> runs) {
  base::MutexLock lock(&mu_);
  for (AppendedRun& r : runs) {
    const std::string key = Key(r.tenant_id, r.session_id);
    Entry& e = Touch(key, r.incarnation);
    if (r.first_seq == e.seen + 1) {
      // Continues the log.
      for (FoldEvent& x : r.events) e.log.push_back(std::move(x));
      e.seen = r.last_seq;
    } else if (r.last_seq <= e.seen) {
      // A batch that committed before the log's end, whose Appended comes
      // late (or the fold already covers it): the log stays what it is,
      // which either holds these events already or starts after them.
      continue;
    } else {
      // A gap (another server's appends, a batch left out) or an overlap:
      // the log restarts at this run.
      e.log = std::move(r.events);
      e.base = r.first_seq - 1;
      e.seen = r.last_seq;
    }
    if (e.log.size() > kMaxLogEvents) {
      e.log.clear();
      e.base = e.seen;
    }
    Prune(e);
    Account(e);
  }
}

std::optional<FoldCache::Hot> FoldCache::Take(std::string_view tenant_id,
                                              std::string_view session_id,
                                              uint64_t incarnation,
                                              EventSeq folded_seq,
                                              EventSeq last_seq) {
  const std::string key = Key(tenant_id, session_id);
  base::MutexLock lock(&mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    misses_.fetch_add(1);
    return std::nullopt;
  }
  Entry& e = it->second;
  if (e.incarnation != incarnation || !e.fold || e.folded_seq != folded_seq ||
      e.base > folded_seq || e.seen != last_seq) {
    misses_.fetch_add(1);
    return std::nullopt;
  }
  hits_.fetch_add(1);
  Hot hot{.stored = std::move(*e.fold), .tail = {}};
  e.fold.reset();
  for (FoldEvent& x : e.log) {
    if (x.seq > folded_seq) hot.tail.push_back(std::move(x));
  }
  e.log.clear();
  e.base = last_seq;  // the log, empty, covers nothing yet
  Account(e);
  return hot;
}

void FoldCache::Checkpointed(std::string_view tenant_id,
                             std::string_view session_id, uint64_t incarnation,
                             EventSeq folded_seq, StoredCheckpoint stored) {
  const std::string key = Key(tenant_id, session_id);
  base::MutexLock lock(&mu_);
  Entry& e = Touch(key, incarnation);
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
