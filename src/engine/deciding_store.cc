// DecidingStore: see deciding_store.h.

#include "engine/deciding_store.h"

#include <optional>
#include <utility>

#include "engine/decide_util.h"
#include "engine/queries.h"
#include "record/validate.h"
#include "engine/transcript_ref.h"
#include "transcript/transcript_page.h"

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

DecidingStore::DecidingStore(const StoreOptions& options)
    : options_(options),
      clock_(options.clock != nullptr ? options.clock : SystemClock()) {}

template <typename T, typename Decide>
void DecidingStore::Mutate(const Scope& scope, Status valid, Completion<T> done,
                           Decide decide, bool sweep_leases_first) {
  if (!valid.ok()) return Finish<T>(done, std::move(valid));
  if (!scope.CanWrite()) return Finish<T>(done, ReadOnly());
  Commit(std::move(done), std::move(decide), sweep_leases_first);
}

template <typename T, typename Query>
Result<T> DecidingStore::Read(Query query) {
  std::optional<Result<T>> out;
  ReadState([&](const StoreState& st) { out.emplace(query(st)); });
  return std::move(*out);
}

void DecidingStore::FillStateStats(const StoreState& state,
                                   StoreStats* stats) const {
  const StateCounters& c = state.counters();
  stats->sessions = state.session_count();
  for (size_t i = 0; i < 8; ++i) {
    stats->sessions_by_status[i] = c.sessions_by_status[i];
  }
  stats->events_retained = c.events_retained;
  stats->event_payload_bytes = c.event_payload_bytes;
  stats->actions = state.action_count();
  stats->pauses = c.pauses;
  stats->events_appended = c.events_appended;
  stats->events_dropped_retention = c.events_dropped_retention;
  stats->memory_transcript_bytes = c.transcript_bytes;
  stats->transcripts_evicted = c.transcripts_evicted;
  stats->transcript_evicted_bytes = c.transcript_evicted_bytes;
  stats->transcripts_incomplete = c.transcripts_incomplete;
  stats->data_loss_reads +=
      c.transcripts_rebuilt + transcript_data_loss_reads_.load();
}

// -------------------------------------------------------------- transcripts

Result<TranscriptPage> DecidingStore::ReadTranscript(
    const Scope& scope, std::string_view session_id,
    const TranscriptQuery& query) {
  ACPSTORE_ASSIGN_OR_RETURN(const uint32_t kinds,
                            transcript::CheckTranscriptQuery(query));
  std::optional<Result<TranscriptPage>> out;
  bool unacknowledged = false;
  std::shared_ptr<const TranscriptRef> evicted;
  // Decision 0021: a resident transcript whose sealed prefix the page
  // needs, copied (its held entries shared) with where that prefix lies.
  std::optional<transcript::Transcript> tail;
  std::shared_ptr<const TranscriptSealed> sealed;
  auto read = [&](const StoreState& st) {
    unacknowledged = false;
    evicted.reset();
    tail.reset();
    sealed.reset();
    // An unknown session is 404 whatever the configuration.
    const SessionEntry* e = st.FindSession(scope, session_id);
    if (e == nullptr) {
      out.emplace(SessionNotFound(session_id));
      return;
    }
    if (!st.transcripts_on()) {
      out.emplace(transcript::TranscriptsOff());  // decision 0036
      return;
    }
    unacknowledged =
        e->events->Info().last_seq != e->events->VisibleInfo().last_seq;
    if (e->transcript_evicted) {
      // Decision 0018: read back below, outside the lock.
      evicted = e->transcript_ref;
      return;
    }
    const transcript::Transcript& t = e->transcript;
    if (t.held_index() > t.first_index() && query.after + 1 < t.held_index() &&
        e->transcript_sealed != nullptr &&
        e->transcript_sealed->last_seq() > query.changed_after_seq) {
      // Read below, outside the lock. (A page of the entries changed after
      // a seq that none of the sealed ones passes starts at the tail.)
      tail.emplace(t);
      sealed = e->transcript_sealed;
      return;
    }
    out.emplace(transcript::ReadTranscriptPage(t, query, kinds,
                                                  options_.max_page_bytes));
  };
  // An evicted transcript is read back from its immutable copy; a failed
  // read is the answer (never another transcript).
  // A changed copy on disk is damage, counted as an event read's is (it
  // was not: found by a probe, /readyz stayed ready).
  auto note = [&](const Status& s) {
    if (s.code() == StatusCode::kDataLoss) {
      transcript_data_loss_reads_.fetch_add(1);
    }
  };
  auto load = [&]() {
    if (tail) {
      Status s = LoadSealed(*sealed, &*tail);
      note(s);
      if (!s.ok()) {
        out.emplace(std::move(s));
      } else {
        out.emplace(transcript::ReadTranscriptPage(*tail, query, kinds,
                                                  options_.max_page_bytes));
      }
      return;
    }
    if (evicted == nullptr) return;
    transcript::Transcript t;
    Status s = LoadTranscript(*evicted, &t);
    note(s);
    if (!s.ok()) {
      out.emplace(std::move(s));
    } else {
      out.emplace(transcript::ReadTranscriptPage(t, query, kinds,
                                                  options_.max_page_bytes));
    }
  };
  ReadState(read);
  load();
  if (!unacknowledged) return std::move(*out);
  // The copy folded events still in flight: it may be shown once they are
  // durable.
  if (WaitForSubmitted().ok()) return std::move(*out);
  // One failed: the state was rebuilt without it, and a failed store
  // applies nothing new until reopened.
  ReadState(read);
  load();
  if (unacknowledged) {
    return Status::Unavailable("the store failed while reading a transcript");
  }
  return std::move(*out);
}

// ----------------------------------------------------------------- sessions

void DecidingStore::CreateSession(const Scope& scope, NewSession req,
                                  Completion<Session> done) {
  Status valid = record::ValidateNewSession(&req, options_.limits);
  Mutate(scope, std::move(valid), std::move(done),
         [&](const StoreState& st, const DecideContext& ctx) {
           return DecideCreateSession(st, ctx, scope, std::move(req));
         });
}

Result<Session> DecidingStore::GetSession(const Scope& scope,
                                          std::string_view session_id) {
  return Read<Session>([&](const StoreState& st) {
    return QueryGetSession(st, scope, session_id);
  });
}

Result<SessionPage> DecidingStore::ListSessions(const Scope& scope,
                                                const SessionQuery& query) {
  ACPSTORE_RETURN_IF_ERROR(record::ValidateSessionQuery(query));
  return Read<SessionPage>([&](const StoreState& st) {
    return QueryListSessions(st, scope, query);
  });
}

void DecidingStore::UpdateSession(const Scope& scope,
                                  std::string_view session_id,
                                  SessionPatch patch,
                                  Completion<Session> done) {
  Status valid = record::ValidateSessionPatch(&patch, options_.limits);
  Mutate(scope, std::move(valid), std::move(done),
         [&](const StoreState& st, const DecideContext& ctx) {
           return DecideUpdateSession(st, ctx, scope, session_id,
                                      std::move(patch));
         });
}

void DecidingStore::TransitionSession(const Scope& scope,
                                      std::string_view session_id,
                                      SessionEvent event,
                                      Completion<Session> done) {
  Mutate(scope, Status::OK(), std::move(done),
         [&](const StoreState& st, const DecideContext& ctx) {
           return DecideTransitionSession(st, ctx, scope, session_id, event);
         });
}

void DecidingStore::DeleteSession(const Scope& scope,
                                  std::string_view session_id,
                                  StatusCompletion done) {
  Completion<Nothing> adapt = [done = std::move(done)](
                                  const Result<Nothing>& r) {
    if (done) done(r.status());
  };
  Mutate(scope, Status::OK(), std::move(adapt),
         [&](const StoreState& st, const DecideContext& ctx) {
           return DecideDeleteSession(st, ctx, scope, session_id);
         });
}

// ------------------------------------------------------------------- events

void DecidingStore::AppendEvents(const Scope& scope,
                                 std::string_view session_id, AppendRequest req,
                                 Completion<AppendResult> done) {
  Status valid = record::ValidateAppendRequest(&req, options_.limits);
  if (valid.ok()) valid = PrepareAppend(scope, session_id);
  Mutate(scope, std::move(valid), std::move(done),
         [&](const StoreState& st, const DecideContext& ctx) {
           return DecideAppendEvents(st, ctx, scope, session_id,
                                     std::move(req));
         });
}

Result<std::unique_ptr<Subscription>> DecidingStore::Subscribe(
    const Scope& scope, std::string_view session_id, SubscribeOptions options) {
  struct Found {
    std::string tenant_id;
    std::string id;
    uint64_t incarnation = 0;
  };
  Result<Found> found = Read<Found>([&](const StoreState& st) -> Result<Found> {
    const SessionEntry* e = st.FindSession(scope, session_id);
    if (e == nullptr) {
      return Status::NotFound("session not found")
          .With("sessionId", session_id);
    }
    return Found{e->session.tenant_id, e->session.id, e->incarnation};
  });
  if (!found.ok()) return std::move(found).error();
  return hub_.Subscribe(this, std::move(found->tenant_id), std::move(found->id),
                        found->incarnation, std::move(options));
}

// ------------------------------------------------------------------ actions

void DecidingStore::EnqueueAction(const Scope& scope, NewAction req,
                                  Completion<EnqueueResult> done) {
  Status valid = record::ValidateNewAction(&req, options_.limits);
  Mutate(scope, std::move(valid), std::move(done),
         [&](const StoreState& st, const DecideContext& ctx) {
           return DecideEnqueueAction(st, ctx, scope, std::move(req));
         });
}

Result<Action> DecidingStore::GetAction(const Scope& scope,
                                        std::string_view action_id) {
  return Read<Action>([&](const StoreState& st) {
    return QueryGetAction(st, scope, action_id);
  });
}

Result<ActionPage> DecidingStore::ListActions(const Scope& scope,
                                              const ActionQuery& query) {
  ACPSTORE_RETURN_IF_ERROR(record::ValidateActionQuery(query));
  return Read<ActionPage>(
      [&](const StoreState& st) { return QueryListActions(st, scope, query); });
}

void DecidingStore::LeaseAction(const Scope& scope, LeaseRequest req,
                                Completion<std::optional<Action>> done) {
  Status valid = record::ValidateLeaseRequest(req, options_.limits);
  Mutate(
      scope, std::move(valid), std::move(done),
      [&](const StoreState& st, const DecideContext& ctx) {
        return DecideLeaseAction(st, ctx, scope, req);
      },
      /*sweep_leases_first=*/true);
}

void DecidingStore::HeartbeatAction(const Scope& scope,
                                    std::string_view action_id,
                                    std::string_view lease_token,
                                    int64_t lease_ms, Completion<Action> done) {
  Status valid = record::ValidateLeaseMs(lease_ms);
  Mutate(scope, std::move(valid), std::move(done),
         [&](const StoreState& st, const DecideContext& ctx) {
           return DecideHeartbeatAction(st, ctx, scope, action_id, lease_token,
                                        lease_ms);
         });
}

void DecidingStore::CompleteAction(const Scope& scope,
                                   std::string_view action_id,
                                   std::string_view lease_token,
                                   std::optional<std::string> result_metadata,
                                   Completion<Action> done) {
  Status valid = record::ValidateOptionalMetadata(
      &result_metadata, options_.limits, "resultMetadata");
  Mutate(scope, std::move(valid), std::move(done),
         [&](const StoreState& st, const DecideContext& ctx) {
           return DecideCompleteAction(st, ctx, scope, action_id, lease_token,
                                       std::move(result_metadata));
         });
}

void DecidingStore::FailAction(const Scope& scope, std::string_view action_id,
                               std::string_view lease_token,
                               std::optional<std::string> error_metadata,
                               bool retry, Completion<Action> done) {
  Status valid = record::ValidateOptionalMetadata(
      &error_metadata, options_.limits, "errorMetadata");
  Mutate(scope, std::move(valid), std::move(done),
         [&](const StoreState& st, const DecideContext& ctx) {
           return DecideFailAction(st, ctx, scope, action_id, lease_token,
                                   std::move(error_metadata), retry);
         });
}

void DecidingStore::CancelAction(const Scope& scope, std::string_view action_id,
                                 std::optional<std::string> error_metadata,
                                 Completion<Action> done) {
  Status valid = record::ValidateOptionalMetadata(
      &error_metadata, options_.limits, "errorMetadata");
  Mutate(scope, std::move(valid), std::move(done),
         [&](const StoreState& st, const DecideContext& ctx) {
           return DecideCancelAction(st, ctx, scope, action_id,
                                     std::move(error_metadata));
         });
}

// ------------------------------------------------------------------- pauses

void DecidingStore::PauseSession(const Scope& scope,
                                 std::string_view session_id, PauseRequest req,
                                 Completion<PauseResult> done) {
  Status valid = record::ValidatePauseRequest(&req, options_.limits);
  Mutate(scope, std::move(valid), std::move(done),
         [&](const StoreState& st, const DecideContext& ctx) {
           return DecidePauseSession(st, ctx, scope, session_id,
                                     std::move(req));
         });
}

void DecidingStore::StartIntervention(const Scope& scope,
                                      std::string_view session_id,
                                      InterventionStartRequest req,
                                      Completion<PauseResult> done) {
  Status valid = record::ValidateInterventionStart(req, options_.limits);
  Mutate(scope, std::move(valid), std::move(done),
         [&](const StoreState& st, const DecideContext& ctx) {
           return DecideStartIntervention(st, ctx, scope, session_id,
                                          std::move(req));
         });
}

void DecidingStore::CompleteIntervention(const Scope& scope,
                                         std::string_view session_id,
                                         InterventionCompleteRequest req,
                                         Completion<PauseResult> done) {
  Status valid = record::ValidateInterventionComplete(req, options_.limits);
  Mutate(scope, std::move(valid), std::move(done),
         [&](const StoreState& st, const DecideContext& ctx) {
           return DecideCompleteIntervention(st, ctx, scope, session_id,
                                             std::move(req));
         });
}

void DecidingStore::ResumeSession(const Scope& scope,
                                  std::string_view session_id,
                                  ResumeRequest req,
                                  Completion<PauseResult> done) {
  Status valid = record::ValidateResumeRequest(&req, options_.limits);
  Mutate(scope, std::move(valid), std::move(done),
         [&](const StoreState& st, const DecideContext& ctx) {
           return DecideResumeSession(st, ctx, scope, session_id,
                                      std::move(req));
         });
}

Result<Pause> DecidingStore::GetPause(const Scope& scope,
                                      std::string_view session_id) {
  return Read<Pause>([&](const StoreState& st) {
    return QueryGetPause(st, scope, session_id);
  });
}

// ------------------------------------------------------------- migration

void DecidingStore::CommitImport(Decider decide, StatusCompletion done) {
  Completion<Nothing> adapt = [done = std::move(done)](
                                  const Result<Nothing>& r) {
    if (done) done(r.status());
  };
  Commit(std::move(adapt),
         [&](const StoreState& st,
             const DecideContext&) -> Result<Decision<Nothing>> {
           Result<record::Mutation> m = decide(st);
           if (!m.ok()) return std::move(m).error();
           return Decision<Nothing>{std::move(*m), Nothing{}};
         });
}

}  // namespace acpstore::engine
