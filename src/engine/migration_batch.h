// CheckMigrationBatch: what every engine re-checks before it writes a
// migration's batch (migration_target.h), against the state the batch will
// be applied to, so the check and the write are atomic: the memory and
// file engines run it under their lock, the postgres engine over the rows
// it loaded and locked in the batch's transaction (decision 0010).
//
// Thread-safety: a pure function; the caller holds whatever makes `state`
// stable.

#ifndef ACPSTORE_ENGINE_MIGRATION_BATCH_H_
#define ACPSTORE_ENGINE_MIGRATION_BATCH_H_

#include "acpstore/status.h"
#include "engine/state.h"
#include "record/mutation.h"

namespace acpstore::engine {

// kConflict naming the id when the batch creates a session or action that
// `state` holds (or creates one session twice); kInternal when appended
// events or a raised high-water mark do not continue their stream, or
// events name a session that is neither in `state` nor created earlier in
// the batch.
Status CheckMigrationBatch(const StoreState& state, const record::Mutation& m);

}  // namespace acpstore::engine

#endif  // ACPSTORE_ENGINE_MIGRATION_BATCH_H_
