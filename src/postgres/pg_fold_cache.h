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
// the row's incarnation is the entry's, the runs cover (F, last_seq] with
// no gap, and the row's folded_seq is F or moved past it over events of
// skipped types only (an append's counter UPDATE does that while nothing
// is unfolded), none of them gone: then nothing but this server's appends
// changed the session since this server's last checkpoint of it, and the
// entry is exactly what the database read would return. A session whose
// every event since seq 1 this server appended needs no fold yet: its
// tables are empty. Anything else - another server appended or
// checkpointed, the session was deleted and created again (a new
// incarnation), events were lost unfolded - makes the checkpoint read the
// database as before (and leave its result here for the next one; so do
// a batch's own checkpoints, past the backlog bound or before a retention
// drop, once the batch committed). A batch registers its runs as in flight
// before its COMMIT (Committing): a checkpoint that needs them waits for
// their report rather than read.
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
#include <chrono>
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
  // How long a checkpoint waits for runs in flight (Committing), by
  // default: a commit thread's wake-up on a loaded machine, well under
  // what reading the tail back costs under the row lock (~2-4 ms).
  static constexpr std::chrono::milliseconds kInFlightWait{20};

  // `in_flight_wait`: how long a checkpoint waits for runs in flight.
  explicit FoldCache(uint64_t max_bytes,
                     std::chrono::milliseconds in_flight_wait = kInFlightWait)
      : max_bytes_(max_bytes), in_flight_wait_(in_flight_wait) {}
  FoldCache(const FoldCache&) = delete;
  FoldCache& operator=(const FoldCache&) = delete;

  // Before a batch's COMMIT is sent: its sessions' runs are in flight. A
  // checkpoint whose row lock follows that COMMIT (so its last_seq counts
  // them) waits up to `in_flight_wait` for the batch's Appended instead of
  // reading the database: the commit thread reports only once it has read
  // the COMMIT's answer, after the row lock was already passed on.
  void Committing(const std::vector<AppendedRun>& runs) EXCLUDES(mu_);
  // After the COMMIT of a batch: its sessions' runs.
  void Appended(std::vector<AppendedRun> runs) EXCLUDES(mu_);
  // The batch's COMMIT failed or its outcome is unknown: never committed
  // as far as this cache knows.
  void Abandoned(const std::vector<AppendedRun>& runs) EXCLUDES(mu_);

  // What a checkpoint folds instead of reading: the stored checkpoint at
  // F and the folded events in (F, last].
  struct Hot {
    StoredCheckpoint stored;
    std::vector<FoldEvent> tail;
  };
  // Under the session's row lock, with the row's incarnation, folded_seq,
  // first_seq and last_seq: the entry's fold and the runs' events if they
  // are exactly the database's (above), taken out until Checkpointed puts
  // a fold back; nullopt otherwise.
  std::optional<Hot> Take(std::string_view tenant_id,
                          std::string_view session_id, uint64_t incarnation,
                          EventSeq folded_seq, EventSeq first_seq,
                          EventSeq last_seq) EXCLUDES(mu_);
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
    uint64_t bytes = 0;             // EventBytes(events)
  };
  // Byte counts are kept as the parts change, never recounted: a batch's
  // report must cost what the batch added, not what the entry holds (a
  // recount walked every run's events, 256 and more per hot session, on
  // every batch's report: 8% of the acpstore process's CPU in the tool
  // workload).
  struct Entry {
    uint64_t incarnation = 0;
    std::optional<StoredCheckpoint> fold;
    EventSeq folded_seq = 0;       // the fold's
    uint64_t fold_bytes = 0;       // fold->MemoryBytes(), 0 without one
    std::map<EventSeq, Run> runs;  // by first seq
    std::map<EventSeq, EventSeq> in_flight;  // first -> last (Committing)
    size_t events = 0;             // in runs
    uint64_t runs_bytes = 0;       // the runs' Run::bytes, summed
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
  // Removes every run of `e`.
  static void ClearRuns(Entry& e);
  // Counts `e`'s bytes anew from its parts' counts (fold_bytes,
  // runs_bytes), then evicts least recently used entries (`e`, the most
  // recent, last) while over max_bytes_: `e` may be gone after.
  void Account(Entry& e) REQUIRES(mu_);
  void AppendedLocked(std::vector<AppendedRun>& runs) REQUIRES(mu_);
  void Erase(std::unordered_map<std::string, Entry>::iterator it)
      REQUIRES(mu_);
  // Whether `e`'s runs cover (folded_seq, last_seq] without a gap: kYes,
  // kInFlight (only with runs still in flight), kNo.
  enum class Cover { kYes, kInFlight, kNo };
  // `folded_seq`: the fold's (0: none yet); `row_folded_seq`: the row's.
  static Cover Covers(const Entry& e, EventSeq folded_seq,
                      EventSeq row_folded_seq, EventSeq last_seq);

  const uint64_t max_bytes_;
  const std::chrono::milliseconds in_flight_wait_;
  mutable base::Mutex mu_;
  base::CondVar reported_;  // an in-flight run was Appended or Abandoned
  std::unordered_map<std::string, Entry> entries_ GUARDED_BY(mu_);
  std::list<std::string> lru_ GUARDED_BY(mu_);  // most recent first
  uint64_t bytes_ GUARDED_BY(mu_) = 0;
  std::atomic<uint64_t> hits_{0};
  std::atomic<uint64_t> misses_{0};
};

}  // namespace acpstore::postgres

#endif  // ACPSTORE_POSTGRES_PG_FOLD_CACHE_H_
