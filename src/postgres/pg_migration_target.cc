// PgMigrationTarget: see pg_migration_target.h.
//
// Thread-safety: see the header.

#include "postgres/pg_transcripts.h"
#include "postgres/pg_migration_target.h"

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <tuple>
#include <utility>
#include <variant>

#include "engine/migration_batch.h"
#include "postgres/pg_rows.h"
#include "postgres/pg_store.h"
#include "postgres/pg_working_set.h"
#include "postgres/pg_write.h"

namespace acpstore::postgres {
namespace {

// Attempts of one batch before a race is reported as lost.
constexpr int kMaxAttempts = 4;

constexpr PgStatement kMigLockSession{
    "mig_session",
    "SELECT s.record, s.incarnation, s.first_seq, s.last_seq, s.retained, "
    "s.payload_bytes, s.owner_key_id, s.status, s.updated_at, s.ended_at, "
    "s.tenant_id, s.session_id "
    "FROM sessions s WHERE s.tenant_id = $1 AND "
    "s.session_id = $2 FOR UPDATE"};
constexpr PgStatement kMigSession{
    "mig_session_nolock",
    "SELECT s.record, s.incarnation, s.first_seq, s.last_seq, s.retained, "
    "s.payload_bytes, s.owner_key_id, s.status, s.updated_at, s.ended_at, "
    "s.tenant_id, s.session_id "
    "FROM sessions s WHERE s.tenant_id = $1 AND "
    "s.session_id = $2"};
constexpr PgStatement kMigAction{
    "mig_action",
    "SELECT a.record, a.session_id, a.owner_key_id, a.type, a.status, "
    "a.created_at, a.available_at, a.leased_until, a.finished_at, "
    "a.idempotency_key, a.tenant_id, a.action_id "
    "FROM actions a WHERE a.tenant_id = $1 AND "
    "a.action_id = $2"};
constexpr PgStatement kMigCounts{
    "mig_counts",
    "SELECT (SELECT count(*) FROM sessions), (SELECT count(*) FROM actions)"};
// The 1-based positions of the ids that exist; $1 kinds ('s' or 'a').
constexpr PgStatement kMigExist{
    "mig_exist",
    "SELECT k.ord FROM unnest($1::text[], $2::text[], $3::text[]) "
    "WITH ORDINALITY AS k(kind, tenant, id, ord) WHERE "
    "(k.kind = 's' AND EXISTS (SELECT 1 FROM sessions s WHERE "
    "s.tenant_id = k.tenant AND s.session_id = k.id)) OR "
    "(k.kind = 'a' AND EXISTS (SELECT 1 FROM actions a WHERE "
    "a.tenant_id = k.tenant AND a.action_id = k.id))"};
constexpr PgStatement kMigAllSessions{
    "mig_all_sessions",
    "SELECT s.record, s.incarnation, s.first_seq, s.last_seq, s.retained, "
    "s.payload_bytes, s.owner_key_id, s.status, s.updated_at, s.ended_at, "
    "s.tenant_id, s.session_id "
    "FROM sessions s ORDER BY s.tenant_id, s.session_id"};
constexpr PgStatement kMigAllPauses{
    "mig_all_pauses",
    "SELECT p.record, p.status, p.tenant_id, p.session_id, p.pause_id "
    "FROM pauses p ORDER BY p.position"};
constexpr PgStatement kMigAllActions{
    "mig_all_actions",
    "SELECT a.record, a.session_id, a.owner_key_id, a.type, a.status, "
    "a.created_at, a.available_at, a.leased_until, a.finished_at, "
    "a.idempotency_key, a.tenant_id, a.action_id "
    "FROM actions a ORDER BY a.insertion"};
constexpr PgStatement kMigEvents{
    "mig_events",
    "SELECT s.owner_key_id, e.seq, e.client_event_id, e.event_type, "
    "e.occurred_at, e.ingested_at, e.backend_run_id, e.payload_ref, "
    "e.payload FROM events e JOIN sessions s ON s.tenant_id = e.tenant_id "
    "AND s.session_id = e.session_id WHERE e.tenant_id = $1 AND "
    "e.session_id = $2 AND e.seq > $3 ORDER BY e.seq LIMIT $4"};

// Each statement a row parser reads selects that parser's list first.
static_assert(SelectsColumns(kMigLockSession.sql, kSessionColumns) &&
              SelectsColumns(kMigSession.sql, kSessionColumns) &&
              SelectsColumns(kMigAllSessions.sql, kSessionColumns));
static_assert(SelectsColumns(kMigAction.sql, kActionColumns) &&
              SelectsColumns(kMigAllActions.sql, kActionColumns) &&
              SelectsColumns(kMigAllPauses.sql, kPauseColumns));

bool IsRetryable(std::string_view state) {
  return state == kSerializationFailure || state == kDeadlockDetected ||
         state == kUniqueViolation;
}

using Key = std::pair<std::string, std::string>;  // tenant, id

}  // namespace

PgMigrationTarget::PgMigrationTarget(const std::string& url,
                                     const std::string& schema,
                                     const transcript::Limits& limits)
    : schema_(schema),
      channel_(NotifyChannel(schema)),
      limits_(limits),
      pool_(url, schema, 1) {}

std::string PgMigrationTarget::Describe() const {
  return "the postgres schema \"" + schema_ + "\"";
}

Result<engine::MigrationTarget::Held> PgMigrationTarget::CountHeld() {
  ACPSTORE_ASSIGN_OR_RETURN(PgPool::Lease conn, pool_.Borrow());
  ACPSTORE_ASSIGN_OR_RETURN(PgResult r, conn->Exec(kMigCounts, PgParams()));
  return Held{static_cast<uint64_t>(r.Int(0, 0)),
              static_cast<uint64_t>(r.Int(0, 1))};
}

Result<std::vector<bool>> PgMigrationTarget::Exist(
    const std::vector<engine::RecordId>& ids) {
  std::vector<bool> out(ids.size(), false);
  if (ids.empty()) return out;
  std::vector<std::string> kinds, tenants, names;
  for (const engine::RecordId& r : ids) {
    kinds.push_back(r.kind == engine::RecordId::Kind::kSession ? "s" : "a");
    tenants.push_back(r.tenant_id);
    names.push_back(r.id);
  }
  ACPSTORE_ASSIGN_OR_RETURN(PgPool::Lease conn, pool_.Borrow());
  ACPSTORE_ASSIGN_OR_RETURN(
      PgResult r, conn->Exec(kMigExist, PgParams()
                                            .Text(TextArray(kinds))
                                            .Text(TextArray(tenants))
                                            .Text(TextArray(names))));
  for (int i = 0; i < r.rows(); ++i) {
    const int64_t ord = r.Int(i, 0);
    if (ord >= 1 && static_cast<size_t>(ord) <= out.size()) {
      out[static_cast<size_t>(ord - 1)] = true;
    }
  }
  return out;
}

Status PgMigrationTarget::WriteBatch(PgConn& conn,
                                     const record::Mutation& batch) {
  // The rows the batch touches, in a fixed order (fewer deadlocks with a
  // server appending to the same sessions): sessions locked, actions
  // looked up with their sessions.
  std::set<Key> sessions;
  std::set<Key> actions;
  for (const record::MutationOp& op : batch.ops) {
    if (const auto* s = std::get_if<record::UpsertSessionOp>(&op)) {
      sessions.emplace(s->session.tenant_id, s->session.id);
    } else if (const auto* a = std::get_if<record::AdvanceSeqOp>(&op)) {
      sessions.emplace(a->tenant_id, a->session_id);
    } else if (const auto* e = std::get_if<record::AppendEventsOp>(&op)) {
      sessions.emplace(e->tenant_id, e->session_id);
    } else if (const auto* u = std::get_if<record::UpsertActionOp>(&op)) {
      actions.emplace(u->action.tenant_id, u->action.action_id);
    } else if (const auto* p = std::get_if<record::UpsertPauseOp>(&op)) {
      sessions.emplace(p->pause.tenant_id, p->pause.session_id);
    } else {
      return Status::Internal("import: an operation a migration never writes");
    }
  }
  WorkingSet ws;
  for (const Key& k : sessions) {
    ACPSTORE_ASSIGN_OR_RETURN(
        PgResult r,
        conn.Exec(kMigLockSession, PgParams().Text(k.first).Text(k.second)));
    if (r.rows() == 0) continue;
    ACPSTORE_ASSIGN_OR_RETURN(SessionRow row, ParseSessionRow(r, 0, 0));
    ACPSTORE_RETURN_IF_ERROR(ws.AddSession(row));
  }
  for (const Key& k : actions) {
    ACPSTORE_ASSIGN_OR_RETURN(
        PgResult r, conn.Exec(kMigAction, PgParams().Text(k.first).Text(k.second)));
    if (r.rows() == 0) continue;
    ACPSTORE_ASSIGN_OR_RETURN(Action a, ParseActionRow(r, 0, 0));
    if (!ws.HadSession(a.tenant_id, a.session_id)) {
      ACPSTORE_ASSIGN_OR_RETURN(
          PgResult s, conn.Exec(kMigSession,
                                PgParams().Text(a.tenant_id).Text(a.session_id)));
      if (s.rows() == 0) return Status::Internal("an action row without its session");
      ACPSTORE_ASSIGN_OR_RETURN(SessionRow row, ParseSessionRow(s, 0, 0));
      ACPSTORE_RETURN_IF_ERROR(ws.AddSession(row));
    }
    ACPSTORE_RETURN_IF_ERROR(ws.AddAction(std::move(a)));
  }
  ACPSTORE_RETURN_IF_ERROR(engine::CheckMigrationBatch(ws.state(), batch));
  // Transcripts of the imported events: checkpointed at the end of each
  // batch, in its transaction (a batch brings many events per session).
  TranscriptTails tails(TranscriptConfig{.limits = limits_});
  ACPSTORE_RETURN_IF_ERROR(
      WriteMutation(conn, channel_, ws, batch, nullptr, &tails));
  return tails.CheckpointAppended(conn);
}

void PgMigrationTarget::CommitBatch(record::Mutation batch,
                                    StatusCompletion done) {
  Status last = Status::Unavailable("the database is unreachable");
  std::string last_state;
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    Result<PgPool::Lease> lease = pool_.Borrow();
    if (!lease.ok()) {
      last = std::move(lease).error();
      break;
    }
    PgConn& c = **lease;
    last = c.Run("BEGIN").status();
    if (last.ok()) last = WriteBatch(c, batch);
    if (last.ok()) {
      last = c.Run("COMMIT").status();
      last_state = c.last_sqlstate();
      // Done, or lost while committing (the outcome is unknown: say so).
      if (last.ok() || !IsRetryable(last_state)) break;
      continue;
    }
    last_state = c.last_sqlstate();
    if (c.healthy()) (void)c.Run("ROLLBACK");
    // A refusal of the check, or an error no retry cures.
    if (!IsRetryable(last_state)) break;
  }
  if (!last.ok() && last_state == kUniqueViolation) {
    // Left after the retries: not an id the check missed but another
    // unique key (an action idempotency key an action of the store
    // already uses for the same session).
    last = Status::Conflict("import: a record of this batch collides with "
                            "one in the store: " +
                            std::string(last.message()));
  }
  if (done) done(std::move(last));
}

Result<engine::StoredRecords> PgMigrationTarget::ReadRecords() {
  ACPSTORE_ASSIGN_OR_RETURN(PgPool::Lease conn, pool_.Borrow());
  ACPSTORE_RETURN_IF_ERROR(
      conn->Run("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").status());
  auto read = [&]() -> Result<engine::StoredRecords> {
    engine::StoredRecords out;
    ACPSTORE_ASSIGN_OR_RETURN(PgResult s, conn->Exec(kMigAllSessions, PgParams()));
    std::map<Key, size_t> index;
    for (int i = 0; i < s.rows(); ++i) {
      ACPSTORE_ASSIGN_OR_RETURN(SessionRow row, ParseSessionRow(s, i, 0));
      index[{row.session.tenant_id, row.session.id}] = out.sessions.size();
      out.sessions.push_back({std::move(row.session), {}});
    }
    ACPSTORE_ASSIGN_OR_RETURN(PgResult p, conn->Exec(kMigAllPauses, PgParams()));
    for (int i = 0; i < p.rows(); ++i) {
      ACPSTORE_ASSIGN_OR_RETURN(Pause pause, ParsePauseRow(p, i, 0));
      auto it = index.find({pause.tenant_id, pause.session_id});
      if (it == index.end()) {
        return Status::Corruption("a pause row without its session");
      }
      out.sessions[it->second].pauses.push_back(std::move(pause));
    }
    ACPSTORE_ASSIGN_OR_RETURN(PgResult a, conn->Exec(kMigAllActions, PgParams()));
    for (int i = 0; i < a.rows(); ++i) {
      ACPSTORE_ASSIGN_OR_RETURN(Action action, ParseActionRow(a, i, 0));
      out.actions.push_back(std::move(action));
    }
    return out;
  };
  Result<engine::StoredRecords> out = read();
  (void)conn->Run(out.ok() ? "COMMIT" : "ROLLBACK");
  if (!out.ok()) return out;
  // Bytewise, as the other engines order them (COLLATE "C" does too).
  std::sort(out->sessions.begin(), out->sessions.end(),
            [](const auto& x, const auto& y) {
              return std::tie(x.session.tenant_id, x.session.id) <
                     std::tie(y.session.tenant_id, y.session.id);
            });
  return out;
}

Result<std::vector<Event>> PgMigrationTarget::ReadEvents(
    std::string_view tenant_id, std::string_view session_id, EventSeq after,
    uint32_t limit) {
  ACPSTORE_ASSIGN_OR_RETURN(PgPool::Lease conn, pool_.Borrow());
  ACPSTORE_ASSIGN_OR_RETURN(
      PgResult r, conn->Exec(kMigEvents, PgParams()
                                             .Text(tenant_id)
                                             .Text(session_id)
                                             .Int(static_cast<int64_t>(after))
                                             .Int(limit)));
  std::vector<Event> out;
  out.reserve(static_cast<size_t>(r.rows()));
  Session scope;
  scope.tenant_id = std::string(tenant_id);
  scope.id = std::string(session_id);
  for (int i = 0; i < r.rows(); ++i) {
    scope.owner_key_id = std::string(r.Text(i, 0));
    ACPSTORE_ASSIGN_OR_RETURN(Event e, ParseEventRow(r, i, 1, scope));
    out.push_back(std::move(e));
  }
  return out;
}

Result<engine::MigrationStore> OpenPostgresForMigration(
    const StoreOptions& options) {
  // Opening the store checks the options and migrates the schema.
  ACPSTORE_ASSIGN_OR_RETURN(std::unique_ptr<PgStore> store,
                            PgStore::Open(options));
  auto target = std::make_unique<PgMigrationTarget>(
      options.postgres_url, options.postgres_schema, TranscriptLimits(options));
  return engine::MigrationStore(std::move(store), std::move(target));
}

}  // namespace acpstore::postgres
