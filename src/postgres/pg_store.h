// PgStore: the postgres engine (Engine::kPostgres, docs/spec.md §10).
// Several servers share one database and behave as one store: all state
// lives in the database; a server keeps only its connection pool, its
// local subscribers and counters.
//
// A mutation is validated like every engine's (record/validate.h), then
// runs as one transaction on a pooled connection: load the rows it may
// touch into a WorkingSet (locking them FOR UPDATE, SKIP LOCKED for leasing
// and maintenance), run the shared decider (engine/decide.h), write the
// decided Mutation (pg_write.h), COMMIT with synchronous_commit on, and
// only then complete the caller. Mutations run on the commit threads of a
// CommitQueue, which puts concurrent appends into one transaction (group
// commit); completions run there, after the COMMIT. A serialization
// failure, deadlock or unique violation (two servers creating one id)
// retries the whole transaction, whose decider then sees the other's row.
//
// Reads are single SQL statements (one snapshot each). Live events: the
// committing server wakes its own subscribers at once; the others hear a
// NOTIFY through their PgListener.
//
// Thread-safety: every method may be called from any thread. Lifetime:
// Subscriptions must be destroyed before the store.

#ifndef ACPSTORE_POSTGRES_PG_STORE_H_
#define ACPSTORE_POSTGRES_PG_STORE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_set>
#include <vector>

#include "acpstore/clock.h"
#include "acpstore/options.h"
#include "acpstore/store.h"
#include "base/mutex.h"
#include "engine/decide.h"
#include "engine/periodic_thread.h"
#include "engine/subscription_hub.h"
#include "postgres/pg_commit_queue.h"
#include "postgres/pg_listener.h"
#include "postgres/pg_pool.h"
#include "postgres/pg_readiness.h"
#include "postgres/pg_working_set.h"

namespace acpstore::postgres {

class PgStore final : public Store, private engine::SubscriptionSource {
 public:
  // Connects, migrates the schema (pg_migrate.h) and starts the listener
  // and, with maintenance_interval_ms > 0, background maintenance.
  static Result<std::unique_ptr<PgStore>> Open(const StoreOptions& options);
  ~PgStore() override;

  // ---------------------------------------------------------- sessions
  void CreateSession(const Scope& scope, NewSession req,
                     Completion<Session> done) override;
  Result<Session> GetSession(const Scope& scope,
                             std::string_view session_id) override;
  Result<SessionPage> ListSessions(const Scope& scope,
                                   const SessionQuery& query) override;
  void UpdateSession(const Scope& scope, std::string_view session_id,
                     SessionPatch patch, Completion<Session> done) override;
  void TransitionSession(const Scope& scope, std::string_view session_id,
                         SessionEvent event,
                         Completion<Session> done) override;
  void DeleteSession(const Scope& scope, std::string_view session_id,
                     StatusCompletion done) override;

  // ------------------------------------------------------------ events
  void AppendEvents(const Scope& scope, std::string_view session_id,
                    AppendRequest req,
                    Completion<AppendResult> done) override;
  Result<EventPage> ListEvents(const Scope& scope, std::string_view session_id,
                               EventSeq after, uint32_t limit) override;
  // SPEC §13, from the transcript tables (pg_transcripts.h).
  Result<TranscriptPage> ReadTranscript(const Scope& scope,
                                        std::string_view session_id,
                                        const TranscriptQuery& query) override;
  Result<std::unique_ptr<Subscription>> Subscribe(
      const Scope& scope, std::string_view session_id,
      SubscribeOptions options) override;

  // ----------------------------------------------------------- actions
  void EnqueueAction(const Scope& scope, NewAction req,
                     Completion<EnqueueResult> done) override;
  Result<Action> GetAction(const Scope& scope,
                           std::string_view action_id) override;
  Result<ActionPage> ListActions(const Scope& scope,
                                 const ActionQuery& query) override;
  void LeaseAction(const Scope& scope, LeaseRequest req,
                   Completion<std::optional<Action>> done) override;
  void HeartbeatAction(const Scope& scope, std::string_view action_id,
                       std::string_view lease_token, int64_t lease_ms,
                       Completion<Action> done) override;
  void CompleteAction(const Scope& scope, std::string_view action_id,
                      std::string_view lease_token,
                      std::optional<std::string> result_metadata,
                      Completion<Action> done) override;
  void FailAction(const Scope& scope, std::string_view action_id,
                  std::string_view lease_token,
                  std::optional<std::string> error_metadata, bool retry,
                  Completion<Action> done) override;
  void CancelAction(const Scope& scope, std::string_view action_id,
                    std::optional<std::string> error_metadata,
                    Completion<Action> done) override;

  // ------------------------------------------------------------ pauses
  void PauseSession(const Scope& scope, std::string_view session_id,
                    PauseRequest req, Completion<PauseResult> done) override;
  void StartIntervention(const Scope& scope, std::string_view session_id,
                         InterventionStartRequest req,
                         Completion<PauseResult> done) override;
  void CompleteIntervention(const Scope& scope, std::string_view session_id,
                            InterventionCompleteRequest req,
                            Completion<PauseResult> done) override;
  void ResumeSession(const Scope& scope, std::string_view session_id,
                     ResumeRequest req, Completion<PauseResult> done) override;
  Result<Pause> GetPause(const Scope& scope,
                         std::string_view session_id) override;

  // -------------------------------------------------------- operations
  void RunMaintenance(Completion<MaintenanceReport> done) override;
  StoreStats Stats() override;
  Status CheckWritable() override;

 private:
  explicit PgStore(const StoreOptions& options);

  // Loads a request's rows into a working set, in the open transaction.
  using LoadFn = std::function<Status(PgConn& conn, WorkingSet* ws)>;

  engine::DecideContext Context() const {
    return engine::DecideContext{clock_->NowMs(), &options_};
  }

  // Runs body(conn) between BEGIN and COMMIT on a pooled connection,
  // again (up to a few times) after a serialization failure, deadlock,
  // unique violation, or a connection lost before COMMIT was sent.
  Status InTransaction(const std::function<Status(PgConn&)>& body);
  // Runs body(conn) on a pooled connection, again once on a new one if
  // the first was found broken.
  template <typename T>
  Result<T> WithConn(const std::function<Result<T>(PgConn&)>& body);

  // Validate → refuse read-only → load, decide, write, commit → notify →
  // complete. `decide` must not consume what a retry needs again.
  // The job runs on a commit thread (pg_commit_queue.h); appends may share
  // its transaction. `load` and `decide` own what they use (they run later,
  // and again on a retry).
  // `append`: the job may share a transaction with other appends
  // (AppendBatch, which loads `append->target` for it and runs `decide`
  // against the batch's working set); `load` is used when it runs alone.
  template <typename T, typename Decide>
  void Mutate(const Scope& scope, Status valid, Completion<T> done,
              LoadFn load, Decide decide,
              std::optional<AppendTarget> append = std::nullopt);

  // Loaders (pg_store.cc).
  enum class Lock { kNone, kKeyShare, kUpdate };
  static LoadFn LoadSessionFn(const Scope& scope, std::string_view session_id,
                              Lock lock, bool with_pauses);
  static LoadFn LoadActionFn(const Scope& scope, std::string_view action_id);
  static Status LoadSession(PgConn& conn, WorkingSet* ws,
                            std::string_view tenant_id,
                            std::string_view session_id, Lock lock,
                            bool with_pauses);
  static Status LoadAction(PgConn& conn, WorkingSet* ws,
                           std::string_view tenant_id,
                           std::string_view action_id);
  // Row `row` of `r` decoded, its session loaded into ws (the action is
  // not added yet): the step AddActionRows and AddSweptActionRows share.
  static Result<Action> ActionRowWithSession(PgConn& conn, WorkingSet* ws,
                                             const PgResult& r, int row);
  // Adds the loaded action rows (and their sessions) of `r` to ws.
  static Status AddActionRows(PgConn& conn, WorkingSet* ws, const PgResult& r);
  // The damaged rows one transaction attempt passed over (SPEC §10
  // "Damage"). Noted while the attempt runs and counted and reported by
  // ReportDamage once the transaction has ended: a retried transaction
  // runs its lease or sweep again from the start and meets the same rows,
  // which must count once.
  using Damage = std::vector<Status>;
  // As AddActionRows, but an action whose record, or whose session's,
  // does not decode is passed over (PassOverRow) rather than failing the
  // rest: for the sweeps, which must go on past one damaged row.
  // Answers how many it added.
  static Result<size_t> AddSweptActionRows(PgConn& conn, WorkingSet* ws,
                                           const PgResult& r, Damage* damage);
  // For a lease or sweep that picked rows itself and must serve the
  // others: OK after adding `s` to *damage when it is damage (kDataLoss);
  // OK without noting it when the row is a newer release's (IsNewerFormat:
  // not damage, SPEC §3, and left for a newer server); `s` itself
  // otherwise.
  static Status PassOverRow(const Status& s, Damage* damage);
  // Counts each of `damage` in data_loss_reads_ and reports it through
  // StoreOptions::on_damage (once per row per store).
  void ReportDamage(const Damage& damage);
  // The sort key of a maintenance sweep's rows: (time, tenant, id), as
  // its statement orders them (COLLATE "C": byte order, as std::string
  // compares). The default sorts before every row.
  struct SweepKey {
    int64_t at = std::numeric_limits<int64_t>::min();
    std::string tenant_id;
    std::string id;
    friend bool operator<(const SweepKey& a, const SweepKey& b) {
      return std::tie(a.at, a.tenant_id, a.id) <
             std::tie(b.at, b.tenant_id, b.id);
    }
  };
  // Where each sweep of the maintenance passes stopped.
  struct SweepCursors {
    SweepKey leases, sessions_ended, sessions_with_events_ended,
        actions_finished;
  };
  struct SweepPaging {
    size_t page_rows;  // the statement's LIMIT
    int key_col;       // the row's time; its tenant and id just before
    int max_pages;     // per pass
  };
  // Takes a page's rows into the sweep's working set; answers how many it
  // took (the others it passed over: damaged, or kept with such a row).
  using TakePage = std::function<Result<size_t>(const PgResult&)>;
  // One pass of a sweep (SPEC §10 "Damage"): `stmt`'s rows due by `due`
  // (of `tenant_id` only, if not null) a page at a time, each given to
  // `take`, until a page's worth is taken, the rows end, or max_pages
  // pages are read. A sweep that only took the first page would read the
  // same rows at every pass if a page's worth of them were passed over,
  // and never reach the rows behind them. From the second page on it goes
  // on from *resume (where the last pass stopped) if that is further;
  // *resume becomes where this pass stopped, or the default at the end.
  static Status SweepInPages(PgConn& conn, const PgStatement& stmt,
                             int64_t due, const std::string* tenant_id,
                             const SweepPaging& paging, SweepKey* resume,
                             const TakePage& take);
  SweepKey SweepResume(SweepKey SweepCursors::*which);
  void SetSweepResume(SweepKey SweepCursors::*which, SweepKey key);
  // Requeues or fails expired leases (of one tenant, or all), skipping
  // rows another server holds; counts into *report, notes the damaged
  // rows it passed over in *damage.
  // `wake` collects the sessions whose subscribers must hear of it.
  Status SweepLeases(PgConn& conn, const engine::DecideContext& ctx,
                     const std::string* tenant_id, MaintenanceReport* report,
                     Damage* damage);
  Status ApplyRetention(PgConn& conn, const engine::DecideContext& ctx,
                        MaintenanceReport* report,
                        std::vector<std::string>* wake, Damage* damage);

  // The page of a session's events after `after` (pg_store_reads.cc).
  // With `scope`, kNotFound unless it may see the session; with
  // `incarnation`, kNotFound once that incarnation is gone.
  Result<EventPage> ReadEvents(PgConn& conn, std::string_view tenant_id,
                               std::string_view session_id,
                               const Scope* scope, uint64_t incarnation,
                               EventSeq after, uint32_t limit,
                               uint64_t max_bytes);

  // SubscriptionSource.
  Result<EventPage> ReadSubscriptionPage(std::string_view tenant_id,
                                         std::string_view session_id,
                                         uint64_t incarnation, EventSeq after,
                                         uint32_t limit,
                                         uint64_t max_bytes) override;

  const StoreOptions options_;
  Clock* const clock_;
  const std::string channel_;
  PgPool pool_;
  engine::SubscriptionHub hub_;
  std::atomic<uint64_t> events_appended_{0};
  // Events this server dropped: by its maintenance passes, and by the
  // per-session cap on the appends it committed (as the other engines
  // count both). This server's only, as events_appended_.
  std::atomic<uint64_t> events_dropped_{0};
  // Reads that met a stored record that does not decode (kDataLoss,
  // pg_rows.h): the damage /readyz and /metrics report (SPEC §3), as the
  // file engine counts records failing their checksum. This server's only.
  std::atomic<uint64_t> data_loss_reads_{0};
  // The damage already given to on_damage (its messages), so that a row
  // every lease passes over is reported once, not at every poll.
  base::Mutex damage_mu_;
  std::unordered_set<std::string> damage_reported_ GUARDED_BY(damage_mu_);
  // Where the maintenance passes' sweeps go on from (SweepInPages); a
  // hint, so concurrent passes may overwrite each other's.
  base::Mutex sweep_mu_;
  SweepCursors sweep_resume_ GUARDED_BY(sweep_mu_);
  std::unique_ptr<PgReadiness> readiness_;
  std::unique_ptr<PgListener> listener_;
  std::unique_ptr<CommitQueue> commits_;
  std::unique_ptr<engine::PeriodicThread> maintenance_;
};

template <typename T>
Result<T> PgStore::WithConn(const std::function<Result<T>(PgConn&)>& body) {
  // A pooled connection the server had closed fails at once and is
  // dropped when returned. Every idle one may have been closed together (a
  // PostgreSQL restart, pg_terminate_backend of the store's backends), so a
  // read goes on until one works, a new one cannot be opened (Borrow says
  // why), or as many attempts as the pool has connections, and one more.
  for (size_t attempt = 0;; ++attempt) {
    ACPSTORE_ASSIGN_OR_RETURN(PgPool::Lease lease, pool_.Borrow());
    Result<T> r = body(*lease);
    if (!r.ok() && r.status().code() == StatusCode::kUnavailable &&
        !lease->healthy() && attempt < pool_.size()) {
      continue;
    }
    if (!r.ok() && r.status().code() == StatusCode::kDataLoss) {
      data_loss_reads_.fetch_add(1);
    }
    return r;
  }
}

}  // namespace acpstore::postgres

#endif  // ACPSTORE_POSTGRES_PG_STORE_H_
