// SseFrameCache builds each event's SSE frame once and shares it among the
// streams that send it.
//
// Why: with many subscribers on one session every stream used to format
// the same event again: its id, its ISO timestamps, every string escaped,
// the payload copied. That was ~30% of the server's CPU per frame in the
// 1,000-subscriber fan-out (docs/benchmarks.md, W7).
//
// How: a fixed table of slots, indexed by a hash of (tenant, session,
// seq), each holding one event and its frame. A hit is the very event
// object the slot holds (the file engine shares its cached events with
// every subscription, Subscription::NextShared), or else an event equal to
// it in every field and payload byte, so a frame is never served for a
// different event, even for a session deleted and created again under the
// same id. Frames above max_frame_bytes are not cached, and each shard's
// bytes are capped (older entries make room for a new one), so memory is
// bounded whatever the payloads. A miss only costs the formatting the
// stream would have done anyway.
//
// Thread-safety: all methods may be called from any thread (the I/O
// threads); slots are guarded by one mutex per shard.

#ifndef ACPSTORE_SERVER_SSE_FRAME_CACHE_H_
#define ACPSTORE_SERVER_SSE_FRAME_CACHE_H_

#include <array>
#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "acpstore/records.h"

namespace acpstore::server {

struct SseFrameCacheOptions {
  size_t slots = 1024;
  // Events whose frame is larger are formatted per stream, uncached.
  size_t max_frame_bytes = size_t{64} * 1024;
  // Cap on the bytes held (events and frames together), split evenly
  // among the shards. This memory is outside the store's memory budget:
  // the slots keep their events alive (even of a deleted session) until
  // they are reused.
  size_t max_total_bytes = size_t{16} * 1024 * 1024;
};

class SseFrameCache {
 public:
  explicit SseFrameCache(SseFrameCacheOptions options = {});
  SseFrameCache(const SseFrameCache&) = delete;
  SseFrameCache& operator=(const SseFrameCache&) = delete;

  // The frame of `event` (SseFrames::AppendEvent's bytes), immutable and
  // shared: streams write it as is, without a copy (SseBatch). Never null.
  // *from_cache tells whether it came from the cache (else it was built
  // now, and kept when it fits). The cache may keep `event` alive until
  // its slot is reused. A frame held by a caller outlives its eviction:
  // the cap counts what the cache holds, the callers' references end with
  // their writes (see SseBatch for that bound).
  std::shared_ptr<const std::string> Frame(
      const std::shared_ptr<const Event>& event, bool* from_cache);

  // Bytes held, summed over the shards (each within its share of the cap).
  size_t bytes() const { return bytes_.load(std::memory_order_relaxed); }

 private:
  struct Slot {
    std::shared_ptr<const Event> event;
    std::shared_ptr<const std::string> frame;
    size_t bytes = 0;
  };
  static constexpr size_t kShards = 16;
  struct Shard {
    std::mutex mu;
    std::vector<Slot> slots;  // mu
    size_t bytes = 0;         // mu; held by slots, <= max_total_bytes / kShards
    size_t hand = 0;          // mu; the next slot to evict for room
  };

  // The cached frame of `event`, or null.
  std::shared_ptr<const std::string> Find(
      Shard& shard, size_t slot, const std::shared_ptr<const Event>& event);
  void Store(Shard& shard, size_t slot, std::shared_ptr<const Event> event,
             std::shared_ptr<const std::string> frame);

  const SseFrameCacheOptions options_;
  std::array<Shard, kShards> shards_;
  std::atomic<size_t> bytes_{0};
};

}  // namespace acpstore::server

#endif  // ACPSTORE_SERVER_SSE_FRAME_CACHE_H_
