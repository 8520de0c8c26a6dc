// The session lifecycle state machine (SPEC §2.1), as one table.
//
// Thread-safety: pure functions.

#ifndef ACPSTORE_RECORD_STATE_MACHINE_H_
#define ACPSTORE_RECORD_STATE_MACHINE_H_

#include <optional>

#include "acpstore/records.h"
#include "acpstore/result.h"

namespace acpstore::record {

// The status a session in `from` moves to on `event`, or kInvalidTransition
// whose message and details ("status", "event") name both.
Result<SessionStatus> NextStatus(SessionStatus from, SessionEvent event);

// The one lifecycle event that moves a session from `from` to `to`, for a
// PATCH that names the target status. Where two events lead there (from
// intervening, both run_started and resume_requested reach running), the
// one that ends a pause, resume_requested, is chosen. std::nullopt when no
// event does (or from == to).
std::optional<SessionEvent> EventTo(SessionStatus from, SessionStatus to);

// initializing, idle, running, paused or intervening.
bool IsActive(SessionStatus status);

}  // namespace acpstore::record

#endif  // ACPSTORE_RECORD_STATE_MACHINE_H_
