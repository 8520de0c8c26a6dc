// AppendBatch: see pg_append_batch.h.

#include "postgres/pg_append_batch.h"

#include <libpq-fe.h>

#include <algorithm>
#include <set>
#include <utility>
#include <variant>

#include "engine/keys.h"
#include "postgres/pg_rows.h"
#include "postgres/pg_transcripts.h"
#include "postgres/pg_write.h"

namespace acpstore::postgres {
namespace {

// Also the row's xmin and this transaction's xid (its low 32 bits, the
// xmin of the rows it writes), for the cache (pg_session_cache.h).
constexpr PgStatement kLockSession{
    "ab_lock_session",
    "SELECT s.record, s.incarnation, s.first_seq, s.last_seq, s.retained, "
    "s.payload_bytes, s.owner_key_id, s.status, s.updated_at, s.ended_at, "
    "s.tenant_id, s.session_id, s.folded_seq, s.unfolded, "
    "s.xmin::text::bigint, "
    "txid_current() % 4294967296 FROM sessions s WHERE "
    "s.tenant_id = $1 AND s.session_id = $2 FOR UPDATE"};
static_assert(SelectsColumns(kLockSession.sql, kSessionColumns));
// The cached row's guard: locks it as kLockSession does, and fails the
// transaction (division by zero) unless it is the version cached. In READ
// COMMITTED a row another transaction updates meanwhile is re-checked in
// its new version once that one commits (xmin then differs). Also this
// transaction's xid, as above.
constexpr PgStatement kGuardSession{
    "ab_guard_session",
    "SELECT 1 / count(*), txid_current() % 4294967296 FROM (SELECT 1 FROM "
    "sessions s WHERE s.tenant_id = $1 AND s.session_id = $2 AND s.xmin = "
    "$3::xid AND s.last_seq = $4::bigint FOR UPDATE) g"};
// A cached session's appends in one statement (decision 0028): the guard
// (as kGuardSession: the row locked, and the transaction failed by
// division by zero unless the row's xmin and last_seq are the cached
// ones, $11 and $12) folded into the counter UPDATE's WHERE (as
// kAdvanceCounter, $13-$16), and the session's first event INSERTed in a
// CTE ($1-$10 as kInsertEvent). The INSERT runs after the outer SELECT,
// so a failed guard fails the statement before it. Also this
// transaction's xid, as kGuardSession.
constexpr PgStatement kAppendGuarded{
    "ab_append_guarded",
    "WITH g AS (UPDATE sessions SET first_seq = CASE WHEN retained = 0 THEN "
    "$14::bigint - $13::bigint + 1 ELSE first_seq END, last_seq = "
    "$14::bigint, retained = retained + $13::bigint, payload_bytes = "
    "payload_bytes + $15::bigint, folded_seq = CASE WHEN unfolded + "
    "$16::bigint = 0 THEN $14::bigint ELSE folded_seq END, unfolded = "
    "unfolded + $16::bigint WHERE tenant_id = $1 AND session_id = $2 AND "
    "xmin = $11::xid AND last_seq = $12::bigint RETURNING 1), e AS (INSERT "
    "INTO events (tenant_id, session_id, seq, client_event_id, event_type, "
    "occurred_at, ingested_at, backend_run_id, payload_ref, payload) VALUES "
    "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)) SELECT 1 / count(*), "
    "txid_current() % 4294967296 FROM g"};
// Fails the transaction if one of the clientEventIds $3 is stored: the
// cached row says nothing of them. Behind the session's guard (or
// kAppendGuarded), so no other server can add one any more; and behind
// this batch's INSERTs, so only events up to the cached last_seq ($4)
// count.
constexpr PgStatement kGuardClientIdsBefore{
    "ab_guard_client_ids_before",
    "SELECT 1 / (CASE WHEN EXISTS (SELECT 1 FROM events e WHERE "
    "e.tenant_id = $1 AND e.session_id = $2 AND e.client_event_id = "
    "ANY($3::text[]) AND e.seq <= $4::bigint) THEN 0 ELSE 1 END)"};
constexpr PgStatement kKnownEvents{
    "ab_known_events",
    "SELECT e.seq, e.client_event_id, e.event_type, e.occurred_at, "
    "e.ingested_at, e.backend_run_id, e.payload_ref, e.payload FROM events e "
    "WHERE e.tenant_id = $1 AND e.session_id = $2 AND "
    "e.client_event_id = ANY($3::text[])"};
// $3 events appended, the last of them $4, $5 bytes of payload, $6 of
// folded types (the transcript's unfolded tail; a tail of none needs no
// fold: pg_transcripts.h).
constexpr PgStatement kAdvanceCounter{
    "ab_advance_counter",
    "UPDATE sessions SET first_seq = CASE WHEN retained = 0 THEN "
    "$4::bigint - $3::bigint + 1 ELSE first_seq END, last_seq = $4::bigint, "
    "retained = retained + $3::bigint, payload_bytes = payload_bytes + "
    "$5::bigint, folded_seq = CASE WHEN unfolded + $6::bigint = 0 THEN "
    "$4::bigint ELSE folded_seq END, unfolded = unfolded + $6::bigint "
    "WHERE tenant_id = $1 AND session_id = $2"};

bool OnlyAppends(const record::Mutation& m) {
  for (const record::MutationOp& op : m.ops) {
    if (!std::holds_alternative<record::AppendEventsOp>(op)) return false;
  }
  return true;
}

}  // namespace

BatchSessions SessionsOf(const std::vector<const AppendTarget*>& targets) {
  // Each session once, in (tenant, session) byte order: every batch on
  // every server locks its rows in this order, so two batches never
  // deadlock (PostgreSQL would break that only after deadlock_timeout).
  BatchSessions sessions;
  for (const AppendTarget* t : targets) {
    auto& ids = sessions[{t->tenant_id, t->session_id}];
    ids.insert(t->client_ids.begin(), t->client_ids.end());
  }
  return sessions;
}

Status AppendBatch::Begin(const std::vector<const AppendTarget*>& targets) {
  const BatchSessions sessions = SessionsOf(targets);
  ACPSTORE_RETURN_IF_ERROR(conn_.SendCommand("BEGIN"));
  for (const auto& [key, ids] : sessions) {
    ACPSTORE_RETURN_IF_ERROR(conn_.Prefetch(
        kLockSession, PgParams().Text(key.first).Text(key.second)));
  }
  // Behind every lock, so each reads once its row is locked: no other
  // server can add one of these events any more.
  for (const auto& [key, ids] : sessions) {
    if (ids.empty()) continue;
    ACPSTORE_RETURN_IF_ERROR(conn_.Prefetch(
        kKnownEvents,
        PgParams().Text(key.first).Text(key.second).Text(
            TextArray({ids.begin(), ids.end()}))));
  }
  // The first Exec sends all of it (one round trip); the others take
  // their prefetched rows.
  for (const auto& [key, ids] : sessions) {
    ACPSTORE_ASSIGN_OR_RETURN(
        PgResult r,
        conn_.Exec(kLockSession, PgParams().Text(key.first).Text(key.second)));
    std::vector<Event> known;
    if (!ids.empty()) {
      ACPSTORE_ASSIGN_OR_RETURN(
          PgResult e, conn_.Exec(kKnownEvents,
                                 PgParams().Text(key.first).Text(key.second).Text(
                                     TextArray({ids.begin(), ids.end()}))));
      if (r.rows() > 0) {
        ACPSTORE_ASSIGN_OR_RETURN(SessionRow row, ParseSessionRow(r, 0, 0));
        for (int i = 0; i < e.rows(); ++i) {
          ACPSTORE_ASSIGN_OR_RETURN(Event event,
                                    ParseEventRow(e, i, 0, row.session));
          known.push_back(std::move(event));
        }
      }
    }
    if (r.rows() == 0) continue;  // the decider answers kNotFound
    ACPSTORE_ASSIGN_OR_RETURN(SessionRow row, ParseSessionRow(r, 0, 0));
    tails_.Loaded(key.first, key.second,
                  static_cast<EventSeq>(r.Int(0, kSessionColumnCount)),
                  r.Int(0, kSessionColumnCount + 1));
    xid_ = static_cast<uint32_t>(r.Int(0, kSessionColumnCount + 3));
    loaded_[key] = CachedSession{
        .row = row,
        .xmin = static_cast<uint32_t>(r.Int(0, kSessionColumnCount + 2)),
        .folded_seq = static_cast<EventSeq>(r.Int(0, kSessionColumnCount)),
        .unfolded = r.Int(0, kSessionColumnCount + 1)};
    ACPSTORE_RETURN_IF_ERROR(ws_.AddSession(row, std::move(known)));
  }
  return Status::OK();
}

PgParams AppendBatch::GuardParams(const Guard& g) {
  PgParams p;
  p.Text(g.tenant_id)
      .Text(g.session_id)
      .Int(static_cast<int64_t>(g.xmin))
      .Int(g.last_seq);
  return p;
}

Status AppendBatch::BeginCached(
    const std::vector<const AppendTarget*>& targets,
    std::vector<CachedSession> rows) {
  const BatchSessions sessions = SessionsOf(targets);
  if (rows.size() != sessions.size()) {
    return Status::Internal("cached rows do not match the batch");
  }
  // Nothing is sent yet: each session's guard goes out with its writes
  // (FlushCached), so a batch that cannot take this way (a decision that
  // is not pure appends) gives it up without a round trip.
  cached_ = true;
  size_t i = 0;
  for (const auto& [key, ids] : sessions) {
    CachedSession& c = rows[i++];
    guards_[key] = Guard{key.first, key.second, c.xmin,
                         static_cast<int64_t>(c.row.session.events.last_seq),
                         {ids.begin(), ids.end()}};
    tails_.Loaded(key.first, key.second, c.folded_seq, c.unfolded);
    ACPSTORE_RETURN_IF_ERROR(ws_.AddSession(c.row));
    loaded_[key] = std::move(c);
  }
  return Status::OK();
}

Status AppendBatch::FlushCached() {
  ACPSTORE_RETURN_IF_ERROR(conn_.SendCommand("BEGIN"));
  // Per session, in (tenant, session) order (every batch locks rows in
  // it): its appends' statement, or the bare guard if none of its appends
  // was accepted (a refusal was decided against the cached row too).
  for (const auto& [key, g] : guards_) {
    auto counter = counters_.find(key);
    auto inserts = inserts_.find(key);
    const PgStatement* stmt = &kGuardSession;
    PgParams params;
    if (counter != counters_.end() && inserts != inserts_.end() &&
        !inserts->second.empty()) {
      const Counter& c = counter->second;
      stmt = &kAppendGuarded;
      params = std::move(inserts->second.front());
      params.Int(static_cast<int64_t>(g.xmin))
          .Int(g.last_seq)
          .Int(c.events)
          .Int(c.last_seq)
          .Int(c.bytes)
          .Int(c.folded);
    } else {
      params = GuardParams(g);
    }
    if (first_stmt_ == nullptr) {
      // Its row is read after the COMMIT (CommitCached), for the xid.
      first_stmt_ = stmt;
      first_params_ = std::move(params);
      ACPSTORE_RETURN_IF_ERROR(conn_.Prefetch(*stmt, first_params_));
    } else {
      ACPSTORE_RETURN_IF_ERROR(conn_.Send(*stmt, params));
    }
    if (stmt == &kAppendGuarded) {
      for (size_t j = 1; j < inserts->second.size(); ++j) {
        ACPSTORE_RETURN_IF_ERROR(
            conn_.Send(kInsertEventStatement, inserts->second[j]));
      }
    }
    if (!g.client_ids.empty()) {
      ACPSTORE_RETURN_IF_ERROR(conn_.Send(kGuardClientIdsBefore,
                                          PgParams()
                                              .Text(g.tenant_id)
                                              .Text(g.session_id)
                                              .Text(TextArray(g.client_ids))
                                              .Int(g.last_seq)));
    }
  }
  counters_.clear();
  inserts_.clear();
  return tails_.CheckpointOverdue(conn_);
}

Status AppendBatch::CommitCached() {
  if (first_stmt_ == nullptr) return Status::Internal("not a cached batch");
  ACPSTORE_RETURN_IF_ERROR(conn_.SendCommand("COMMIT"));
  commit_sent_ = true;
  // Sends everything queued (one round trip, unless a read of the batch,
  // a transcript checkpoint's, sent the first part already) and waits
  // for all of it, the COMMIT included: OK only once it committed.
  ACPSTORE_RETURN_IF_ERROR(conn_.Flush());
  // The first statement's row, read by whichever round trip carried it;
  // not Exec, which would run it again outside the transaction.
  std::optional<PgResult> r = conn_.TakeFetched(*first_stmt_, first_params_);
  if (r && r->rows() == 1 && !r->IsNull(0, 1)) {
    xid_ = static_cast<uint32_t>(r->Int(0, 1));
  }
  return Status::OK();
}

void AppendBatch::RollBack() {
  if (!conn_.healthy()) return;
  (void)conn_.Flush();  // what is queued runs (and fails) first
  if (conn_.healthy() && PQtransactionStatus(conn_.raw()) != PQTRANS_IDLE) {
    (void)conn_.Run("ROLLBACK");
  }
}

std::vector<CachedSession> AppendBatch::Settled() const {
  std::vector<CachedSession> out;
  if (!cacheable_ || !xid_) return out;
  for (const auto& [key, loaded] : loaded_) {
    CachedSession s = loaded;
    auto it = advanced_.find(key);
    if (it != advanced_.end()) {
      // What kAdvanceCounter did to the row (one UPDATE: a batch of pure
      // appends flushes once).
      const Counter& c = it->second;
      EventStreamInfo& ev = s.row.session.events;
      if (ev.retained == 0) {
        ev.first_seq = static_cast<EventSeq>(c.last_seq - c.events + 1);
      }
      ev.last_seq = static_cast<EventSeq>(c.last_seq);
      ev.retained += static_cast<uint64_t>(c.events);
      ev.bytes += static_cast<uint64_t>(c.bytes);
      if (s.unfolded + c.folded == 0) {
        s.folded_seq = static_cast<EventSeq>(c.last_seq);
      }
      s.unfolded += c.folded;
      s.xmin = *xid_;
    }
    // Checkpointed by this batch (past the backlog bound): the row is not
    // what the counters say, so the next batch reads it again. A row only
    // due for the Checkpointer's checkpoint is cached: until that one
    // commits, the session's batches still take one round trip, and the
    // Checkpointer then updates the entry (SessionCache::Checkpointed;
    // decision 0026, which refines 0022).
    if (transcripts_.on() &&
        static_cast<uint64_t>(std::max<int64_t>(s.unfolded, 0)) >=
            transcripts_.backlog_events()) {
      continue;
    }
    out.push_back(std::move(s));
  }
  return out;
}

Status AppendBatch::Write(record::Mutation m, std::vector<std::string>* notes) {
  if (m.empty()) return Status::OK();
  if (OnlyAppends(m)) {
    for (const record::MutationOp& op : m.ops) {
      const auto& a = std::get<record::AppendEventsOp>(op);
      if (a.events.empty()) continue;
      Counter& c = counters_[{a.tenant_id, a.session_id}];
      for (const Event& e : a.events) {
        c.bytes += static_cast<int64_t>(e.payload.size());
        if (cached_) {
          // Sent at FlushCached, behind the session's guard.
          inserts_[{a.tenant_id, a.session_id}].push_back(
              InsertEventParams(a.tenant_id, a.session_id, e));
          continue;
        }
        // Queued now (pipelined): nothing reads these rows before COMMIT.
        ACPSTORE_RETURN_IF_ERROR(
            SendInsertEvent(conn_, a.tenant_id, a.session_id, e));
      }
      c.events += static_cast<int64_t>(a.events.size());
      c.last_seq = static_cast<int64_t>(a.events.back().seq);
      const int64_t folded = CountFolded(a.events);
      c.folded += folded;
      Counter& total = advanced_[{a.tenant_id, a.session_id}];
      total.events += static_cast<int64_t>(a.events.size());
      total.last_seq = c.last_seq;
      total.folded += folded;
      for (const Event& e : a.events) {
        total.bytes += static_cast<int64_t>(e.payload.size());
      }
      tails_.Appended(a.tenant_id, a.session_id, folded, a.events.back().seq);
      notes->push_back(NotifyPayload(a.events.back().seq, a.tenant_id,
                                     a.session_id));
    }
  } else {
    // Its writes would go out before the guards: the batch runs the slow
    // way instead (RunCached falls back; nothing was sent yet).
    if (cached_) {
      return Status::Conflict("a cached batch writes only appends");
    }
    // Rows it changes otherwise are not worth following for the cache.
    cacheable_ = false;
    // In decision order: the counters collected before this one first.
    ACPSTORE_RETURN_IF_ERROR(Flush());
    ACPSTORE_RETURN_IF_ERROR(
        WriteMutation(conn_, channel_, ws_, m, notes, &tails_));
  }
  return ws_.mutable_state().Apply(std::move(m));
}

Status AppendBatch::Flush() {
  if (cached_) return FlushCached();
  for (const auto& [key, c] : counters_) {
    ACPSTORE_RETURN_IF_ERROR(conn_.Send(kAdvanceCounter, PgParams()
                                                             .Text(key.first)
                                                             .Text(key.second)
                                                             .Int(c.events)
                                                             .Int(c.last_seq)
                                                             .Int(c.bytes)
                                                             .Int(c.folded)));
  }
  counters_.clear();
  // Behind the counters, so a checkpoint folds up to their last_seq. Only
  // a tail the background checkpoints let grow to the backlog bound; the
  // others are due() after the COMMIT (decision 0020).
  return tails_.CheckpointOverdue(conn_);
}

}  // namespace acpstore::postgres
