// StoreOptions configures a Store. Every field states its default; the
// defaults are the ones SPEC §3, §4 and §7 give for `acpstore serve`.

#ifndef ACPSTORE_OPTIONS_H_
#define ACPSTORE_OPTIONS_H_

#include <cstdint>
#include <functional>
#include <string>

#include "acpstore/clock.h"
#include "acpstore/status.h"

namespace acpstore {

enum class Engine : uint8_t {
  kMemory,    // everything in RAM; lost at exit. Tests, ephemeral use.
  kFile,      // journal + snapshots in data_dir. The default.
  kPostgres,  // tables in PostgreSQL; several servers may share one.
};

// When an acknowledged write is durable (SPEC §3).
enum class SyncMode : uint8_t {
  // Acknowledged after fdatasync. Concurrent writers share one fdatasync
  // (group commit) with no artificial delay. Loses nothing on power loss.
  kAlways,
  // Acknowledged once written to the OS; a background fdatasync runs every
  // sync_interval_ms. Loses at most that window on power loss.
  kInterval,
  // Acknowledged once written to the OS. Survives a process crash only.
  kNone,
};

// Limits on what a caller may store (SPEC §2.5-2.7). A request beyond any
// of them is refused with kInvalidArgument or kPayloadTooLarge naming the
// field and the limit.
struct Limits {
  uint32_t max_payload_bytes = 1 << 20;  // canonical payload size: 1 MiB
  uint32_t max_json_depth = 64;          // nesting depth of a payload
  uint32_t max_batch_events = 1000;      // events in one AppendRequest
  uint32_t max_id_bytes = 256;           // ids, clientEventId, run ids
  uint32_t max_event_type_bytes = 128;
  uint32_t max_metadata_keys = 20;
  uint32_t max_metadata_key_bytes = 128;
  uint32_t max_metadata_value_bytes = 1024;
  // Pause texts count UTF-16 code units (JavaScript's String.length), as
  // Aegis does: 700 CJK characters are 700 units but 2,100 bytes.
  uint32_t max_reason_utf16 = 2048;      // pause reason
  uint32_t max_guidance_utf16 = 8192;    // intervention guidance
  uint32_t max_validation_warnings = 50;
  uint32_t max_warning_bytes = 1024;
};

struct RetentionOptions {
  // Oldest events beyond this many per session are dropped and first_seq
  // advances. 0 = unlimited. Default 10,000.
  uint64_t max_events_per_session = 10000;
  // Events of a closed/failed session are dropped this long after it
  // ended. 0 = keep. Default 24 h.
  int64_t terminal_event_retention_ms = 24LL * 3600 * 1000;
  // A terminal session, with its actions and pauses, is deleted this long
  // after it ended. 0 = keep. Default 30 d.
  int64_t session_retention_ms = 30LL * 24 * 3600 * 1000;
  // Terminal actions are deleted this long after they finished. 0 = keep.
  // Default 7 d.
  int64_t action_retention_ms = 7LL * 24 * 3600 * 1000;
  // When the engine's bytes on disk exceed this, the oldest events are
  // dropped, those of terminal sessions first. 0 = unlimited (default).
  uint64_t max_disk_bytes = 0;
};

struct LeaseOptions {
  // A lease that expires is requeued while attempt_count < max_attempts,
  // else the action fails with errorMetadata.reason = "lease_expired".
  // Default 3.
  uint32_t max_attempts = 3;
  // Requeue delay after the first expiry; doubles with each attempt.
  // Default 1 s.
  int64_t initial_backoff_ms = 1000;
  // Cap on the doubled delay. Default 5 min.
  int64_t max_backoff_ms = int64_t{5} * 60 * 1000;
};

struct StoreOptions {
  Engine engine = Engine::kFile;

  // kFile: the data directory, created 0700 if missing. Default
  // "./acpstore-data".
  std::string data_dir = "./acpstore-data";
  // kPostgres: a libpq connection string or URI. No default.
  std::string postgres_url;
  // kPostgres: the schema acpstore owns in that database, created and
  // migrated at open. Default "acpstore".
  std::string postgres_schema = "acpstore";
  // kPostgres: connections in the pool (plus one for notifications).
  // Default 8.
  uint32_t postgres_pool = 8;
  // kPostgres: a statement waits at most this long for a row lock another
  // transaction holds (PostgreSQL's lock_timeout on every pooled
  // connection), then its request fails with kUnavailable (503 with
  // Retry-After) and nothing of it is written. Bounds how long a session
  // locked by a stalled transaction (another server's that froze) holds a
  // write, and the commit thread running it (decision 0039). 0 = wait as
  // long as PostgreSQL does (for ever). Default 5 s.
  int64_t postgres_lock_timeout_ms = 5000;
  // kPostgres: PostgreSQL ends a connection of this store that stays this
  // long idle inside a transaction (idle_in_transaction_session_timeout),
  // rolling its transaction back and releasing its locks: what ends a
  // frozen server's hold on the rows it locked. Far above any transaction
  // the store holds open (they never wait for a client; milliseconds,
  // seconds for the largest batches). 0 = never. Default 60 s.
  int64_t postgres_idle_in_transaction_timeout_ms = 60000;

  // Default kAlways.
  SyncMode sync = SyncMode::kAlways;
  // kInterval only: the background fdatasync period. Default 100 ms.
  int64_t sync_interval_ms = 100;

  Limits limits;
  RetentionOptions retention;
  LeaseOptions leases;

  // Bytes for the payload cache and write buffers. Under pressure caches
  // shrink first; only then are writes refused with kUnavailable.
  // kFile: transcripts held in memory get a quarter of it on top (SPEC §4
  // and §13, decision 0018); past that the least recently used move to
  // disk and are read back when needed. kPostgres: ignored. Default
  // 256 MiB.
  uint64_t memory_budget_bytes = 256ULL << 20;

  // kFile: a journal segment is closed and a new one started past this
  // size. Default 64 MiB.
  uint64_t segment_bytes = 64ULL << 20;
  // kFile: a snapshot is written in the background once this many journal
  // bytes were appended since the last one. Default 256 MiB.
  uint64_t snapshot_every_bytes = 256ULL << 20;

  // A page of ListEvents stops before its events' payloads pass this many
  // bytes, and a page of ReadTranscript before its entries' text does;
  // each holds at least one event or entry, whatever its size. The reader
  // pages on from the last one returned, as after any page. Bounds what
  // one read holds in memory (up to 1,000 events of up to
  // limits.max_payload_bytes each otherwise: ~1 GiB). Default 8 MiB.
  uint64_t max_page_bytes = 8ULL << 20;

  // How often the background thread sweeps expired leases and applies
  // retention. 0 = never in the background; callers run
  // Store::RunMaintenance themselves (tests do). Default 1,000 ms.
  int64_t maintenance_interval_ms = 1000;

  // Transcripts (SPEC §13): each session's conversation, folded from its
  // events as they are appended and kept when retention drops them. A
  // session's transcript drops its oldest entries past this many bytes
  // (and says it is no longer complete). 0 turns transcripts off: nothing
  // is folded or stored. Default 16 MiB; at most 48 MiB.
  uint64_t transcript_max_bytes = 16ULL << 20;
  // A tool entry's input and its result are each cut to this many bytes
  // (and marked as cut). Default 16 KiB.
  uint64_t transcript_max_tool_bytes = 16ULL << 10;
  // kPostgres: appends do not fold; a session's stored transcript is a
  // checkpoint, brought up to date in the background (its own
  // transaction, after the append's COMMIT) once this many events of
  // folded types follow it, and by the append itself once 4 times as many
  // do (the background fell behind); reads fold the rest on the fly.
  // 1 checkpoints after every such append. Default 256.
  uint64_t postgres_transcript_checkpoint_events = 256;

  // Time source. Borrowed: must outlive the store. nullptr (default) means
  // SystemClock().
  Clock* clock = nullptr;

  // kPostgres: called with the kDataLoss of a damaged stored row (its
  // record does not decode) that a lease or maintenance passed over to
  // serve every other row (SPEC §10 "Damage"); its message names the table
  // and the row's key, never a payload or metadata value. Once per row per
  // store (for the first 1,000 rows met; past that, every time), from the
  // thread that met it; must be cheap and must not call the store. The
  // server logs it. Every such meeting also counts in
  // StoreStats::data_loss_reads. Empty (default): not reported.
  std::function<void(const Status&)> on_damage;

  // kFile: called while Open recovers, once for each damage recovery
  // worked around rather than refused (docs/recovery.md): a torn journal
  // tail cut off (kDataLoss naming the segment file, the offset it was
  // cut at and the bytes cut; details "path", "offset", "bytes") and a
  // damaged snapshot skipped and set aside (kCorruption naming the file,
  // why it failed and where it is kept; details "path", "kept_as"). From
  // the opening thread, before Open returns; must not call the store. The
  // server logs each as a warning. Stats().torn_tail_truncations counts
  // the torn tail either way. Empty (default): not reported.
  std::function<void(const Status&)> on_recovery_damage;
};

}  // namespace acpstore

#endif  // ACPSTORE_OPTIONS_H_
