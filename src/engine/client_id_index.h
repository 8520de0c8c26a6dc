// ClientIdIndex: one session's clientEventId index, compact enough for the
// memory bound of SPEC §4 (the file engine keeps 16 bytes per retained
// event in its FileEventLog; this index adds at most 16 per event that has
// a clientEventId, so the sum stays under 32).
//
// It keeps no ids, only a 32-bit tag per entry (from a keyed hash of the
// id) and the event's seq, in a flat open-addressing table of 8-byte slots.
// A lookup yields every retained seq stored under the id's tag; the caller
// must read each event back and compare its id byte for byte
// (StoreState::FindClientEvent does), so a tag collision costs one extra
// read and never returns another event. Several seqs may share a tag.
//
// The hash is SipHash-2-4 under a key chosen at random per store state and
// persisted in snapshots (tags are only meaningful with their key). An
// unkeyed hash would let a client pick ids that all share one tag, making
// every append of its session read back each of them under the state lock.
//
// Entries of dropped events ("stale": seq < the session's first retained
// seq) are never returned and are swept out once an eighth of the entries
// counted at the last rebuild went stale, so stale entries never cost more
// than that. Seqs are stored as 32-bit offsets from a base, so the index
// covers the newest 2^32 - 2 seqs of a stream; older ids stop deduping
// (an index that large would not fit in memory anyway).
//
// Thread-safety: none; the owning state's lock guards it. Lifetime: a value
// owned by its session's entry.

#ifndef ACPSTORE_ENGINE_CLIENT_ID_INDEX_H_
#define ACPSTORE_ENGINE_CLIENT_ID_INDEX_H_

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "acpstore/records.h"

namespace acpstore::engine {

// The 128-bit SipHash key.
struct ClientIdKey {
  uint64_t k0 = 0;
  uint64_t k1 = 0;

  // From std::random_device.
  static ClientIdKey Random();
  friend bool operator==(const ClientIdKey&, const ClientIdKey&) = default;
};

// SipHash-2-4 of `data` (Aumasson and Bernstein, 2012); k0 and k1 are the
// key's first and second 8 bytes read little-endian.
uint64_t SipHash24(const ClientIdKey& key, std::string_view data);

// The tag ClientIdIndex keeps for `client_id`: both halves of its hash
// folded together. Written to snapshots: never change it.
inline uint32_t ClientIdTag(const ClientIdKey& key,
                            std::string_view client_id) {
  const uint64_t h = SipHash24(key, client_id);
  return static_cast<uint32_t>(h ^ (h >> 32));
}

class ClientIdIndex {
 public:
  // One table slot. offset = seq - base + 1; 0 marks an empty slot.
  struct Slot {
    uint32_t tag = 0;
    uint32_t offset = 0;
  };
  static_assert(sizeof(Slot) == 8);

  // Adds event `seq` under `tag`. `first_retained` is the session's first
  // retained seq: entries below it are stale and may go now.
  void Insert(uint32_t tag, EventSeq seq, EventSeq first_retained);

  // Calls visit(EventSeq) for every entry under `tag` with seq >=
  // first_retained, in no particular order, until it returns false.
  template <typename Visit>
  void ForEachCandidate(uint32_t tag, EventSeq first_retained,
                        Visit visit) const;

  // After events were dropped: rebuilds without the stale entries once
  // enough of them went stale.
  void Sweep(EventSeq first_retained);

  // Calls visit(uint32_t tag, EventSeq seq) for every entry with seq >=
  // first_retained, in no particular order (snapshots).
  template <typename Visit>
  void ForEach(EventSeq first_retained, Visit visit) const;

  // Entries, stale ones included.
  size_t size() const { return size_; }
  size_t capacity() const { return slots_.size(); }
  // Heap bytes held (the table).
  size_t memory_bytes() const { return slots_.capacity() * sizeof(Slot); }

 private:
  static constexpr size_t kMinCapacity = 8;

  // A new table holding the entries with seq >= keep_from, sized for them
  // and `room` more at a load of 3/5 (none at all when both are zero).
  void Rebuild(EventSeq keep_from, size_t room);
  void Place(uint32_t tag, uint32_t offset);
  // fastrange: the tag is uniform, so its high bits pick the home slot of
  // a table of any size.
  size_t Home(uint32_t tag) const {
    return static_cast<size_t>((uint64_t{tag} * slots_.size()) >> 32);
  }
  EventSeq SeqOf(const Slot& s) const { return base_ + s.offset - 1; }

  std::vector<Slot> slots_;  // sized exactly: no growth slack
  size_t size_ = 0;
  EventSeq base_ = 0;
  // Sweep rebuilds once first_retained passes this seq: an eighth of the
  // entries of the last rebuild have gone stale by then.
  EventSeq sweep_after_ = 0;
};

template <typename Visit>
void ClientIdIndex::ForEachCandidate(uint32_t tag, EventSeq first_retained,
                                     Visit visit) const {
  const size_t capacity = slots_.size();
  if (capacity == 0) return;
  // The load stays below 4/5, so an empty slot ends every probe.
  for (size_t i = Home(tag);; i = i + 1 == capacity ? 0 : i + 1) {
    const Slot& s = slots_[i];
    if (s.offset == 0) return;
    if (s.tag == tag && SeqOf(s) >= first_retained && !visit(SeqOf(s))) {
      return;
    }
  }
}

template <typename Visit>
void ClientIdIndex::ForEach(EventSeq first_retained, Visit visit) const {
  for (const Slot& s : slots_) {
    if (s.offset != 0 && SeqOf(s) >= first_retained) visit(s.tag, SeqOf(s));
  }
}

}  // namespace acpstore::engine

#endif  // ACPSTORE_ENGINE_CLIENT_ID_INDEX_H_
