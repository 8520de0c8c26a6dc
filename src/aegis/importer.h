// ImportAegis: moves an Aegis state file into a store (SPEC §8), for
// `acpstore import-aegis`. docs/aegis_format.md is the format;
// docs/operations.md the operator's view.
//
// Nothing real Aegis could have written is lost: what breaks acpstore's
// own rules is repaired, kept and reported with its JSON path (mapping.h,
// import_check.h); only what cannot be made valid (no usable id, an
// unknown status, an unparseable required date) is skipped and reported.
//
// It reads the file as a stream (reader.h), in passes, so memory holds one
// record, one write batch per in-flight commit, and a small entry per
// session and pause, never the file:
//   check  every record is mapped, repaired and checked against the
//          others, with no store open. Records that come before the
//          sessions they need are checked in a second read.
//   open   unless dry_run, strict with reports, or an unusable file: the
//          store is opened (StoreOpener); with --merge, a read of the
//          sessions and actions asks it for the ids it already holds.
//   write  the records are committed through engine::MigrationTarget in
//          batches (a session with its high-water mark, events a few
//          hundred per mutation, several mutations in flight), sessions
//          before what depends on them (a second read when the file puts
//          them later). Seqs the file lacks are filled with placeholders.
//
// A stream that starts above 1, or a session whose events were all pruned
// but whose lastEventSeq is set, gets an AdvanceSeqOp so later appends
// continue after the old mark.
//
// Thread-safety: one call at a time per store; completions of the commits
// run on the engine's thread and only touch the pipeline's counters.

#ifndef ACPSTORE_AEGIS_IMPORTER_H_
#define ACPSTORE_AEGIS_IMPORTER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "acpstore/options.h"
#include "acpstore/result.h"
#include "acpstore/store.h"
#include "aegis/mapping.h"
#include "engine/migration_target.h"

namespace acpstore::aegis {

struct ImportOptions {
  // Any report (a repair, a skip, an unknown field) aborts the import
  // before anything is written; the data directory is not even opened.
  bool strict = false;
  // Check only; write nothing (the store is never opened).
  bool dry_run = false;
  // Allow a store that already holds sessions or actions; ids that exist
  // there are still collisions.
  bool merge = false;
  // The live limits and how far an import may exceed them.
  MapOptions map;
  size_t batch_events = 500;     // events per mutation at most
  size_t batch_bytes = 4 << 20;  // and about this many bytes
  size_t max_in_flight = 4;      // mutations committing at once
  size_t chunk_bytes = 1 << 20;  // file read size
  // Each report line, as found: "<json path>: <what>" for a repair,
  // "<json path>: <why>; skipped" for a skipped record, "<path>[*].<name>:
  // unknown field in N records; not imported".
  std::function<void(const std::string& line)> on_problem;
  // stage ("checking", "importing"), bytes read, file size.
  std::function<void(std::string_view stage, uint64_t done, uint64_t total)>
      progress;
};

struct KindCounts {
  uint64_t read = 0;      // records of this kind in the file
  uint64_t imported = 0;  // written (or, for a dry run, that would be)
  // Of those, records with at least one repair: their own, or one decided
  // between records (moved into the session's scope, a cleared
  // idempotencyKey, an older pause resumed, a status reconciled, a
  // lastEventSeq not kept).
  uint64_t repaired = 0;
  uint64_t skipped = 0;   // read - imported (events: fills not counted)
};

struct ImportReport {
  KindCounts sessions, events, actions, pauses;
  uint64_t events_filled = 0;  // placeholders for seqs the file lacks
  uint64_t problems = 0;       // report lines
  uint64_t bytes = 0;          // file size
  uint32_t reads = 0;          // passes over the file
  // Repairs by kind (RepairKind order).
  uint64_t repairs[kRepairKindCount] = {};
  // Unknown fields: "sessions.foo" -> records that had it.
  std::map<std::string, uint64_t> unknown_fields;
  // Sessions whose stream continues after an old high-water mark.
  uint64_t advanced_sessions = 0;
  // The store was written.
  bool written = false;
  // Why nothing was written when it should have been (strict with
  // problems, or collisions); empty otherwise.
  std::string aborted;
  // "session <id> (tenant <t>)" / "action <id> (tenant <t>)" that exist in
  // the store already (in file order).
  std::vector<std::string> collisions;
  // tenant -> ownerKeyIds of the imported sessions.
  std::map<std::string, std::set<std::string>> owners;
  std::vector<std::string> unknown_keys;  // top-level keys ignored

  uint64_t skipped() const {
    return sessions.skipped + events.skipped + actions.skipped +
           pauses.skipped;
  }
};

// Opens the store to write into (engine::OpenForMigration); called once,
// only when the import is to be written (never for a dry run, a strict
// import with reports, or an unusable file), so those leave the data
// directory or database as it was. The target must outlive the call.
using StoreOpener = std::function<Result<engine::MigrationTarget*>()>;

// Fails (nothing written) when the file cannot be read or is not a
// version-1 state file (invalid JSON, truncated: the message names the byte
// offset and JSON path), when the store holds data and !merge, or when the
// store fails.
Result<ImportReport> ImportAegis(const std::string& path,
                                 const StoreOpener& open_store,
                                 const ImportOptions& options);
// The same with a store already open (may be null for a dry run).
Result<ImportReport> ImportAegis(const std::string& path,
                                 engine::MigrationTarget* target,
                                 const ImportOptions& options);

}  // namespace acpstore::aegis

#endif  // ACPSTORE_AEGIS_IMPORTER_H_
