// AppendBatch: one group-commit transaction of appends (pg_commit_queue.h)
// with the batch's state carried in memory (decision 0017):
//
//   BEGIN
//   SELECT ... FOR UPDATE         each session of the batch once, in
//                                 (tenant, session) order
//   SELECT ... FROM events ...    per session, the events whose
//                                 clientEventIds the batch repeats
//   -- each append decided in turn against ONE WorkingSet, which then
//   -- applies the decision: the next append to the same session sees
//   -- the counter it advanced and its clientEventIds, and checks
//   -- expectedLastSeq against it, without asking the database
//   INSERT INTO events ...        one per event, queued as decided
//   UPDATE sessions SET last_seq  one per session, at Flush (also the
//                                 transcript's unfolded count)
//   [a transcript checkpoint]     only a session whose unfolded tail
//                                 reached the backlog bound: the others
//                                 are checkpointed after the COMMIT, off
//                                 the append path (pg_checkpointer.h)
//   COMMIT
//
// Pipelined (PgConn): the reads go out together after BEGIN (one round
// trip), the writes with the COMMIT (another), however many appends a
// session has in the batch. Single-row statements on purpose: the
// multi-row forms (INSERT ... SELECT FROM unnest of binary arrays, one
// UPDATE ... FROM unnest, one locking SELECT of every session) cost
// PostgreSQL as much or more per append in same-run pairs (decision 0017).
// A decision that is not pure appends (an append that drops events over
// max_events_per_session) first queues the counters collected so far, then
// is written as it is (WriteMutation), so the database sees every
// operation in decision order.
//
// Thread-safety: none; one per batch, on the commit thread running it.

#ifndef ACPSTORE_POSTGRES_PG_APPEND_BATCH_H_
#define ACPSTORE_POSTGRES_PG_APPEND_BATCH_H_

#include <map>
#include <string>
#include <vector>

#include "acpstore/status.h"
#include "engine/state.h"
#include "postgres/pg_conn.h"
#include "postgres/pg_rows.h"
#include "postgres/pg_transcripts.h"
#include "postgres/pg_working_set.h"
#include "record/mutation.h"

namespace acpstore::postgres {

// What one append job needs loaded: its session row, and the events of it
// whose clientEventIds the request carries.
struct AppendTarget {
  std::string tenant_id;
  std::string session_id;
  std::vector<std::string> client_ids;
};

class AppendBatch {
 public:
  // `channel`: for what WriteMutation still NOTIFYs in the transaction
  // (a deleted session; appends leave theirs to the caller).
  // `transcripts`: when to checkpoint a session's transcript
  // (pg_transcripts.h).
  AppendBatch(PgConn& conn, const std::string& channel,
              const TranscriptConfig& transcripts)
      : conn_(conn), channel_(channel), tails_(transcripts) {}
  AppendBatch(const AppendBatch&) = delete;
  AppendBatch& operator=(const AppendBatch&) = delete;

  // BEGIN and the loads above, in one round trip.
  Status Begin(const std::vector<const AppendTarget*>& targets);

  // What the deciders read: the loaded rows plus every decision of this
  // batch written so far.
  const engine::StoreState& state() const { return ws_.state(); }

  // Writes one decided mutation into the batch (above) and applies it to
  // the working set. `notes` receives the notification payload of each
  // session it appended to (pg_write.h), for after the COMMIT.
  Status Write(record::Mutation m, std::vector<std::string>* notes);

  // Queues (pipelined) the counter UPDATE of each session appended to
  // since the last Flush; it goes out with the next statement that waits,
  // the COMMIT. Then checkpoints the transcript of each session whose
  // unfolded tail reached TranscriptConfig::backlog_events() (the
  // background checkpoints fell behind; a read: one round trip more).
  Status Flush();

  // The sessions whose unfolded tail reached
  // TranscriptConfig::checkpoint_events, for the Checkpointer once the
  // batch has committed (after the last Flush).
  std::vector<DueCheckpoint> due() const { return tails_.Due(); }

 private:
  struct Counter {  // one session's appends since the last Flush
    int64_t events = 0;
    int64_t last_seq = 0;
    int64_t bytes = 0;
    int64_t folded = 0;  // events of types the transcript folds
  };

  PgConn& conn_;
  const std::string& channel_;
  WorkingSet ws_;
  TranscriptTails tails_;
  // Keyed by (tenant, session): one counter UPDATE each.
  std::map<std::pair<std::string, std::string>, Counter> counters_;
};

}  // namespace acpstore::postgres

#endif  // ACPSTORE_POSTGRES_PG_APPEND_BATCH_H_
