// MemoryStore: see memory_store.h.

#include "engine/memory_store.h"

#include <chrono>
#include <utility>

#include "engine/memory_event_log.h"
#include "engine/queries.h"
#include "record/validate.h"

namespace acpstore::engine {
namespace {

Status ReadOnly() {
  return Status::Forbidden("this key may read but not write");
}

template <typename T>
void Finish(const Completion<T>& done, Result<T> result) {
  if (done) done(std::move(result));
}

}  // namespace

MemoryStore::MemoryStore(const StoreOptions& options)
    : options_(options),
      clock_(options.clock != nullptr ? options.clock : SystemClock()),
      state_(MemoryEventLog::Factory()) {
  if (options_.maintenance_interval_ms > 0) {
    maintenance_ = std::make_unique<PeriodicThread>(
        std::chrono::milliseconds(options_.maintenance_interval_ms),
        [this] { RunMaintenance(nullptr); });
  }
}

MemoryStore::~MemoryStore() {
  // First: the maintenance task uses every other member.
  maintenance_.reset();
}

DecideContext MemoryStore::Context() const {
  return DecideContext{clock_->NowMs(), &options_};
}

Status MemoryStore::ApplyLocked(record::Mutation&& mutation,
                                std::vector<std::string>* notify) {
  std::vector<std::string> keys = SubscriptionHub::SessionsToNotify(mutation);
  notify->insert(notify->end(), keys.begin(), keys.end());
  Status s = state_.Apply(std::move(mutation));
  if (!s.ok()) {
    return Status::Internal("memory store applied an inconsistent mutation: " +
                            std::string(s.message()));
  }
  return s;
}

template <typename T, typename Decide>
void MemoryStore::Commit(Completion<T> done, Decide decide,
                         bool sweep_leases_first) {
  std::optional<Result<T>> out;
  std::vector<std::string> notify;
  {
    base::MutexLock lock(&mu_);
    DecideContext ctx = Context();
    Status applied;
    if (sweep_leases_first) {
      MaintenanceReport unused;
      applied = ApplyLocked(DecideLeaseSweep(state_, ctx, &unused), &notify);
    }
    if (applied.ok()) {
      Result<Decision<T>> d = decide(static_cast<const StoreState&>(state_),
                                     ctx);
      if (!d.ok()) {
        applied = std::move(d).error();
      } else {
        applied = ApplyLocked(std::move(d->mutation), &notify);
        if (applied.ok()) out.emplace(std::move(d->result));
      }
    }
    if (!out) out.emplace(std::move(applied));
  }
  hub_.Notify(notify);
  Finish(done, std::move(*out));
}

// ----------------------------------------------------------------- sessions

void MemoryStore::CreateSession(const Scope& scope, NewSession req,
                                Completion<Session> done) {
  Status s = record::ValidateNewSession(&req, options_.limits);
  if (!s.ok()) return Finish<Session>(done, std::move(s));
  if (!scope.CanWrite()) return Finish<Session>(done, ReadOnly());
  Commit(std::move(done), [&](const StoreState& st, const DecideContext& ctx) {
    return DecideCreateSession(st, ctx, scope, std::move(req));
  });
}

Result<Session> MemoryStore::GetSession(const Scope& scope,
                                        std::string_view session_id) {
  base::MutexLock lock(&mu_);
  return QueryGetSession(state_, scope, session_id);
}

Result<SessionPage> MemoryStore::ListSessions(const Scope& scope,
                                              const SessionQuery& query) {
  ACPSTORE_RETURN_IF_ERROR(record::ValidateSessionQuery(query));
  base::MutexLock lock(&mu_);
  return QueryListSessions(state_, scope, query);
}

void MemoryStore::UpdateSession(const Scope& scope,
                                std::string_view session_id,
                                SessionPatch patch, Completion<Session> done) {
  Status s = record::ValidateSessionPatch(&patch, options_.limits);
  if (!s.ok()) return Finish<Session>(done, std::move(s));
  if (!scope.CanWrite()) return Finish<Session>(done, ReadOnly());
  Commit(std::move(done), [&](const StoreState& st, const DecideContext& ctx) {
    return DecideUpdateSession(st, ctx, scope, session_id, std::move(patch));
  });
}

void MemoryStore::TransitionSession(const Scope& scope,
                                    std::string_view session_id,
                                    SessionEvent event,
                                    Completion<Session> done) {
  if (!scope.CanWrite()) return Finish<Session>(done, ReadOnly());
  Commit(std::move(done), [&](const StoreState& st, const DecideContext& ctx) {
    return DecideTransitionSession(st, ctx, scope, session_id, event);
  });
}

void MemoryStore::DeleteSession(const Scope& scope,
                                std::string_view session_id,
                                StatusCompletion done) {
  Completion<Nothing> adapt = [&done](Result<Nothing> r) {
    if (done) done(r.status());
  };
  if (!scope.CanWrite()) return Finish<Nothing>(adapt, ReadOnly());
  Commit(std::move(adapt), [&](const StoreState& st, const DecideContext& ctx) {
    return DecideDeleteSession(st, ctx, scope, session_id);
  });
}

// ------------------------------------------------------------------- events

void MemoryStore::AppendEvents(const Scope& scope, std::string_view session_id,
                               AppendRequest req,
                               Completion<AppendResult> done) {
  Status s = record::ValidateAppendRequest(&req, options_.limits);
  if (!s.ok()) return Finish<AppendResult>(done, std::move(s));
  if (!scope.CanWrite()) return Finish<AppendResult>(done, ReadOnly());
  Commit(std::move(done), [&](const StoreState& st, const DecideContext& ctx) {
    return DecideAppendEvents(st, ctx, scope, session_id, std::move(req));
  });
}

Result<EventPage> MemoryStore::ListEvents(const Scope& scope,
                                          std::string_view session_id,
                                          EventSeq after, uint32_t limit) {
  ACPSTORE_RETURN_IF_ERROR(record::ValidateListLimit(limit));
  base::MutexLock lock(&mu_);
  return QueryListEvents(state_, scope, session_id, after, limit);
}

Result<std::unique_ptr<Subscription>> MemoryStore::Subscribe(
    const Scope& scope, std::string_view session_id,
    SubscribeOptions options) {
  std::string tenant_id;
  std::string id;
  uint64_t incarnation = 0;
  {
    base::MutexLock lock(&mu_);
    const SessionEntry* e = state_.FindSession(scope, session_id);
    if (e == nullptr) {
      return Status::NotFound("session not found")
          .With("sessionId", session_id);
    }
    tenant_id = e->session.tenant_id;
    id = e->session.id;
    incarnation = e->incarnation;
  }
  return hub_.Subscribe(this, std::move(tenant_id), std::move(id),
                        incarnation, std::move(options));
}

Result<EventPage> MemoryStore::ReadSubscriptionPage(
    std::string_view tenant_id, std::string_view session_id,
    uint64_t incarnation, EventSeq after, uint32_t limit) {
  base::MutexLock lock(&mu_);
  return QuerySubscriptionPage(state_, tenant_id, session_id, incarnation,
                               after, limit);
}

// ------------------------------------------------------------------ actions

void MemoryStore::EnqueueAction(const Scope& scope, NewAction req,
                                Completion<EnqueueResult> done) {
  Status s = record::ValidateNewAction(&req, options_.limits);
  if (!s.ok()) return Finish<EnqueueResult>(done, std::move(s));
  if (!scope.CanWrite()) return Finish<EnqueueResult>(done, ReadOnly());
  Commit(std::move(done), [&](const StoreState& st, const DecideContext& ctx) {
    return DecideEnqueueAction(st, ctx, scope, std::move(req));
  });
}

Result<Action> MemoryStore::GetAction(const Scope& scope,
                                      std::string_view action_id) {
  base::MutexLock lock(&mu_);
  return QueryGetAction(state_, scope, action_id);
}

Result<ActionPage> MemoryStore::ListActions(const Scope& scope,
                                            const ActionQuery& query) {
  ACPSTORE_RETURN_IF_ERROR(record::ValidateActionQuery(query));
  base::MutexLock lock(&mu_);
  return QueryListActions(state_, scope, query);
}

void MemoryStore::LeaseAction(const Scope& scope, LeaseRequest req,
                              Completion<std::optional<Action>> done) {
  using T = std::optional<Action>;
  Status s = record::ValidateLeaseRequest(req, options_.limits);
  if (!s.ok()) return Finish<T>(done, std::move(s));
  if (!scope.CanWrite()) return Finish<T>(done, ReadOnly());
  Commit(
      std::move(done),
      [&](const StoreState& st, const DecideContext& ctx) {
        return DecideLeaseAction(st, ctx, scope, req);
      },
      /*sweep_leases_first=*/true);
}

void MemoryStore::HeartbeatAction(const Scope& scope,
                                  std::string_view action_id,
                                  std::string_view lease_token,
                                  int64_t lease_ms, Completion<Action> done) {
  Status s = record::ValidateLeaseMs(lease_ms);
  if (!s.ok()) return Finish<Action>(done, std::move(s));
  if (!scope.CanWrite()) return Finish<Action>(done, ReadOnly());
  Commit(std::move(done), [&](const StoreState& st, const DecideContext& ctx) {
    return DecideHeartbeatAction(st, ctx, scope, action_id, lease_token,
                                 lease_ms);
  });
}

void MemoryStore::CompleteAction(const Scope& scope,
                                 std::string_view action_id,
                                 std::string_view lease_token,
                                 std::optional<std::string> result_metadata,
                                 Completion<Action> done) {
  Status s = record::ValidateOptionalMetadata(&result_metadata,
                                              options_.limits,
                                              "resultMetadata");
  if (!s.ok()) return Finish<Action>(done, std::move(s));
  if (!scope.CanWrite()) return Finish<Action>(done, ReadOnly());
  Commit(std::move(done), [&](const StoreState& st, const DecideContext& ctx) {
    return DecideCompleteAction(st, ctx, scope, action_id, lease_token,
                                std::move(result_metadata));
  });
}

void MemoryStore::FailAction(const Scope& scope, std::string_view action_id,
                             std::string_view lease_token,
                             std::optional<std::string> error_metadata,
                             bool retry, Completion<Action> done) {
  Status s = record::ValidateOptionalMetadata(&error_metadata,
                                              options_.limits,
                                              "errorMetadata");
  if (!s.ok()) return Finish<Action>(done, std::move(s));
  if (!scope.CanWrite()) return Finish<Action>(done, ReadOnly());
  Commit(std::move(done), [&](const StoreState& st, const DecideContext& ctx) {
    return DecideFailAction(st, ctx, scope, action_id, lease_token,
                            std::move(error_metadata), retry);
  });
}

void MemoryStore::CancelAction(const Scope& scope, std::string_view action_id,
                               std::optional<std::string> error_metadata,
                               Completion<Action> done) {
  Status s = record::ValidateOptionalMetadata(&error_metadata,
                                              options_.limits,
                                              "errorMetadata");
  if (!s.ok()) return Finish<Action>(done, std::move(s));
  if (!scope.CanWrite()) return Finish<Action>(done, ReadOnly());
  Commit(std::move(done), [&](const StoreState& st, const DecideContext& ctx) {
    return DecideCancelAction(st, ctx, scope, action_id,
                              std::move(error_metadata));
  });
}

// ------------------------------------------------------------------- pauses

void MemoryStore::PauseSession(const Scope& scope, std::string_view session_id,
                               PauseRequest req,
                               Completion<PauseResult> done) {
  Status s = record::ValidatePauseRequest(&req, options_.limits);
  if (!s.ok()) return Finish<PauseResult>(done, std::move(s));
  if (!scope.CanWrite()) return Finish<PauseResult>(done, ReadOnly());
  Commit(std::move(done), [&](const StoreState& st, const DecideContext& ctx) {
    return DecidePauseSession(st, ctx, scope, session_id, std::move(req));
  });
}

void MemoryStore::StartIntervention(const Scope& scope,
                                    std::string_view session_id,
                                    InterventionStartRequest req,
                                    Completion<PauseResult> done) {
  Status s = record::ValidateInterventionStart(req, options_.limits);
  if (!s.ok()) return Finish<PauseResult>(done, std::move(s));
  if (!scope.CanWrite()) return Finish<PauseResult>(done, ReadOnly());
  Commit(std::move(done), [&](const StoreState& st, const DecideContext& ctx) {
    return DecideStartIntervention(st, ctx, scope, session_id, std::move(req));
  });
}

void MemoryStore::CompleteIntervention(const Scope& scope,
                                       std::string_view session_id,
                                       InterventionCompleteRequest req,
                                       Completion<PauseResult> done) {
  Status s = record::ValidateInterventionComplete(req, options_.limits);
  if (!s.ok()) return Finish<PauseResult>(done, std::move(s));
  if (!scope.CanWrite()) return Finish<PauseResult>(done, ReadOnly());
  Commit(std::move(done), [&](const StoreState& st, const DecideContext& ctx) {
    return DecideCompleteIntervention(st, ctx, scope, session_id,
                                      std::move(req));
  });
}

void MemoryStore::ResumeSession(const Scope& scope, std::string_view session_id,
                                ResumeRequest req,
                                Completion<PauseResult> done) {
  Status s = record::ValidateResumeRequest(&req, options_.limits);
  if (!s.ok()) return Finish<PauseResult>(done, std::move(s));
  if (!scope.CanWrite()) return Finish<PauseResult>(done, ReadOnly());
  Commit(std::move(done), [&](const StoreState& st, const DecideContext& ctx) {
    return DecideResumeSession(st, ctx, scope, session_id, std::move(req));
  });
}

Result<Pause> MemoryStore::GetPause(const Scope& scope,
                                    std::string_view session_id) {
  base::MutexLock lock(&mu_);
  return QueryGetPause(state_, scope, session_id);
}

// --------------------------------------------------------------- operations

void MemoryStore::RunMaintenance(Completion<MaintenanceReport> done) {
  MaintenanceReport report;
  std::vector<std::string> notify;
  Status s;
  {
    base::MutexLock lock(&mu_);
    DecideContext ctx = Context();
    s = ApplyLocked(DecideLeaseSweep(state_, ctx, &report), &notify);
    if (s.ok()) {
      s = ApplyLocked(DecideRetention(state_, ctx, &report), &notify);
    }
  }
  hub_.Notify(notify);
  if (!s.ok()) return Finish<MaintenanceReport>(done, std::move(s));
  Finish<MaintenanceReport>(done, report);
}

StoreStats MemoryStore::Stats() {
  StoreStats stats;
  {
    base::MutexLock lock(&mu_);
    const StateCounters& c = state_.counters();
    stats.sessions = state_.session_count();
    for (size_t i = 0; i < 8; ++i) {
      stats.sessions_by_status[i] = c.sessions_by_status[i];
    }
    stats.events_retained = c.events_retained;
    stats.event_payload_bytes = c.event_payload_bytes;
    stats.actions = state_.action_count();
    stats.pauses = c.pauses;
    stats.events_appended = c.events_appended;
    stats.events_dropped_retention = c.events_dropped_retention;
  }
  stats.subscriptions = hub_.size();
  return stats;
}

void MemoryStore::CommitImport(Decider decide, StatusCompletion done) {
  Completion<Nothing> adapt = [done = std::move(done)](Result<Nothing> r) {
    if (done) done(r.status());
  };
  Commit(std::move(adapt),
         [&](const StoreState& st, const DecideContext&)
             -> Result<Decision<Nothing>> {
           Result<record::Mutation> m = decide(st);
           if (!m.ok()) return std::move(m).error();
           return Decision<Nothing>{std::move(*m), Nothing{}};
         });
}

Status MemoryStore::CheckWritable() { return Status::OK(); }

}  // namespace acpstore::engine
