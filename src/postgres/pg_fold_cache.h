// FoldCache: per server, the transcript fold state of the sessions this
// server appends to (decision 0029), so that a background checkpoint
// (pg_checkpointer.h) folds what it holds instead of reading the session's
// checkpoint and its tail of events back from the database (decision
// 0020's checkpoint read ~384 events and their payloads to fold 256).
//
// An entry holds, for one session incarnation:
//  - the *fold*: the stored checkpoint as the last checkpoint this server
//    committed left it (StoredCheckpoint: the head and the entries a fold
//    can change, what pg_transcripts.cc would load), and its folded_seq F;
//  - the *runs*: per committed append batch of this server after F, the
//    seq range it appended ([first, last]: every event of the session in
//    it, of any type, was appended by that batch) and its events of folded
//    types.
// A checkpoint may use the entry only when, under the session's row lock,
// the row's incarnation and folded_seq are the entry's and the runs cover
// (F, last_seq] with no gap: then nothing but this server's appends
// changed the session since this server's last checkpoint of it, and the
// entry is exactly what the database read would return. Anything else - another
// server appended or checkpointed, a batch checkpointed in its own
// transaction (the backlog bound, a retention drop), the session was
// deleted and created again (a new incarnation), events were lost unfolded
// - makes the checkpoint read the database as before (and leave its
// result here for the next one).
//
// Only committed events enter the runs (Appended is called after the
// batch's COMMIT), so a rolled-back batch leaves no trace; a batch whose
// COMMIT's outcome is unknown is left out, and its range is then a gap.
// Batches of one session commit one after the other (the row lock) but
// may report from different commit threads in any order: runs are kept by
// their first seq, so order does not matter.
//
// Bounded: entries count their bytes (the stored checkpoint's and the
// events'); past `max_bytes` in all the least recently used go, and runs
// of more than kMaxLogEvents events are dropped (the next checkpoint
// reads).
//
// Thread-safety: every method may be called from any thread.

#ifndef ACPSTORE_POSTGRES_PG_FOLD_CACHE_H_
#define ACPSTORE_POSTGRES_PG_FOLD_CACHE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "acpstore/records.h"
#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "transcript/transcript.h"

namespace acpstore::postgres {

// A stored transcript checkpoint as a fold needs it (what
// pg_transcripts.cc's partial load reads): the head row (none before the
// first checkpoint), the entries a fold can change (the newest and the
// open tools', without their text) and each one's stored text length.
struct StoredCheckpoint {
  bool has_head = false;
  std::string head;    // Transcript::EncodeHead
  uint64_t bytes = 0;  // the head row's `bytes`: Transcript::bytes()
  std::vector<std::pair<uint64_t, transcript::Entry>> entries;
  std::map<uint64_t, uint64_t> stored_text;  // index -> text_len

  uint64_t MemoryBytes() const;
};

// One event of a folded type, as a checkpoint folds it.
struct FoldEvent {
  EventSeq seq = 0;
  std::string event_type;
  TimestampMs occurred_at = 0;
  std::string payload;  // canonical text, as stored in `events`
};

// One session's appends in one committed batch: every event in
// [first_seq, last_seq], the folded ones in `events`.
struct AppendedRun {
  std::string tenant_id;
  std::string session_id;
  uint64_t incarnation = 0;
  EventSeq first_seq = 0;
  EventSeq last_seq = 0;
  std::vector<FoldEvent> events;
};

class FoldCache {
 public:
  // Runs of this many events are dropped (checkpoints fell far behind; the
  // next one reads the database): 4 times the default backlog bound.
  static constexpr size_t kMaxLogEvents = 4096;

  explicit FoldCache(uint64_t max_bytes) : max_bytes_(max_bytes) {}
  FoldCache(const FoldCache&) = delete;
  FoldCache& operator=(const FoldCache&) = delete;

  // After the COMMIT of a batch: its sessions' runs.
  void Appended(std::vector<AppendedRun> runs) EXCLUDES(mu_);

  // What a checkpoint folds instead of reading: the stored checkpoint at
  // F and the folded events in (F, last].
  struct Hot {
    StoredCheckpoint stored;
    std::vector<FoldEvent> tail;
  };
  // Under the session's row lock, with the row's incarnation, folded_seq
  // and last_seq: the entry's fold and the runs' events if they are
  // exactly the database's (above), taken out until Checkpointed puts a
  // fold back; nullopt otherwise.
  std::optional<Hot> Take(std::string_view tenant_id,
                          std::string_view session_id, uint64_t incarnation,
                          EventSeq folded_seq, EventSeq last_seq)
      EXCLUDES(mu_);
  // After the COMMIT of a checkpoint that left `stored` at `folded_seq`.
  void Checkpointed(std::string_view tenant_id, std::string_view session_id,
                    uint64_t incarnation, EventSeq folded_seq,
                    StoredCheckpoint stored) EXCLUDES(mu_);

  size_t size() const EXCLUDES(mu_);
  uint64_t bytes() const EXCLUDES(mu_);
  // Cumulative: Take calls that returned the entry, and that did not.
  uint64_t hits() const { return hits_.load(); }
  uint64_t misses() const { return misses_.load(); }

 private:
  struct Run {
    EventSeq last = 0;
    std::vector<FoldEvent> events;  // seqs ascending
  };
  struct Entry {
    uint64_t incarnation = 0;
    std::optional<StoredCheckpoint> fold;
    EventSeq folded_seq = 0;       // the fold's
    std::map<EventSeq, Run> runs;  // by first seq
    size_t events = 0;             // in runs
    uint64_t bytes = 0;            // counted in bytes_
    std::list<std::string>::iterator lru;
  };
  static std::string Key(std::string_view tenant_id,
                         std::string_view session_id);
  // The entry for `key`, created if missing, most recently used; reset if
  // it is of another incarnation.
  Entry& Touch(const std::string& key, uint64_t incarnation) REQUIRES(mu_);
  // Drops the runs' events at or below the fold's folded_seq.
  static void Prune(Entry& e);
  // Recounts `e`'s bytes, then evicts least recently used entries (`e`,
  // the most recent, last) while over max_bytes_: `e` may be gone after.
  void Account(Entry& e) REQUIRES(mu_);
  void Erase(std::unordered_map<std::string, Entry>::iterator it)
      REQUIRES(mu_);

  const uint64_t max_bytes_;
  mutable base::Mutex mu_;
  std::unordered_map<std::string, Entry> entries_ GUARDED_BY(mu_);
  std::list<std::string> lru_ GUARDED_BY(mu_);  // most recent first
  uint64_t bytes_ GUARDED_BY(mu_) = 0;
  std::atomic<uint64_t> hits_{0};
  std::atomic<uint64_t> misses_{0};
};

}  // namespace acpstore::postgres

#endif  // ACPSTORE_POSTGRES_PG_FOLD_CACHE_H_
