// DecidingStore: the part of the Store contract every engine shares. Each
// mutation is validated (record/validate.h, canonicalising JSON in place),
// refused for a read-only scope, then decided by the pure deciders
// (decide.h) against the engine's StoreState; the engine only supplies how
// a decided Mutation is applied and made durable (Submit) and how the state
// is read under its lock (ReadState). MemoryStore applies at once; FileStore
// journals first. See docs/decisions/0005-one-deciding-store.md.
//
// Engine-specific and therefore left to each engine: event reads
// (ListEvents and ReadSubscriptionPage: the file engine reads payloads from
// disk without its lock), maintenance, stats, CheckWritable.
//
// Thread-safety: every method may be called from any thread; engines make
// Submit and ReadState thread-safe. Lifetime: Subscriptions must be
// destroyed before the store; a derived engine must stop every thread that
// may call hub() before its own destructor returns.

#ifndef ACPSTORE_ENGINE_DECIDING_STORE_H_
#define ACPSTORE_ENGINE_DECIDING_STORE_H_

#include <atomic>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>

#include "acpstore/clock.h"
#include "acpstore/options.h"
#include "acpstore/store.h"
#include "base/function_ref.h"
#include "engine/decide.h"
#include "engine/import_target.h"
#include "engine/state.h"
#include "engine/subscription_hub.h"
#include "engine/waiter.h"
#include "record/mutation.h"

namespace acpstore::engine {

class DecidingStore : public Store,
                      public ImportTarget,
                      protected SubscriptionSource {
 public:
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
  Result<std::unique_ptr<Subscription>> Subscribe(
      const Scope& scope, std::string_view session_id,
      SubscribeOptions options) override;
  // Under the lock, a copy of the page; if the session has events applied
  // but not yet acknowledged (the file engine), waits until everything
  // submitted so far is durable before returning that copy, so nothing
  // unacknowledged is ever shown. Must not be called from a completion.
  Result<TranscriptPage> ReadTranscript(const Scope& scope,
                                        std::string_view session_id,
                                        const TranscriptQuery& query) override;

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

  // ------------------------------------------------------- ImportTarget
  void CommitImport(Decider decide, StatusCompletion done) override;

 protected:
  explicit DecidingStore(const StoreOptions& options);

  // Decides a mutation against `state` at `ctx.now`; may store the
  // caller's result in the waiter it was created with.
  using DecideFn = base::FunctionRef<Result<record::Mutation>(
      const StoreState& state, const DecideContext& ctx)>;

  // Under the engine's lock: with sweep_leases_first, sweeps expired
  // leases first (a lazy sweep for leasing) in the same critical section;
  // then runs `decide`, applies the Mutation and, in a durable engine,
  // journals it. Finishes `waiter` with the decider's failure, or OK once
  // the mutation is applied (and durable), with no lock held.
  virtual void Submit(std::unique_ptr<Waiter> waiter, DecideFn decide,
                      bool sweep_leases_first) = 0;
  // Waits until every mutation submitted so far is durable (or failed).
  // An engine that applies only durable mutations (memory) returns at once.
  virtual Status WaitForSubmitted() { return Status::OK(); }
  // Runs `read` under the engine's lock.
  virtual void ReadState(
      base::FunctionRef<void(const StoreState&)> read) = 0;
  // Before an append is decided: an engine that moves transcripts out of
  // memory (decision 0018) reads the session's back, so a failed read
  // refuses the append with that error instead of failing its apply.
  virtual Status PrepareAppend(const Scope& /*scope*/,
                               std::string_view /*session_id*/) {
    return Status::OK();
  }

  // The deciders' view of now.
  DecideContext Context() const {
    return DecideContext{clock_->NowMs(), &options_};
  }
  // The counters every engine reports the same way (call under the lock).
  void FillStateStats(const StoreState& state, StoreStats* stats) const;

  // Validated request → waiter → Submit.
  template <typename T, typename Decide>
  void Commit(Completion<T> done, Decide decide,
              bool sweep_leases_first = false);

  SubscriptionHub& hub() { return hub_; }

  const StoreOptions options_;
  Clock* const clock_;  // options_.clock or SystemClock(); outlives us

 private:
  // The shape of every mutation: a failed validation (`valid`) or a
  // read-only scope completes `done` at once; otherwise Commit.
  template <typename T, typename Decide>
  void Mutate(const Scope& scope, Status valid, Completion<T> done,
              Decide decide, bool sweep_leases_first = false);
  template <typename T, typename Query>
  Result<T> Read(Query query);

  SubscriptionHub hub_;
  // Transcript reads that met bytes failing their checksum (data_loss),
  // reported with the event reads' as damage (StoreStats::data_loss_reads).
  std::atomic<uint64_t> transcript_data_loss_reads_{0};
};

template <typename T, typename Decide>
void DecidingStore::Commit(Completion<T> done, Decide decide,
                           bool sweep_leases_first) {
  auto waiter = std::make_unique<TypedWaiter<T>>(std::move(done));
  TypedWaiter<T>* const typed = waiter.get();
  auto erased = [&decide, typed](const StoreState& st,
                                 const DecideContext& ctx)
      -> Result<record::Mutation> {
    Result<Decision<T>> d = decide(st, ctx);
    if (!d.ok()) return std::move(d).error();
    typed->set_result(std::move(d->result));
    return std::move(d->mutation);
  };
  Submit(std::move(waiter), erased, sweep_leases_first);
}

}  // namespace acpstore::engine

#endif  // ACPSTORE_ENGINE_DECIDING_STORE_H_
