// ImportAegis: moves an Aegis state file into a store (SPEC §8), for
// `acpstore import-aegis`. docs/aegis_format.md is the format;
// docs/operations.md the operator's view.
//
// It reads the file as a stream (reader.h), in passes, so memory holds one
// record, one write batch per in-flight commit, and a small entry per
// session, never the file:
//   check  every record is mapped and validated (mapping.h) and checked
//          against the others: its session exists in the file and agrees
//          on scope, ids are unique, event seqs ascend. Each record that
//          breaks a rule is reported (path: reason) and will be skipped.
//          With a store, ids that already exist there are collisions.
//          Records that come before the sessions they need are checked in
//          a second read.
//   write  unless dry_run, strict with problems, or collisions: the good
//          records are committed through engine::ImportTarget in batches
//          (a session with its high-water mark, events a few hundred per
//          mutation, several mutations in flight), sessions before what
//          depends on them (a second read when the file puts them later).
//
// Event streams stay dense: a session keeps its newest gap-free run of
// events; a hole (a missing or skipped event) drops the events before it,
// as retention would have, and is reported. A stream that starts above 1,
// or a session whose events were all pruned but whose lastEventSeq is set,
// gets an AdvanceSeqOp so later appends continue after the old mark.
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

namespace acpstore::aegis {

struct ImportOptions {
  // Any problem aborts the import before anything is written.
  bool strict = false;
  // Check only; write nothing (the store may be null).
  bool dry_run = false;
  // Allow a store that already holds sessions or actions; ids that exist
  // there are still collisions.
  bool merge = false;
  Limits limits;
  size_t batch_events = 500;     // events per mutation at most
  size_t batch_bytes = 4 << 20;  // and about this many bytes
  size_t max_in_flight = 4;      // mutations committing at once
  size_t chunk_bytes = 1 << 20;  // file read size
  // Each problem as "<json path>: <reason>", as found.
  std::function<void(const std::string& problem)> on_problem;
  // stage ("checking", "importing"), bytes read, file size.
  std::function<void(std::string_view stage, uint64_t done, uint64_t total)>
      progress;
};

struct KindCounts {
  uint64_t read = 0;      // records of this kind in the file
  uint64_t imported = 0;  // written (or, for a dry run, that would be)
  uint64_t skipped = 0;   // read - imported
};

struct ImportReport {
  KindCounts sessions, events, actions, pauses;
  uint64_t problems = 0;
  uint64_t bytes = 0;  // file size
  uint32_t reads = 0;  // passes over the file
  // Sessions whose stream continues after an old high-water mark.
  uint64_t advanced_sessions = 0;
  // Nothing was written: dry run, or aborted.
  bool written = false;
  // Why nothing was written when it should have been (strict with
  // problems, or collisions); empty otherwise.
  std::string aborted;
  // "session <id> (tenant <t>)" / "action <id> (tenant <t>)" that exist in
  // the store already.
  std::vector<std::string> collisions;
  // tenant -> ownerKeyIds of the imported sessions.
  std::map<std::string, std::set<std::string>> owners;
  std::vector<std::string> unknown_keys;  // top-level keys ignored
};

// Fails (nothing written) when the file cannot be read or is not a
// version-1 state file (invalid JSON, truncated: the message names the byte
// offset and JSON path), when the store holds data and !merge, or when the
// store fails. `store` must implement engine::ImportTarget; it may be null
// only for a dry run.
Result<ImportReport> ImportAegis(const std::string& path, Store* store,
                                 const ImportOptions& options);

}  // namespace acpstore::aegis

#endif  // ACPSTORE_AEGIS_IMPORTER_H_
