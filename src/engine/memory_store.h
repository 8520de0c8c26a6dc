// MemoryStore: the Store contract (store.h) with everything in RAM, lost
// at exit. It is the reference composition of the engine core: validate
// the request (record/validate.h, canonicalising JSON in place), refuse a
// read-only scope, then under one mutex decide (decide.h) and apply the
// Mutation to the StoreState; release the lock; wake subscribers; call the
// completion. Completions therefore always run inline on the caller's
// thread, with no lock held.
//
// Thread-safety: every method may be called from any thread. Lifetime:
// Subscriptions it returns must be destroyed before it; the destructor
// stops the maintenance thread.

#ifndef ACPSTORE_ENGINE_MEMORY_STORE_H_
#define ACPSTORE_ENGINE_MEMORY_STORE_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "acpstore/options.h"
#include "acpstore/store.h"
#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "engine/decide.h"
#include "engine/import_target.h"
#include "engine/periodic_thread.h"
#include "engine/state.h"
#include "engine/subscription_hub.h"

namespace acpstore::engine {

class MemoryStore final : public Store,
                          public ImportTarget,
                          private SubscriptionSource {
 public:
  explicit MemoryStore(const StoreOptions& options);
  ~MemoryStore() override;

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

  void AppendEvents(const Scope& scope, std::string_view session_id,
                    AppendRequest req,
                    Completion<AppendResult> done) override;
  Result<EventPage> ListEvents(const Scope& scope,
                               std::string_view session_id, EventSeq after,
                               uint32_t limit) override;
  Result<std::unique_ptr<Subscription>> Subscribe(
      const Scope& scope, std::string_view session_id,
      SubscribeOptions options) override;

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

  void RunMaintenance(Completion<MaintenanceReport> done) override;
  StoreStats Stats() override;
  Status CheckWritable() override;

  // ImportTarget (a migration's records; see import_target.h).
  void CommitImport(Decider decide, StatusCompletion done) override;

 private:
  Result<EventPage> ReadSubscriptionPage(std::string_view tenant_id,
                                         std::string_view session_id,
                                         uint64_t incarnation, EventSeq after,
                                         uint32_t limit) override;

  // Decides with `decide(const StoreState&, const DecideContext&)` under
  // the lock, applies, then notifies subscribers and calls `done` with no
  // lock held. With sweep_leases_first, expired leases are swept in the
  // same critical section before deciding (a lazy sweep for leasing).
  template <typename T, typename Decide>
  void Commit(Completion<T> done, Decide decide,
              bool sweep_leases_first = false) EXCLUDES(mu_);
  // Applies a Mutation this store decided; a failure is a bug.
  Status ApplyLocked(record::Mutation&& mutation,
                     std::vector<std::string>* notify) REQUIRES(mu_);
  DecideContext Context() const;

  const StoreOptions options_;
  Clock* const clock_;  // options_.clock or SystemClock(); outlives us

  base::Mutex mu_;
  StoreState state_ GUARDED_BY(mu_);

  SubscriptionHub hub_;
  std::unique_ptr<PeriodicThread> maintenance_;  // null when interval is 0
};

}  // namespace acpstore::engine

#endif  // ACPSTORE_ENGINE_MEMORY_STORE_H_
