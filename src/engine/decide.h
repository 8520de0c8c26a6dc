// Deciders: each store mutation, decided against a StoreState. A decider
// reads the state, checks the request against the records (scope, state
// machine, idempotency, leases, seq conditions) and returns either a
// failure Status or a Decision: the Mutation to apply plus the result the
// caller will receive once it is applied (records as post-images; leases
// with their token). Deciders never change the state, never do I/O and
// never call user code, so an engine may run them under its lock, apply
// the Mutation, and journal it as it sees fit.
//
// Preconditions: the request was validated (record/validate.h) and the
// scope may write (engines refuse kTenantRead with kForbidden before
// deciding).
//
// Thread-safety: pure with respect to the state; the caller holds the lock
// that guards `state`.

#ifndef ACPSTORE_ENGINE_DECIDE_H_
#define ACPSTORE_ENGINE_DECIDE_H_

#include <optional>
#include <string>
#include <string_view>

#include "acpstore/options.h"
#include "acpstore/records.h"
#include "acpstore/result.h"
#include "acpstore/store.h"
#include "engine/state.h"
#include "record/mutation.h"

namespace acpstore::engine {

// What every decider may consult besides the state. Borrowed: the options
// outlive the call.
struct DecideContext {
  TimestampMs now = 0;
  const StoreOptions* options = nullptr;
};

template <typename T>
struct Decision {
  record::Mutation mutation;
  T result;
  // Retained events the mutation drops (an append past
  // --max-events-per-session): what StoreState::Apply will count into
  // events_dropped_retention, for an engine that does not apply the
  // mutation to a StoreState of its own (postgres).
  uint64_t events_dropped = 0;
};

struct Nothing {};

// ---------------------------------------------------------------- sessions
Result<Decision<Session>> DecideCreateSession(const StoreState& state,
                                              const DecideContext& ctx,
                                              const Scope& scope,
                                              NewSession req);
Result<Decision<Session>> DecideUpdateSession(const StoreState& state,
                                              const DecideContext& ctx,
                                              const Scope& scope,
                                              std::string_view session_id,
                                              SessionPatch patch);
// Also keeps an active pause record in step with a raw transition: see
// decide_sessions.cc.
Result<Decision<Session>> DecideTransitionSession(const StoreState& state,
                                                  const DecideContext& ctx,
                                                  const Scope& scope,
                                                  std::string_view session_id,
                                                  SessionEvent event);
Result<Decision<Nothing>> DecideDeleteSession(const StoreState& state,
                                              const DecideContext& ctx,
                                              const Scope& scope,
                                              std::string_view session_id);

// ------------------------------------------------------------------ events
Result<Decision<AppendResult>> DecideAppendEvents(const StoreState& state,
                                                  const DecideContext& ctx,
                                                  const Scope& scope,
                                                  std::string_view session_id,
                                                  AppendRequest req);

// ----------------------------------------------------------------- actions
Result<Decision<EnqueueResult>> DecideEnqueueAction(const StoreState& state,
                                                    const DecideContext& ctx,
                                                    const Scope& scope,
                                                    NewAction req);
// Expired leases must have been swept first (DecideLeaseSweep) for a lease
// to see the actions they requeue.
Result<Decision<std::optional<Action>>> DecideLeaseAction(
    const StoreState& state, const DecideContext& ctx, const Scope& scope,
    const LeaseRequest& req);
Result<Decision<Action>> DecideHeartbeatAction(const StoreState& state,
                                               const DecideContext& ctx,
                                               const Scope& scope,
                                               std::string_view action_id,
                                               std::string_view lease_token,
                                               int64_t lease_ms);
Result<Decision<Action>> DecideCompleteAction(
    const StoreState& state, const DecideContext& ctx, const Scope& scope,
    std::string_view action_id, std::string_view lease_token,
    std::optional<std::string> result_metadata);
Result<Decision<Action>> DecideFailAction(
    const StoreState& state, const DecideContext& ctx, const Scope& scope,
    std::string_view action_id, std::string_view lease_token,
    std::optional<std::string> error_metadata, bool retry);
Result<Decision<Action>> DecideCancelAction(
    const StoreState& state, const DecideContext& ctx, const Scope& scope,
    std::string_view action_id, std::optional<std::string> error_metadata);

// ------------------------------------------------------------------ pauses
Result<Decision<PauseResult>> DecidePauseSession(const StoreState& state,
                                                 const DecideContext& ctx,
                                                 const Scope& scope,
                                                 std::string_view session_id,
                                                 PauseRequest req);
Result<Decision<PauseResult>> DecideStartIntervention(
    const StoreState& state, const DecideContext& ctx, const Scope& scope,
    std::string_view session_id, InterventionStartRequest req);
Result<Decision<PauseResult>> DecideCompleteIntervention(
    const StoreState& state, const DecideContext& ctx, const Scope& scope,
    std::string_view session_id, InterventionCompleteRequest req);
Result<Decision<PauseResult>> DecideResumeSession(const StoreState& state,
                                                  const DecideContext& ctx,
                                                  const Scope& scope,
                                                  std::string_view session_id,
                                                  ResumeRequest req);

// ------------------------------------------------------------- maintenance
// Expired leases: requeued with backoff while attempts remain, else failed
// with errorMetadata {"reason":"lease_expired"}. Counts into *report.
record::Mutation DecideLeaseSweep(const StoreState& state,
                                  const DecideContext& ctx,
                                  MaintenanceReport* report);
// Time-based retention (terminal events, terminal sessions, terminal
// actions). Counts into *report.
record::Mutation DecideRetention(const StoreState& state,
                                 const DecideContext& ctx,
                                 MaintenanceReport* report);

// The delay before the next attempt of an action that has been leased
// `attempt_count` times: initial * 2^(attempt_count - 1), capped.
int64_t RetryBackoffMs(const LeaseOptions& leases, uint32_t attempt_count);

}  // namespace acpstore::engine

#endif  // ACPSTORE_ENGINE_DECIDE_H_
