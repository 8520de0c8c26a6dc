// ImportTarget: the engine-internal hook through which DecidingStore (the
// memory and file engines) decides a raw Mutation under its lock, keeping
// ids, sequence numbers and timestamps that the public Store API would
// assign anew. Tools do not use it: they get an engine::MigrationTarget from
// OpenForMigration (migration_target.h, decision 0010), which the memory and
// file engines implement on top of this (migration_state.cc).
//
// The decider runs under the engine's lock against its current state, so it
// can refuse a collision (an id that already exists) atomically with the
// write; the Mutation it returns is applied and made durable exactly like a
// decided request (one journal record in the file engine), and `done` runs
// once it is durable. Nothing here validates records: the migration must
// pass each one through record/validate.h first.
//
// Thread-safety: as the engine's mutations (any thread).

#ifndef ACPSTORE_ENGINE_IMPORT_TARGET_H_
#define ACPSTORE_ENGINE_IMPORT_TARGET_H_

#include <functional>

#include "acpstore/result.h"
#include "acpstore/store.h"
#include "engine/state.h"
#include "record/mutation.h"

namespace acpstore::engine {

class ImportTarget {
 public:
  using Decider = std::function<Result<record::Mutation>(const StoreState&)>;

  virtual void CommitImport(Decider decide, StatusCompletion done) = 0;

 protected:
  ~ImportTarget() = default;
};

}  // namespace acpstore::engine

#endif  // ACPSTORE_ENGINE_IMPORT_TARGET_H_
