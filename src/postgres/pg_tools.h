// The postgres engine's offline checks, for `acpstore inspect` and `acpstore
// verify --postgres-url` (docs/operations.md): what a schema holds (rows
// per table, the schema version) and whether each session row's counters
// agree with its event rows. Read-only; servers may keep running (each
// query is one snapshot, so a busy schema may show a session mid-append
// as it was at one instant, never half-written).
//
// The counters a session row keeps (pg_write.cc) and what they must agree
// with: `retained` = its event rows, `payload_bytes` = their payload
// bytes, and with rows, `first_seq` = the oldest, `last_seq` = the newest
// and the seqs contiguous; with none, `first_seq` = `last_seq` + 1 (the
// stream continues after its high-water mark). A counter that disagrees
// makes appends collide or leave gaps, and stats and retention count
// wrong.
//
// Thread-safety: pure functions over their own connection.

#ifndef ACPSTORE_POSTGRES_PG_TOOLS_H_
#define ACPSTORE_POSTGRES_PG_TOOLS_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "acpstore/result.h"

namespace acpstore::postgres {

struct PgCounterMismatch {
  std::string tenant_id;
  std::string session_id;
  std::vector<std::string> problems;  // "last_seq 9, but the newest event is 7"
};

struct PgCheckReport {
  std::string schema;
  int schema_version = 0;        // max(version) of schema_version
  int known_schema_version = 0;  // what this build knows
  // (table, rows), in schema order: sessions, events, actions, pauses,
  // keys, schema_version.
  std::vector<std::pair<std::string, uint64_t>> tables;
  uint64_t sessions_by_status[8] = {};  // indexed by SessionStatus
  uint64_t event_payload_bytes = 0;     // of the event rows
  std::vector<PgCounterMismatch> mismatches;  // at most kMaxListed
  uint64_t mismatched_sessions = 0;           // all of them
  // With decode_records: rows whose `record` does not decode or disagrees
  // with a column written from it ("actions (acme, act-1): action status
  // column 4, but its record says 0"), at most kMaxListed. Every such
  // column is compared: sessions' owner, status, updated_at and ended_at;
  // actions' session, owner, type, status, created_at, available_at,
  // leased_until, finished_at and idempotency_key; pauses' status; and
  // each row's key.
  // Also with decode_records: every event row's payload is checked to be
  // valid JSON (as the engine checks it on read, pg_rows.h); one that is
  // not is a damaged row, "events (<tenant>, <session>, <seq>): its
  // payload is not valid JSON" (never the payload itself).
  std::vector<std::string> damaged_rows;
  uint64_t damaged = 0;
  uint64_t rows_decoded = 0;
  uint64_t event_payloads_checked = 0;

  static constexpr size_t kMaxListed = 1000;
  bool ok() const { return mismatched_sessions == 0 && damaged == 0; }
};

// kNotFound when `schema` holds no acpstore schema; kUnavailable when the
// database cannot be reached. A schema newer than this build is refused,
// as a server refuses it (kConflict, postgres::NewerSchema), and so is a
// record of a newer format version (kCorruption with IsNewerFormat, the
// row named): SPEC §3, data of a newer release is never misread nor
// reported as damage. With decode_records, every session, action and
// pause row is decoded too (verify).
Result<PgCheckReport> CheckPostgres(const std::string& url,
                                    const std::string& schema,
                                    bool decode_records);

// OK when `schema` holds an acpstore schema (of any version); kNotFound as
// CheckPostgres says it otherwise, for a tool that must not create one
// where a typo named none (export-aegis).
Status MustHoldSchema(const std::string& url, const std::string& schema);

// As MustHoldSchema, and the schema must be at KnownSchemaVersion(): for a
// tool that opens the store but must not migrate it (export-aegis, keys
// list and revoke): opening would migrate an older schema, changing a
// database that servers of the older release may still be running on.
// kConflict naming both versions and the `acpstore migrate` command (the
// URL left out: it may hold a password), NewerSchema for a newer one.
// `tool` names the command in the message.
Status MustHoldCurrentSchema(const std::string& url, const std::string& schema,
                             const std::string& tool);

}  // namespace acpstore::postgres

#endif  // ACPSTORE_POSTGRES_PG_TOOLS_H_
