// WriteMutation: a decided record::Mutation as SQL, inside the caller's
// transaction. Records the WorkingSet loaded are UPDATEd; new ones are
// INSERTed, so two servers creating the same id concurrently collide on
// the primary key (SQLSTATE 23505) instead of overwriting each other, and
// the engine decides again. An append advances the session row's counter
// (last_seq) and the transcript's unfolded tail (pg_transcripts.h) in the
// same transaction, and either queues a NOTIFY that
// PostgreSQL delivers at commit (pg_listener.h) or, given `notes`, leaves
// the notification to the caller, to send after its COMMIT (decision 0013:
// PostgreSQL commits NOTIFYing transactions one at a time).
//
// Thread-safety: uses only the connection it is given.

#ifndef ACPSTORE_POSTGRES_PG_WRITE_H_
#define ACPSTORE_POSTGRES_PG_WRITE_H_

#include <string>
#include <string_view>
#include <vector>

#include "acpstore/status.h"
#include "postgres/pg_conn.h"
#include "postgres/pg_notify_payload.h"
#include "postgres/pg_transcripts.h"
#include "postgres/pg_working_set.h"
#include "record/mutation.h"

namespace acpstore::postgres {

// Queues (pipelined) the INSERT of one event row of session `session_id`:
// the one statement every write path uses for it, so a column added to
// `events` changes one place.
Status SendInsertEvent(PgConn& conn, std::string_view tenant_id,
                       std::string_view session_id, const Event& e);
// Its parameters, $1-$10 in column order (tenant_id, session_id, seq,
// client_event_id, event_type, occurred_at, ingested_at, backend_run_id,
// payload_ref, payload), for a statement that inserts the row itself
// (pg_append_batch.cc) and appends parameters of its own behind them.
PgParams InsertEventParams(std::string_view tenant_id,
                           std::string_view session_id, const Event& e);
// The statement SendInsertEvent queues.
extern const PgStatement kInsertEventStatement;

// `notes`: if set, each append's payload is added there instead of being
// NOTIFYed in the transaction (a deleted session is still NOTIFYed in it).
// `tails`: the transaction's transcript tails (pg_transcripts.h): told of
// each append, and asked to checkpoint a session before its events are
// deleted; null only where `m` deletes no event.
Status WriteMutation(PgConn& conn, const std::string& channel,
                     const WorkingSet& loaded, const record::Mutation& m,
                     std::vector<std::string>* notes = nullptr,
                     TranscriptTails* tails = nullptr);

}  // namespace acpstore::postgres

#endif  // ACPSTORE_POSTGRES_PG_WRITE_H_
