// PgStore's write path: open, transactions, loaders, every mutation and
// maintenance. Reads, subscriptions and stats: pg_store_reads.cc.

#include "postgres/pg_store.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <variant>

#include "base/format_version.h"
#include "engine/keys.h"
#include "postgres/pg_migrate.h"
#include "postgres/pg_notify_payload.h"
#include "postgres/pg_rows.h"
#include "postgres/pg_transcripts.h"
#include "postgres/pg_write.h"
#include "record/validate.h"

namespace acpstore::postgres {
namespace {

using engine::Decision;
using engine::DecideContext;
using engine::StoreState;

// Attempts of one transaction before a race is reported as lost.
constexpr int kMaxAttempts = 6;

constexpr PgStatement kSessionNoLock{
    "ld_session",
    "SELECT s.record, s.incarnation, s.first_seq, s.last_seq, s.retained, "
    "s.payload_bytes, s.owner_key_id, s.status, s.updated_at, s.ended_at, "
    "s.tenant_id, s.session_id "
    "FROM sessions s WHERE s.tenant_id = $1 AND "
    "s.session_id = $2"};
constexpr PgStatement kSessionKeyShare{
    "ld_session_ks",
    "SELECT s.record, s.incarnation, s.first_seq, s.last_seq, s.retained, "
    "s.payload_bytes, s.owner_key_id, s.status, s.updated_at, s.ended_at, "
    "s.tenant_id, s.session_id "
    "FROM sessions s WHERE s.tenant_id = $1 AND "
    "s.session_id = $2 FOR KEY SHARE"};
constexpr PgStatement kSessionForUpdate{
    "ld_session_upd",
    "SELECT s.record, s.incarnation, s.first_seq, s.last_seq, s.retained, "
    "s.payload_bytes, s.owner_key_id, s.status, s.updated_at, s.ended_at, "
    "s.tenant_id, s.session_id "
    "FROM sessions s WHERE s.tenant_id = $1 AND "
    "s.session_id = $2 FOR UPDATE"};
constexpr PgStatement kPausesOfSession{
    "ld_pauses",
    "SELECT p.record, p.status, p.tenant_id, p.session_id, p.pause_id "
    "FROM pauses p WHERE p.tenant_id = $1 AND "
    "p.session_id = $2 ORDER BY p.position"};
constexpr PgStatement kEventsByClientId{
    "ld_client_events",
    "SELECT e.seq, e.client_event_id, e.event_type, e.occurred_at, "
    "e.ingested_at, e.backend_run_id, e.payload_ref, e.payload FROM events e "
    "WHERE e.tenant_id = $1 AND e.session_id = $2 AND "
    "e.client_event_id = ANY($3::text[])"};
constexpr PgStatement kActionForUpdate{
    "ld_action",
    "SELECT a.record, a.session_id, a.owner_key_id, a.type, a.status, "
    "a.created_at, a.available_at, a.leased_until, a.finished_at, "
    "a.idempotency_key, a.tenant_id, a.action_id "
    "FROM actions a WHERE a.tenant_id = $1 AND "
    "a.action_id = $2 FOR UPDATE"};
constexpr PgStatement kActionByKeyForUpdate{
    "ld_action_key",
    "SELECT a.record, a.session_id, a.owner_key_id, a.type, a.status, "
    "a.created_at, a.available_at, a.leased_until, a.finished_at, "
    "a.idempotency_key, a.tenant_id, a.action_id "
    "FROM actions a WHERE a.tenant_id = $1 AND "
    "a.session_id = $2 AND a.idempotency_key = $3 FOR UPDATE"};
constexpr PgStatement kActionsOfSession{
    "ld_session_actions",
    "SELECT a.record, a.session_id, a.owner_key_id, a.type, a.status, "
    "a.created_at, a.available_at, a.leased_until, a.finished_at, "
    "a.idempotency_key, a.tenant_id, a.action_id "
    "FROM actions a WHERE a.tenant_id = $1 AND "
    "a.session_id = $2"};
// The lease order (SPEC §2.3): (availableAt, createdAt, insertion order).
// SKIP LOCKED: two servers leasing at once take different actions. $6:
// the ids this lease already found damaged (its own locks do not skip
// them).
constexpr PgStatement kLeaseCandidate{
    "ld_lease_candidate",
    "SELECT a.record, a.session_id, a.owner_key_id, a.type, a.status, "
    "a.created_at, a.available_at, a.leased_until, a.finished_at, "
    "a.idempotency_key, a.tenant_id, a.action_id "
    "FROM actions a WHERE a.tenant_id = $1 AND a.status = 0 "
    "AND a.available_at <= $2 AND ($3::text IS NULL OR a.owner_key_id = $3) "
    "AND ($4::text IS NULL OR a.session_id = $4) "
    "AND ($5::smallint[] IS NULL OR a.type = ANY($5::smallint[])) "
    "AND ($6::text[] IS NULL OR a.action_id <> ALL($6::text[])) "
    "ORDER BY a.available_at, a.created_at, a.insertion LIMIT 1 "
    "FOR UPDATE SKIP LOCKED"};
// How many candidates one lease passes over (damaged, or a newer
// release's) before it answers without searching on: a lease stays a few
// statements however many such rows there are (SPEC §10 "Damage").
constexpr size_t kMaxPassedLeaseCandidates = 16;
// How many damaged rows a store reports through on_damage once each;
// past that, each meeting is reported (the set stays bounded).
constexpr size_t kMaxDamageReported = 1000;
// The maintenance sweeps (SweepInPages): the rows due by $1, a page at
// a time in the order (time, tenant, id), after the key ($2, $3, $4) of
// the last row read ($2 repeated alone so that the time index bounds the
// scan). Each row ends with its time, the key's first column.
constexpr size_t kSweepActionPage = 1000;
constexpr size_t kSweepSessionPage = 500;
constexpr PgStatement kExpiredLeases{
    "ld_expired",
    "SELECT a.record, a.session_id, a.owner_key_id, a.type, a.status, "
    "a.created_at, a.available_at, a.leased_until, a.finished_at, "
    "a.idempotency_key, a.tenant_id, a.action_id, a.leased_until "
    "FROM actions a WHERE a.status = 1 AND a.leased_until <= $1 "
    "AND a.leased_until >= $2 "
    "AND (a.leased_until, a.tenant_id, a.action_id) > ($2, $3, $4) "
    "ORDER BY a.leased_until, a.tenant_id, a.action_id LIMIT 1000 "
    "FOR UPDATE SKIP LOCKED"};
constexpr PgStatement kExpiredLeasesOfTenant{
    "ld_expired_tenant",
    "SELECT a.record, a.session_id, a.owner_key_id, a.type, a.status, "
    "a.created_at, a.available_at, a.leased_until, a.finished_at, "
    "a.idempotency_key, a.tenant_id, a.action_id, a.leased_until "
    "FROM actions a WHERE a.status = 1 AND a.leased_until <= $1 "
    "AND a.leased_until >= $2 "
    "AND (a.leased_until, a.tenant_id, a.action_id) > ($2, $3, $4) "
    "AND a.tenant_id = $5 "
    "ORDER BY a.leased_until, a.tenant_id, a.action_id LIMIT 1000 "
    "FOR UPDATE SKIP LOCKED"};
constexpr PgStatement kSessionsEndedBy{
    "ld_ended",
    "SELECT s.record, s.incarnation, s.first_seq, s.last_seq, s.retained, "
    "s.payload_bytes, s.owner_key_id, s.status, s.updated_at, s.ended_at, "
    "s.tenant_id, s.session_id, s.ended_at "
    "FROM sessions s WHERE s.ended_at <= $1 AND s.ended_at >= $2 "
    "AND (s.ended_at, s.tenant_id, s.session_id) > ($2, $3, $4) "
    "ORDER BY s.ended_at, s.tenant_id, s.session_id LIMIT 500 "
    "FOR UPDATE SKIP LOCKED"};
constexpr PgStatement kSessionsWithEventsEndedBy{
    "ld_ended_events",
    "SELECT s.record, s.incarnation, s.first_seq, s.last_seq, s.retained, "
    "s.payload_bytes, s.owner_key_id, s.status, s.updated_at, s.ended_at, "
    "s.tenant_id, s.session_id, s.ended_at "
    "FROM sessions s WHERE s.ended_at <= $1 AND s.ended_at >= $2 "
    "AND (s.ended_at, s.tenant_id, s.session_id) > ($2, $3, $4) "
    "AND s.retained > 0 "
    "ORDER BY s.ended_at, s.tenant_id, s.session_id LIMIT 500 "
    "FOR UPDATE SKIP LOCKED"};
constexpr PgStatement kActionsFinishedBy{
    "ld_finished",
    "SELECT a.record, a.session_id, a.owner_key_id, a.type, a.status, "
    "a.created_at, a.available_at, a.leased_until, a.finished_at, "
    "a.idempotency_key, a.tenant_id, a.action_id, a.finished_at "
    "FROM actions a WHERE a.finished_at <= $1 AND a.finished_at >= $2 "
    "AND (a.finished_at, a.tenant_id, a.action_id) > ($2, $3, $4) "
    "ORDER BY a.finished_at, a.tenant_id, a.action_id LIMIT 1000 "
    "FOR UPDATE SKIP LOCKED"};
// Pages one maintenance pass reads per sweep at most: its work stays
// bounded however many rows it passes over, and the next pass goes on
// from where it stopped (SPEC §10 "Damage").
constexpr int kMaxSweepPages = 4;

// Each statement a row parser reads selects that parser's list first.
static_assert(SelectsColumns(kSessionNoLock.sql, kSessionColumns) &&
              SelectsColumns(kSessionKeyShare.sql, kSessionColumns) &&
              SelectsColumns(kSessionForUpdate.sql, kSessionColumns) &&
              SelectsColumns(kSessionsEndedBy.sql, kSessionColumns) &&
              SelectsColumns(kSessionsWithEventsEndedBy.sql, kSessionColumns));
static_assert(SelectsColumns(kActionForUpdate.sql, kActionColumns) &&
              SelectsColumns(kActionByKeyForUpdate.sql, kActionColumns) &&
              SelectsColumns(kActionsOfSession.sql, kActionColumns) &&
              SelectsColumns(kLeaseCandidate.sql, kActionColumns) &&
              SelectsColumns(kExpiredLeases.sql, kActionColumns) &&
              SelectsColumns(kExpiredLeasesOfTenant.sql, kActionColumns) &&
              SelectsColumns(kActionsFinishedBy.sql, kActionColumns));
static_assert(SelectsColumns(kPausesOfSession.sql, kPauseColumns));

Status ReadOnly() {
  return Status::Forbidden("this key may read but not write");
}

bool IsRetryableState(std::string_view state) {
  return state == kSerializationFailure || state == kDeadlockDetected ||
         state == kUniqueViolation;
}

template <typename Enum>
std::optional<std::string> SmallintArray(const std::vector<Enum>& items) {
  if (items.empty()) return std::nullopt;
  std::string out = "{";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out.push_back(',');
    out += std::to_string(static_cast<int>(items[i]));
  }
  out.push_back('}');
  return out;
}

uint64_t CountAppended(const record::Mutation& m) {
  uint64_t n = 0;
  for (const auto& op : m.ops) {
    if (const auto* a = std::get_if<record::AppendEventsOp>(&op)) {
      n += a->events.size();
    }
  }
  return n;
}

}  // namespace

// --------------------------------------------------------------------- open

PgStore::PgStore(const StoreOptions& options)
    : options_(options),
      clock_(options.clock != nullptr ? options.clock : SystemClock()),
      channel_(NotifyChannel(options.postgres_schema)),
      pool_(options.postgres_url, options.postgres_schema,
            options.postgres_pool, std::nullopt,
            PgSessionLimits{
                .lock_timeout_ms = options.postgres_lock_timeout_ms,
                .idle_in_transaction_timeout_ms =
                    options.postgres_idle_in_transaction_timeout_ms}) {}

Result<std::unique_ptr<PgStore>> PgStore::Open(const StoreOptions& options) {
  if (options.postgres_url.empty()) {
    return Status::InvalidArgument("the postgres engine needs a postgres_url")
        .With("field", "postgresUrl");
  }
  ACPSTORE_RETURN_IF_ERROR(CheckSchemaName(options.postgres_schema));
  std::unique_ptr<PgStore> store(new PgStore(options));
  {
    // Migrating needs the schema to exist before search_path can name it;
    // Migrate creates it under its lock.
    ACPSTORE_ASSIGN_OR_RETURN(PgPool::Lease conn, store->pool_.Borrow());
    ACPSTORE_RETURN_IF_ERROR(Migrate(*conn, options.postgres_schema).status());
  }
  // /readyz waits this long for the database at most (decision 0039).
  constexpr int64_t kReadyWaitMs = 2000;
  store->readiness_ = std::make_unique<PgReadiness>(
      options.postgres_url, options.postgres_schema, store->pool_.limits(),
      kReadyWaitMs);
  PgStore* self = store.get();
  store->listener_ = std::make_unique<PgListener>(
      options.postgres_url, options.postgres_schema, store->channel_,
      [self](std::string_view tenant, std::string_view session, EventSeq) {
        self->hub_.Notify({engine::TenantKey(tenant, session)});
      },
      [self] { self->hub_.NotifyAll(); },
      [self] { return self->hub_.Keys(); });
  // Live events from other servers need the LISTEN in place; wait briefly
  // for it so a subscription opened right after Open misses nothing.
  for (int i = 0; i < 100 && !store->listener_->connected(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  // Commit threads: half the pool, so reads on the callers' threads find
  // connections too.
  store->commits_ = std::make_unique<CommitQueue>(
      &store->pool_,
      [self](const std::function<Status(PgConn&)>& body) {
        return self->InTransaction(body);
      },
      std::max<size_t>(1, options.postgres_pool / 2), store->channel_,
      [self](const std::vector<std::string>& notes) {
        self->listener_->Publish(notes);
      },
      TranscriptConfigOf(options), options.postgres_lock_timeout_ms);
  if (options.maintenance_interval_ms > 0) {
    store->maintenance_ = std::make_unique<engine::PeriodicThread>(
        "acp-maintenance",
        std::chrono::milliseconds(options.maintenance_interval_ms),
        [self] { self->RunMaintenance(nullptr); });
  }
  return store;
}

PgStore::~PgStore() {
  if (maintenance_) maintenance_->Stop();
  commits_.reset();  // runs and completes every mutation already accepted
  listener_.reset();
  readiness_.reset();
}

// ------------------------------------------------------------- transactions

Status PgStore::InTransaction(const std::function<Status(PgConn&)>& body) {
  Status last = Status::Unavailable("the database is unreachable");
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    Result<PgPool::Lease> lease = pool_.Borrow();
    if (!lease.ok()) return std::move(lease).error();
    PgConn& c = **lease;
    Status s = c.Run("BEGIN").status();
    if (s.ok()) s = body(c);
    if (s.ok()) {
      Result<PgResult> commit = c.Run("COMMIT");
      if (commit.ok()) return Status::OK();
      if (IsRetryableState(c.last_sqlstate())) {
        last = commit.status();
        continue;
      }
      // Lost while committing: the outcome is unknown to us. Retries of
      // appends stay safe with clientEventId (SPEC §2.2).
      return commit.status();
    }
    const std::string state = c.last_sqlstate();
    if (c.healthy()) (void)c.Run("ROLLBACK");
    if (IsRetryableState(state)) {
      last = s;
      if (state == kUniqueViolation) {
        last = Status::Conflict("a concurrent write created the same record");
      }
      continue;
    }
    // The connection broke before COMMIT: nothing was written; try again
    // on a new one (the pool drops this one).
    if (s.code() == StatusCode::kUnavailable && !c.healthy()) {
      last = s;
      continue;
    }
    return s;
  }
  return last;
}

template <typename T, typename Decide>
void PgStore::Mutate(const Scope& scope, Status valid, Completion<T> done,
                     LoadFn load, Decide decide,
                     std::optional<AppendTarget> append) {
  if (!valid.ok()) {
    if (done) done(std::move(valid));
    return;
  }
  if (!scope.CanWrite()) {
    if (done) done(ReadOnly());
    return;
  }
  // What one run of the job decided; reset by every (re)run.
  struct Outcome {
    std::optional<T> result;
    Status refusal;
    std::vector<std::string> wake;
    std::vector<std::string> notes;  // sent after COMMIT (CommitQueue)
    uint64_t appended = 0;
    uint64_t dropped = 0;  // by the per-session cap (Decision::events_dropped)
  };
  auto out = std::make_shared<Outcome>();
  // Shared by both ways of running the job: an append's decider holds its
  // request, payloads included, which a second copy would duplicate.
  auto shared_decide = std::make_shared<const Decide>(std::move(decide));
  CommitJob job;
  if (append) {
    job.append = true;
    job.lock_order = append->tenant_id + '\0' + append->session_id;
    job.target = std::move(*append);
    job.run_in_batch = [this, out,
                        decide = shared_decide](AppendBatch& batch) -> Status {
      *out = Outcome{};
      Result<Decision<T>> d = (*decide)(batch.state(), Context());
      if (!d.ok()) {
        out->refusal = std::move(d).error();
        return Status::OK();
      }
      out->wake = engine::SubscriptionHub::SessionsToNotify(d->mutation);
      out->appended = CountAppended(d->mutation);
      out->dropped = d->events_dropped;
      out->result = std::move(d->result);
      return batch.Write(std::move(d->mutation), &out->notes);
    };
  }
  job.run = [this, out, load = std::move(load),
             decide = std::move(shared_decide)](PgConn& c) -> Status {
    *out = Outcome{};
    WorkingSet ws;
    if (load) ACPSTORE_RETURN_IF_ERROR(load(c, &ws));
    Result<Decision<T>> d = (*decide)(ws.state(), Context());
    if (!d.ok()) {
      out->refusal = std::move(d).error();
      return Status::OK();  // nothing written; the transaction may go on
    }
    // Alone, this job does not know its sessions' transcript tails: it
    // checkpoints before deleting events, and leaves a long tail to the
    // next batch (pg_transcripts.h).
    TranscriptTails tails(TranscriptConfigOf(options_));
    ACPSTORE_RETURN_IF_ERROR(
        WriteMutation(c, channel_, ws, d->mutation, &out->notes, &tails));
    out->wake = engine::SubscriptionHub::SessionsToNotify(d->mutation);
    out->appended = CountAppended(d->mutation);
    out->dropped = d->events_dropped;
    out->result = std::move(d->result);
    return Status::OK();
  };
  job.notes = [out](std::vector<std::string>* notes) {
    notes->insert(notes->end(), out->notes.begin(), out->notes.end());
  };
  job.finish = [this, out, done = std::move(done)](Status s) {
    if (s.ok() && !out->refusal.ok()) s = out->refusal;
    if (!s.ok()) {
      if (done) done(std::move(s));
      return;
    }
    events_appended_.fetch_add(out->appended);
    // As the other engines count them (engine/state.cc), beside what this
    // server's maintenance drops (RunMaintenance).
    events_dropped_.fetch_add(out->dropped);
    hub_.Notify(out->wake);
    if (done) done(std::move(*out->result));
  };
  commits_->Post(std::move(job));
}

// ------------------------------------------------------------------ loaders

Status PgStore::LoadSession(PgConn& conn, WorkingSet* ws,
                            std::string_view tenant_id,
                            std::string_view session_id, Lock lock,
                            bool with_pauses) {
  if (ws->HadSession(tenant_id, session_id)) return Status::OK();
  const PgStatement& stmt = lock == Lock::kUpdate     ? kSessionForUpdate
                            : lock == Lock::kKeyShare ? kSessionKeyShare
                                                      : kSessionNoLock;
  ACPSTORE_ASSIGN_OR_RETURN(
      PgResult r, conn.Exec(stmt, PgParams().Text(tenant_id).Text(session_id)));
  if (r.rows() == 0) return Status::OK();  // the decider answers kNotFound
  ACPSTORE_ASSIGN_OR_RETURN(SessionRow row, ParseSessionRow(r, 0, 0));
  ACPSTORE_RETURN_IF_ERROR(ws->AddSession(row));
  if (!with_pauses) return Status::OK();
  ACPSTORE_ASSIGN_OR_RETURN(
      PgResult p,
      conn.Exec(kPausesOfSession, PgParams().Text(tenant_id).Text(session_id)));
  for (int i = 0; i < p.rows(); ++i) {
    ACPSTORE_ASSIGN_OR_RETURN(Pause pause, ParsePauseRow(p, i, 0));
    ACPSTORE_RETURN_IF_ERROR(ws->AddPause(std::move(pause)));
  }
  return Status::OK();
}

Result<Action> PgStore::ActionRowWithSession(PgConn& conn, WorkingSet* ws,
                                              const PgResult& r, int row) {
  ACPSTORE_ASSIGN_OR_RETURN(Action a, ParseActionRow(r, row, 0));
  ACPSTORE_RETURN_IF_ERROR(LoadSession(conn, ws, a.tenant_id, a.session_id,
                                       Lock::kNone, false));
  if (!ws->HadSession(a.tenant_id, a.session_id)) {
    return Status::Internal("an action row without its session");
  }
  return a;
}

Status PgStore::AddActionRows(PgConn& conn, WorkingSet* ws,
                              const PgResult& r) {
  for (int i = 0; i < r.rows(); ++i) {
    ACPSTORE_ASSIGN_OR_RETURN(Action a, ActionRowWithSession(conn, ws, r, i));
    ACPSTORE_RETURN_IF_ERROR(ws->AddAction(std::move(a)));
  }
  return Status::OK();
}

Status PgStore::PassOverRow(const Status& s, Damage* damage) {
  if (IsNewerFormat(s)) return Status::OK();
  if (s.code() != StatusCode::kDataLoss) return s;
  damage->push_back(s);
  return Status::OK();
}

void PgStore::ReportDamage(const Damage& damage) {
  for (const Status& s : damage) {
    data_loss_reads_.fetch_add(1);
    if (!options_.on_damage) continue;
    {
      base::MutexLock lock(&damage_mu_);
      if (damage_reported_.size() < kMaxDamageReported &&
          !damage_reported_.emplace(s.message()).second) {
        continue;
      }
    }
    options_.on_damage(s);
  }
}

Result<size_t> PgStore::AddSweptActionRows(PgConn& conn, WorkingSet* ws,
                                           const PgResult& r,
                                           Damage* damage) {
  size_t added = 0;
  for (int i = 0; i < r.rows(); ++i) {
    // Damage (kDataLoss) and a newer release's row are passed over;
    // anything else still fails.
    Result<Action> a = ActionRowWithSession(conn, ws, r, i);
    if (!a.ok()) {
      ACPSTORE_RETURN_IF_ERROR(PassOverRow(a.status(), damage));
      continue;
    }
    ACPSTORE_RETURN_IF_ERROR(ws->AddAction(std::move(*a)));
    ++added;
  }
  return added;
}

Status PgStore::LoadAction(PgConn& conn, WorkingSet* ws,
                           std::string_view tenant_id,
                           std::string_view action_id) {
  ACPSTORE_ASSIGN_OR_RETURN(
      PgResult r,
      conn.Exec(kActionForUpdate, PgParams().Text(tenant_id).Text(action_id)));
  return AddActionRows(conn, ws, r);
}

// ----------------------------------------------------------------- sessions
//
// Every lambda below captures by value: the job runs later, on a commit
// thread, and again if its transaction is retried.

void PgStore::CreateSession(const Scope& scope, NewSession req,
                            Completion<Session> done) {
  Status valid = record::ValidateNewSession(&req, options_.limits);
  LoadFn load;
  if (req.id) {
    load = [tenant = scope.tenant_id, id = *req.id](PgConn& c,
                                                    WorkingSet* ws) {
      return LoadSession(c, ws, tenant, id, Lock::kNone, false);
    };
  }
  Mutate(scope, std::move(valid), std::move(done), std::move(load),
         [scope, req = std::move(req)](const StoreState& st,
                                       const DecideContext& ctx) {
           return engine::DecideCreateSession(st, ctx, scope, req);
         });
}

PgStore::LoadFn PgStore::LoadSessionFn(const Scope& scope,
                                       std::string_view session_id, Lock lock,
                                       bool with_pauses) {
  return [tenant = scope.tenant_id, id = std::string(session_id), lock,
          with_pauses](PgConn& c, WorkingSet* ws) {
    return LoadSession(c, ws, tenant, id, lock, with_pauses);
  };
}

PgStore::LoadFn PgStore::LoadActionFn(const Scope& scope,
                                      std::string_view action_id) {
  return [tenant = scope.tenant_id, id = std::string(action_id)](
             PgConn& c, WorkingSet* ws) {
    return LoadAction(c, ws, tenant, id);
  };
}

void PgStore::UpdateSession(const Scope& scope, std::string_view session_id,
                            SessionPatch patch, Completion<Session> done) {
  Status valid = record::ValidateSessionPatch(&patch, options_.limits);
  // A patch with a status is a transition too: its pause records must be
  // loaded for the decider to move them along (pause -> intervening ->
  // resumed), as TransitionSession does.
  const bool with_pauses = patch.status.has_value();
  Mutate(scope, std::move(valid), std::move(done),
         LoadSessionFn(scope, session_id, Lock::kUpdate, with_pauses),
         [scope, id = std::string(session_id), patch = std::move(patch)](
             const StoreState& st, const DecideContext& ctx) {
           return engine::DecideUpdateSession(st, ctx, scope, id, patch);
         });
}

void PgStore::TransitionSession(const Scope& scope,
                                std::string_view session_id,
                                SessionEvent event, Completion<Session> done) {
  Mutate(scope, Status::OK(), std::move(done),
         LoadSessionFn(scope, session_id, Lock::kUpdate, true),
         [scope, id = std::string(session_id), event](
             const StoreState& st, const DecideContext& ctx) {
           return engine::DecideTransitionSession(st, ctx, scope, id, event);
         });
}

void PgStore::DeleteSession(const Scope& scope, std::string_view session_id,
                            StatusCompletion done) {
  Completion<engine::Nothing> adapt =
      [done = std::move(done)](const Result<engine::Nothing>& r) {
        if (done) done(r.status());
      };
  Mutate(scope, Status::OK(), std::move(adapt),
         LoadSessionFn(scope, session_id, Lock::kUpdate, false),
         [scope, id = std::string(session_id)](const StoreState& st,
                                               const DecideContext& ctx) {
           return engine::DecideDeleteSession(st, ctx, scope, id);
         });
}

// ------------------------------------------------------------------- events

void PgStore::AppendEvents(const Scope& scope, std::string_view session_id,
                           AppendRequest req, Completion<AppendResult> done) {
  Status valid = record::ValidateAppendRequest(&req, options_.limits);
  AppendTarget target{scope.tenant_id, std::string(session_id), {}};
  for (const NewEvent& e : req.events) {
    if (e.client_event_id) target.client_ids.push_back(*e.client_event_id);
  }
  // Alone (a batch that failed runs each job again by itself).
  LoadFn load = [tenant = scope.tenant_id, id = std::string(session_id),
                 client_ids = target.client_ids](
                    PgConn& c, WorkingSet* ws) -> Status {
    // The row lock serializes appends to one session across every server:
    // the counter in it is the next seq.
    ACPSTORE_ASSIGN_OR_RETURN(
        PgResult r, c.Exec(kSessionForUpdate, PgParams().Text(tenant).Text(id)));
    if (r.rows() == 0) return Status::OK();
    ACPSTORE_ASSIGN_OR_RETURN(SessionRow row, ParseSessionRow(r, 0, 0));
    std::vector<Event> known;
    if (!client_ids.empty()) {
      ACPSTORE_ASSIGN_OR_RETURN(
          PgResult e,
          c.Exec(kEventsByClientId,
                 PgParams().Text(tenant).Text(id).Text(TextArray(client_ids))));
      for (int i = 0; i < e.rows(); ++i) {
        ACPSTORE_ASSIGN_OR_RETURN(Event event,
                                  ParseEventRow(e, i, 0, row.session));
        known.push_back(std::move(event));
      }
    }
    return ws->AddSession(row, std::move(known));
  };
  Mutate(
      scope, std::move(valid), std::move(done), std::move(load),
      [scope, id = std::string(session_id), req = std::move(req)](
          const StoreState& st, const DecideContext& ctx) {
        return engine::DecideAppendEvents(st, ctx, scope, id, req);
      },
      std::move(target));
}

// ------------------------------------------------------------------ actions

void PgStore::EnqueueAction(const Scope& scope, NewAction req,
                            Completion<EnqueueResult> done) {
  Status valid = record::ValidateNewAction(&req, options_.limits);
  LoadFn load = [tenant = scope.tenant_id, session = req.session_id,
                 action_id = req.action_id, key = req.idempotency_key](
                    PgConn& c, WorkingSet* ws) -> Status {
    // KEY SHARE: the session cannot be deleted under the new row.
    ACPSTORE_RETURN_IF_ERROR(
        LoadSession(c, ws, tenant, session, Lock::kKeyShare, false));
    if (action_id) ACPSTORE_RETURN_IF_ERROR(LoadAction(c, ws, tenant, *action_id));
    if (key) {
      ACPSTORE_ASSIGN_OR_RETURN(
          PgResult r, c.Exec(kActionByKeyForUpdate,
                             PgParams().Text(tenant).Text(session).Text(*key)));
      ACPSTORE_RETURN_IF_ERROR(AddActionRows(c, ws, r));
    }
    return Status::OK();
  };
  Mutate(scope, std::move(valid), std::move(done), std::move(load),
         [scope, req = std::move(req)](const StoreState& st,
                                       const DecideContext& ctx) {
           return engine::DecideEnqueueAction(st, ctx, scope, req);
         });
}

void PgStore::LeaseAction(const Scope& scope, LeaseRequest req,
                          Completion<std::optional<Action>> done) {
  Status valid = record::ValidateLeaseRequest(req, options_.limits);
  // What the last attempt passed over, counted once the lease has ended
  // (an attempt the transaction retries met the same rows).
  auto damage = std::make_shared<Damage>();
  Completion<std::optional<Action>> reported =
      [this, damage, done = std::move(done)](Result<std::optional<Action>> r) {
        ReportDamage(*damage);
        if (done) done(std::move(r));
      };
  LoadFn load = [this, scope, req, damage](PgConn& c,
                                           WorkingSet* ws) -> Status {
    damage->clear();
    // The lazy sweep first (SPEC §2.3), in this transaction, so an action
    // it requeues with no backoff is a candidate below.
    MaintenanceReport ignored;
    ACPSTORE_RETURN_IF_ERROR(
        SweepLeases(c, Context(), &scope.tenant_id, &ignored, damage.get()));
    if (req.session_id) {
      ACPSTORE_RETURN_IF_ERROR(LoadSession(c, ws, scope.tenant_id,
                                           *req.session_id, Lock::kNone,
                                           false));
    }
    const int64_t now = clock_->NowMs();
    // A candidate that does not decode (or whose session does not) cannot
    // be leased safely; left in place, it would be every lease's oldest
    // candidate, and its tenant could lease nothing ever again. So the
    // lease passes over it to the next one, up to a bound. So it does a
    // newer release's candidate (SPEC §3, §10): not damage, and left for
    // a newer server, which leases it.
    std::vector<std::string> passed;
    for (;;) {
      PgParams p;
      p.Text(scope.tenant_id).Int(now);
      if (scope.access == Scope::Access::kOwner) {
        p.Text(scope.owner_key_id);
      } else {
        p.Null();
      }
      p.OptText(req.session_id).OptText(SmallintArray(req.types));
      p.OptText(passed.empty() ? std::nullopt
                               : std::optional(TextArray(passed)));
      ACPSTORE_ASSIGN_OR_RETURN(PgResult r, c.Exec(kLeaseCandidate, p));
      Status added = AddActionRows(c, ws, r);
      const bool newer = IsNewerFormat(added);
      if (added.code() != StatusCode::kDataLoss && !newer) return added;
      ACPSTORE_RETURN_IF_ERROR(PassOverRow(added, damage.get()));
      if (passed.size() >= kMaxPassedLeaseCandidates) {
        // A 17th damaged one answers data_loss (a worker would take
        // "nothing to lease" for an empty queue, while the damage blocks
        // it); a 17th newer one, nothing to lease: a newer server leases
        // those, and this one cannot read them.
        return newer ? Status::OK() : added;
      }
      passed.emplace_back(r.Text(0, kActionColumnCount - 1));
    }
  };
  Mutate(scope, std::move(valid), std::move(reported), std::move(load),
         [scope, req](const StoreState& st, const DecideContext& ctx) {
           return engine::DecideLeaseAction(st, ctx, scope, req);
         });
}

void PgStore::HeartbeatAction(const Scope& scope, std::string_view action_id,
                              std::string_view lease_token, int64_t lease_ms,
                              Completion<Action> done) {
  Status valid = record::ValidateLeaseMs(lease_ms);
  Mutate(scope, std::move(valid), std::move(done),
         LoadActionFn(scope, action_id),
         [scope, id = std::string(action_id),
          token = std::string(lease_token),
          lease_ms](const StoreState& st, const DecideContext& ctx) {
           return engine::DecideHeartbeatAction(st, ctx, scope, id, token,
                                                lease_ms);
         });
}

void PgStore::CompleteAction(const Scope& scope, std::string_view action_id,
                             std::string_view lease_token,
                             std::optional<std::string> result_metadata,
                             Completion<Action> done) {
  Status valid = record::ValidateOptionalMetadata(
      &result_metadata, options_.limits, "resultMetadata");
  Mutate(scope, std::move(valid), std::move(done),
         LoadActionFn(scope, action_id),
         [scope, id = std::string(action_id), token = std::string(lease_token),
          meta = std::move(result_metadata)](const StoreState& st,
                                             const DecideContext& ctx) {
           return engine::DecideCompleteAction(st, ctx, scope, id, token,
                                               meta);
         });
}

void PgStore::FailAction(const Scope& scope, std::string_view action_id,
                         std::string_view lease_token,
                         std::optional<std::string> error_metadata, bool retry,
                         Completion<Action> done) {
  Status valid = record::ValidateOptionalMetadata(
      &error_metadata, options_.limits, "errorMetadata");
  Mutate(scope, std::move(valid), std::move(done),
         LoadActionFn(scope, action_id),
         [scope, id = std::string(action_id), token = std::string(lease_token),
          meta = std::move(error_metadata),
          retry](const StoreState& st, const DecideContext& ctx) {
           return engine::DecideFailAction(st, ctx, scope, id, token, meta,
                                           retry);
         });
}

void PgStore::CancelAction(const Scope& scope, std::string_view action_id,
                           std::optional<std::string> error_metadata,
                           Completion<Action> done) {
  Status valid = record::ValidateOptionalMetadata(
      &error_metadata, options_.limits, "errorMetadata");
  Mutate(scope, std::move(valid), std::move(done),
         LoadActionFn(scope, action_id),
         [scope, id = std::string(action_id),
          meta = std::move(error_metadata)](const StoreState& st,
                                            const DecideContext& ctx) {
           return engine::DecideCancelAction(st, ctx, scope, id, meta);
         });
}

// ------------------------------------------------------------------- pauses

// Every pause route locks the session row and loads its pause records: the
// deciders check the status and the idempotency keys against them.
#define ACPSTORE_PG_PAUSE_ROUTE(Method, Request, Validate, Decider)          \
  void PgStore::Method(const Scope& scope, std::string_view session_id,     \
                       Request req, Completion<PauseResult> done) {         \
    Status valid = Validate;                                                \
    Mutate(scope, std::move(valid), std::move(done),                        \
           LoadSessionFn(scope, session_id, Lock::kUpdate, true),           \
           [scope, id = std::string(session_id), req = std::move(req)](     \
               const StoreState& st, const DecideContext& ctx) {            \
             return engine::Decider(st, ctx, scope, id, req);               \
           });                                                              \
  }

ACPSTORE_PG_PAUSE_ROUTE(PauseSession, PauseRequest,
                        record::ValidatePauseRequest(&req, options_.limits),
                        DecidePauseSession)
ACPSTORE_PG_PAUSE_ROUTE(StartIntervention, InterventionStartRequest,
                        record::ValidateInterventionStart(req, options_.limits),
                        DecideStartIntervention)
ACPSTORE_PG_PAUSE_ROUTE(CompleteIntervention, InterventionCompleteRequest,
                        record::ValidateInterventionComplete(req,
                                                             options_.limits),
                        DecideCompleteIntervention)
ACPSTORE_PG_PAUSE_ROUTE(ResumeSession, ResumeRequest,
                        record::ValidateResumeRequest(&req, options_.limits),
                        DecideResumeSession)
#undef ACPSTORE_PG_PAUSE_ROUTE


// -------------------------------------------------------------- maintenance

Status PgStore::SweepInPages(PgConn& conn, const PgStatement& stmt,
                             int64_t due, const std::string* tenant_id,
                             const SweepPaging& paging, SweepKey* resume,
                             const TakePage& take) {
  const SweepKey from = *resume;
  SweepKey after;
  size_t taken = 0;
  for (int page = 0; page < paging.max_pages; ++page) {
    PgParams p;
    p.Int(due).Int(after.at).Text(after.tenant_id).Text(after.id);
    if (tenant_id != nullptr) p.Text(*tenant_id);
    ACPSTORE_ASSIGN_OR_RETURN(PgResult r, conn.Exec(stmt, p));
    ACPSTORE_ASSIGN_OR_RETURN(const size_t n, take(r));
    taken += n;
    if (static_cast<size_t>(r.rows()) < paging.page_rows) {
      *resume = SweepKey{};  // the end: the next pass starts over
      return Status::OK();
    }
    const int last = r.rows() - 1;
    after = SweepKey{r.Int(last, paging.key_col),
                     std::string(r.Text(last, paging.key_col - 2)),
                     std::string(r.Text(last, paging.key_col - 1))};
    *resume = after;
    if (taken >= paging.page_rows) break;
    // Past the first page, on from where the last pass stopped, if that
    // is further: the rows between were passed over then (or are held by
    // another server), and each pass starts at the head, so rows due
    // since are not kept waiting.
    after = std::max(after, from);
  }
  return Status::OK();
}

PgStore::SweepKey PgStore::SweepResume(SweepKey PgStore::SweepCursors::*which) {
  base::MutexLock lock(&sweep_mu_);
  return sweep_resume_.*which;
}

void PgStore::SetSweepResume(SweepKey PgStore::SweepCursors::*which,
                             SweepKey key) {
  base::MutexLock lock(&sweep_mu_);
  sweep_resume_.*which = std::move(key);
}

Status PgStore::SweepLeases(PgConn& conn, const DecideContext& ctx,
                            const std::string* tenant_id,
                            MaintenanceReport* report, Damage* damage) {
  WorkingSet ws;
  size_t swept = 0;
  auto take = [&](const PgResult& r) -> Result<size_t> {
    ACPSTORE_ASSIGN_OR_RETURN(const size_t n,
                              AddSweptActionRows(conn, &ws, r, damage));
    swept += n;
    return n;
  };
  if (tenant_id != nullptr) {
    // A lease's lazy sweep (SPEC §2.3) reads one page from the head, so a
    // lease stays a few statements; the maintenance passes go on past it.
    SweepKey head;
    ACPSTORE_RETURN_IF_ERROR(
        SweepInPages(conn, kExpiredLeasesOfTenant, ctx.now, tenant_id,
                     {kSweepActionPage, kActionColumnCount, 1}, &head, take));
  } else {
    SweepKey resume = SweepResume(&SweepCursors::leases);
    ACPSTORE_RETURN_IF_ERROR(SweepInPages(
        conn, kExpiredLeases, ctx.now, nullptr,
        {kSweepActionPage, kActionColumnCount, kMaxSweepPages}, &resume, take));
    SetSweepResume(&SweepCursors::leases, std::move(resume));
  }
  if (swept == 0) return Status::OK();
  record::Mutation m = engine::DecideLeaseSweep(ws.state(), ctx, report);
  return WriteMutation(conn, channel_, ws, m);
}

Status PgStore::ApplyRetention(PgConn& conn, const DecideContext& ctx,
                               MaintenanceReport* report,
                               std::vector<std::string>* wake,
                               Damage* damage) {
  const RetentionOptions& ret = options_.retention;
  WorkingSet ws;
  // A damaged row is passed over (PassOverRow): it stays for the
  // operator (`verify --postgres-url` names it), and every other row is
  // swept; so is a session one of whose actions is damaged, which would
  // go with it. A newer release's row likewise stays, for a newer server.
  // Each answers how many rows of its page it took (not passed over).
  auto add_sessions = [&](const PgResult& r,
                          bool with_actions) -> Result<size_t> {
    size_t taken = 0;
    for (int i = 0; i < r.rows(); ++i) {
      Result<SessionRow> row = ParseSessionRow(r, i, 0);
      if (!row.ok()) {
        ACPSTORE_RETURN_IF_ERROR(PassOverRow(row.status(), damage));
        continue;
      }
      const Session& s = row->session;
      if (ws.HadSession(s.tenant_id, s.id)) {
        ++taken;
        continue;
      }
      // Counted into the report with the session.
      std::vector<Action> actions;
      if (with_actions) {
        ACPSTORE_ASSIGN_OR_RETURN(
            PgResult a, conn.Exec(kActionsOfSession,
                                  PgParams().Text(s.tenant_id).Text(s.id)));
        for (int j = 0; j < a.rows(); ++j) {
          Result<Action> action = ParseActionRow(a, j, 0);
          if (!action.ok()) {
            ACPSTORE_RETURN_IF_ERROR(PassOverRow(action.status(), damage));
            actions.clear();
            break;
          }
          actions.push_back(std::move(*action));
        }
        if (static_cast<int>(actions.size()) != a.rows()) continue;
      }
      ACPSTORE_RETURN_IF_ERROR(ws.AddSession(*row));
      for (Action& action : actions) {
        ACPSTORE_RETURN_IF_ERROR(ws.AddAction(std::move(action)));
      }
      ++taken;
    }
    return taken;
  };
  auto add_actions = [&](const PgResult& r) -> Result<size_t> {
    size_t taken = 0;
    for (int i = 0; i < r.rows(); ++i) {
      Result<Action> a = ParseActionRow(r, i, 0);
      if (!a.ok()) {
        ACPSTORE_RETURN_IF_ERROR(PassOverRow(a.status(), damage));
        continue;
      }
      if (ws.HadAction(a->tenant_id, a->action_id)) {
        ++taken;
        continue;
      }
      Status session = LoadSession(conn, &ws, a->tenant_id, a->session_id,
                                   Lock::kNone, false);
      if (!session.ok()) {
        ACPSTORE_RETURN_IF_ERROR(PassOverRow(session, damage));
        continue;
      }
      ACPSTORE_RETURN_IF_ERROR(ws.AddAction(std::move(*a)));
      ++taken;
    }
    return taken;
  };
  // Each sweep goes on from where its last pass stopped (SweepInPages).
  auto sweep = [&](const PgStatement& stmt, int64_t due,
                   SweepKey SweepCursors::*which, const SweepPaging& paging,
                   const TakePage& take) -> Status {
    SweepKey resume = SweepResume(which);
    ACPSTORE_RETURN_IF_ERROR(
        SweepInPages(conn, stmt, due, nullptr, paging, &resume, take));
    SetSweepResume(which, std::move(resume));
    return Status::OK();
  };
  if (ret.session_retention_ms > 0) {
    ACPSTORE_RETURN_IF_ERROR(sweep(
        kSessionsEndedBy, ctx.now - ret.session_retention_ms,
        &SweepCursors::sessions_ended,
        {kSweepSessionPage, kSessionColumnCount, kMaxSweepPages},
        [&](const PgResult& r) { return add_sessions(r, true); }));
  }
  if (ret.terminal_event_retention_ms > 0) {
    ACPSTORE_RETURN_IF_ERROR(sweep(
        kSessionsWithEventsEndedBy, ctx.now - ret.terminal_event_retention_ms,
        &SweepCursors::sessions_with_events_ended,
        {kSweepSessionPage, kSessionColumnCount, kMaxSweepPages},
        [&](const PgResult& r) { return add_sessions(r, false); }));
  }
  if (ret.action_retention_ms > 0) {
    ACPSTORE_RETURN_IF_ERROR(
        sweep(kActionsFinishedBy, ctx.now - ret.action_retention_ms,
              &SweepCursors::actions_finished,
              {kSweepActionPage, kActionColumnCount, kMaxSweepPages}, add_actions));
  }
  record::Mutation m = engine::DecideRetention(ws.state(), ctx, report);
  if (m.empty()) return Status::OK();
  // Transcripts fold the events retention drops first (pg_transcripts.h).
  TranscriptTails tails(TranscriptConfigOf(options_));
  ACPSTORE_RETURN_IF_ERROR(WriteMutation(conn, channel_, ws, m, nullptr, &tails));
  *wake = engine::SubscriptionHub::SessionsToNotify(m);
  return Status::OK();
}

void PgStore::RunMaintenance(Completion<MaintenanceReport> done) {
  MaintenanceReport report;
  std::vector<std::string> wake;
  Damage damage;  // the last attempt's, counted once below
  // One transaction: rows another server is sweeping are skipped (SKIP
  // LOCKED), so servers never do the same work twice.
  Status s = InTransaction([&](PgConn& c) -> Status {
    report = MaintenanceReport{};
    wake.clear();
    damage.clear();
    const DecideContext ctx = Context();
    ACPSTORE_RETURN_IF_ERROR(SweepLeases(c, ctx, nullptr, &report, &damage));
    return ApplyRetention(c, ctx, &report, &wake, &damage);
  });
  ReportDamage(damage);
  if (s.ok()) {
    events_dropped_.fetch_add(report.events_dropped);
    hub_.Notify(wake);
  }
  if (!done) return;
  if (!s.ok()) return done(std::move(s));
  done(report);
}

}  // namespace acpstore::postgres
