// Deciders for session records and event appends.
//
// Decisions recorded here (see also README.md):
//  - Session ids are unique per tenant, not per owner, so a tenant-wide
//    reader never sees two sessions with one id.
//  - A session belongs to the key that created it, even when that key is
//    an admin (kTenantWrite); its events, actions and pauses carry the
//    session's owner, so the owner always sees everything of its session.
//  - Appending events does not change the session's updatedAt: the event
//    stream is a separate resource with its own summary (Session::events);
//    updatedAt tracks the session record (status, fields, pauses).
//  - Appending to a terminal session is allowed: late tool events after a
//    close are normal and must not be lost. Retention windows still run
//    from when the session ended.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/uuid.h"
#include "engine/decide.h"
#include "engine/decide_util.h"
#include "record/state_machine.h"

namespace acpstore::engine {

Status SessionNotFound(std::string_view session_id) {
  return Status::NotFound("session not found")
      .With("sessionId", session_id);
}

Status ActionNotFound(std::string_view action_id) {
  return Status::NotFound("action not found").With("actionId", action_id);
}

Result<Session> Transitioned(const Session& session, SessionEvent event,
                             TimestampMs now) {
  Result<SessionStatus> next = record::NextStatus(session.status, event);
  if (!next.ok()) return std::move(next).error();
  Session s = session;
  s.status = *next;
  s.updated_at = now;
  if (s.status == SessionStatus::kClosed && !s.closed_at) s.closed_at = now;
  if (s.status == SessionStatus::kFailed && !s.failed_at) s.failed_at = now;
  return s;
}

// A raw transition (or a PATCH of the status) keeps the session's pause
// record in step in the same mutation, so "an active pause" always means
// "the session is paused or intervening" (SPEC §2.1): the pause routes
// then work on a session paused this way, and a later PauseSession is not
// refused by a stale record. The key that made the transition stands in
// for the routes' requestedBy / interventionBy / completedBy, and the
// event's name for the reason. `d` holds the transitioned session.
static Status SyncActivePause(const SessionEntry& e, SessionEvent event,
                              const Scope& scope, TimestampMs now,
                              Decision<Session>* d) {
  const SessionStatus to = d->result.status;
  const bool paused_after =
      to == SessionStatus::kPaused || to == SessionStatus::kIntervening;
  const Pause* active = e.pauses.Active();
  if (active == nullptr && !paused_after) return Status::OK();
  Pause p = active != nullptr
                ? *active
                : NewPause(e.session, std::nullopt, std::string(ToString(event)),
                           scope.owner_key_id, now);
  if (active == nullptr) {
    // pause_requested, or a session left paused without a record by an
    // earlier release: a record as the pause route would make it.
    if (to == SessionStatus::kIntervening) {
      ACPSTORE_RETURN_IF_ERROR(
          BeginIntervention(&p, std::nullopt, scope.owner_key_id, now));
    }
  } else if (event == SessionEvent::kInterventionStarted &&
             p.status == PauseStatus::kPaused) {
    ACPSTORE_RETURN_IF_ERROR(
        BeginIntervention(&p, std::nullopt, scope.owner_key_id, now));
  } else if (event == SessionEvent::kInterventionCompleted &&
             p.status == PauseStatus::kIntervening) {
    p.status = PauseStatus::kPaused;
    p.intervention_completed_by = scope.owner_key_id;
    p.intervention_completed_at = now;
  } else if (!paused_after) {
    p.status = PauseStatus::kResumed;
    p.resumed_at = now;
    // Canonical metadata: one key, an event name needing no escapes.
    p.resume_metadata =
        "{\"reason\":\"" + std::string(ToString(event)) + "\"}";
  } else {
    return Status::OK();
  }
  p.updated_at = now;
  d->mutation.UpsertPause(std::move(p));
  return Status::OK();
}

Result<Decision<Session>> DecideCreateSession(const StoreState& state,
                                              const DecideContext& ctx,
                                              const Scope& scope,
                                              NewSession req) {
  // A caller's own creation time may lag the server's clock, never lead it
  // by more than a little skew: every later change sets updatedAt = now,
  // which must not go backwards.
  constexpr TimestampMs kMaxCreatedAtSkewMs = 60'000;
  if (req.created_at && *req.created_at > ctx.now + kMaxCreatedAtSkewMs) {
    return Status::InvalidArgument(
               "createdAt is more than 60 s ahead of the server's clock")
        .With("field", "createdAt");
  }
  std::string id = req.id ? std::move(*req.id) : base::NewUuidV4();
  if (state.FindSessionInTenant(scope.tenant_id, id) != nullptr) {
    return Status::Conflict("a session with this id already exists")
        .With("sessionId", id);
  }
  Session s;
  s.id = std::move(id);
  s.tenant_id = scope.tenant_id;
  s.owner_key_id = scope.owner_key_id;
  s.conversation_id = req.conversation_id ? std::move(*req.conversation_id)
                                          : base::NewUuidV4();
  s.transcript_id = req.transcript_id ? std::move(*req.transcript_id)
                                      : base::NewUuidV4();
  s.parent_session_id = std::move(req.parent_session_id);
  s.root_session_id = std::move(req.root_session_id);
  s.correlation_id = std::move(req.correlation_id);
  s.resume_from_session_id = std::move(req.resume_from_session_id);
  s.acp_agent_session_id = std::move(req.acp_agent_session_id);
  s.claude_session_id = std::move(req.claude_session_id);
  s.current_backend_run_id = std::move(req.current_backend_run_id);
  s.backend_metadata = std::move(req.backend_metadata);
  s.validation_warnings = std::move(req.validation_warnings);
  s.status = SessionStatus::kInitializing;
  s.created_at = req.created_at.value_or(ctx.now);
  s.updated_at = s.created_at;

  Decision<Session> d;
  d.result = s;
  d.mutation.UpsertSession(std::move(s));
  return d;
}

Result<Decision<Session>> DecideUpdateSession(const StoreState& state,
                                              const DecideContext& ctx,
                                              const Scope& scope,
                                              std::string_view session_id,
                                              SessionPatch patch) {
  const SessionEntry* e = state.FindSession(scope, session_id);
  if (e == nullptr) return SessionNotFound(session_id);
  Session s = StoreState::View(*e);
  if (patch.acp_agent_session_id) {
    s.acp_agent_session_id = std::move(*patch.acp_agent_session_id);
  }
  if (patch.claude_session_id) {
    s.claude_session_id = std::move(*patch.claude_session_id);
  }
  if (patch.current_backend_run_id) {
    s.current_backend_run_id = std::move(*patch.current_backend_run_id);
  }
  if (patch.backend_metadata) {
    s.backend_metadata = std::move(*patch.backend_metadata);
  }
  if (patch.validation_warnings) {
    s.validation_warnings = std::move(*patch.validation_warnings);
  }
  s.updated_at = ctx.now;
  // A target status is reached by the one lifecycle event that leads there,
  // with that event's effects (closedAt, the active pause), atomically with
  // the other fields.
  std::optional<SessionEvent> event;
  if (patch.status && *patch.status != s.status) {
    event = record::EventTo(s.status, *patch.status);
    if (!event) {
      return Status::InvalidTransition(
                 "no lifecycle event moves a session from " +
                 std::string(ToString(s.status)) + " to " +
                 std::string(ToString(*patch.status)))
          .With("status", ToString(s.status))
          .With("to", ToString(*patch.status));
    }
    ACPSTORE_ASSIGN_OR_RETURN(s, Transitioned(s, *event, ctx.now));
  }

  Decision<Session> d;
  d.result = s;
  d.mutation.UpsertSession(std::move(s));
  if (event) {
    ACPSTORE_RETURN_IF_ERROR(SyncActivePause(*e, *event, scope, ctx.now, &d));
  }
  return d;
}

Result<Decision<Session>> DecideTransitionSession(const StoreState& state,
                                                  const DecideContext& ctx,
                                                  const Scope& scope,
                                                  std::string_view session_id,
                                                  SessionEvent event) {
  const SessionEntry* e = state.FindSession(scope, session_id);
  if (e == nullptr) return SessionNotFound(session_id);
  ACPSTORE_ASSIGN_OR_RETURN(Session s,
                            Transitioned(StoreState::View(*e), event, ctx.now));
  Decision<Session> d;
  d.result = s;
  d.mutation.UpsertSession(std::move(s));

  ACPSTORE_RETURN_IF_ERROR(SyncActivePause(*e, event, scope, ctx.now, &d));
  return d;
}

Result<Decision<Nothing>> DecideDeleteSession(const StoreState& state,
                                              const DecideContext&,
                                              const Scope& scope,
                                              std::string_view session_id) {
  const SessionEntry* e = state.FindSession(scope, session_id);
  if (e == nullptr) return SessionNotFound(session_id);
  if (!IsTerminal(e->session.status)) {
    return Status::Conflict("only a closed or failed session can be deleted")
        .With("status", ToString(e->session.status));
  }
  Decision<Nothing> d;
  d.mutation.DeleteSession(e->session.tenant_id, e->session.id);
  return d;
}

Result<Decision<AppendResult>> DecideAppendEvents(const StoreState& state,
                                                  const DecideContext& ctx,
                                                  const Scope& scope,
                                                  std::string_view session_id,
                                                  AppendRequest req) {
  const SessionEntry* e = state.FindSession(scope, session_id);
  if (e == nullptr) return SessionNotFound(session_id);
  const Session& session = e->session;
  const EventStreamInfo info = e->events->Info();

  Decision<AppendResult> d;
  AppendResult& result = d.result;
  result.events.resize(req.events.size());
  result.created.assign(req.events.size(), false);
  std::vector<Event> fresh;
  EventSeq next = info.last_seq + 1;
  for (size_t i = 0; i < req.events.size(); ++i) {
    NewEvent& ne = req.events[i];
    if (ne.client_event_id) {
      ACPSTORE_ASSIGN_OR_RETURN(std::optional<Event> original,
                                state.FindClientEvent(*e, *ne.client_event_id));
      if (original) {
        result.events[i] = std::move(*original);
        continue;
      }
    }
    Event ev;
    ev.session_id = session.id;
    ev.tenant_id = session.tenant_id;
    ev.owner_key_id = session.owner_key_id;
    ev.seq = next++;
    ev.client_event_id = std::move(ne.client_event_id);
    ev.event_type = std::move(ne.event_type);
    ev.occurred_at = ne.occurred_at.value_or(ctx.now);
    ev.ingested_at = ctx.now;
    ev.backend_run_id = std::move(ne.backend_run_id);
    ev.payload_ref = std::move(ne.payload_ref);
    if (req.result_without_payloads) {
      std::string payload = std::move(ne.payload);
      result.events[i] = ev;
      ev.payload = std::move(payload);
    } else {
      ev.payload = std::move(ne.payload);
      result.events[i] = ev;
    }
    result.created[i] = true;
    fresh.push_back(std::move(ev));
  }
  if (fresh.empty()) return d;  // a pure retry: no condition to check

  if (req.expected_last_seq && *req.expected_last_seq != info.last_seq) {
    return Status::SeqConflict("expectedLastSeq " +
                               std::to_string(*req.expected_last_seq) +
                               " but lastSeq is " +
                               std::to_string(info.last_seq))
        .With("lastSeq", static_cast<int64_t>(info.last_seq));
  }
  result.any_created = true;
  EventSeq new_last = fresh.back().seq;
  uint64_t retained = info.retained + fresh.size();
  d.mutation.AppendEvents(session.tenant_id, session.id, std::move(fresh));
  uint64_t cap = ctx.options->retention.max_events_per_session;
  if (cap > 0 && retained > cap) {
    // A stream's retained events are every seq from its first to its last
    // (appends add the next seqs, drops take a prefix, an advance empties
    // it), so keeping the newest `cap` drops the rest.
    d.mutation.DropEvents(session.tenant_id, session.id, new_last - cap);
    d.events_dropped = retained - cap;
  }
  return d;
}

}  // namespace acpstore::engine
