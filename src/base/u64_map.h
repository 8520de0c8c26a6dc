// U64Map<V>: a hash map from uint64_t keys to small values, held in one
// flat array: open addressing, linear probing, deletion by backward shift
// (no tombstones, so a table that churns does not fill up with them).
//
// Why not std::unordered_map: each of its entries is a node of its own, a
// lookup walks from the bucket to the node and an erase from the bucket to
// the node before, and libstdc++ reduces every hash modulo a prime (a
// division). The file engine's PayloadCache inserts one entry and erases
// another for every durable append (tens of thousands of entries, over a
// hundred thousand appends a second); in the server's batch phase
// (`acpstore_bench http --mix acp`) its insert and evict took ~11% of the
// samples with std::unordered_map and ~4% with this table, and the server
// spent ~0.8 µs less CPU per event (median of 13 pairs; docs/benchmarks.md,
// "The payload cache's flat index"). Here an operation usually reads one
// cache line.
//
// Keys are spread by Fibonacci hashing (the high bits of key times 2^64
// divided by the golden ratio), so keys that differ only in their low bits
// (consecutive offsets) or only in their high bits (segments) land apart.
// The table doubles when it would be more than half full, which keeps
// probe sequences short, and gives memory back on Clear() and, once at most
// an eighth full, on ShrinkIfSparse(). Every key is valid: ~0 (the empty
// slot's marker) is kept beside the table.
//
// Pointers returned by Find and TryEmplace stay valid until the next
// TryEmplace, Erase, ShrinkIfSparse or Clear. Not movable (nothing needs
// it). Thread-safety: none (the owner locks).

#ifndef ACPSTORE_BASE_U64_MAP_H_
#define ACPSTORE_BASE_U64_MAP_H_

#include <bit>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace acpstore::base {

template <typename V>
class U64Map {
 public:
  U64Map() = default;
  U64Map(const U64Map&) = delete;
  U64Map& operator=(const U64Map&) = delete;

  size_t size() const { return size_ + (has_max_key_ ? 1 : 0); }
  bool empty() const { return size() == 0; }
  // Slots in the table (a power of two, or 0 before the first insert).
  size_t capacity() const { return slots_.size(); }

  // The value of `key`, or nullptr.
  V* Find(uint64_t key) {
    if (key == kEmpty) return has_max_key_ ? &max_key_value_ : nullptr;
    if (slots_.empty()) return nullptr;
    for (size_t i = Home(key);; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.key == key) return &s.value;
      if (s.key == kEmpty) return nullptr;
    }
  }

  // Inserts `value` under `key` unless the key is present. Returns the
  // key's value (new or existing) and whether it was inserted.
  std::pair<V*, bool> TryEmplace(uint64_t key, V value) {
    if (key == kEmpty) {
      if (has_max_key_) return {&max_key_value_, false};
      has_max_key_ = true;
      max_key_value_ = std::move(value);
      return {&max_key_value_, true};
    }
    // One probe finds the key or the empty slot that ends its run; only a
    // table that must grow first is probed again.
    size_t i = 0;
    bool fits = false;  // slot i takes it without growing the table
    if (!slots_.empty()) {
      for (i = Home(key);; i = (i + 1) & mask_) {
        if (slots_[i].key == key) return {&slots_[i].value, false};
        if (slots_[i].key == kEmpty) break;
      }
      fits = (size_ + 1) * 2 <= slots_.size();
    }
    if (!fits) {
      Rebuild(slots_.empty() ? kMinSlots : slots_.size() * 2);
      i = Home(key);
      while (slots_[i].key != kEmpty) i = (i + 1) & mask_;
    }
    slots_[i].key = key;
    slots_[i].value = std::move(value);
    ++size_;
    return {&slots_[i].value, true};
  }

  // Removes `key`; whether it was present.
  bool Erase(uint64_t key) {
    if (key == kEmpty) {
      if (!has_max_key_) return false;
      has_max_key_ = false;
      max_key_value_ = V();
      return true;
    }
    if (slots_.empty()) return false;
    size_t hole = Home(key);
    for (;; hole = (hole + 1) & mask_) {
      if (slots_[hole].key == key) break;
      if (slots_[hole].key == kEmpty) return false;
    }
    // Backward shift: every later entry of the run whose home is not
    // between the hole and itself moves into the hole, so that no lookup
    // meets an empty slot before its key.
    for (size_t j = (hole + 1) & mask_;; j = (j + 1) & mask_) {
      Slot& s = slots_[j];
      if (s.key == kEmpty) break;
      const size_t home = Home(s.key);
      // Distances along the probe order, modulo the table size.
      if (((j - home) & mask_) >= ((j - hole) & mask_)) {
        slots_[hole] = std::move(s);
        hole = j;
      }
    }
    slots_[hole].key = kEmpty;
    slots_[hole].value = V();
    --size_;
    return true;
  }

  // Gives memory back after many erases: rebuilds the table at the
  // smallest size that is at most half full, if the table is at most an
  // eighth full now (so alternating inserts and erases never rebuild it
  // back and forth). Cheap to call often when there is nothing to do.
  void ShrinkIfSparse() {
    if (slots_.size() <= kMinSlots || size_ * 8 > slots_.size()) return;
    size_t slots = kMinSlots;
    while (size_ * 2 > slots) slots *= 2;
    Rebuild(slots);
  }

  // Removes everything and frees the table.
  void Clear() {
    std::vector<Slot>().swap(slots_);
    mask_ = 0;
    shift_ = 64;
    size_ = 0;
    has_max_key_ = false;
    max_key_value_ = V();
  }

 private:
  static constexpr uint64_t kEmpty = ~uint64_t{0};
  static constexpr size_t kMinSlots = 16;

  struct Slot {
    uint64_t key = kEmpty;
    V value{};
  };

  static constexpr uint64_t kGolden = 0x9E3779B97F4A7C15ull;  // 2^64 / phi

  // The slot a key's probe starts at, in a table of 2^(64 - shift) slots.
  static size_t HomeIn(uint64_t key, int shift) {
    return static_cast<size_t>((key * kGolden) >> shift);
  }
  size_t Home(uint64_t key) const { return HomeIn(key, shift_); }

  // Moves every entry into a table of `slots` (a power of two, more than
  // twice size_). The new table is allocated first: if that throws, the
  // map is as it was.
  void Rebuild(size_t slots) {
    std::vector<Slot> fresh(slots);
    const size_t mask = slots - 1;
    const int shift = 64 - std::countr_zero(slots);
    for (Slot& s : slots_) {
      if (s.key == kEmpty) continue;
      size_t i = HomeIn(s.key, shift);
      while (fresh[i].key != kEmpty) i = (i + 1) & mask;
      fresh[i] = std::move(s);
    }
    slots_.swap(fresh);
    mask_ = mask;
    shift_ = shift;
  }

  std::vector<Slot> slots_;
  size_t mask_ = 0;
  int shift_ = 64;
  size_t size_ = 0;  // in slots_
  bool has_max_key_ = false;
  V max_key_value_{};
};

}  // namespace acpstore::base

#endif  // ACPSTORE_BASE_U64_MAP_H_
