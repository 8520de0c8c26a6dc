// AppendBatch: see pg_append_batch.h.

#include "postgres/pg_append_batch.h"

#include <set>
#include <utility>
#include <variant>

#include "engine/keys.h"
#include "postgres/pg_transcripts.h"
#include "postgres/pg_write.h"

namespace acpstore::postgres {
namespace {

constexpr PgStatement kLockSession{
    "ab_lock_session",
    "SELECT s.record, s.incarnation, s.first_seq, s.last_seq, s.retained, "
    "s.payload_bytes, s.folded_seq, s.unfolded FROM sessions s WHERE "
    "s.tenant_id = $1 AND s.session_id = $2 FOR UPDATE"};
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

Status AppendBatch::Begin(const std::vector<const AppendTarget*>& targets) {
  // Each session once, in (tenant, session) byte order: every batch on
  // every server locks its rows in this order, so two batches never
  // deadlock (PostgreSQL would break that only after deadlock_timeout).
  std::map<std::pair<std::string, std::string>, std::set<std::string>>
      sessions;
  for (const AppendTarget* t : targets) {
    auto& ids = sessions[{t->tenant_id, t->session_id}];
    ids.insert(t->client_ids.begin(), t->client_ids.end());
  }
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
          known.push_back(ParseEventRow(e, i, 0, row.session));
        }
      }
    }
    if (r.rows() == 0) continue;  // the decider answers kNotFound
    ACPSTORE_ASSIGN_OR_RETURN(SessionRow row, ParseSessionRow(r, 0, 0));
    tails_.Loaded(key.first, key.second,
                  static_cast<EventSeq>(r.Int(0, kSessionColumnCount)),
                  r.Int(0, kSessionColumnCount + 1));
    ACPSTORE_RETURN_IF_ERROR(ws_.AddSession(row, std::move(known)));
  }
  return Status::OK();
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
        // Queued now (pipelined): nothing reads these rows before COMMIT.
        ACPSTORE_RETURN_IF_ERROR(
            SendInsertEvent(conn_, a.tenant_id, a.session_id, e));
      }
      c.events += static_cast<int64_t>(a.events.size());
      c.last_seq = static_cast<int64_t>(a.events.back().seq);
      const int64_t folded = CountFolded(a.events);
      c.folded += folded;
      tails_.Appended(a.tenant_id, a.session_id, folded, a.events.back().seq);
      notes->push_back(NotifyPayload(a.events.back().seq, a.tenant_id,
                                     a.session_id));
    }
  } else {
    // In decision order: the counters collected before this one first.
    ACPSTORE_RETURN_IF_ERROR(Flush());
    ACPSTORE_RETURN_IF_ERROR(
        WriteMutation(conn_, channel_, ws_, m, notes, &tails_));
  }
  return ws_.mutable_state().Apply(std::move(m));
}

Status AppendBatch::Flush() {
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
