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
// With every session's row cached (pg_session_cache.h, decision 0022) the
// batch is ONE round trip instead (BeginCached, CommitCached), and one
// statement per session (decision 0028):
//
//   -- decided against the cached rows, as above; nothing sent yet
//   BEGIN
//   WITH g AS (UPDATE sessions    per session, in the same order: the
//     SET last_seq ... WHERE      counter UPDATE, guarded: it locks the
//     ... xmin = cached AND       row and the statement fails the
//     last_seq = cached           transaction (division by zero) unless
//     RETURNING 1),               the row's xmin and last_seq are the
//   e AS (INSERT INTO events      cached ones; the session's first event
//     VALUES ...)                 INSERTed in the same statement
//   SELECT 1 / count(*) FROM g
//   [INSERT INTO events ...]      the session's further events
//   [SELECT 1 / count(*) ...      instead of the above, for a session
//     FOR UPDATE]                 whose appends were all refused: the
//                                 bare guard (a refusal decided against
//                                 the cached row is checked too)
//   SELECT 1 / (CASE WHEN EXISTS  per session whose clientEventIds the
//     ... seq <= cached)          batch carries: fails it if one of them
//                                 was stored before this batch (the slow
//                                 way answers the retry)
//   COMMIT
//
// all sent together. A failure (the row moved, a known clientEventId, any
// other) rolls it back; the caller then runs the batch the slow way. So
// does a decision that is not pure appends (Write refuses it: its writes
// would precede the guards).
//
// Thread-safety: none; one per batch, on the commit thread running it.

#ifndef ACPSTORE_POSTGRES_PG_APPEND_BATCH_H_
#define ACPSTORE_POSTGRES_PG_APPEND_BATCH_H_

#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "acpstore/status.h"
#include "engine/state.h"
#include "postgres/pg_conn.h"
#include "postgres/pg_rows.h"
#include "postgres/pg_session_cache.h"
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

// The sessions of a batch's targets, each once, in (tenant, session) byte
// order (the order every batch locks them in), with the clientEventIds
// its appends carry.
using BatchSessions =
    std::map<std::pair<std::string, std::string>, std::set<std::string>>;
BatchSessions SessionsOf(const std::vector<const AppendTarget*>& targets);

class AppendBatch {
 public:
  // `channel`: for what WriteMutation still NOTIFYs in the transaction
  // (a deleted session; appends leave theirs to the caller).
  // `transcripts`: when to checkpoint a session's transcript
  // (pg_transcripts.h).
  AppendBatch(PgConn& conn, const std::string& channel,
              const TranscriptConfig& transcripts)
      : conn_(conn),
        channel_(channel),
        transcripts_(transcripts),
        tails_(transcripts) {}
  AppendBatch(const AppendBatch&) = delete;
  AppendBatch& operator=(const AppendBatch&) = delete;

  // BEGIN and the loads above, in one round trip.
  Status Begin(const std::vector<const AppendTarget*>& targets);
  // The cached rows of SessionsOf(targets), in its order, as the batch's
  // state; nothing is queued before Flush, which sends BEGIN, the guards
  // and the writes. Then Write refuses a mutation other than appends
  // (kConflict): run such a batch the slow way.
  Status BeginCached(const std::vector<const AppendTarget*>& targets,
                     std::vector<CachedSession> rows);

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

  // After BeginCached and Flush (once): COMMIT, and everything queued goes out
  // in one round trip. On failure the transaction may still be open (a
  // guard failed): RollBack.
  Status CommitCached();
  // Ends a failed transaction on a healthy connection (reads what is
  // queued, then ROLLBACK if still in one).
  void RollBack();
  // Whether a COMMIT was queued (CommitCached): lost after that, the
  // outcome is unknown.
  bool commit_sent() const { return commit_sent_; }

  // Once committed: the rows as the batch left them, for the cache (none
  // after a mutation other than appends, and none of a session whose
  // transcript may have been checkpointed in the batch).
  std::vector<CachedSession> Settled() const;

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

  using Key = std::pair<std::string, std::string>;

  PgConn& conn_;
  const std::string& channel_;
  const TranscriptConfig& transcripts_;
  WorkingSet ws_;
  TranscriptTails tails_;
  // Keyed by (tenant, session): one counter UPDATE each.
  std::map<Key, Counter> counters_;
  // For Settled: each session as loaded (or cached), what the batch's
  // appends did to it, and this transaction's xid (32 bits, as xmin).
  std::map<Key, CachedSession> loaded_;
  std::map<Key, Counter> advanced_;
  std::optional<uint32_t> xid_;
  bool cacheable_ = true;
  // BeginCached: each session's guard (sent by FlushCached).
  struct Guard {
    std::string tenant_id;
    std::string session_id;
    uint32_t xmin = 0;
    int64_t last_seq = 0;
    std::vector<std::string> client_ids;  // the batch's, for the check
  };
  static PgParams GuardParams(const Guard& g);
  // Flush of a cached batch: BEGIN, each session's guarded statement
  // and the rest of its INSERTs, the clientEventId checks.
  Status FlushCached();
  bool cached_ = false;
  std::map<Key, Guard> guards_;
  // Per session, its events' INSERT parameters, in order.
  std::map<Key, std::vector<PgParams>> inserts_;
  // The first statement FlushCached sent: its row carries the xid.
  const PgStatement* first_stmt_ = nullptr;
  PgParams first_params_;
  bool commit_sent_ = false;
};

}  // namespace acpstore::postgres

#endif  // ACPSTORE_POSTGRES_PG_APPEND_BATCH_H_
