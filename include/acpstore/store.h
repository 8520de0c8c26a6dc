// Store is acpstore's one contract (SPEC §2-§4): sessions, per-session event
// streams, a leased action queue and pause records, every call confined to a
// Scope. The memory, file and postgres engines implement it and pass the
// same conformance suite (tests/store_conformance_test.cc; the postgres
// engine's run is tests/postgres/, docs/spec.md §10).
//
// How to append an event and what an acknowledgement means:
//
//   std::unique_ptr<Store> store = OpenStore(options).value();
//   AppendRequest req;
//   req.events.push_back({.event_type = "tool.started",
//                         .payload = R"({"tool":"bash"})"});
//   store->AppendEvents(scope, "session-1", std::move(req),
//                       [](Result<AppendResult> r) {
//     // Runs once. If r.ok(), the event is durable under options.sync:
//     // with SyncMode::kAlways it has been fdatasync'ed and survives a
//     // crash or power loss. Until then no reader can see it.
//   });
//
// Tools and tests that prefer to wait use BlockingStore (blocking_store.h).
//
// Mutations are asynchronous. Each takes a Completion that the store calls
// exactly once: with the result once the write is durable under the sync
// mode, or with the failure. It may run inline on the calling thread (for a
// request refused by validation, or on an engine without I/O) or on the
// engine's commit thread. Completions run with no store lock held and may
// call the store again, but must not block waiting for another completion:
// they would stall every writer behind them.
//
// Reads are synchronous and see every acknowledged write. They may block
// briefly on disk (pread) or on the database; they never wait for a commit.
//
// Every failure is a Status with a code from status.h; validation failures
// name the field and the rule ("field" detail), conflicts carry the current
// state as details (e.g. "lastSeq", "status").
//
// Thread-safety: every method may be called from any thread concurrently.
// Lifetime: destroying the store waits for in-flight writes to complete.

#ifndef ACPSTORE_STORE_H_
#define ACPSTORE_STORE_H_

#include <cstddef>
#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "acpstore/options.h"
#include "acpstore/records.h"
#include "acpstore/result.h"
#include "acpstore/status.h"

namespace acpstore {

template <typename T>
using Completion = std::function<void(Result<T>)>;
using StatusCompletion = std::function<void(Status)>;

// A live view of one session's event stream from a cursor: first every
// retained event after the cursor (replay), then each new event as it is
// acknowledged (live), with no gap and no duplicate across the switch.
//
// Pull-based: the consumer calls Next() at its own pace, so the store never
// buffers events for a slow consumer. The on_ready callback given at
// Subscribe() tells it when Next() has something new.
//
// Thread-safety: Next() must not be called concurrently with itself.
// Lifetime: must not outlive the Store; destroying it unsubscribes.
class Subscription {
 public:
  virtual ~Subscription() = default;

  // Returns up to max_events events after the cursor and advances the
  // cursor past them. An empty page means "caught up": wait for on_ready.
  // page.truncated is set once, on the first call whose cursor lay below
  // the retained range (SSE sends `event: truncated`). Fails with
  // kNotFound once the session is deleted, and kDataLoss if a stored event
  // fails its checksum.
  virtual Result<EventPage> Next(size_t max_events) = 0;

  // Next() without copies: the events are shared with the store (the file
  // engine's payload cache), for consumers that only read them, such as
  // the SSE fan-out. Same cursor, same rules; use one or the other.
  // The page also stops before its payloads pass max_bytes (it always
  // holds the next event, whatever its size), so a consumer that holds a
  // page until a slow reader takes it holds about max_bytes, not
  // max_events whole payloads of up to 1 MiB each. The engines' own
  // subscriptions honour it; this default (for other implementations of
  // Next) does not.
  virtual Result<SharedEventPage> NextShared(size_t max_events,
                                             uint64_t max_bytes) {
    (void)max_bytes;
    Result<EventPage> page = Next(max_events);
    if (!page.ok()) return page.error();
    return SharedEventPage::FromCopies(std::move(*page));
  }

  // The seq of the last event returned (the resume point).
  virtual EventSeq cursor() const = 0;
};

struct SubscribeOptions {
  EventSeq after = 0;  // resume point: deliver events with seq > after
  // Called, from a store thread with no lock held, whenever events were
  // acknowledged after the last Next() that returned an empty page. Must
  // be cheap and must not call Next() itself (post to an executor instead).
  // May be called spuriously.
  std::function<void()> on_ready;
};

// What background maintenance did (one RunMaintenance call).
struct MaintenanceReport {
  uint64_t leases_requeued = 0;
  uint64_t leases_dead_lettered = 0;  // failed with reason lease_expired
  uint64_t events_dropped = 0;        // by any retention rule
  uint64_t sessions_deleted = 0;
  uint64_t actions_deleted = 0;
};

// Counters and gauges for /metrics and /v1/stats. Cumulative counters
// start at zero when the store opens.
struct StoreStats {
  uint64_t sessions = 0;
  uint64_t sessions_by_status[8] = {};  // indexed by SessionStatus
  uint64_t events_retained = 0;
  uint64_t event_payload_bytes = 0;
  uint64_t actions = 0;
  uint64_t pauses = 0;
  uint64_t events_appended = 0;         // cumulative
  uint64_t events_dropped_retention = 0;  // cumulative
  uint64_t subscriptions = 0;
  // Engine-specific (zero where not applicable).
  uint64_t journal_bytes = 0;
  uint64_t snapshot_bytes = 0;
  uint64_t fsyncs = 0;                  // cumulative
  uint64_t group_commit_records = 0;    // cumulative records over fsyncs
  // fsync_micros_log2[i]: journal fdatasyncs that took [2^i, 2^(i+1)) µs
  // (bucket 0 also holds < 1 µs; the last bucket everything slower), and
  // their total time. Cumulative.
  std::array<uint64_t, 24> fsync_micros_log2{};
  uint64_t fsync_micros_total = 0;
  // batch_records_log2[i]: group commits of [2^i, 2^(i+1)) records (the
  // last bucket everything larger). Cumulative.
  std::array<uint64_t, 16> batch_records_log2{};
  uint64_t memory_index_bytes = 0;
  uint64_t memory_cache_bytes = 0;
  // Every session's transcript (SPEC §13) held in memory, counted as
  // Entry::Bytes.
  uint64_t memory_transcript_bytes = 0;
  // Transcripts whose entries left memory for disk (the file engine, past
  // a quarter of the memory budget; SPEC §4): how many and their bytes.
  uint64_t transcripts_evicted = 0;
  uint64_t transcript_evicted_bytes = 0;
  uint64_t transcripts_incomplete = 0;  // sessions whose cap dropped entries
  int64_t recovery_ms = 0;
  uint64_t torn_tail_truncations = 0;
  // The file engine: snapshots that could not be written, and why the
  // latest attempt failed (empty once one succeeds again). Nothing
  // acknowledged is lost (it is in the journal), but recovery time and
  // journal space grow until a snapshot succeeds: /readyz reports it.
  uint64_t snapshots_failed = 0;
  std::string snapshot_failing;
  // Reads that found a stored event or transcript failing its checksum
  // (kDataLoss), and evicted transcripts that a fold found so and rebuilt
  // from their sessions' retained events (the file engine); on the postgres
  // engine, reads through this server that met a stored row whose record
  // does not decode. Non-zero means damage on disk: /readyz reports it.
  uint64_t data_loss_reads = 0;
  // The postgres engine: sessions whose live-event notification this
  // server dropped instead of sending (too many pending, or refused by the
  // database on a live connection). Other servers' streams get those events
  // from their once-a-second recheck instead. Cumulative.
  uint64_t notifications_dropped = 0;
};

// A lease may be named by its attempt number instead of its token, for an
// orchestrator whose workers hold no tokens (SPEC §11: Aegis lets any
// process complete any leased action, and a restarted process has lost its
// tokens): pass AttemptLeaseClaim(attemptCount) as the `lease_token` of
// CompleteAction/FailAction. Such a claim is stale unless the action is
// leased and its attempt_count is that number, so a lease that was swept
// and taken again still refuses it. Lease tokens are lowercase hex, so the
// two forms never meet. The HTTP API offers the attempt form to service keys
// only (routes_actions.cc).
inline std::string AttemptLeaseClaim(uint32_t attempt_count) {
  return "#attempt:" + std::to_string(attempt_count);
}
inline std::optional<uint32_t> ParseAttemptLeaseClaim(std::string_view claim) {
  constexpr std::string_view kPrefix = "#attempt:";
  if (claim.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  claim.remove_prefix(kPrefix.size());
  if (claim.empty() || claim.size() > 10) return std::nullopt;
  uint64_t n = 0;
  for (char c : claim) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  if (n > UINT32_MAX) return std::nullopt;
  return static_cast<uint32_t>(n);
}

class Store {
 public:
  Store() = default;
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;
  virtual ~Store() = default;

  // ---------------------------------------------------------------- sessions

  // Creates a session owned by scope.owner_key_id in status kInitializing.
  // kConflict if the id already exists in the tenant.
  virtual void CreateSession(const Scope& scope, NewSession req,
                             Completion<Session> done) = 0;
  virtual Result<Session> GetSession(const Scope& scope,
                                     std::string_view session_id) = 0;
  virtual Result<SessionPage> ListSessions(const Scope& scope,
                                           const SessionQuery& query) = 0;
  virtual void UpdateSession(const Scope& scope, std::string_view session_id,
                             SessionPatch patch, Completion<Session> done) = 0;
  // Applies one state-machine event; kInvalidTransition (details "status",
  // "event") when the current status does not allow it.
  virtual void TransitionSession(const Scope& scope,
                                 std::string_view session_id,
                                 SessionEvent event,
                                 Completion<Session> done) = 0;
  // Deletes a terminal session with its events, actions and pauses;
  // kConflict if it is not terminal.
  virtual void DeleteSession(const Scope& scope, std::string_view session_id,
                             StatusCompletion done) = 0;

  // ------------------------------------------------------------------ events

  // Appends one event or an atomic batch. The completion fires once every
  // new event is durable; only then can readers see them.
  virtual void AppendEvents(const Scope& scope, std::string_view session_id,
                            AppendRequest req,
                            Completion<AppendResult> done) = 0;
  // Retained events with seq > after, ascending, at most `limit`
  // (1..1000).
  virtual Result<EventPage> ListEvents(const Scope& scope,
                                       std::string_view session_id,
                                       EventSeq after, uint32_t limit) = 0;
  virtual Result<std::unique_ptr<Subscription>> Subscribe(
      const Scope& scope, std::string_view session_id,
      SubscribeOptions options) = 0;

  // -------------------------------------------------------------- transcripts

  // A page of the session's transcript (SPEC §13). Shows only what
  // acknowledged events folded into. kNotFound for an unknown session;
  // kInvalidArgument for a limit outside 1..1000 or an unknown kind;
  // kNotImplemented, detail reason "transcripts_off", when transcripts are
  // off (transcript_max_bytes 0), after kNotFound (decision 0036).
  virtual Result<TranscriptPage> ReadTranscript(
      const Scope& scope, std::string_view session_id,
      const TranscriptQuery& query) = 0;

  // ----------------------------------------------------------------- actions

  virtual void EnqueueAction(const Scope& scope, NewAction req,
                             Completion<EnqueueResult> done) = 0;
  virtual Result<Action> GetAction(const Scope& scope,
                                   std::string_view action_id) = 0;
  virtual Result<ActionPage> ListActions(const Scope& scope,
                                         const ActionQuery& query) = 0;
  // Leases the eligible action (queued, available_at <= now) with the
  // smallest (available_at, created_at, insertion order) in scope.
  // std::nullopt when none is eligible (HTTP 204).
  virtual void LeaseAction(const Scope& scope, LeaseRequest req,
                           Completion<std::optional<Action>> done) = 0;
  // Extends a lease to now + lease_ms. kStaleLease unless the token is the
  // current one and the lease has not been swept.
  virtual void HeartbeatAction(const Scope& scope, std::string_view action_id,
                               std::string_view lease_token, int64_t lease_ms,
                               Completion<Action> done) = 0;
  virtual void CompleteAction(const Scope& scope, std::string_view action_id,
                              std::string_view lease_token,
                              std::optional<std::string> result_metadata,
                              Completion<Action> done) = 0;
  // With retry, requeues under the same attempt and backoff rules as an
  // expired lease; otherwise the action fails. Either way error_metadata
  // becomes the action's, replacing an earlier attempt's (none clears it).
  virtual void FailAction(const Scope& scope, std::string_view action_id,
                          std::string_view lease_token,
                          std::optional<std::string> error_metadata,
                          bool retry, Completion<Action> done) = 0;
  // From kQueued or kLeased; kInvalidTransition from a terminal status.
  virtual void CancelAction(const Scope& scope, std::string_view action_id,
                            std::optional<std::string> error_metadata,
                            Completion<Action> done) = 0;

  // ------------------------------------------------------------------ pauses

  // Session running -> paused, with a new pause record. kAlreadyPaused when
  // an active pause exists (unless idempotency_key matches it).
  virtual void PauseSession(const Scope& scope, std::string_view session_id,
                            PauseRequest req,
                            Completion<PauseResult> done) = 0;
  virtual void StartIntervention(const Scope& scope,
                                 std::string_view session_id,
                                 InterventionStartRequest req,
                                 Completion<PauseResult> done) = 0;
  virtual void CompleteIntervention(const Scope& scope,
                                    std::string_view session_id,
                                    InterventionCompleteRequest req,
                                    Completion<PauseResult> done) = 0;
  virtual void ResumeSession(const Scope& scope, std::string_view session_id,
                             ResumeRequest req,
                             Completion<PauseResult> done) = 0;
  // The active pause, else the latest, else kNotFound.
  virtual Result<Pause> GetPause(const Scope& scope,
                                 std::string_view session_id) = 0;

  // ------------------------------------------------------------- operations

  // Sweeps expired leases and applies retention as of the clock's now.
  // Engines also run it every options.maintenance_interval_ms.
  virtual void RunMaintenance(Completion<MaintenanceReport> done) = 0;
  virtual StoreStats Stats() = 0;
  // OK while the store accepts writes; otherwise why not (kUnavailable for
  // a failed journal, kInsufficientStorage while the disk is full, ...).
  virtual Status CheckWritable() = 0;
};

// Opens the engine options.engine names. kFile recovers from data_dir;
// kCorruption names the file and offset of damage recovery cannot pass.
// kPostgres connects to postgres_url and migrates postgres_schema:
// kUnavailable when the database cannot be reached, kConflict when its
// schema is newer than this build.
Result<std::unique_ptr<Store>> OpenStore(const StoreOptions& options);

}  // namespace acpstore

#endif  // ACPSTORE_STORE_H_
