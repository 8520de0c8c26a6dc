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
// commit lock (issue 14), so nothing here allocates or frees per entry: the
// entries live in one slab (a vector reused through a free list) threaded
// into an intrusive LRU list by index, and are found through an
// open-addressing table of slab indexes. The events an insert evicts can be
// handed back to the caller (`Released`), who drops them once its own locks
// are released: freeing an event's strings is the costly part of eviction.
//
// Thread-safety: thread-safe; one mutex guards the slab, the table and the
// LRU list, never held while copying an event out. Lifetime: owned by the
// engine; outlives every event log that uses it.

#ifndef ACPSTORE_ENGINE_PAYLOAD_CACHE_H_
#define ACPSTORE_ENGINE_PAYLOAD_CACHE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "acpstore/records.h"
#include "base/mutex.h"
#include "base/thread_annotations.h"

namespace acpstore::engine {

class PayloadCache {
 public:
  // Bytes charged per entry beyond the event's strings.
  static constexpr size_t kEntryOverhead = 160;
  // Events an insert evicted, for the caller to drop outside its locks.
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
  // event larger than the whole capacity is not cached. The events that
  // leave the cache go to *released when given (the caller drops them),
  // else they are dropped here after the cache's mutex is released.
  void Insert(uint64_t key, std::shared_ptr<const Event> event,
              Released* released = nullptr) EXCLUDES(mu_);
  // As Insert's eviction, *released likewise.
  void SetCapacity(uint64_t capacity_bytes, Released* released = nullptr)
      EXCLUDES(mu_);
  void Clear() EXCLUDES(mu_);

  uint64_t bytes() const EXCLUDES(mu_);
  uint64_t capacity() const EXCLUDES(mu_);
  uint64_t hits() const EXCLUDES(mu_);
  uint64_t misses() const EXCLUDES(mu_);
  size_t entries() const EXCLUDES(mu_);
  // Slab nodes allocated (entries + free nodes): bounded by a small
  // multiple of the most entries held since the last compaction.
  size_t slab_nodes() const EXCLUDES(mu_);

  static size_t Charge(const Event& event);

 private:
  static constexpr uint32_t kNone = UINT32_MAX;
  // One slab node: a cached entry (linked into the LRU list) or a free
  // node (event null, chained through `next`).
  struct Node {
    uint64_t key = 0;
    std::shared_ptr<const Event> event;
    uint64_t charge = 0;
    uint32_t prev = kNone;  // towards the most recent
    uint32_t next = kNone;  // towards the least recent, or the next free
  };

  // The table slot holding `key`, or the empty slot where it would go.
  size_t FindSlotLocked(uint64_t key) const REQUIRES(mu_);
  // Removes node `n` from the table, the LRU list and the accounting, and
  // moves its event to *released (or drops it, when released is null).
  void RemoveLocked(uint32_t n, size_t slot, Released* released)
      REQUIRES(mu_);
  void EraseSlotLocked(size_t slot) REQUIRES(mu_);
  void LinkFrontLocked(uint32_t n) REQUIRES(mu_);
  void UnlinkLocked(uint32_t n) REQUIRES(mu_);
  uint32_t AllocNodeLocked() REQUIRES(mu_);
  // Rebuilds the table with `slots` slots (a power of two); with `compact`,
  // also moves the live nodes into a slab of their own size (LRU order).
  void RebuildLocked(size_t slots, bool compact) REQUIRES(mu_);
  void EvictLocked(Released* released) REQUIRES(mu_);
  void MaybeShrinkLocked() REQUIRES(mu_);

  mutable base::Mutex mu_;
  uint64_t capacity_ GUARDED_BY(mu_);
  uint64_t bytes_ GUARDED_BY(mu_) = 0;
  uint64_t hits_ GUARDED_BY(mu_) = 0;
  uint64_t misses_ GUARDED_BY(mu_) = 0;
  std::vector<Node> nodes_ GUARDED_BY(mu_);  // the slab
  uint32_t free_ GUARDED_BY(mu_) = kNone;    // first free node
  uint32_t head_ GUARDED_BY(mu_) = kNone;    // most recent entry
  uint32_t tail_ GUARDED_BY(mu_) = kNone;    // least recent entry
  size_t entries_ GUARDED_BY(mu_) = 0;
  // Open addressing, linear probing; a slot keeps its entry's key beside
  // the slab index (kNone when empty), so probing and the backward shift
  // of a deletion never touch the (cold) slab nodes. Its size is a power
  // of two, at least twice entries_.
  struct Slot {
    uint64_t key = 0;
    uint32_t node = kNone;
  };
  std::vector<Slot> slots_ GUARDED_BY(mu_);
};

}  // namespace acpstore::engine

#endif  // ACPSTORE_ENGINE_PAYLOAD_CACHE_H_
