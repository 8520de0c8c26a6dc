// Helpers shared by the decide_*.cc files. Internal to src/engine.
//
// Thread-safety: pure functions.

#ifndef ACPSTORE_ENGINE_DECIDE_UTIL_H_
#define ACPSTORE_ENGINE_DECIDE_UTIL_H_

#include <optional>
#include <string>
#include <string_view>

#include "acpstore/records.h"
#include "acpstore/result.h"
#include "acpstore/status.h"

namespace acpstore::engine {

// Missing and out-of-scope records answer alike (SPEC §6).
Status SessionNotFound(std::string_view session_id);
Status ActionNotFound(std::string_view action_id);

// `session` after the state machine took `event` at `now`: status,
// updated_at, and closed_at/failed_at on the first entry into them.
// kInvalidTransition (details "status", "event") when not allowed.
Result<Session> Transitioned(const Session& session, SessionEvent event,
                             TimestampMs now);

// A new active pause record of `s` (status paused), as PauseSession and a
// raw pause_requested make it; `pause_id` a UUIDv4 if none.
Pause NewPause(const Session& s, std::optional<std::string> pause_id,
               std::string reason, std::string requested_by, TimestampMs now);

// `p` (an active record in `paused`) starts an intervention under `id` (a
// UUIDv4 if none) by `by` at `now`: its current intervention, if any,
// becomes an earlier one and the completion fields are cleared.
// kConflict past kMaxInterventionsPerPause.
Status BeginIntervention(Pause* p, std::optional<std::string> id,
                         std::string by, TimestampMs now);

}  // namespace acpstore::engine

#endif  // ACPSTORE_ENGINE_DECIDE_UTIL_H_
