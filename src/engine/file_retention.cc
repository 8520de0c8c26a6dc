// Disk-side retention: see file_retention.h.

#include "engine/file_retention.h"

#include <algorithm>

namespace acpstore::engine {
namespace {

const FileEventLog& LogOf(const SessionEntry& e) {
  return *static_cast<const FileEventLog*>(e.events.get());
}

uint64_t Newest(const DiskUsage& usage) {
  return usage.segment_sizes.empty() ? 0 : usage.segment_sizes.rbegin()->first;
}

}  // namespace

uint64_t LiveDiskBytes(const DiskUsage& usage, const FileLogContext& context) {
  const auto& live = context.live_by_segment();
  const uint64_t newest = Newest(usage);
  uint64_t bytes = usage.other_bytes;
  for (const auto& [segment, size] : usage.segment_sizes) {
    if (segment == newest || live.count(segment) != 0) bytes += size;
  }
  return bytes;
}

record::Mutation DecideDiskRetention(const StoreState& state,
                                     const FileLogContext& context,
                                     const DiskUsage& usage,
                                     uint64_t max_disk_bytes,
                                     MaintenanceReport* report) {
  record::Mutation m;
  if (max_disk_bytes == 0) return m;
  const uint64_t used = LiveDiskBytes(usage, context);
  if (used <= max_disk_bytes) return m;
  uint64_t excess = used - max_disk_bytes;
  const uint64_t newest = Newest(usage);
  std::map<uint64_t, uint64_t> live = context.live_by_segment();

  // Terminal sessions first: would dropping all their events empty any
  // segment?
  std::vector<const SessionEntry*> terminal;
  std::map<uint64_t, uint64_t> terminal_counts;
  state.ForEachSession([&](const SessionEntry& e) {
    if (IsTerminal(e.session.status) && LogOf(e).VisibleInfo().retained > 0) {
      terminal.push_back(&e);
      LogOf(e).CountBySegment(&terminal_counts);
    }
  });
  uint64_t freed = 0;
  for (const auto& [segment, count] : terminal_counts) {
    auto it = live.find(segment);
    if (segment == newest || it == live.end()) continue;
    if (it->second == count) {
      freed += usage.segment_sizes.count(segment) != 0
                   ? usage.segment_sizes.at(segment)
                   : 0;
    }
  }
  if (freed > 0) {
    for (const SessionEntry* e : terminal) {
      const FileEventLog& log = LogOf(*e);
      report->events_dropped += log.VisibleInfo().retained;
      m.DropEvents(e->session.tenant_id, e->session.id, log.durable_seq());
    }
    for (const auto& [segment, count] : terminal_counts) {
      auto it = live.find(segment);
      if (it == live.end()) continue;
      it->second -= std::min(it->second, count);
      if (it->second == 0) live.erase(it);
    }
    if (freed >= excess) return m;
    excess -= freed;
    terminal.clear();
  }

  // Then the oldest segments, whoever's events they hold.
  std::optional<uint64_t> through_segment;
  uint64_t more = 0;
  for (const auto& [segment, count] : live) {
    if (segment >= newest) break;
    auto size = usage.segment_sizes.find(segment);
    more += size != usage.segment_sizes.end() ? size->second : 0;
    through_segment = segment;
    if (more >= excess) break;
  }
  if (!through_segment) return m;
  state.ForEachSession([&](const SessionEntry& e) {
    const FileEventLog& log = LogOf(e);
    if (freed > 0 && IsTerminal(e.session.status)) return;  // all dropped
    std::optional<EventSeq> through =
        log.LastSeqInSegmentsThrough(*through_segment);
    if (!through) return;
    const EventStreamInfo info = log.VisibleInfo();
    if (*through < info.first_seq) return;
    report->events_dropped += *through - info.first_seq + 1;
    m.DropEvents(e.session.tenant_id, e.session.id, *through);
  });
  return m;
}

std::vector<uint64_t> DeadSegments(const std::vector<uint64_t>& segments,
                                   const FileLogContext& context,
                                   uint64_t below_segment) {
  std::vector<uint64_t> dead;
  const auto& live = context.live_by_segment();
  for (uint64_t s : segments) {
    if (s < below_segment && live.count(s) == 0) dead.push_back(s);
  }
  return dead;
}

}  // namespace acpstore::engine
