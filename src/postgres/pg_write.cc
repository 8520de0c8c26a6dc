// WriteMutation: see pg_write.h.

#include "postgres/pg_write.h"

#include <string>
#include <type_traits>
#include <variant>

#include "postgres/pg_transcripts.h"
#include "record/record_codec.h"

namespace acpstore::postgres {
namespace {

constexpr PgStatement kInsertSession{
    "ins_session",
    "INSERT INTO sessions (tenant_id, session_id, owner_key_id, status, "
    "updated_at, ended_at, record) VALUES ($1, $2, $3, $4, $5, $6, $7)"};
constexpr PgStatement kUpdateSession{
    "upd_session",
    "UPDATE sessions SET status = $3, updated_at = $4, ended_at = $5, "
    "record = $6 WHERE tenant_id = $1 AND session_id = $2"};
// Its events, transcript entry rows and text pieces go in the same
// statement: no foreign key cascades to them (schema versions 5 and 8,
// migrations/0005_events_without_fk.sql, 0008_transcript_rows_without_fk.sql).
// Actions, pauses and the transcript's head row still cascade.
constexpr PgStatement kDeleteSession{
    "del_session",
    "WITH e AS (DELETE FROM events WHERE tenant_id = $1 AND session_id = $2), "
    "x AS (DELETE FROM transcript_entries WHERE tenant_id = $1 AND "
    "session_id = $2), "
    "p AS (DELETE FROM transcript_text WHERE tenant_id = $1 AND "
    "session_id = $2) "
    "DELETE FROM sessions WHERE tenant_id = $1 AND session_id = $2"};
constexpr PgStatement kInsertEvent{
    "ins_event",
    "INSERT INTO events (tenant_id, session_id, seq, client_event_id, "
    "event_type, occurred_at, ingested_at, backend_run_id, payload_ref, "
    "payload) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"};
// The counter: the new high-water mark and the retained totals, in the
// append's transaction (the row is locked FOR UPDATE by the loader); $6
// events of folded types join the transcript's unfolded tail, and a tail
// of none needs no fold (pg_transcripts.h).
constexpr PgStatement kAdvanceCounter{
    "adv_counter",
    "UPDATE sessions SET first_seq = CASE WHEN retained = 0 THEN $4::bigint - $3::bigint + 1 "
    "ELSE first_seq END, last_seq = $4::bigint, retained = retained + $3::bigint, "
    "payload_bytes = payload_bytes + $5, "
    "folded_seq = CASE WHEN unfolded + $6::bigint = 0 THEN $4::bigint "
    "ELSE folded_seq END, unfolded = unfolded + $6::bigint "
    "WHERE tenant_id = $1 AND session_id = $2"};
constexpr PgStatement kDropEvents{
    "drop_events",
    "WITH d AS (DELETE FROM events WHERE tenant_id = $1 AND session_id = $2 "
    "AND seq <= $3 RETURNING octet_length(payload) AS n) "
    "UPDATE sessions SET first_seq = GREATEST(first_seq, LEAST($3, last_seq) + 1), "
    "retained = retained - (SELECT count(*) FROM d), "
    "payload_bytes = payload_bytes - (SELECT coalesce(sum(n), 0) FROM d) "
    "WHERE tenant_id = $1 AND session_id = $2"};
constexpr PgStatement kAdvanceSeq{
    "advance_seq",
    "WITH d AS (DELETE FROM events WHERE tenant_id = $1 AND session_id = $2) "
    "UPDATE sessions SET first_seq = $3 + 1, last_seq = $3, retained = 0, "
    "payload_bytes = 0 WHERE tenant_id = $1 AND session_id = $2"};
constexpr PgStatement kInsertAction{
    "ins_action",
    "INSERT INTO actions (tenant_id, action_id, session_id, owner_key_id, "
    "type, status, created_at, available_at, leased_until, finished_at, "
    "idempotency_key, record) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"};
constexpr PgStatement kUpdateAction{
    "upd_action",
    "UPDATE actions SET status = $3, available_at = $4, leased_until = $5, "
    "finished_at = $6, record = $7 WHERE tenant_id = $1 AND action_id = $2"};
constexpr PgStatement kDeleteAction{
    "del_action",
    "DELETE FROM actions WHERE tenant_id = $1 AND action_id = $2"};
constexpr PgStatement kUpsertPause{
    "ups_pause",
    "INSERT INTO pauses (tenant_id, session_id, pause_id, status, record) "
    "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, session_id, pause_id) "
    "DO UPDATE SET status = EXCLUDED.status, record = EXCLUDED.record"};
constexpr PgStatement kNotify{"notify", "SELECT pg_notify($1, $2)"};

// `pipelined`: queued (PgConn::Send), its failure reported by the next
// statement that waits, at the latest the COMMIT.
Status Notify(PgConn& conn, const std::string& channel, EventSeq last_seq,
              const std::string& tenant_id, const std::string& session_id,
              bool pipelined = false) {
  PgParams params;
  params.Text(channel).Text(NotifyPayload(last_seq, tenant_id, session_id));
  if (pipelined) return conn.Send(kNotify, params);
  return conn.Exec(kNotify, params).status();
}

class Writer {
 public:
  Writer(PgConn& conn, const std::string& channel, const WorkingSet& loaded,
         std::vector<std::string>* notes, TranscriptTails* tails)
      : conn_(conn),
        channel_(channel),
        loaded_(loaded),
        notes_(notes),
        tails_(tails) {}

  Status operator()(const record::UpsertSessionOp& op) {
    const Session& s = op.session;
    std::string rec;
    record::EncodeSession(s, &rec);
    std::optional<int64_t> ended = SessionEndedAt(s);
    if (loaded_.HadSession(s.tenant_id, s.id)) {
      return conn_
          .Exec(kUpdateSession, PgParams()
                                    .Text(s.tenant_id)
                                    .Text(s.id)
                                    .Int(static_cast<int>(s.status))
                                    .Int(s.updated_at)
                                    .OptInt(ended)
                                    .Bytes(rec))
          .status();
    }
    return conn_
        .Exec(kInsertSession, PgParams()
                                  .Text(s.tenant_id)
                                  .Text(s.id)
                                  .Text(s.owner_key_id)
                                  .Int(static_cast<int>(s.status))
                                  .Int(s.updated_at)
                                  .OptInt(ended)
                                  .Bytes(rec))
        .status();
  }

  Status operator()(const record::DeleteSessionOp& op) {
    ACPSTORE_RETURN_IF_ERROR(
        conn_.Exec(kDeleteSession,
                   PgParams().Text(op.tenant_id).Text(op.session_id))
            .status());
    return Notify(conn_, channel_, 0, op.tenant_id, op.session_id);
  }

  // An append's statements are pipelined (PgConn::Send): nothing reads
  // their rows, so they go out with the next statement that waits for an
  // answer - the next append's load, or the COMMIT - in one round trip.
  // (Folding a one-event append's three statements into one, a
  // data-modifying WITH, did not pay in a same-run comparison:
  // docs/benchmarks.md.)
  Status operator()(const record::AppendEventsOp& op) {
    if (op.events.empty()) return Status::OK();
    int64_t bytes = 0;
    for (const Event& e : op.events) {
      bytes += static_cast<int64_t>(e.payload.size());
      ACPSTORE_RETURN_IF_ERROR(
          SendInsertEvent(conn_, op.tenant_id, op.session_id, e));
    }
    const EventSeq last = op.events.back().seq;
    const int64_t folded = CountFolded(op.events);
    ACPSTORE_RETURN_IF_ERROR(
        conn_.Send(kAdvanceCounter,
                   PgParams()
                       .Text(op.tenant_id)
                       .Text(op.session_id)
                       .Int(static_cast<int64_t>(op.events.size()))
                       .Int(static_cast<int64_t>(last))
                       .Int(bytes)
                       .Int(folded)));
    if (tails_ != nullptr) {
      tails_->Appended(op.tenant_id, op.session_id, folded, last);
    }
    if (notes_ != nullptr) {
      notes_->push_back(NotifyPayload(last, op.tenant_id, op.session_id));
      return Status::OK();
    }
    return Notify(conn_, channel_, last, op.tenant_id, op.session_id,
                  /*pipelined=*/true);
  }

  // Events are deleted only once the transcript has folded them.
  Status operator()(const record::DropEventsOp& op) {
    if (tails_ != nullptr) {
      ACPSTORE_RETURN_IF_ERROR(tails_->BeforeDrop(conn_, op.tenant_id,
                                                  op.session_id, op.through_seq));
    }
    return conn_
        .Exec(kDropEvents, PgParams()
                               .Text(op.tenant_id)
                               .Text(op.session_id)
                               .Int(static_cast<int64_t>(op.through_seq)))
        .status();
  }

  // Drops every retained event: folded first. Those between the old and
  // the new mark were never here; the next checkpoint, finding them
  // missing, marks the transcript incomplete (pg_transcripts.h).
  Status operator()(const record::AdvanceSeqOp& op) {
    if (tails_ != nullptr) {
      ACPSTORE_RETURN_IF_ERROR(tails_->BeforeDrop(conn_, op.tenant_id,
                                                  op.session_id, op.through_seq));
    }
    return conn_
        .Exec(kAdvanceSeq, PgParams()
                               .Text(op.tenant_id)
                               .Text(op.session_id)
                               .Int(static_cast<int64_t>(op.through_seq)))
        .status();
  }

  Status operator()(const record::UpsertActionOp& op) {
    const Action& a = op.action;
    std::string rec;
    record::EncodeAction(a, &rec);
    std::optional<int64_t> leased_until;
    if (a.status == ActionStatus::kLeased) leased_until = a.leased_until;
    std::optional<int64_t> finished = ActionFinishedAt(a);
    if (loaded_.HadAction(a.tenant_id, a.action_id)) {
      return conn_
          .Exec(kUpdateAction, PgParams()
                                   .Text(a.tenant_id)
                                   .Text(a.action_id)
                                   .Int(static_cast<int>(a.status))
                                   .Int(a.available_at)
                                   .OptInt(leased_until)
                                   .OptInt(finished)
                                   .Bytes(rec))
          .status();
    }
    return conn_
        .Exec(kInsertAction, PgParams()
                                 .Text(a.tenant_id)
                                 .Text(a.action_id)
                                 .Text(a.session_id)
                                 .Text(a.owner_key_id)
                                 .Int(static_cast<int>(a.type))
                                 .Int(static_cast<int>(a.status))
                                 .Int(a.created_at)
                                 .Int(a.available_at)
                                 .OptInt(leased_until)
                                 .OptInt(finished)
                                 .OptText(a.idempotency_key)
                                 .Bytes(rec))
        .status();
  }

  Status operator()(const record::DeleteActionOp& op) {
    return conn_
        .Exec(kDeleteAction, PgParams().Text(op.tenant_id).Text(op.action_id))
        .status();
  }

  Status operator()(const record::UpsertPauseOp& op) {
    const Pause& p = op.pause;
    std::string rec;
    record::EncodePause(p, &rec);
    return conn_
        .Exec(kUpsertPause, PgParams()
                                .Text(p.tenant_id)
                                .Text(p.session_id)
                                .Text(p.pause_id)
                                .Int(static_cast<int>(p.status))
                                .Bytes(rec))
        .status();
  }

 private:
  PgConn& conn_;
  const std::string& channel_;
  const WorkingSet& loaded_;
  std::vector<std::string>* const notes_;
  TranscriptTails* const tails_;
};

}  // namespace

const PgStatement kInsertEventStatement = kInsertEvent;

PgParams InsertEventParams(std::string_view tenant_id,
                           std::string_view session_id, const Event& e) {
  PgParams p;
  p.Text(tenant_id)
      .Text(session_id)
      .Int(static_cast<int64_t>(e.seq))
      .OptText(e.client_event_id)
      .Text(e.event_type)
      .Int(e.occurred_at)
      .Int(e.ingested_at)
      .OptText(e.backend_run_id)
      .OptText(e.payload_ref)
      .Text(e.payload);
  return p;
}

Status SendInsertEvent(PgConn& conn, std::string_view tenant_id,
                       std::string_view session_id, const Event& e) {
  return conn.Send(kInsertEvent, InsertEventParams(tenant_id, session_id, e));
}

Status WriteMutation(PgConn& conn, const std::string& channel,
                     const WorkingSet& loaded, const record::Mutation& m,
                     std::vector<std::string>* notes,
                     TranscriptTails* tails) {
  Writer writer(conn, channel, loaded, notes, tails);
  for (const record::MutationOp& op : m.ops) {
    ACPSTORE_RETURN_IF_ERROR(std::visit(writer, op));
  }
  return Status::OK();
}

}  // namespace acpstore::postgres
