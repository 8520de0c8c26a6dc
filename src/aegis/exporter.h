// ExportAegis: writes a store's state as an Aegis version-1 state file
// (docs/aegis_format.md), for `acpstore export-aegis` — the rollback of a
// migration. Only Aegis's fields are written, with Aegis's names and
// encodings (writer.h), so Aegis loads the file as it is. What rollback
// cannot carry is counted and warned about (SPEC §8): a stream's
// high-water mark above its newest kept event, sessions over Aegis's
// 1,000-event cap, lease tokens (Aegis has no lease holders), clientEventIds,
// resumeIds. ImportAegis of the file gives the same records back.
//
// Sessions, actions and pause records are copied in one go
// (engine::MigrationTarget::ReadRecords: under the lock of the memory and
// file engines, which hold them in memory anyway; one transaction on
// postgres); events are then streamed page by page, so the file's size
// does not matter. The file
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
#include <vector>

#include "acpstore/result.h"
#include "acpstore/store.h"
#include "engine/migration_target.h"

namespace acpstore::aegis {

// Aegis keeps at most this many events per session (its default).
inline constexpr uint64_t kAegisMaxEvents = 1000;

struct ExportReport {
  uint64_t sessions = 0;
  uint64_t events = 0;
  uint64_t actions = 0;
  uint64_t pauses = 0;
  uint64_t bytes = 0;
  // What rollback cannot carry, one line per session.
  std::vector<std::string> warnings;
  uint64_t leased_actions = 0;            // their holders' tokens are lost
  uint64_t dropped_client_event_ids = 0;  // events that had one
  uint64_t dropped_resume_fields = 0;     // pauses with resumeId/-Metadata
};

struct ExportOptions {
  // stage ("events"), events written, events retained.
  std::function<void(std::string_view stage, uint64_t done, uint64_t total)>
      progress;
};

// `target`: from engine::OpenForMigration (every engine has one).
Result<ExportReport> ExportAegis(engine::MigrationTarget* target,
                                 const std::string& path,
                                 const ExportOptions& options = {});

}  // namespace acpstore::aegis

#endif  // ACPSTORE_AEGIS_EXPORTER_H_
