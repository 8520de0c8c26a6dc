// ClientIdIndex and the keyed hash behind it. See client_id_index.h.

#include "engine/client_id_index.h"

#include <algorithm>
#include <random>
#include <utility>

#include "base/coding.h"

namespace acpstore::engine {
namespace {

// Offsets run 1 .. 2^32 - 1 (0 marks an empty slot).
constexpr EventSeq kMaxSpan = 0xFFFFFFFEull;

inline uint64_t Rotl(uint64_t x, int b) { return (x << b) | (x >> (64 - b)); }

struct SipState {
  uint64_t v0, v1, v2, v3;

  void Round() {
    v0 += v1;
    v1 = Rotl(v1, 13);
    v1 ^= v0;
    v0 = Rotl(v0, 32);
    v2 += v3;
    v3 = Rotl(v3, 16);
    v3 ^= v2;
    v0 += v3;
    v3 = Rotl(v3, 21);
    v3 ^= v0;
    v2 += v1;
    v1 = Rotl(v1, 17);
    v1 ^= v2;
    v2 = Rotl(v2, 32);
  }
  void Absorb(uint64_t m) {
    v3 ^= m;
    Round();
    Round();
    v0 ^= m;
  }
};

}  // namespace

ClientIdKey ClientIdKey::Random() {
  std::random_device rd;
  auto word = [&] { return (uint64_t{rd()} << 32) | uint64_t{rd()}; };
  ClientIdKey key;
  key.k0 = word();
  key.k1 = word();
  return key;
}

uint64_t SipHash24(const ClientIdKey& key, std::string_view data) {
  SipState s{key.k0 ^ 0x736f6d6570736575ull, key.k1 ^ 0x646f72616e646f6dull,
             key.k0 ^ 0x6c7967656e657261ull, key.k1 ^ 0x7465646279746573ull};
  const size_t n = data.size();
  size_t i = 0;
  for (; i + 8 <= n; i += 8) s.Absorb(base::DecodeFixed64(data.data() + i));
  // The last block: the remaining bytes, and the length's low byte on top.
  uint64_t last = static_cast<uint64_t>(n) << 56;
  for (size_t j = 0; i + j < n; ++j) {
    last |= uint64_t{static_cast<uint8_t>(data[i + j])} << (8 * j);
  }
  s.Absorb(last);
  s.v2 ^= 0xff;
  for (int r = 0; r < 4; ++r) s.Round();
  return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

void ClientIdIndex::Insert(uint32_t tag, EventSeq seq,
                           EventSeq first_retained) {
  if (seq < first_retained) return;  // stale already: would never be found
  // Only after the window moved past 2^32 - 2 seqs (see the header).
  if (!slots_.empty() && seq < base_) return;
  const bool full = (size_ + 1) * 5 > slots_.size() * 4;
  if (full || seq - base_ > kMaxSpan) {
    EventSeq keep_from = first_retained;
    if (seq - keep_from > kMaxSpan) keep_from = seq - kMaxSpan;
    Rebuild(keep_from, 1);
  }
  Place(tag, static_cast<uint32_t>(seq - base_ + 1));
  ++size_;
}

void ClientIdIndex::Sweep(EventSeq first_retained) {
  if (size_ == 0 || first_retained <= sweep_after_) return;
  Rebuild(first_retained, 0);
}

void ClientIdIndex::Place(uint32_t tag, uint32_t offset) {
  const size_t capacity = slots_.size();
  size_t i = Home(tag);
  while (slots_[i].offset != 0) i = i + 1 == capacity ? 0 : i + 1;
  slots_[i] = Slot{tag, offset};
}

void ClientIdIndex::Rebuild(EventSeq keep_from, size_t room) {
  std::vector<std::pair<EventSeq, uint32_t>> live;  // seq, tag
  live.reserve(size_);
  for (const Slot& s : slots_) {
    if (s.offset != 0 && SeqOf(s) >= keep_from) {
      live.emplace_back(SeqOf(s), s.tag);
    }
  }
  size_ = 0;
  base_ = keep_from;
  sweep_after_ = 0;
  if (live.empty() && room == 0) {
    slots_ = std::vector<Slot>();  // frees the table
    return;
  }
  const size_t capacity =
      std::max(kMinCapacity, (live.size() + room) * 5 / 3 + 1);
  slots_ = std::vector<Slot>(capacity);
  for (const auto& [seq, tag] : live) {
    Place(tag, static_cast<uint32_t>(seq - base_ + 1));
  }
  size_ = live.size();
  if (!live.empty()) {
    // Entries added later have higher seqs, so the k oldest of these are
    // the first to go stale.
    const size_t k = std::max<size_t>(1, live.size() / 8);
    std::nth_element(live.begin(),
                     live.begin() + static_cast<std::ptrdiff_t>(k - 1),
                     live.end());
    sweep_after_ = live[k - 1].first;
  }
}

}  // namespace acpstore::engine
