// The session lifecycle state machine (SPEC §2.1), as one table.
//
// Thread-safety: pure functions.

#ifndef ACPSTORE_RECORD_STATE_MACHINE_H_
#define ACPSTORE_RECORD_STATE_MACHINE_H_

#include "acpstore/records.h"
#include "acpstore/result.h"

namespace acpstore::record {

// The status a session in `from` moves to on `event`, or kInvalidTransition
// whose message and details ("status", "event") name both.
Result<SessionStatus> NextStatus(SessionStatus from, SessionEvent event);

// initializing, idle, running, paused or intervening.
bool IsActive(SessionStatus status);

}  // namespace acpstore::record

#endif  // ACPSTORE_RECORD_STATE_MACHINE_H_
