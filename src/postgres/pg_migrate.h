// The schema's migrations (src/postgres/migrations/NNNN_name.sql, embedded
// at build time): Migrate brings a database's acpstore schema to the newest
// version this build knows, under an advisory lock so that servers starting
// together apply each migration once. A schema newer than this build is
// refused, since an older server must not write tables it does not
// understand. `acpstore serve --engine postgres` migrates at start;
// `acpstore migrate --postgres-url URL` does the same offline.
//
// Thread-safety: pure functions over the connection they are given.

#ifndef ACPSTORE_POSTGRES_PG_MIGRATE_H_
#define ACPSTORE_POSTGRES_PG_MIGRATE_H_

#include <string>

#include "acpstore/result.h"
#include "postgres/pg_conn.h"

namespace acpstore::postgres {

struct MigrationReport {
  int from_version = 0;  // 0: the schema did not exist
  int to_version = 0;
};

// The newest schema version this build knows.
int KnownSchemaVersion();

// kConflict naming `schema`'s `version` and the newest this build knows:
// what everything that opens a schema newer than this build answers
// (SPEC §3: refused, never misread), Migrate and the offline tools alike.
Status NewerSchema(const std::string& schema, int version);

// Creates `schema` if missing and applies every migration it lacks, in one
// transaction. kConflict when the schema is newer than
// KnownSchemaVersion(); kUnavailable when the database is unreachable.
Result<MigrationReport> Migrate(PgConn& conn, const std::string& schema);

}  // namespace acpstore::postgres

#endif  // ACPSTORE_POSTGRES_PG_MIGRATE_H_
