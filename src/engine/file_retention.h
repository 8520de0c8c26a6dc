// Disk-side retention of the file engine (SPEC §4): which events to drop
// when the journal outgrows max_disk_bytes, and which journal segments may
// be deleted. Time- and count-based retention are the shared deciders'
// (decide.h); this only adds what needs to know bytes on disk.
//
// Space comes back only when a whole segment holds no retained event and
// lies before the oldest kept snapshot (its other records are covered), so
// the disk rule drops by segment: first every event of terminal sessions
// (if that empties any segment), then, oldest segment first, every event of
// every session in segments up to the one that frees enough. Segments are
// never rewritten (no copying of live events forward); see
// docs/decisions/0003-file-engine-write-path.md.
//
// Thread-safety: pure functions over state the caller's lock guards.

#ifndef ACPSTORE_ENGINE_FILE_RETENTION_H_
#define ACPSTORE_ENGINE_FILE_RETENTION_H_

#include <cstdint>
#include <map>
#include <vector>

#include "acpstore/store.h"
#include "engine/file_event_log.h"
#include "engine/state.h"
#include "record/mutation.h"

namespace acpstore::engine {

struct DiskUsage {
  // Every journal segment and its size; the highest is the one being
  // written, which is never freed.
  std::map<uint64_t, uint64_t> segment_sizes;
  // Other bytes the limit counts (snapshots).
  uint64_t other_bytes = 0;
};

// Bytes the engine needs on disk once dead segments are deleted: segments
// holding a retained event, the newest segment, and other_bytes.
uint64_t LiveDiskBytes(const DiskUsage& usage, const FileLogContext& context);

// DropEvents ops bringing LiveDiskBytes under max_disk_bytes (0: no
// limit). Counts into report->events_dropped.
record::Mutation DecideDiskRetention(const StoreState& state,
                                     const FileLogContext& context,
                                     const DiskUsage& usage,
                                     uint64_t max_disk_bytes,
                                     MaintenanceReport* report);

// Segments of `segments` below `below_segment` that hold no retained event.
std::vector<uint64_t> DeadSegments(const std::vector<uint64_t>& segments,
                                   const FileLogContext& context,
                                   uint64_t below_segment);

}  // namespace acpstore::engine

#endif  // ACPSTORE_ENGINE_FILE_RETENTION_H_
