// SessionCache: the session rows one server's append batches last wrote
// or read, so a batch whose every session is cached decides against them
// and goes out in ONE round trip (decision 0022): BEGIN, each session's
// guard, the event INSERTs, the counter UPDATEs and COMMIT, pipelined.
//
// The cache is a guess, never the truth: several servers share one
// database, so any entry can be stale at any moment. What makes it safe is
// the guard each batch sends first for each of its sessions (a locking
// read that fails the transaction unless the row's `xmin` and `last_seq`
// are still the cached ones; pg_append_batch.h): `xmin` is the id of the
// transaction that last wrote the row, whoever wrote it and whatever it
// changed (a counter, the record, a transcript's fold, a delete and
// re-create), so an unchanged xmin means the row is byte for byte what
// was cached. A stale entry only costs the batch a rolled-back attempt
// before it runs the two-round-trip way, which reads the rows afresh.
//
// A batch takes its entries out (Take) and puts back what it committed
// (Put): while a batch runs, another batch of the same session finds no
// entry and takes the slow way, which waits for the row lock, instead of
// a fast attempt certain to fail behind it.
//
// Thread-safety: every method may be called from any thread.

#ifndef ACPSTORE_POSTGRES_PG_SESSION_CACHE_H_
#define ACPSTORE_POSTGRES_PG_SESSION_CACHE_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "postgres/pg_rows.h"

namespace acpstore::postgres {

// One session row as a committed transaction left it.
struct CachedSession {
  SessionRow row;           // record, incarnation and stream counters
  uint32_t xmin = 0;        // the row version's xmin (a 32-bit xid)
  EventSeq folded_seq = 0;  // the transcript columns (pg_transcripts.h)
  int64_t unfolded = 0;
};

class SessionCache {
 public:
  // Enough for every session a server appends to at once; past it an
  // arbitrary entry goes (a miss costs one slow batch, nothing else).
  static constexpr size_t kMaxEntries = 4096;

  // All of `keys` ((tenant, session) pairs), taken out of the cache; or
  // nullopt, with none taken, if any of them is missing.
  std::optional<std::vector<CachedSession>> TakeAll(
      const std::vector<std::pair<std::string, std::string>>& keys)
      EXCLUDES(mu_);
  void Put(std::vector<CachedSession> rows) EXCLUDES(mu_);
  // A transcript checkpoint (transaction `xid`) rewrote the session's row
  // from the version `xmin_before` at `last_seq`: if that version is the
  // cached one, the entry becomes the checkpoint's (folded_seq = last_seq,
  // unfolded 0, xmin = xid), so the session's next batch still takes one
  // round trip (decision 0026). Otherwise nothing: the entry is older or
  // newer, or a batch holds it (and its guard will fail or has seen it).
  void Checkpointed(std::string_view tenant_id, std::string_view session_id,
                    uint32_t xmin_before, EventSeq last_seq, uint32_t xid)
      EXCLUDES(mu_);
  size_t size() const EXCLUDES(mu_);

 private:
  static std::string Key(std::string_view tenant_id,
                         std::string_view session_id);

  mutable base::Mutex mu_;
  std::unordered_map<std::string, CachedSession> rows_ GUARDED_BY(mu_);
};

}  // namespace acpstore::postgres

#endif  // ACPSTORE_POSTGRES_PG_SESSION_CACHE_H_
