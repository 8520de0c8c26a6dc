// Deciders for the pause -> intervene -> resume lifecycle (SPEC §2.4,
// §5.4). Each operation changes the pause record and the session status in
// one Mutation. Each is idempotent by its key: PauseSession by
// idempotencyKey, StartIntervention and CompleteIntervention by
// interventionId, ResumeSession by resumeId; a replay returns the record
// as it is now with created = false.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/uuid.h"
#include "engine/decide.h"
#include "engine/decide_util.h"

namespace acpstore::engine {
namespace {

Decision<PauseResult> Replay(const SessionEntry& e, const Pause& pause) {
  Decision<PauseResult> d;
  d.result.session = StoreState::View(e);
  d.result.pause = pause;
  d.result.created = false;
  return d;
}

Status NoActivePause() {
  return Status::NotPaused("the session has no active pause");
}

// The session's pause record that holds intervention `id`, current or
// earlier (ids are the routes' idempotency keys within the session).
const Pause* WithIntervention(const SessionEntry& e, std::string_view id) {
  const std::vector<Pause>& all = e.pauses.records();
  for (auto p = all.rbegin(); p != all.rend(); ++p) {
    if (p->intervention_id == id) return &*p;
    for (const std::string& earlier : p->earlier_intervention_ids) {
      if (earlier == id) return &*p;
    }
  }
  return nullptr;
}

}  // namespace

Pause NewPause(const Session& s, std::optional<std::string> pause_id,
               std::string reason, std::string requested_by, TimestampMs now) {
  Pause p;
  p.pause_id = pause_id ? std::move(*pause_id) : base::NewUuidV4();
  p.session_id = s.id;
  p.tenant_id = s.tenant_id;
  p.owner_key_id = s.owner_key_id;
  p.status = PauseStatus::kPaused;
  p.reason = std::move(reason);
  p.requested_by = std::move(requested_by);
  p.requested_at = now;
  return p;
}

Status BeginIntervention(Pause* p, std::optional<std::string> id,
                         std::string by, TimestampMs now) {
  if (p->intervention_id) {
    if (p->earlier_intervention_ids.size() + 1 >= kMaxInterventionsPerPause) {
      return Status::Conflict(
                 "this pause has had " +
                 std::to_string(kMaxInterventionsPerPause) +
                 " interventions, the most one pause holds: resume the "
                 "session, then pause it again")
          .With("pauseId", p->pause_id);
    }
    p->earlier_intervention_ids.push_back(std::move(*p->intervention_id));
  }
  p->status = PauseStatus::kIntervening;
  p->intervention_id = id ? std::move(*id) : base::NewUuidV4();
  p->intervention_by = std::move(by);
  p->intervention_started_at = now;
  p->intervention_completed_by.reset();
  p->intervention_completed_at.reset();
  p->guidance.reset();
  return Status::OK();
}

namespace {

// Session and pause moved together by `event`.
Result<Decision<PauseResult>> Move(const SessionEntry& e, SessionEvent event,
                                   Pause pause, const DecideContext& ctx) {
  ACPSTORE_ASSIGN_OR_RETURN(Session s,
                            Transitioned(StoreState::View(e), event, ctx.now));
  pause.updated_at = ctx.now;
  Decision<PauseResult> d;
  d.result.session = s;
  d.result.pause = pause;
  d.result.created = true;
  d.mutation.UpsertSession(std::move(s));
  d.mutation.UpsertPause(std::move(pause));
  return d;
}

}  // namespace

Result<Decision<PauseResult>> DecidePauseSession(const StoreState& state,
                                                 const DecideContext& ctx,
                                                 const Scope& scope,
                                                 std::string_view session_id,
                                                 PauseRequest req) {
  const SessionEntry* e = state.FindSession(scope, session_id);
  if (e == nullptr) return SessionNotFound(session_id);
  if (req.idempotency_key) {
    if (const Pause* p = e->pauses.ByIdempotencyKey(*req.idempotency_key)) {
      return Replay(*e, *p);
    }
  }
  // A caller-chosen id names one record: a new pause may not take it (the
  // book would replace the old record).
  if (req.pause_id && e->pauses.ById(*req.pause_id) != nullptr) {
    return Status::Conflict("a pause with this pauseId exists in the session")
        .With("field", "pauseId")
        .With("pauseId", *req.pause_id);
  }
  // Checked before the state machine so a second pause hears "already
  // paused", not "invalid transition from paused".
  if (const Pause* active = e->pauses.Active()) {
    return Status::AlreadyPaused("the session already has an active pause")
        .With("pauseId", active->pause_id)
        .With("status", ToString(active->status));
  }
  Pause p = NewPause(e->session, std::move(req.pause_id), std::move(req.reason),
                     std::move(req.requested_by), ctx.now);
  p.idempotency_key = std::move(req.idempotency_key);
  p.metadata = std::move(req.metadata);
  return Move(*e, SessionEvent::kPauseRequested, std::move(p), ctx);
}

Result<Decision<PauseResult>> DecideStartIntervention(
    const StoreState& state, const DecideContext& ctx, const Scope& scope,
    std::string_view session_id, InterventionStartRequest req) {
  const SessionEntry* e = state.FindSession(scope, session_id);
  if (e == nullptr) return SessionNotFound(session_id);
  // Started before (in progress, completed, or followed by others, a
  // resume included): a replay, whatever happened after it, so this comes
  // before the need for an active pause.
  if (req.intervention_id) {
    if (const Pause* held = WithIntervention(*e, *req.intervention_id)) {
      return Replay(*e, *held);
    }
  }
  const Pause* active = e->pauses.Active();
  if (active == nullptr) return NoActivePause();
  if (active->status == PauseStatus::kIntervening) {
    return Status::NotPaused("an intervention is already in progress")
        .With("status", ToString(active->status));
  }
  Pause p = *active;
  ACPSTORE_RETURN_IF_ERROR(BeginIntervention(&p, std::move(req.intervention_id),
                                             std::move(req.intervention_by),
                                             ctx.now));
  return Move(*e, SessionEvent::kInterventionStarted, std::move(p), ctx);
}

Result<Decision<PauseResult>> DecideCompleteIntervention(
    const StoreState& state, const DecideContext& ctx, const Scope& scope,
    std::string_view session_id, InterventionCompleteRequest req) {
  const SessionEntry* e = state.FindSession(scope, session_id);
  if (e == nullptr) return SessionNotFound(session_id);
  const Pause* active = e->pauses.Active();
  const bool in_progress = active != nullptr &&
                           active->status == PauseStatus::kIntervening &&
                           active->intervention_id == req.intervention_id;
  if (!in_progress) {
    // Completed before (an intervention ends before the next starts): a
    // replay, whatever happened after it.
    if (const Pause* held = WithIntervention(*e, req.intervention_id)) {
      return Replay(*e, *held);
    }
    return Status::NotPaused("no intervention with this id is in progress")
        .With("interventionId", req.intervention_id);
  }
  Pause p = *active;
  p.status = PauseStatus::kPaused;
  p.intervention_completed_by = std::move(req.completed_by);
  p.intervention_completed_at = ctx.now;
  p.guidance = std::move(req.guidance);
  return Move(*e, SessionEvent::kInterventionCompleted, std::move(p), ctx);
}

Result<Decision<PauseResult>> DecideResumeSession(const StoreState& state,
                                                  const DecideContext& ctx,
                                                  const Scope& scope,
                                                  std::string_view session_id,
                                                  ResumeRequest req) {
  const SessionEntry* e = state.FindSession(scope, session_id);
  if (e == nullptr) return SessionNotFound(session_id);
  if (req.resume_id) {
    if (const Pause* p = e->pauses.ByResumeId(*req.resume_id)) {
      return Replay(*e, *p);
    }
  }
  const Pause* active = e->pauses.Active();
  if (active == nullptr) return NoActivePause();
  Pause p = *active;
  p.status = PauseStatus::kResumed;
  p.resume_id = req.resume_id ? std::move(*req.resume_id) : base::NewUuidV4();
  p.resumed_by = std::move(req.resumed_by);
  p.resumed_at = ctx.now;
  p.resume_metadata = std::move(req.metadata);
  return Move(*e, SessionEvent::kResumeRequested, std::move(p), ctx);
}

}  // namespace acpstore::engine
