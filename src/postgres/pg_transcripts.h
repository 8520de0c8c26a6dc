// Transcripts on the postgres engine (SPEC §13, decisions 0016 and 0020):
// the fold of src/transcript/, folded lazily. The stored transcript is a
// *checkpoint*: the fold of the session's events up to the `folded_seq`
// column of its `sessions` row, kept in three tables
// (migrations/0004_transcripts.sql): a head row, a row per entry without
// its text, and the text in pieces (one per checkpoint that added to it).
// The transcript at any moment is that checkpoint plus the fold of the
// session's events after folded_seq (the *tail*; only the types the fold
// keeps, read by type from `events`).
//
// Appends do not fold. Their counter UPDATE (pg_write.cc,
// pg_append_batch.cc) adds the number of their events of folded types to
// the row's `unfolded`, and moves folded_seq up to last_seq while
// `unfolded` is 0 (a tail of skipped types only needs no fold). A batch
// whose session's `unfolded` reaches TranscriptConfig::checkpoint_events
// names it, after its COMMIT, to the Checkpointer (pg_checkpointer.h),
// which checkpoints it in a transaction of its own, the row locked
// (decision 0020): the tail is read, folded onto the partial checkpoint
// (head, newest entry and open tools' entries, without their text:
// Transcript::DecodePartial), and the head, the touched entries and each
// touched entry's added text (a new piece) are written back; folded_seq
// becomes last_seq. Only a tail that reached backlog_events() (the
// checkpoints fell behind) is checkpointed inside the batch itself, which
// bounds every tail. (Decision 0029 kept each server's fold state to spare
// the checkpoints their read; measured with several servers it paid
// nowhere and was taken out.) Every path
// that deletes events (an append's max_events_per_session drop,
// maintenance retention, import's AdvanceSeq) first checkpoints in the
// same transaction when folded_seq is below the highest seq it deletes
// (TranscriptTails::BeforeDrop), so retention never loses transcript text.
// Deleting the session deletes its rows (the head by ON DELETE CASCADE, the
// entry rows and text pieces in the delete's statement, schema version 8).
//
// A read (ReadTranscriptRows) loads the checkpoint's head and partial
// entries and the tail in one REPEATABLE READ snapshot, folds the tail,
// and answers the page from the entry rows with the entries the tail
// changed or created laid over them: always exactly the fold of the
// acknowledged events, never of an unacknowledged one.
//
// Events the tail should hold but that are gone (first retained seq >
// folded_seq + 1: dropped by a server with transcripts off, or by
// import's AdvanceSeq, or a session written before schema version 4 whose
// retention had dropped some) make the transcript incomplete, as the
// other engines' rebuilds from a stream that does not start at seq 1 do;
// so does a tail event whose payload is not valid JSON (damage, SPEC §10),
// which is not folded.
//
// Thread-safety: uses only the connection it is given; writes run in the
// caller's transaction with the session rows locked (FOR UPDATE).

#ifndef ACPSTORE_POSTGRES_PG_TRANSCRIPTS_H_
#define ACPSTORE_POSTGRES_PG_TRANSCRIPTS_H_

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "acpstore/options.h"
#include "acpstore/records.h"
#include "acpstore/result.h"
#include "acpstore/status.h"
#include "postgres/pg_conn.h"
#include "transcript/transcript.h"

namespace acpstore::postgres {

struct TranscriptConfig {
  transcript::Limits limits;  // max_bytes 0: transcripts off
  // A session is checkpointed once this many events of folded types are
  // unfolded (StoreOptions::postgres_transcript_checkpoint_events).
  uint64_t checkpoint_events = 256;

  bool on() const { return limits.max_bytes > 0; }
  // A tail this long is checkpointed inside the append batch that reached
  // it instead of in the background (the checkpoints fell behind): what
  // bounds a session's tail, and so what a read folds (decision 0020).
  static constexpr uint64_t kBacklogFactor = 4;
  uint64_t backlog_events() const { return kBacklogFactor * checkpoint_events; }
};

inline transcript::Limits TranscriptLimits(const StoreOptions& options) {
  return {.max_bytes = options.transcript_max_bytes,
          .max_tool_bytes = options.transcript_max_tool_bytes};
}
inline TranscriptConfig TranscriptConfigOf(const StoreOptions& options) {
  return {.limits = TranscriptLimits(options),
          .checkpoint_events = options.postgres_transcript_checkpoint_events};
}

// How many of `events` have a type the fold keeps: what an append adds to
// its session's `unfolded` (counted whether or not transcripts are on, so
// a server that has them on folds what one with them off appended).
int64_t CountFolded(const std::vector<Event>& events);

// Folds the session's tail into its stored checkpoint, in the caller's
// transaction (the row locked; earlier statements of the transaction, the
// append's event rows and counter UPDATE included, already queued), unless
// folded_seq is already >= `through`. A missing session is no error.
struct CheckpointResult {
  EventSeq folded_seq = 0;  // the row's folded_seq afterwards
  bool current = false;     // it is the row's last_seq (unfolded 0)
  // The row was rewritten (folded_seq = its last_seq, unfolded = 0) by
  // this transaction, whose xid is `xid`, from the version whose xmin was
  // `xmin_before` (both 32-bit, as SessionCache keeps them): what lets
  // the Checkpointer update a cached row instead of leaving it to fail
  // the next batch's guard (decision 0026).
  bool wrote = false;
  uint32_t xmin_before = 0;
  uint32_t xid = 0;
};
// One round trip reads the row, the stored checkpoint's partial entries
// and the tail. `min_unfolded` > 0: nothing is done unless the row's
// unfolded count is at least that (a checkpoint named without knowing
// whether it is due).
Status CheckpointTranscript(PgConn& conn, const std::string& tenant_id,
                            const std::string& session_id, EventSeq through,
                            const transcript::Limits& limits,
                            CheckpointResult* result = nullptr,
                            uint64_t min_unfolded = 0);

// A session to checkpoint in the background (pg_checkpointer.h) once the
// transaction that found it due has committed: through its last seq as
// that transaction left it.
struct DueCheckpoint {
  std::string tenant_id;
  std::string session_id;
  EventSeq through = 0;
  // Named without knowing the row's unfolded count (an append job run
  // alone after its batch failed): checkpointed only if it is due.
  bool if_due = false;
};

// One transaction's knowledge of its sessions' folded_seq / unfolded (as
// its locking reads saw them, then advanced as it appends), so it decides
// when to checkpoint without asking the database. Sessions it was not told
// about are checkpointed before a drop after reading their row.
class TranscriptTails {
 public:
  explicit TranscriptTails(const TranscriptConfig& config) : config_(config) {}

  bool on() const { return config_.on(); }
  // The row's columns, read under its lock.
  void Loaded(const std::string& tenant_id, const std::string& session_id,
              EventSeq folded_seq, int64_t unfolded);
  // An append of `folded` events of folded types, the last at `last_seq`
  // (what its counter UPDATE does to the row).
  void Appended(const std::string& tenant_id, const std::string& session_id,
                int64_t folded, EventSeq last_seq);
  // Before the session's events through `through` are deleted.
  Status BeforeDrop(PgConn& conn, const std::string& tenant_id,
                    const std::string& session_id, EventSeq through);
  // Checkpoints, in this transaction, every known session whose
  // `unfolded` reached backlog_events() (after its counter UPDATE was
  // queued): the background checkpoints fell behind.
  Status CheckpointOverdue(PgConn& conn);
  // Every known session whose `unfolded` reached checkpoint_events (and
  // that CheckpointOverdue did not fold already).
  std::vector<DueCheckpoint> Due() const;
  // Checkpoints every session appended to (import batches, whose sessions
  // receive many events at once).
  Status CheckpointAppended(PgConn& conn);

 private:
  struct Tail {
    bool known = false;  // Loaded, or checkpointed here
    bool appended = false;
    EventSeq folded_seq = 0;
    int64_t unfolded = 0;
    EventSeq last_seq = 0;  // of this transaction's appends (0: none)
  };
  using Key = std::pair<std::string, std::string>;

  Status Checkpoint(PgConn& conn, const Key& key, EventSeq through);

  const TranscriptConfig config_;
  std::map<Key, Tail> tails_;
};

// A page of a session's transcript (`kinds` from
// transcript::CheckTranscriptQuery); kNotFound when the session is missing
// or `scope` may not see it. One REPEATABLE READ snapshot (its own
// transaction on `conn`): the checkpoint, the tail folded onto it, the
// page's entry rows. folded_seq is the session's last seq. The page stops
// at max_bytes of entries as ReadTranscriptPage's does.
Result<TranscriptPage> ReadTranscriptRows(PgConn& conn, const Scope& scope,
                                          std::string_view session_id,
                                          const TranscriptQuery& query,
                                          uint32_t kinds,
                                          const transcript::Limits& limits,
                                          uint64_t max_bytes);

// Over every session of the schema: the checkpoints' bytes and how many
// are incomplete (StoreStats; tails not included).
struct TranscriptTotals {
  uint64_t bytes = 0;
  uint64_t incomplete = 0;
};
Result<TranscriptTotals> ReadTranscriptTotals(PgConn& conn);

}  // namespace acpstore::postgres

#endif  // ACPSTORE_POSTGRES_PG_TRANSCRIPTS_H_
