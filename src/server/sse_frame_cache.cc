// Shared SSE frames. See sse_frame_cache.h.

#include "server/sse_frame_cache.h"

#include <algorithm>
#include <functional>
#include <string_view>
#include <utility>

#include "server/sse_frames.h"

namespace acpstore::server {
namespace {

// What a cached event and its frame hold, roughly (heap strings and the
// objects themselves).
size_t EntryBytes(const Event& e, const std::string& frame) {
  return sizeof(Event) + sizeof(std::string) + frame.size() +
         e.session_id.size() + e.tenant_id.size() + e.owner_key_id.size() +
         e.event_type.size() + e.payload.size() +
         e.client_event_id.value_or("").size() +
         e.backend_run_id.value_or("").size() +
         e.payload_ref.value_or("").size();
}

size_t HashOf(const Event& e) {
  const std::hash<std::string_view> h;
  size_t x = h(e.session_id);
  x = x * 31 + h(e.tenant_id);
  x ^= static_cast<size_t>(e.seq) * 0x9E3779B97F4A7C15ULL;
  return x ^ (x >> 29);
}

}  // namespace

SseFrameCache::SseFrameCache(SseFrameCacheOptions options)
    : options_(options) {
  const size_t per_shard = std::max<size_t>(1, options_.slots / kShards);
  for (Shard& shard : shards_) shard.slots.resize(per_shard);
}

std::shared_ptr<const std::string> SseFrameCache::Frame(
    const std::shared_ptr<const Event>& event, bool* from_cache) {
  const size_t h = HashOf(*event);
  Shard& shard = shards_[h % kShards];
  const size_t slot = (h / kShards) % shard.slots.size();
  if (std::shared_ptr<const std::string> frame = Find(shard, slot, event)) {
    *from_cache = true;
    return frame;
  }
  *from_cache = false;
  std::string built;
  SseFrames::AppendEvent(*event, &built);
  auto frame = std::make_shared<const std::string>(std::move(built));
  if (frame->size() <= options_.max_frame_bytes) {
    Store(shard, slot, event, frame);
  }
  return frame;
}

std::shared_ptr<const std::string> SseFrameCache::Find(
    Shard& shard, size_t slot, const std::shared_ptr<const Event>& event) {
  std::lock_guard<std::mutex> lock(shard.mu);
  const Slot& s = shard.slots[slot];
  if (s.event == nullptr) return nullptr;
  // The same object is the common case; an equal copy (an event read
  // again after the engine's cache let it go) is checked field by field.
  if (s.event != event && *s.event != *event) return nullptr;
  return s.frame;
}

void SseFrameCache::Store(Shard& shard, size_t slot,
                          std::shared_ptr<const Event> event,
                          std::shared_ptr<const std::string> frame) {
  const size_t bytes = EntryBytes(*event, *frame);
  const size_t budget = options_.max_total_bytes / kShards;
  if (bytes > budget) return;
  std::vector<Slot> evicted;  // freed after the lock is released
  {
    std::lock_guard<std::mutex> lock(shard.mu);
    auto evict = [&](Slot& s) {
      if (s.event == nullptr) return;
      shard.bytes -= s.bytes;
      bytes_.fetch_sub(s.bytes, std::memory_order_relaxed);
      evicted.push_back(std::move(s));
      s = Slot{};
    };
    // The newest event takes its slot; older entries of the shard make
    // room in turn (a clock hand), so the shard stays within its budget
    // and a full cache keeps taking new frames.
    evict(shard.slots[slot]);
    while (shard.bytes + bytes > budget) {
      shard.hand = (shard.hand + 1) % shard.slots.size();
      evict(shard.slots[shard.hand]);
    }
    shard.bytes += bytes;
    bytes_.fetch_add(bytes, std::memory_order_relaxed);
    shard.slots[slot] = Slot{std::move(event), std::move(frame), bytes};
  }
}

}  // namespace acpstore::server
