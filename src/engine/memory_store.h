// MemoryStore: the Store contract (store.h) with everything in RAM, lost
// at exit. It is the reference composition of the engine core: the shared
// DecidingStore validates and decides; MemoryStore applies each Mutation to
// its StoreState under one mutex, releases it, wakes subscribers and calls
// the completion. Completions therefore always run inline on the caller's
// thread, with no lock held.
//
// Thread-safety: every method may be called from any thread. Lifetime:
// Subscriptions it returns must be destroyed before it; the destructor
// stops the maintenance thread.

#ifndef ACPSTORE_ENGINE_MEMORY_STORE_H_
#define ACPSTORE_ENGINE_MEMORY_STORE_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "acpstore/options.h"
#include "acpstore/store.h"
#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "engine/deciding_store.h"
#include "engine/periodic_thread.h"
#include "engine/state.h"

namespace acpstore::engine {

class MemoryStore final : public DecidingStore {
 public:
  explicit MemoryStore(const StoreOptions& options);
  ~MemoryStore() override;

  Result<EventPage> ListEvents(const Scope& scope, std::string_view session_id,
                               EventSeq after, uint32_t limit) override;
  void RunMaintenance(Completion<MaintenanceReport> done) override;
  StoreStats Stats() override;
  Status CheckWritable() override;

 private:
  void Submit(std::unique_ptr<Waiter> waiter, DecideFn decide,
              bool sweep_leases_first) override EXCLUDES(mu_);
  void ReadState(base::FunctionRef<void(const StoreState&)> read) override
      EXCLUDES(mu_);
  Result<EventPage> ReadSubscriptionPage(std::string_view tenant_id,
                                         std::string_view session_id,
                                         uint64_t incarnation, EventSeq after,
                                         uint32_t limit,
                                         uint64_t max_bytes) override;

  // Applies a Mutation this store decided; a failure is a bug.
  Status ApplyLocked(record::Mutation&& mutation,
                     std::vector<std::string>* notify) REQUIRES(mu_);

  base::Mutex mu_;
  StoreState state_ GUARDED_BY(mu_);

  std::unique_ptr<PeriodicThread> maintenance_;  // null when interval is 0
};

}  // namespace acpstore::engine

#endif  // ACPSTORE_ENGINE_MEMORY_STORE_H_
