// PayloadCache keeps recently written and recently read events of the file
// engine, so the hot path (an SSE stream tailing a session, a retry that
// dedupes against an event just written) is served without a pread. Keyed
// by where the event lives on disk (segment, offset): a location holds the
// same bytes for its whole life, so entries never go stale, and a location
// that is no longer indexed is simply never asked for again.
//
// The capacity is a byte budget (payload + a fixed overhead per entry) that
// the engine may change at any time: it shrinks the cache while pending
// writes need the memory budget (SPEC §4: caches shrink before writes are
// refused). Least recently used entries go first.
//
// At steady state every durable append evicts a cold entry, under the
// file engine's commit lock; the events an insert or a shrink evicts can be
// handed back to the caller (`Released`), who drops them once its own locks
// are released, so the frees do not lengthen the caller.s lock holds.
//
// Thread-safety: thread-safe; one mutex guards the map and the LRU list,
// never held while copying an event out. Lifetime: owned by the engine;
// outlives every event log that uses it.

#ifndef ACPSTORE_ENGINE_PAYLOAD_CACHE_H_
#define ACPSTORE_ENGINE_PAYLOAD_CACHE_H_

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <vector>

#include "acpstore/records.h"
#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "base/u64_map.h"

namespace acpstore::engine {

class PayloadCache {
 public:
  // Bytes charged per entry beyond the event's strings.
  static constexpr size_t kEntryOverhead = 160;
  // Events an insert or a shrink evicted, for the caller to drop outside
  // its locks.
  using Released = std::vector<std::shared_ptr<const Event>>;

  explicit PayloadCache(uint64_t capacity_bytes);
  PayloadCache(const PayloadCache&) = delete;
  PayloadCache& operator=(const PayloadCache&) = delete;

  static uint64_t Key(uint64_t segment, uint64_t offset) {
    return (segment << 32) | (offset & 0xffffffffu);
  }

  // The cached event, or nullptr. A hit becomes the most recent entry.
  std::shared_ptr<const Event> Lookup(uint64_t key) EXCLUDES(mu_);
  // Inserts (or refreshes) an entry, then evicts down to the capacity. An
  // event larger than the whole capacity is not cached. With `released`,
  // the events that leave the cache are moved there (the caller drops
  // them); without, they are dropped here.
  void Insert(uint64_t key, std::shared_ptr<const Event> event,
              Released* released = nullptr) EXCLUDES(mu_);
  // Evicts down to the new capacity; `released` as for Insert.
  void SetCapacity(uint64_t capacity_bytes, Released* released = nullptr)
      EXCLUDES(mu_);
  void Clear() EXCLUDES(mu_);

  uint64_t bytes() const EXCLUDES(mu_);
  uint64_t capacity() const EXCLUDES(mu_);
  uint64_t hits() const EXCLUDES(mu_);
  uint64_t misses() const EXCLUDES(mu_);
  size_t entries() const EXCLUDES(mu_);

  static size_t Charge(const Event& event);

 private:
  struct Entry {
    uint64_t key;
    std::shared_ptr<const Event> event;
    size_t charge;
  };
  void EvictLocked(Released* released) REQUIRES(mu_);

  mutable base::Mutex mu_;
  uint64_t capacity_ GUARDED_BY(mu_);
  uint64_t bytes_ GUARDED_BY(mu_) = 0;
  uint64_t hits_ GUARDED_BY(mu_) = 0;
  uint64_t misses_ GUARDED_BY(mu_) = 0;
  std::list<Entry> lru_ GUARDED_BY(mu_);  // most recent first
  // Flat (base/u64_map.h): the engine inserts and evicts an entry per
  // durable append, and std::unordered_map's nodes missed the CPU caches.
  base::U64Map<std::list<Entry>::iterator> map_ GUARDED_BY(mu_);
};

}  // namespace acpstore::engine

#endif  // ACPSTORE_ENGINE_PAYLOAD_CACHE_H_
