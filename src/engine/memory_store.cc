// MemoryStore: see memory_store.h.

#include "engine/memory_store.h"

#include <chrono>
#include <utility>

#include "engine/memory_event_log.h"
#include "engine/queries.h"
#include "record/validate.h"

namespace acpstore::engine {

MemoryStore::MemoryStore(const StoreOptions& options)
    : DecidingStore(options), state_(MemoryEventLog::Factory()) {
  state_.set_transcript_limits(transcript::Limits{
      options_.transcript_max_bytes, options_.transcript_max_tool_bytes});
  if (options_.maintenance_interval_ms > 0) {
    maintenance_ = std::make_unique<PeriodicThread>(
        "acp-maintenance",
        std::chrono::milliseconds(options_.maintenance_interval_ms),
        [this] { RunMaintenance(nullptr); });
  }
}

MemoryStore::~MemoryStore() {
  // First: the maintenance task uses every other member.
  maintenance_.reset();
}

Status MemoryStore::ApplyLocked(record::Mutation&& mutation,
                                std::vector<std::string>* notify) {
  std::vector<std::string> keys = SubscriptionHub::SessionsToNotify(mutation);
  notify->insert(notify->end(), keys.begin(), keys.end());
  Status s = state_.Apply(std::move(mutation));
  if (!s.ok()) {
    return Status::Internal("memory store applied an inconsistent mutation: " +
                            std::string(s.message()));
  }
  return s;
}

void MemoryStore::Submit(std::unique_ptr<Waiter> waiter, DecideFn decide,
                         bool sweep_leases_first) {
  std::vector<std::string> notify;
  Status applied;
  {
    base::MutexLock lock(&mu_);
    const DecideContext ctx = Context();
    if (sweep_leases_first) {
      MaintenanceReport unused;
      applied = ApplyLocked(DecideLeaseSweep(state_, ctx, &unused), &notify);
    }
    if (applied.ok()) {
      Result<record::Mutation> m =
          decide(static_cast<const StoreState&>(state_), ctx);
      applied = m.ok() ? ApplyLocked(std::move(*m), &notify)
                       : std::move(m).error();
    }
  }
  hub().Notify(notify);
  waiter->Finish(applied);
}

void MemoryStore::ReadState(base::FunctionRef<void(const StoreState&)> read) {
  base::MutexLock lock(&mu_);
  read(state_);
}

Result<EventPage> MemoryStore::ListEvents(const Scope& scope,
                                          std::string_view session_id,
                                          EventSeq after, uint32_t limit) {
  ACPSTORE_RETURN_IF_ERROR(record::ValidateListLimit(limit));
  base::MutexLock lock(&mu_);
  return QueryListEvents(state_, scope, session_id, after, limit,
                         options_.max_page_bytes);
}

Result<EventPage> MemoryStore::ReadSubscriptionPage(
    std::string_view tenant_id, std::string_view session_id,
    uint64_t incarnation, EventSeq after, uint32_t limit, uint64_t max_bytes) {
  base::MutexLock lock(&mu_);
  return QuerySubscriptionPage(state_, tenant_id, session_id, incarnation,
                               after, limit, max_bytes);
}

void MemoryStore::RunMaintenance(Completion<MaintenanceReport> done) {
  MaintenanceReport report;
  std::vector<std::string> notify;
  Status s;
  {
    base::MutexLock lock(&mu_);
    const DecideContext ctx = Context();
    s = ApplyLocked(DecideLeaseSweep(state_, ctx, &report), &notify);
    if (s.ok()) {
      s = ApplyLocked(DecideRetention(state_, ctx, &report), &notify);
    }
  }
  hub().Notify(notify);
  if (!done) return;
  if (!s.ok()) return done(std::move(s));
  done(report);
}

StoreStats MemoryStore::Stats() {
  StoreStats stats;
  {
    base::MutexLock lock(&mu_);
    FillStateStats(state_, &stats);
  }
  stats.subscriptions = hub().size();
  return stats;
}

Status MemoryStore::CheckWritable() { return Status::OK(); }

}  // namespace acpstore::engine
