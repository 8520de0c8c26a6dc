// The migration interface (migration_target.h) of the engines built on a
// StoreState, the memory and file engines: batches go through
// ImportTarget::CommitImport (decided under the engine's lock, applied and
// made durable like any decided request, one journal record per batch in
// the file engine), reads through the Store API or, for the whole record
// set, a decider that writes nothing. Also CheckMigrationBatch
// (migration_batch.h), OpenForMigration, and OpenFileReadOnly: a file-engine
// data directory recovered as `inspect` recovers it, for export-aegis.
//
// Thread-safety: see migration_target.h.

#include <algorithm>
#include <future>
#include <memory>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <variant>

#include "engine/file_event_reader.h"
#include "engine/file_recovery.h"
#include "engine/file_store.h"
#include "engine/import_target.h"
#include "engine/keys.h"
#include "engine/memory_store.h"
#include "engine/migration_batch.h"
#include "engine/migration_target.h"
#include "engine/payload_cache.h"
#include "engine/queries.h"
#include "engine/state.h"
#include "record/validate.h"

namespace acpstore {

#ifdef ACPSTORE_WITH_POSTGRES
// src/postgres/pg_migration_target.cc: built where libpq is found.
namespace postgres {
Result<engine::MigrationStore> OpenPostgresForMigration(
    const StoreOptions& options);
}  // namespace postgres
#endif

namespace engine {

Status CheckMigrationBatch(const StoreState& st, const record::Mutation& m) {
  // Next seq of the sessions this batch touches, as the batch goes.
  std::unordered_map<std::string, EventSeq> next;
  auto next_of = [&](const std::string& tenant,
                     const std::string& id) -> EventSeq* {
    std::string key = TenantKey(tenant, id);
    auto it = next.find(key);
    if (it != next.end()) return &it->second;
    const SessionEntry* e = st.FindSessionInTenant(tenant, id);
    if (e == nullptr) return nullptr;
    return &next.emplace(std::move(key), e->events->Info().last_seq + 1)
                .first->second;
  };
  for (const record::MutationOp& op : m.ops) {
    if (const auto* s = std::get_if<record::UpsertSessionOp>(&op)) {
      if (st.FindSessionInTenant(s->session.tenant_id, s->session.id) !=
              nullptr ||
          next.count(TenantKey(s->session.tenant_id, s->session.id)) > 0) {
        return Status::Conflict("session " + s->session.id + " (tenant " +
                                s->session.tenant_id +
                                ") already exists in the store");
      }
      next.emplace(TenantKey(s->session.tenant_id, s->session.id), 1);
    } else if (const auto* a = std::get_if<record::AdvanceSeqOp>(&op)) {
      EventSeq* n = next_of(a->tenant_id, a->session_id);
      if (n == nullptr || a->through_seq + 1 < *n) {
        return Status::Internal("import: high-water mark of session " +
                                a->session_id + " does not fit the store");
      }
      *n = a->through_seq + 1;
    } else if (const auto* e = std::get_if<record::AppendEventsOp>(&op)) {
      EventSeq* n = next_of(e->tenant_id, e->session_id);
      if (n == nullptr) {
        return Status::Internal("import: events of a session not in the store");
      }
      for (const Event& ev : e->events) {
        if (ev.seq != *n) {
          return Status::Internal("import: event seq " +
                                  std::to_string(ev.seq) + " of session " +
                                  e->session_id + " does not continue it");
        }
        ++*n;
      }
    } else if (const auto* u = std::get_if<record::UpsertActionOp>(&op)) {
      if (st.FindActionInTenant(u->action.tenant_id, u->action.action_id) !=
          nullptr) {
        return Status::Conflict("action " + u->action.action_id + " (tenant " +
                                u->action.tenant_id +
                                ") already exists in the store");
      }
    }
  }
  return Status::OK();
}

namespace {

Scope AdminOf(const std::string& tenant_id) {
  return Scope{tenant_id, "", Scope::Access::kTenantWrite};
}

// Every record of `st` but its events, as ReadRecords returns them.
StoredRecords CollectRecords(const StoreState& st) {
  StoredRecords out;
  st.ForEachSession([&](const SessionEntry& e) {
    out.sessions.push_back({StoreState::View(e), e.pauses.records()});
  });
  std::vector<const ActionEntry*> actions;
  st.ForEachAction([&](const ActionEntry& a) { actions.push_back(&a); });
  std::sort(actions.begin(), actions.end(), [](const auto* a, const auto* b) {
    return a->insertion < b->insertion;
  });
  for (const ActionEntry* a : actions) out.actions.push_back(a->action);
  std::sort(out.sessions.begin(), out.sessions.end(),
            [](const auto& a, const auto& b) {
              return std::tie(a.session.tenant_id, a.session.id) <
                     std::tie(b.session.tenant_id, b.session.id);
            });
  return out;
}

// `store` and `import` are the same engine object, seen through its two
// interfaces (the opener knows its concrete type: no cast).
class StateMigrationTarget final : public MigrationTarget {
 public:
  StateMigrationTarget(Store* store, ImportTarget* import, std::string where)
      : store_(store), import_(import), where_(std::move(where)) {}

  std::string Describe() const override { return where_; }

  Result<Held> CountHeld() override {
    const StoreStats stats = store_->Stats();
    return Held{stats.sessions, stats.actions};
  }

  Result<std::vector<bool>> Exist(const std::vector<RecordId>& ids) override {
    std::vector<bool> out;
    out.reserve(ids.size());
    for (const RecordId& r : ids) {
      const Status s =
          r.kind == RecordId::Kind::kSession
              ? store_->GetSession(AdminOf(r.tenant_id), r.id).status()
              : store_->GetAction(AdminOf(r.tenant_id), r.id).status();
      if (!s.ok() && s.code() != StatusCode::kNotFound) return s;
      out.push_back(s.ok());
    }
    return out;
  }

  void CommitBatch(record::Mutation batch, StatusCompletion done) override {
    auto m = std::make_shared<record::Mutation>(std::move(batch));
    import_->CommitImport(
        [m](const StoreState& st) -> Result<record::Mutation> {
          ACPSTORE_RETURN_IF_ERROR(CheckMigrationBatch(st, *m));
          return std::move(*m);
        },
        std::move(done));
  }

  // Under the engine's lock, in one go (the records are in memory anyway):
  // a decider that writes nothing is how a tool reads the whole state.
  Result<StoredRecords> ReadRecords() override {
    StoredRecords out;
    std::promise<Status> done;
    import_->CommitImport(
        [&out](const StoreState& st) -> Result<record::Mutation> {
          out = CollectRecords(st);
          return record::Mutation();
        },
        [&done](Status s) { done.set_value(std::move(s)); });
    ACPSTORE_RETURN_IF_ERROR(done.get_future().get());
    return out;
  }

  Result<std::vector<Event>> ReadEvents(std::string_view tenant_id,
                                        std::string_view session_id,
                                        EventSeq after,
                                        uint32_t limit) override {
    ACPSTORE_ASSIGN_OR_RETURN(
        EventPage page,
        store_->ListEvents(AdminOf(std::string(tenant_id)), session_id, after,
                           limit));
    return std::move(page.events);
  }

 private:
  Store* const store_;
  ImportTarget* const import_;
  const std::string where_;
};

// A file-engine data directory read, never written: the state recovered
// from its files as `inspect` recovers it (RecoverState reads only, so a
// torn tail stays where it is; FileStore::Open would cut it), under a
// shared lock that keeps a server out without writing the lock file. An
// export must leave the store exactly as it was, and work on a read-only
// copy of a data directory (both found by a probe).
class ReadOnlyFileTarget final : public MigrationTarget {
 public:
  static Result<std::unique_ptr<MigrationTarget>> Open(
      const std::string& data_dir, io::FileSystem& fs) {
    FileLayout layout(data_dir);
    // The export writes no transcript: none is folded or kept in memory.
    layout.transcripts.max_bytes = 0;
    ACPSTORE_RETURN_IF_ERROR(MustHoldStore(fs, layout));
    // No lock file: none (read without; creating one would write).
    ACPSTORE_ASSIGN_OR_RETURN(std::unique_ptr<io::FileLock> lock,
                              LockDataDirShared(fs, layout));
    ACPSTORE_ASSIGN_OR_RETURN(bool repair_pending,
                              fs.Exists(RepairIntentPath(layout)));
    if (repair_pending) {
      // Its directories are not the ones an open would use; finishing the
      // swap is a write, so it is left to a tool that may write.
      return Status::Unavailable(
                 "data directory " + data_dir +
                 " has a repair that stopped before it swapped its "
                 "directories in (" +
                 RepairIntentPath(layout) +
                 "); `acpstore compact --repair` (or the next start) "
                 "finishes it; export again after that")
          .With("path", RepairIntentPath(layout));
    }
    std::unique_ptr<ReadOnlyFileTarget> target(
        new ReadOnlyFileTarget(fs, std::move(layout), std::move(lock)));
    ACPSTORE_ASSIGN_OR_RETURN(
        target->recovered_,
        RecoverState(fs, target->layout_, &target->reader_));
    return std::unique_ptr<MigrationTarget>(std::move(target));
  }

  std::string Describe() const override {
    return "the data directory " + layout_.data_dir + " (read-only)";
  }

  Result<Held> CountHeld() override {
    return Held{state().session_count(), state().action_count()};
  }

  Result<std::vector<bool>> Exist(const std::vector<RecordId>& ids) override {
    std::vector<bool> out;
    out.reserve(ids.size());
    for (const RecordId& r : ids) {
      out.push_back(
          r.kind == RecordId::Kind::kSession
              ? QueryGetSession(state(), AdminOf(r.tenant_id), r.id).ok()
              : QueryGetAction(state(), AdminOf(r.tenant_id), r.id).ok());
    }
    return out;
  }

  // A tool that writes opens the store with OpenForMigration.
  void CommitBatch(record::Mutation, StatusCompletion done) override {
    if (done) done(Status::Internal(Describe() + " is open for reading only"));
  }

  Result<StoredRecords> ReadRecords() override {
    return CollectRecords(state());
  }

  Result<std::vector<Event>> ReadEvents(std::string_view tenant_id,
                                        std::string_view session_id,
                                        EventSeq after,
                                        uint32_t limit) override {
    ACPSTORE_RETURN_IF_ERROR(record::ValidateListLimit(limit));
    ACPSTORE_ASSIGN_OR_RETURN(
        EventPage page,
        QueryListEvents(state(), AdminOf(std::string(tenant_id)), session_id,
                        after, limit, kNoByteCap));
    return std::move(page.events);
  }

 private:
  // Events are read through a small cache: an export reads each once.
  static constexpr size_t kCacheBytes = 16 << 20;

  ReadOnlyFileTarget(io::FileSystem& fs, FileLayout layout,
                     std::unique_ptr<io::FileLock> lock)
      : layout_(std::move(layout)),
        lock_(std::move(lock)),
        cache_(kCacheBytes),
        reader_(fs, layout_.journal_dir, &cache_) {}

  const StoreState& state() const { return *recovered_.state; }

  // Declared in the order they depend on one another: the recovered
  // state reads through reader_, which caches in cache_.
  const FileLayout layout_;
  const std::unique_ptr<io::FileLock> lock_;  // may be null: no LOCK file
  PayloadCache cache_;
  FileEventReader reader_;
  RecoveredState recovered_;
};

template <typename E>
MigrationStore Pair(std::unique_ptr<E> engine, std::string where) {
  E* raw = engine.get();
  auto target = std::make_unique<StateMigrationTarget>(raw, raw, std::move(where));
  return MigrationStore(std::move(engine), std::move(target));
}

}  // namespace

Result<MigrationStore> OpenForMigration(const StoreOptions& options) {
  switch (options.engine) {
    case Engine::kMemory:
      return Pair(std::make_unique<MemoryStore>(options), "the memory store");
    case Engine::kFile: {
      ACPSTORE_ASSIGN_OR_RETURN(std::unique_ptr<FileStore> store,
                                FileStore::Open(options));
      return Pair(std::move(store), "the data directory " + options.data_dir);
    }
    case Engine::kPostgres:
#ifdef ACPSTORE_WITH_POSTGRES
      return postgres::OpenPostgresForMigration(options);
#else
      return Status::Unavailable(
          "this acpstore was built without libpq: no postgres engine");
#endif
  }
  return Status::InvalidArgument("unknown engine");
}

Result<std::unique_ptr<MigrationTarget>> OpenFileReadOnly(
    const std::string& data_dir, io::FileSystem* fs) {
  return ReadOnlyFileTarget::Open(data_dir,
                                  fs != nullptr ? *fs : io::PosixFileSystem());
}

}  // namespace engine
}  // namespace acpstore
