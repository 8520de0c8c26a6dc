// Transcripts on the postgres engine (SPEC §13, decision 0016): the fold
// of src/transcript/ kept in three tables (migrations/0004_transcripts.sql),
// a head row per session, a row per entry and its text in pieces, written in the transaction
// of the append that feeds them, so every server reads the same transcript
// and nothing unacknowledged is ever visible.
//
// An append loads only what the fold can change (the head, the newest
// entry and the open tools' entries: Transcript::DecodePartial), without
// their text, which lives apart in pieces (transcript_text); folds its
// events onto the empty texts, so each entry's text is then exactly what
// this append adds; writes back the head and the entries it created or
// changed (text-less, small), and inserts each added text as a new piece.
// A message's delta thus costs the same however long the message is.
// Entries the cap drops are deleted with their pieces. A whole transcript is never read or
// rewritten by an append. An append whose events are all of types the fold
// skips touches no transcript row (a page's folded_seq is then the
// session's last seq). A session's first append creates the head row; a
// session with events but no head row (created before schema version 4, or
// while transcripts were off) gets its transcript rebuilt from its retained
// events at its next folded append, incomplete if retention had dropped
// some (as the file engine does for older snapshots); until then reads fold
// them on the fly.
//
// Thread-safety: uses only the connection it is given; the caller's
// transaction holds the session rows locked (FOR UPDATE).

#ifndef ACPSTORE_POSTGRES_PG_TRANSCRIPTS_H_
#define ACPSTORE_POSTGRES_PG_TRANSCRIPTS_H_

#include <cstdint>
#include <string>

#include "acpstore/options.h"
#include "acpstore/records.h"
#include "acpstore/result.h"
#include "acpstore/status.h"
#include "postgres/pg_conn.h"
#include "record/mutation.h"
#include "transcript/transcript.h"

namespace acpstore::postgres {

// The fold's limits from the store's options (max_bytes 0: off).
inline transcript::Limits TranscriptLimits(const StoreOptions& options) {
  return {.max_bytes = options.transcript_max_bytes,
          .max_tool_bytes = options.transcript_max_tool_bytes};
}

// Folds every AppendEventsOp of `m` into its session's transcript, inside
// the caller's transaction, after `m` was written. Nothing when
// limits.max_bytes is 0 (transcripts off).
Status FoldTranscripts(PgConn& conn, const record::Mutation& m,
                       const transcript::Limits& limits);

// Queues (PgConn::Prefetch) the load FoldTranscripts makes for an append to
// this session, to go out with the batch's session locks in one round trip
// (after them, so it reads what the previous lock holder committed). Only
// the first such load of the transaction takes it (PgConn: first use), so
// a second append to the session in the same batch reads afresh.
Status PrefetchTranscript(PgConn& conn, const std::string& tenant_id,
                          const std::string& session_id);

// A page of a session's transcript (`kinds` from
// transcript::CheckTranscriptQuery); kNotFound when the session is missing
// or `scope` may not see it. One statement, so the session, the head and
// the entries come from one snapshot. folded_seq is the session's last seq
// (appends of skipped types do not touch the head). A session with events
// but no head row is answered from its retained events, folded with
// `limits` for this read only.
Result<TranscriptPage> ReadTranscriptRows(PgConn& conn, const Scope& scope,
                                          std::string_view session_id,
                                          const TranscriptQuery& query,
                                          uint32_t kinds,
                                          const transcript::Limits& limits);

// Over every session of the schema: the transcripts' bytes and how many
// are incomplete (StoreStats).
struct TranscriptTotals {
  uint64_t bytes = 0;
  uint64_t incomplete = 0;
};
Result<TranscriptTotals> ReadTranscriptTotals(PgConn& conn);

}  // namespace acpstore::postgres

#endif  // ACPSTORE_POSTGRES_PG_TRANSCRIPTS_H_
