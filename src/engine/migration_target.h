// MigrationTarget: the narrow interface a migration tool (`acpstore
// import-aegis` / `export-aegis`, src/aegis/) uses to write records it has
// decided itself and to read a whole store back, on every engine
// (decision 0010). It names no engine internals: records, Mutations of
// those records (record/mutation.h) and Status, nothing of StoreState.
//
// A tool gets one from OpenForMigration, which opens the engine and hands
// back the Store and its MigrationTarget together: the opener knows the
// concrete engine, so nobody has to dynamic_cast a Store. The memory and
// file engines implement it over their StoreState (migration_state.cc),
// the postgres engine in SQL (src/postgres/pg_migration_target.cc).
//
// Import: CommitBatch writes one batch of records, keeping the ids, seqs
// and timestamps the tool decided (the public Store API would assign them
// anew), atomically and durably like any mutation of that engine. The
// engine re-checks, atomically with the write, what a migration promises
// (CheckMigrationBatch, migration_batch.h): a session or action the batch creates does
// not exist yet (kConflict naming it), and appended events continue their
// stream with no gap (kInternal). Nothing here validates a record: the tool
// must pass each one through record/validate.h first. Batches are applied
// in the order CommitBatch was called.
//
// Export: ReadRecords copies every session (with its stream summary),
// pause record and action; ReadEvents pages one session's events.
//
// Thread-safety: CommitBatch may be called from one thread while earlier
// batches are in flight; `done` may run inline or on an engine thread and
// runs once. The other methods: one caller at a time. Lifetime: the
// target must not outlive the Store it was opened with (MigrationStore
// destroys it first).

#ifndef ACPSTORE_ENGINE_MIGRATION_TARGET_H_
#define ACPSTORE_ENGINE_MIGRATION_TARGET_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "acpstore/options.h"
#include "acpstore/records.h"
#include "acpstore/result.h"
#include "acpstore/store.h"
#include "io/file_system.h"
#include "record/mutation.h"

namespace acpstore::engine {

// What ReadRecords returns: the whole store but its events.
struct StoredRecords {
  struct SessionItem {
    Session session;           // with its stream summary (session.events)
    std::vector<Pause> pauses;  // in creation order
  };
  std::vector<SessionItem> sessions;  // by (tenant_id, id), bytewise
  std::vector<Action> actions;        // in insertion (lease tie-break) order,
                                      // lease tokens included
};

// A session or action id, for the collision checks of an import.
struct RecordId {
  enum class Kind { kSession, kAction };
  Kind kind = Kind::kSession;
  std::string tenant_id;
  std::string id;
};

class MigrationTarget {
 public:
  virtual ~MigrationTarget() = default;

  // Where the records live, for messages: "the data directory /srv/x",
  // "the postgres schema \"acpstore\"", "the memory store".
  virtual std::string Describe() const = 0;

  // ---------------------------------------------------------------- import

  struct Held {
    uint64_t sessions = 0;
    uint64_t actions = 0;
  };
  // How many sessions and actions the store holds now.
  virtual Result<Held> CountHeld() = 0;
  // For each of `ids`, whether the store holds it (same order).
  virtual Result<std::vector<bool>> Exist(const std::vector<RecordId>& ids) = 0;
  // Writes `batch` as one atomic, durable mutation (see above); `done`
  // gets the refusal or the engine's failure, OK once it is durable.
  virtual void CommitBatch(record::Mutation batch, StatusCompletion done) = 0;

  // ---------------------------------------------------------------- export

  virtual Result<StoredRecords> ReadRecords() = 0;
  // Retained events of one session with seq > after, ascending, at most
  // `limit` (1..1000); an empty page at the end.
  virtual Result<std::vector<Event>> ReadEvents(std::string_view tenant_id,
                                                std::string_view session_id,
                                                EventSeq after,
                                                uint32_t limit) = 0;
};

// A store opened for a migration tool: the Store (for reads, and closing)
// and its MigrationTarget. The target is destroyed before the store.
class MigrationStore {
 public:
  MigrationStore() = default;
  MigrationStore(std::unique_ptr<Store> store,
                 std::unique_ptr<MigrationTarget> target)
      : store_(std::move(store)), target_(std::move(target)) {}
  MigrationStore(MigrationStore&&) = default;
  MigrationStore& operator=(MigrationStore&& other) noexcept {
    target_ = std::move(other.target_);
    store_ = std::move(other.store_);
    return *this;
  }
  ~MigrationStore() { target_.reset(); }

  Store* get() const { return store_.get(); }
  Store* operator->() const { return store_.get(); }
  Store& operator*() const { return *store_; }
  MigrationTarget* target() const { return target_.get(); }
  explicit operator bool() const { return store_ != nullptr; }
  // Closes the store (a file engine fsyncs and snapshots).
  void reset() {
    target_.reset();
    store_.reset();
  }

 private:
  std::unique_ptr<Store> store_;              // declared first:
  std::unique_ptr<MigrationTarget> target_;   // destroyed first
};

// Opens the engine options.engine names, as OpenStore does (same
// failures), with its MigrationTarget.
Result<MigrationStore> OpenForMigration(const StoreOptions& options);

// A file-engine data directory opened only to be read, for export-aegis:
// nothing in it is created or written (a torn journal tail stays, the lock
// is taken shared and read-only, no LOCK file is created where there is
// none), so it works on a read-only copy. Refused as an open refuses: a
// directory with no store (MustHoldStore), one a server holds
// (kUnavailable), a state that does not recover; and, unlike an open, one
// with an interrupted repair to finish (kUnavailable: finishing it writes).
// CommitBatch fails (kInternal). `fs` null: the POSIX file system.
Result<std::unique_ptr<MigrationTarget>> OpenFileReadOnly(
    const std::string& data_dir, io::FileSystem* fs = nullptr);

}  // namespace acpstore::engine

#endif  // ACPSTORE_ENGINE_MIGRATION_TARGET_H_
