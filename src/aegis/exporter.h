// ExportAegis: writes a store's state as an Aegis version-1 state file
// (docs/aegis_format.md), for `acpstore export-aegis` — the rollback of a
// migration. ImportAegis of the file gives the same state back (ids, seqs,
// high-water marks, times, lease tokens).
//
// Sessions, actions and pause records are copied under the engine's lock
// in one go (they are in memory anyway); events are then streamed page by
// page through the Store API, so the file's size does not matter. The file
// is written to a temporary name (0600) next to `path`, fsync'ed and
// renamed into place: a failed export never leaves a partial file.
//
// Thread-safety: one call at a time per store.

#ifndef ACPSTORE_AEGIS_EXPORTER_H_
#define ACPSTORE_AEGIS_EXPORTER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "acpstore/result.h"
#include "acpstore/store.h"

namespace acpstore::aegis {

struct ExportReport {
  uint64_t sessions = 0;
  uint64_t events = 0;
  uint64_t actions = 0;
  uint64_t pauses = 0;
  uint64_t bytes = 0;
};

struct ExportOptions {
  // stage ("events"), events written, events retained.
  std::function<void(std::string_view stage, uint64_t done, uint64_t total)>
      progress;
};

// `store` must implement engine::ImportTarget (both engines do).
Result<ExportReport> ExportAegis(Store* store, const std::string& path,
                                 const ExportOptions& options = {});

}  // namespace acpstore::aegis

#endif  // ACPSTORE_AEGIS_EXPORTER_H_
