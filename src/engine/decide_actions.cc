// Deciders for the action queue: enqueue, lease, heartbeat, complete,
// fail, cancel, and the expired-lease sweep.
//
// Decisions recorded here (see also README.md):
//  - An action carries its session's owner, like the session's events.
//  - Enqueueing for a terminal session is allowed: the spec does not
//    forbid it and a worker may still need to act (e.g. a close).
//  - LeaseAction with a sessionId the scope cannot see is kNotFound, not
//    "nothing eligible", so a worker polling a deleted session notices.
//  - A lease whose time ran out can still be heartbeated or completed
//    until a sweep (maintenance or the next LeaseAction) requeues it.
//  - FailAction sets errorMetadata to what that fail sent, clearing it
//    when it sent none (SPEC §2.3).

#include <algorithm>
#include <string>
#include <utility>

#include "base/uuid.h"
#include "engine/decide.h"
#include "engine/decide_util.h"

namespace acpstore::engine {
namespace {

constexpr char kLeaseExpiredMetadata[] = "{\"reason\":\"lease_expired\"}";

// The current leased record, if `lease_token` is its token.
Result<const ActionEntry*> FindLeased(const StoreState& state,
                                      const Scope& scope,
                                      std::string_view action_id,
                                      std::string_view lease_token) {
  const ActionEntry* e = state.FindAction(scope, action_id);
  if (e == nullptr) return ActionNotFound(action_id);
  const Action& a = e->action;
  if (std::optional<uint32_t> attempt = ParseAttemptLeaseClaim(lease_token)) {
    // Named by attempt number (store.h): a sweep or a new lease changed it.
    if (a.status != ActionStatus::kLeased || a.attempt_count != *attempt) {
      return Status::StaleLease(a.status == ActionStatus::kLeased
                                    ? "attemptCount is not the current lease's"
                                    : "action is not leased")
          .With("status", ToString(a.status));
    }
    return e;
  }
  if (a.status != ActionStatus::kLeased || a.lease_token.empty() ||
      a.lease_token != lease_token) {
    return Status::StaleLease(a.status == ActionStatus::kLeased
                                  ? "lease token is not the current one"
                                  : "action is not leased")
        .With("status", ToString(a.status));
  }
  return e;
}

void EndLease(Action* a) {
  a->leased_until.reset();
  a->lease_token.clear();
}

// Back to the queue after a failed or expired attempt, or failed for good
// once the attempts are used up. Returns true when requeued.
bool RequeueOrFail(Action* a, const DecideContext& ctx) {
  EndLease(a);
  a->updated_at = ctx.now;
  const LeaseOptions& leases = ctx.options->leases;
  if (a->attempt_count < leases.max_attempts) {
    a->status = ActionStatus::kQueued;
    a->available_at = ctx.now + RetryBackoffMs(leases, a->attempt_count);
    return true;
  }
  a->status = ActionStatus::kFailed;
  a->failed_at = ctx.now;
  return false;
}

}  // namespace

int64_t RetryBackoffMs(const LeaseOptions& leases, uint32_t attempt_count) {
  int64_t delay = std::max<int64_t>(leases.initial_backoff_ms, 0);
  int64_t cap = std::max<int64_t>(leases.max_backoff_ms, 0);
  for (uint32_t i = 1; i < attempt_count && delay < cap; ++i) delay *= 2;
  return std::min(delay, cap);
}

Result<Decision<EnqueueResult>> DecideEnqueueAction(const StoreState& state,
                                                    const DecideContext& ctx,
                                                    const Scope& scope,
                                                    NewAction req) {
  const SessionEntry* session = state.FindSession(scope, req.session_id);
  if (session == nullptr) return SessionNotFound(req.session_id);

  Decision<EnqueueResult> d;
  if (req.idempotency_key) {
    const ActionEntry* prior = state.FindActionByIdempotencyKey(
        session->session.tenant_id, session->session.id, *req.idempotency_key);
    if (prior != nullptr) {
      if (prior->action.type != req.type ||
          prior->action.metadata != req.metadata) {
        return Status::IdempotencyConflict(
                   "idempotencyKey was used with a different type or "
                   "metadata")
            .With("actionId", prior->action.action_id);
      }
      d.result.action = StoreState::View(*prior);
      d.result.created = false;
      return d;
    }
  }
  std::string id = req.action_id ? std::move(*req.action_id)
                                 : base::NewUuidV4();
  if (state.FindActionInTenant(scope.tenant_id, id) != nullptr) {
    return Status::Conflict("an action with this id already exists")
        .With("actionId", id);
  }
  Action a;
  a.action_id = std::move(id);
  a.session_id = session->session.id;
  a.tenant_id = session->session.tenant_id;
  a.owner_key_id = session->session.owner_key_id;
  a.type = req.type;
  a.idempotency_key = std::move(req.idempotency_key);
  a.approval_id = std::move(req.approval_id);
  a.control_request_id = std::move(req.control_request_id);
  a.status = ActionStatus::kQueued;
  a.created_at = ctx.now;
  a.available_at = req.available_at.value_or(ctx.now);
  a.updated_at = ctx.now;
  a.metadata = std::move(req.metadata);
  d.result.action = a;
  d.result.created = true;
  d.mutation.UpsertAction(std::move(a));
  return d;
}

Result<Decision<std::optional<Action>>> DecideLeaseAction(
    const StoreState& state, const DecideContext& ctx, const Scope& scope,
    const LeaseRequest& req) {
  const SessionEntry* only_session = nullptr;
  if (req.session_id) {
    only_session = state.FindSession(scope, *req.session_id);
    if (only_session == nullptr) return SessionNotFound(*req.session_id);
  }
  Decision<std::optional<Action>> d;
  const ActionEntry* e =
      state.NextLeasable(scope, only_session, req.types, ctx.now);
  if (e == nullptr) return d;
  Action a = e->action;
  a.status = ActionStatus::kLeased;
  a.attempt_count += 1;
  a.lease_token = base::RandomHex128();
  a.leased_until = ctx.now + req.lease_ms;
  a.updated_at = ctx.now;
  d.result = a;  // the token is returned to the leaseholder only
  d.mutation.UpsertAction(std::move(a));
  return d;
}

Result<Decision<Action>> DecideHeartbeatAction(const StoreState& state,
                                               const DecideContext& ctx,
                                               const Scope& scope,
                                               std::string_view action_id,
                                               std::string_view lease_token,
                                               int64_t lease_ms) {
  ACPSTORE_ASSIGN_OR_RETURN(const ActionEntry* e,
                            FindLeased(state, scope, action_id, lease_token));
  Action a = e->action;
  a.leased_until = ctx.now + lease_ms;
  a.updated_at = ctx.now;
  Decision<Action> d;
  d.result = a;
  d.mutation.UpsertAction(std::move(a));
  return d;
}

Result<Decision<Action>> DecideCompleteAction(
    const StoreState& state, const DecideContext& ctx, const Scope& scope,
    std::string_view action_id, std::string_view lease_token,
    std::optional<std::string> result_metadata) {
  ACPSTORE_ASSIGN_OR_RETURN(const ActionEntry* e,
                            FindLeased(state, scope, action_id, lease_token));
  Action a = e->action;
  EndLease(&a);
  a.status = ActionStatus::kCompleted;
  a.completed_at = ctx.now;
  a.updated_at = ctx.now;
  if (result_metadata) a.result_metadata = std::move(result_metadata);
  Decision<Action> d;
  d.result = a;
  d.mutation.UpsertAction(std::move(a));
  return d;
}

Result<Decision<Action>> DecideFailAction(
    const StoreState& state, const DecideContext& ctx, const Scope& scope,
    std::string_view action_id, std::string_view lease_token,
    std::optional<std::string> error_metadata, bool retry) {
  ACPSTORE_ASSIGN_OR_RETURN(const ActionEntry* e,
                            FindLeased(state, scope, action_id, lease_token));
  Action a = e->action;
  // Replaced, not merged: the record describes this failure, and keeping an
  // earlier attempt's metadata would pin that failure's cause on this one.
  a.error_metadata = std::move(error_metadata);
  if (retry) {
    RequeueOrFail(&a, ctx);
  } else {
    EndLease(&a);
    a.status = ActionStatus::kFailed;
    a.failed_at = ctx.now;
    a.updated_at = ctx.now;
  }
  Decision<Action> d;
  d.result = a;
  d.mutation.UpsertAction(std::move(a));
  return d;
}

Result<Decision<Action>> DecideCancelAction(
    const StoreState& state, const DecideContext& ctx, const Scope& scope,
    std::string_view action_id, std::optional<std::string> error_metadata) {
  const ActionEntry* e = state.FindAction(scope, action_id);
  if (e == nullptr) return ActionNotFound(action_id);
  Action a = e->action;
  if (IsTerminal(a.status)) {
    return Status::InvalidTransition("a " + std::string(ToString(a.status)) +
                                     " action cannot be cancelled")
        .With("status", ToString(a.status));
  }
  EndLease(&a);
  a.status = ActionStatus::kCancelled;
  a.cancelled_at = ctx.now;
  a.updated_at = ctx.now;
  if (error_metadata) a.error_metadata = std::move(error_metadata);
  Decision<Action> d;
  d.result = a;
  d.mutation.UpsertAction(std::move(a));
  return d;
}

record::Mutation DecideLeaseSweep(const StoreState& state,
                                  const DecideContext& ctx,
                                  MaintenanceReport* report) {
  record::Mutation m;
  for (const ActionEntry* e : state.ExpiredLeases(ctx.now)) {
    Action a = e->action;
    // The attempt failed by running out, requeued or not: errorMetadata
    // describes the latest failure, as a fail's does (SPEC §2.3), not an
    // earlier attempt's.
    a.error_metadata = kLeaseExpiredMetadata;
    if (RequeueOrFail(&a, ctx)) {
      ++report->leases_requeued;
    } else {
      ++report->leases_dead_lettered;
    }
    m.UpsertAction(std::move(a));
  }
  return m;
}

}  // namespace acpstore::engine
