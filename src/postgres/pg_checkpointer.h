// Checkpointer: the postgres engine's transcript checkpoints off the append
// path (SPEC §13, decision 0020). An append batch that leaves a session's
// unfolded tail at TranscriptConfig::checkpoint_events or more names it
// after its COMMIT (CommitQueue); one thread here checkpoints each named
// session in a transaction of its own, on a pooled connection:
//
//   BEGIN
//   SELECT 1 FROM sessions ... FOR UPDATE   the row, as every append,
//                                           delete, retention pass and
//                                           import batch locks it, on
//                                           every server
//   CheckpointTranscript (pg_transcripts.h) the row, the partial
//                                           checkpoint and the tail read
//                                           after the lock, the fold
//                                           written back
//   COMMIT
//
// so no append waits for a fold unless it needs the row at that moment.
// A checkpoint that finds folded_seq at or past the seq it was named for
// (another server's, or a delete's, ran first) writes nothing.
//
// A checkpoint rewrites the session row (folded_seq, unfolded), so the
// row's xmin changes under the server's SessionCache: after the COMMIT
// the cached entry, if it is still the version the checkpoint locked, is
// updated to the checkpoint's (SessionCache::Checkpointed), and the
// session's next batch still takes one round trip (decision 0026).
//
// Nothing depends on a checkpoint here happening: the tail stays in
// `events` and every reader folds it; every path that deletes events
// checkpoints first in its own transaction (TranscriptTails::BeforeDrop).
// A failed checkpoint is dropped (the session's next batch names it
// again while its tail is long enough). If checkpoints fall behind, the
// batch that takes a tail to TranscriptConfig::backlog_events() folds it
// itself (TranscriptTails::CheckpointOverdue), which bounds every tail;
// and at most kMaxPending sessions wait here (more are dropped, to be
// named again by their next batch).
//
// Thread-safety: Post may be called from any thread. Lifetime: the
// destructor runs every checkpoint already posted, then joins the thread;
// what `transact` uses must outlive it.

#ifndef ACPSTORE_POSTGRES_PG_CHECKPOINTER_H_
#define ACPSTORE_POSTGRES_PG_CHECKPOINTER_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "acpstore/status.h"
#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "postgres/pg_conn.h"
#include "postgres/pg_session_cache.h"
#include "postgres/pg_transcripts.h"

namespace acpstore::postgres {

class Checkpointer {
 public:
  static constexpr size_t kMaxPending = 4096;

  // `transact` runs its body in a transaction of its own with the
  // engine's retry rules (PgStore::InTransaction).
  using Transact = std::function<Status(const std::function<Status(PgConn&)>&)>;
  // `cache` (may be null; must outlive this): the server's SessionCache,
  // whose entry a checkpoint that rewrote the row brings up to date.
  // `config`: the limits, and the tail at which a session named if_due is
  // checkpointed.
  Checkpointer(Transact transact, TranscriptConfig config,
               SessionCache* cache = nullptr);
  ~Checkpointer();
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  // Sessions to checkpoint (after the transaction that found them due
  // committed). A session already waiting waits once, through the highest
  // seq it was named for (if_due only if every naming was).
  void Post(std::vector<DueCheckpoint> due) EXCLUDES(mu_);

  // Cumulative: checkpoint transactions that committed, that failed, and
  // sessions dropped because kMaxPending were waiting.
  uint64_t done() const { return done_.load(); }
  uint64_t failed() const { return failed_.load(); }
  uint64_t dropped() const { return dropped_.load(); }

 private:
  using Key = std::pair<std::string, std::string>;
  struct Due {
    EventSeq through = 0;
    bool if_due = false;
  };
  void Loop() EXCLUDES(mu_);
  Status Run(PgConn& conn, const Key& key, const Due& due,
             CheckpointResult* result);

  const Transact transact_;
  const TranscriptConfig config_;
  SessionCache* const cache_;
  base::Mutex mu_;
  base::CondVar cv_;
  // Waiting sessions, in the order first named, and the seq each is due
  // through.
  std::deque<Key> order_ GUARDED_BY(mu_);
  std::map<Key, Due> pending_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;
  std::atomic<uint64_t> done_{0};
  std::atomic<uint64_t> failed_{0};
  std::atomic<uint64_t> dropped_{0};
  std::thread thread_;
};

}  // namespace acpstore::postgres

#endif  // ACPSTORE_POSTGRES_PG_CHECKPOINTER_H_
