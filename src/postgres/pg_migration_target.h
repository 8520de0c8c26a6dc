// PgMigrationTarget: the postgres engine's engine::MigrationTarget
// (engine/migration_target.h, decision 0010), for `acpstore import-aegis`
// and `export-aegis --postgres-url`. OpenForMigration pairs it with a
// PgStore of the same schema (which migrates the schema when it opens).
//
// A batch is one transaction on the target's own connection, in the order
// the tool commits them (never on the store's commit threads, which would
// reorder them): lock the sessions it touches FOR UPDATE and look up the
// actions it creates, into a WorkingSet; run the shared
// engine::CheckMigrationBatch over it; write the Mutation (pg_write.h, so
// appends move the session row's counters and NOTIFY running servers);
// COMMIT. A creation another writer raced (unique violation), a
// serialization failure or a deadlock retries the batch, whose check then
// names the id. So a second import into the same schema collides exactly
// as on the file engine.
//
// Export reads sessions, pauses and actions in one REPEATABLE READ
// snapshot, then pages events per session.
//
// Thread-safety: one caller at a time (CommitBatch completes inline).

#ifndef ACPSTORE_POSTGRES_PG_MIGRATION_TARGET_H_
#define ACPSTORE_POSTGRES_PG_MIGRATION_TARGET_H_

#include <string>
#include <string_view>
#include <vector>

#include "acpstore/options.h"
#include "transcript/transcript.h"
#include "engine/migration_target.h"
#include "postgres/pg_pool.h"

namespace acpstore::postgres {

class PgMigrationTarget final : public engine::MigrationTarget {
 public:
  // The schema must exist (PgStore::Open migrates it). `limits`: the
  // transcript fold of the imported events (pg_transcripts.h; max_bytes 0
  // builds none).
  PgMigrationTarget(const std::string& url, const std::string& schema,
                    const transcript::Limits& limits);

  std::string Describe() const override;
  Result<Held> CountHeld() override;
  Result<std::vector<bool>> Exist(
      const std::vector<engine::RecordId>& ids) override;
  void CommitBatch(record::Mutation batch, StatusCompletion done) override;
  Result<engine::StoredRecords> ReadRecords() override;
  Result<std::vector<Event>> ReadEvents(std::string_view tenant_id,
                                        std::string_view session_id,
                                        EventSeq after,
                                        uint32_t limit) override;

 private:
  // One attempt of a batch's transaction body (BEGIN/COMMIT around it).
  Status WriteBatch(PgConn& conn, const record::Mutation& batch);

  const std::string schema_;
  const std::string channel_;
  const transcript::Limits limits_;
  PgPool pool_;
};

// OpenForMigration for Engine::kPostgres (engine/migration_state.cc).
Result<engine::MigrationStore> OpenPostgresForMigration(
    const StoreOptions& options);

}  // namespace acpstore::postgres

#endif  // ACPSTORE_POSTGRES_PG_MIGRATION_TARGET_H_
