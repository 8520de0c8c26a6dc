// StoreState is the engine-independent in-memory state of a store: every
// session, action and pause record plus the indexes the deciders and the
// readers need (hash maps keyed by tenant + id, per-scope recency indexes
// for paging, the lease queue, deadline indexes for maintenance, the
// idempotency and clientEventId indexes). Event bodies live behind each
// session's EventLog so the file engine can keep them on disk.
//
// It changes only through Apply(Mutation). Deciders (decide.h) read it and
// produce Mutations; engines apply them. Every index is derived from record
// fields: Apply unindexes a record, replaces it, and indexes it again, so
// replaying the same Mutations always rebuilds the same state.
//
// Thread-safety: none. The engine guards it with one mutex; readers and
// deciders run under that mutex too. Lifetime: owned by the engine.

#ifndef ACPSTORE_ENGINE_STATE_H_
#define ACPSTORE_ENGINE_STATE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "acpstore/records.h"
#include "acpstore/result.h"
#include "acpstore/status.h"
#include "acpstore/store.h"
#include "engine/client_id_index.h"
#include "engine/event_log.h"
#include "engine/lease_queue.h"
#include "engine/pause_book.h"
#include "engine/recency_index.h"
#include "engine/time_index.h"
#include "engine/transcript_ref.h"
#include "record/mutation.h"
#include "transcript/transcript.h"

namespace acpstore::engine {

struct SessionEntry;

struct ActionEntry {
  Action action;  // as stored: lease_token included
  uint64_t insertion = 0;  // lease tie-breaker; unique for the state's life
  SessionEntry* session = nullptr;  // the session the action belongs to
  std::string_view id;  // action_id, viewing the map key (stable)
};

struct SessionEntry {
  Session session;  // session.events is not maintained; see Info()
  // Unique per creation, never reused: tells a subscription that its
  // session was deleted even if the id was created again since.
  uint64_t incarnation = 0;
  std::string_view id;  // viewing the map key (stable)
  std::unique_ptr<EventLog> events;
  // clientEventId tag -> seq; no ids (see StoreState::FindClientEvent).
  // Entries of dropped events go stale and are swept lazily.
  ClientIdIndex client_ids;
  PauseBook pauses;
  RecencyIndex<ActionEntry> actions;  // this session's actions, newest first
  // SPEC §13: folded from every appended event in the same Apply; event
  // retention (DropEventsOp) never touches it. Empty while evicted.
  transcript::Transcript transcript;
  // Decision 0018 (file engine): where the transcript's items can be read
  // back (a snapshot or a spill file). Set only while `transcript` equals
  // what it names (a fold resets it); `transcript_evicted`: the entries
  // left memory, and the reference is the transcript.
  std::shared_ptr<const TranscriptRef> transcript_ref;
  bool transcript_evicted = false;
  // Decision 0021 (file engine): where the sealed prefix of a resident
  // transcript lies (Transcript::held_index() > first_index()); null when
  // none is sealed. Unchanged by folds (sealed entries never change).
  std::shared_ptr<const TranscriptSealed> transcript_sealed;
  // When a fold or a load last touched the transcript (StoreState's tick):
  // the least recently used leave memory first.
  uint64_t transcript_used = 0;
};

// Cumulative and current counts the state keeps for Stats().
struct StateCounters {
  uint64_t sessions_by_status[8] = {};
  uint64_t events_retained = 0;
  uint64_t event_payload_bytes = 0;
  uint64_t pauses = 0;
  uint64_t events_appended = 0;           // cumulative
  uint64_t events_dropped_retention = 0;  // cumulative
  uint64_t client_id_index_bytes = 0;     // every session's ClientIdIndex
  // Resident transcripts' Transcript::resident_bytes (what memory holds), the
  // part of them with no copy on disk (transcript_ref unset), and the
  // evicted ones (decision 0018).
  uint64_t transcript_bytes = 0;
  uint64_t transcript_dirty_bytes = 0;
  uint64_t transcript_evicted_bytes = 0;
  // Sealed prefixes of resident transcripts (decision 0021), on disk: not
  // in transcript_bytes.
  uint64_t transcript_sealed_bytes = 0;
  uint64_t transcripts_evicted = 0;
  uint64_t transcripts_incomplete = 0;
  // Transcripts found changed on disk (kDataLoss) and rebuilt from their
  // sessions' retained events: evicted ones a fold needed (decision 0033),
  // and any read back by a load without a budget (decision 0034).
  // Cumulative; reported as damage (StoreStats::data_loss_reads).
  uint64_t transcripts_rebuilt = 0;
};

// True when `scope` may read a record of (tenant, owner).
bool ScopeCanSee(const Scope& scope, std::string_view tenant_id,
                 std::string_view owner_key_id);

class StoreState {
 public:
  // `client_id_key` keys the clientEventId hash; a random one unless a test
  // needs tags it can predict.
  explicit StoreState(EventLogFactory event_log_factory,
                      ClientIdKey client_id_key = ClientIdKey::Random());
  ~StoreState();
  StoreState(const StoreState&) = delete;
  StoreState& operator=(const StoreState&) = delete;

  // Applies every op in order. A non-OK status means the Mutation does not
  // fit the state (a bug, or a damaged journal); ops before the bad one
  // stay applied.
  Status Apply(record::Mutation&& mutation);
  Status Apply(const record::Mutation& mutation);

  // Recovery from a snapshot that keeps event indexes, not events:
  // replaces the event log and clientEventId index of an existing session
  // (just upserted). Retained counts follow the new log; events_appended
  // does not change. The index's tags must be under client_id_key().
  Status RestoreEvents(std::string_view tenant_id, std::string_view session_id,
                       std::unique_ptr<EventLog> log, ClientIdIndex client_ids);

  // Transcripts (SPEC §13): folded on append while limits.max_bytes > 0
  // (off by default: an engine turns them on from StoreOptions). The
  // postgres engine's per-transaction states keep them off.
  void set_transcript_limits(const transcript::Limits& limits) {
    transcript_limits_ = limits;
  }
  const transcript::Limits& transcript_limits() const {
    return transcript_limits_;
  }
  bool transcripts_on() const { return transcript_limits_.max_bytes > 0; }
  // Recovery from a snapshot: replaces the transcript of an existing
  // session (just upserted). With `ref` (where the same transcript lies in
  // the snapshot), it is evicted at once when the resident ones already
  // fill transcript_budget().
  // With `sealed` (decision 0027: its sealed prefix lies in older
  // snapshots), `transcript` is restored sealed, as it was written.
  Status RestoreTranscript(
      std::string_view tenant_id, std::string_view session_id,
      transcript::Transcript transcript,
      std::shared_ptr<const TranscriptRef> ref = nullptr,
      std::shared_ptr<const TranscriptSealed> sealed = nullptr);
  // Decision 0033: the session's transcript, restored evicted: `ref` (its
  // bytes, folded seq and completeness) stands for it until a fold or a
  // read loads it.
  Status RestoreEvictedTranscript(std::string_view tenant_id,
                                  std::string_view session_id,
                                  std::shared_ptr<const TranscriptRef> ref);

  // Decision 0018: transcripts out of memory (the file engine; 0 = never,
  // the default). Memory keeps at most about `budget` bytes of transcripts
  // that are also on disk; the engine writes the others out (a snapshot
  // or a spill file) once they pass it.
  // `over` is called (under the state's lock; it must only signal) when a
  // fold takes the resident ones past `budget` (over(false)) and again
  // past twice it (over(true)), each once until ClearTranscriptsOver().
  void set_transcript_budget(uint64_t budget,
                             std::function<void(bool twice)> over = nullptr) {
    transcript_budget_ = budget;
    transcripts_over_ = std::move(over);
  }
  uint64_t transcript_budget() const { return transcript_budget_; }
  void ClearTranscriptsOver() {
    transcripts_over_told_ = false;
    transcripts_twice_told_ = false;
  }
  // Reads an evicted transcript back into memory (no-op when resident).
  // A failure leaves it evicted.
  Status LoadTranscript(SessionEntry* e);
  // CatchUpTranscripts for one session, up to `through`.
  Status CatchUpTranscript(SessionEntry* e, EventSeq through);
  // Folds `e`'s retained events after `after` up to `through` into `t`;
  // a gap (retention, an unreadable event) makes it incomplete.
  void FoldRetained(SessionEntry* e, EventSeq after, EventSeq through,
                    transcript::Transcript* t);
  // The second half of LoadTranscript, for an engine that read `t` back
  // from e->transcript_ref without the lock: makes it resident.
  // `sealed`: t's sealed prefix, which stayed in published snapshots
  // (decision 0027); null when t is whole.
  void TranscriptLoaded(
      SessionEntry* e, transcript::Transcript t,
      std::shared_ptr<const TranscriptSealed> sealed = nullptr);
  // Gives a resident transcript its copy on disk (`ref` must name exactly
  // it), or moves an evicted one's reference to another copy of the same
  // items. No-op (false) when the transcript is no longer what `ref`
  // names: folded since (folded_seq or completeness differs).
  bool AttachTranscriptRef(SessionEntry* e,
                           std::shared_ptr<const TranscriptRef> ref);
  // Drops a resident transcript's entries, keeping its reference (which
  // must be set).
  void EvictTranscript(SessionEntry* e);
  // Starts an eviction pass: returns the tick a transcript must not have
  // been used after to be evicted. `all`: every transcript may go (an
  // explicit pass); otherwise only those untouched since the previous
  // pass began (a second chance: a working set that does not fit stays
  // resident instead of being read back and written out at every pass).
  uint64_t BeginEvictionPass(bool all);
  // Evicts the least recently used transcripts that have a reference and
  // were last used at or before `used_by` until the resident ones fit
  // `target` bytes. Returns how many.
  size_t EvictTranscriptsDownTo(uint64_t target, uint64_t used_by);
  // Resident transcripts without a copy on disk last used at or before
  // `used_by`, least recently used first, until the resident ones would
  // fit `target` bytes.
  std::vector<SessionEntry*> ColdDirtyTranscripts(uint64_t target,
                                                  uint64_t used_by);
  // Decision 0021: resident transcripts whose held entries take the most
  // memory, most first, until sealing them would bring the resident ones
  // to `target` bytes (hot ones included: sealing keeps the open tail).
  std::vector<SessionEntry*> SealCandidates(uint64_t target);
  // Seals entries [held, end) of e's transcript, now in `parts` (which
  // continue e->transcript_sealed). No-op (false) when the transcript
  // moved on meanwhile: evicted, its held_index() not `held`, or `end`
  // past its sealable_end().
  bool SealTranscript(SessionEntry* e, uint64_t held, uint64_t end,
                      std::vector<TranscriptSealed::Part> parts);
  // After a snapshot copied e's sealed parts: points them at the copy
  // (`now`) if they are still `was`, so the older files can go. Parts
  // sealed since (after `was`'s) are kept after `now`'s.
  void MoveSealed(SessionEntry* e, const TranscriptSealed* was,
                  std::shared_ptr<const TranscriptSealed> now);
  SessionEntry* MutableSessionInTenant(std::string_view tenant_id,
                                       std::string_view session_id) {
    return MutableSession(tenant_id, session_id);
  }
  // Recovery from a snapshot without transcripts (content version < 3):
  // folds the session's retained events into its transcript, which is
  // complete only if the stream still starts at seq 1. A retained event
  // that cannot be read is skipped and makes the transcript incomplete.
  Status RebuildTranscript(std::string_view tenant_id,
                           std::string_view session_id);
  // RebuildTranscript for a transcript whose bytes on disk were found
  // damaged, counted in StoreCounters::transcripts_rebuilt (with
  // transcripts on: off, there is none to rebuild).
  Status RebuildDamagedTranscript(std::string_view tenant_id,
                                  std::string_view session_id);
  // Transcripts kept while they were off (decision 0035) stop at the seq
  // folded then: each session's is brought up to its stream's last seq
  // from the retained events (incomplete where retention dropped some of
  // the events in between). Recovery calls it once the journal is
  // replayed; an append does the same for its session first.
  Status CatchUpTranscripts();

  // The key of the clientEventId tags. Snapshots store it with the tags;
  // loading one sets it, which is allowed only while there is no session.
  const ClientIdKey& client_id_key() const { return client_id_key_; }
  Status SetClientIdKey(const ClientIdKey& key);
  uint32_t ClientIdTagOf(std::string_view client_id) const {
    return ClientIdTag(client_id_key_, client_id);
  }

  // Every session / action in no particular order, for snapshots:
  // visit(const SessionEntry&) / visit(const ActionEntry&).
  template <typename Visit>
  void ForEachSession(Visit visit) const {
    for (const auto& kv : sessions_) visit(kv.second);
  }
  template <typename Visit>
  void ForEachAction(Visit visit) const {
    for (const auto& kv : actions_) visit(kv.second);
  }

  // ---------------------------------------------------------------- lookups
  // nullptr when missing, or when `scope` may not see the record: both
  // answer kNotFound alike.
  const SessionEntry* FindSession(const Scope& scope,
                                  std::string_view session_id) const;
  const SessionEntry* FindSessionInTenant(std::string_view tenant_id,
                                          std::string_view session_id) const;
  const ActionEntry* FindAction(const Scope& scope,
                                std::string_view action_id) const;
  const ActionEntry* FindActionInTenant(std::string_view tenant_id,
                                        std::string_view action_id) const;
  const ActionEntry* FindActionByIdempotencyKey(
      std::string_view tenant_id, std::string_view session_id,
      std::string_view idempotency_key) const;
  // The retained event with this clientEventId, if any. The index keeps
  // only tags, so each candidate is read back (EventLog::Get) and its id
  // compared byte for byte: a collision never answers with another event.
  // An error reading a candidate is returned (it might be the original).
  Result<std::optional<Event>> FindClientEvent(
      const SessionEntry& session, std::string_view client_id) const;

  // The session as readers see it: with its event-stream summary.
  static Session View(const SessionEntry& entry);
  // The action as readers see it: without the lease token.
  static Action View(const ActionEntry& entry);

  // ---------------------------------------------------------------- listing
  // Visits sessions `scope` may see, newest updated_at first, strictly
  // after `after`, until visit(const SessionEntry&) returns false.
  template <typename Visit>
  void ScanSessions(const Scope& scope,
                    const RecencyIndex<SessionEntry>::Key* after,
                    Visit visit) const;
  // Likewise for actions by created_at, optionally of one session.
  template <typename Visit>
  void ScanActions(const Scope& scope, const SessionEntry* only_session,
                   const RecencyIndex<ActionEntry>::Key* after,
                   Visit visit) const;

  // ---------------------------------------------------------------- leasing
  // The queued action `scope` may lease, available at `now`, first in
  // lease order, of `only_session` when given, of one of `types` when not
  // empty; nullptr if none.
  const ActionEntry* NextLeasable(const Scope& scope,
                                  const SessionEntry* only_session,
                                  const std::vector<ActionType>& types,
                                  TimestampMs now) const;

  // ------------------------------------------------------------ maintenance
  // Leased actions whose lease ended at or before now.
  std::vector<const ActionEntry*> ExpiredLeases(TimestampMs now) const;
  // Terminal actions that finished at or before `time`.
  std::vector<const ActionEntry*> ActionsFinishedBy(TimestampMs time) const;
  // Terminal sessions that ended at or before `time`.
  std::vector<const SessionEntry*> SessionsEndedBy(TimestampMs time) const;
  // Terminal sessions with retained events that ended at or before `time`.
  std::vector<const SessionEntry*> SessionsWithEventsEndedBy(
      TimestampMs time) const;

  // ------------------------------------------------------------------ stats
  uint64_t session_count() const { return sessions_.size(); }
  uint64_t action_count() const { return actions_.size(); }
  const StateCounters& counters() const { return counters_; }

 private:
  Status ApplyOp(record::UpsertSessionOp&& op);
  Status ApplyOp(record::DeleteSessionOp&& op);
  Status ApplyOp(record::AppendEventsOp&& op);
  Status ApplyOp(record::DropEventsOp&& op);
  Status ApplyOp(record::UpsertActionOp&& op);
  Status ApplyOp(record::DeleteActionOp&& op);
  Status ApplyOp(record::UpsertPauseOp&& op);
  Status ApplyOp(record::AdvanceSeqOp&& op);

  SessionEntry* MutableSession(std::string_view tenant_id,
                               std::string_view session_id);
  void IndexSession(SessionEntry* entry);
  void UnindexSession(SessionEntry* entry);
  void IndexAction(ActionEntry* entry);
  void UnindexAction(ActionEntry* entry);
  void RemoveAction(const std::string& key);
  // Drops stale clientEventId entries once enough went stale.
  void SweepClientIds(SessionEntry* entry);
  // Keeps counters_.client_id_index_bytes in step after `entry`'s index
  // changed from `before` bytes.
  void CountClientIdBytes(const SessionEntry& entry, size_t before);
  // Remove / add `entry`'s transcript in the counters: around every
  // change of its transcript, reference or eviction.
  void UncountTranscript(const SessionEntry& entry);
  void CountTranscript(const SessionEntry& entry);

  EventLogFactory event_log_factory_;
  ClientIdKey client_id_key_;
  transcript::Limits transcript_limits_{.max_bytes = 0};
  uint64_t transcript_budget_ = 0;
  uint64_t transcript_tick_ = 0;
  uint64_t transcript_pass_tick_ = 0;  // the tick the last pass began at
  std::function<void(bool twice)> transcripts_over_;
  bool transcripts_over_told_ = false;
  bool transcripts_twice_told_ = false;
  std::unordered_map<std::string, SessionEntry> sessions_;  // tenant\0id
  std::unordered_map<std::string, ActionEntry> actions_;    // tenant\0id
  // tenant\0session\0idempotencyKey -> action.
  std::unordered_map<std::string, ActionEntry*> idempotency_;
  // View key (tenant, or tenant\0owner) -> newest first.
  std::unordered_map<std::string, RecencyIndex<SessionEntry>> session_views_;
  std::unordered_map<std::string, RecencyIndex<ActionEntry>> action_views_;
  LeaseQueue<ActionEntry> lease_queue_;
  TimeIndex<ActionEntry> lease_expiry_;       // by leased_until
  TimeIndex<ActionEntry> finished_actions_;   // by terminal time
  TimeIndex<SessionEntry> ended_sessions_;    // by closed_at/failed_at
  TimeIndex<SessionEntry> ended_with_events_;  // the subset with events
  uint64_t next_insertion_ = 1;
  uint64_t next_incarnation_ = 1;
  StateCounters counters_;
};

// ------------------------------------------------------------ templates

std::string TenantViewKey(std::string_view tenant_id);
std::string OwnerViewKey(std::string_view tenant_id,
                         std::string_view owner_key_id);

template <typename Visit>
void StoreState::ScanSessions(const Scope& scope,
                              const RecencyIndex<SessionEntry>::Key* after,
                              Visit visit) const {
  std::string view = scope.access == Scope::Access::kOwner
                         ? OwnerViewKey(scope.tenant_id, scope.owner_key_id)
                         : TenantViewKey(scope.tenant_id);
  auto it = session_views_.find(view);
  if (it == session_views_.end()) return;
  it->second.Scan(after, [&](const auto&, SessionEntry* e) {
    return visit(static_cast<const SessionEntry&>(*e));
  });
}

template <typename Visit>
void StoreState::ScanActions(const Scope& scope,
                             const SessionEntry* only_session,
                             const RecencyIndex<ActionEntry>::Key* after,
                             Visit visit) const {
  auto adapt = [&](const auto&, ActionEntry* e) {
    return visit(static_cast<const ActionEntry&>(*e));
  };
  if (only_session != nullptr) {
    // The caller found the session in scope; its actions share its owner.
    only_session->actions.Scan(after, adapt);
    return;
  }
  std::string view = scope.access == Scope::Access::kOwner
                         ? OwnerViewKey(scope.tenant_id, scope.owner_key_id)
                         : TenantViewKey(scope.tenant_id);
  auto it = action_views_.find(view);
  if (it == action_views_.end()) return;
  it->second.Scan(after, adapt);
}

}  // namespace acpstore::engine

#endif  // ACPSTORE_ENGINE_STATE_H_
