// Mapping from Aegis records (docs/aegis_format.md) to acpstore's: Map*
// turns one RawRecord of the file into a valid acpstore record, repairing
// what breaks acpstore's own rules but not Aegis's (SPEC §8). writer.h goes
// the other way.
//
// Nothing real Aegis could have written is refused here. A record is
// refused (kInvalidArgument, message starting with the field, with a
// "field" detail, or naming the whole record) only when it cannot be made
// valid: no usable id, an unknown status or type, an unparseable required
// date. Everything else is repaired and each repair listed (Repair), with
// the field it touched, so the importer can report it with the record's
// JSON path. An event whose payload or other fields cannot be stored
// becomes a placeholder with the same seq (MappedEvent::placeholder), so a
// stream never gets a hole.
//
// Rules between records (the session exists, ids are unique, pause scopes,
// idempotency keys, status reconciliation) are import_check.h's.
//
// Thread-safety: pure functions (ids it generates are random UUIDs).

#ifndef ACPSTORE_AEGIS_MAPPING_H_
#define ACPSTORE_AEGIS_MAPPING_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "acpstore/options.h"
#include "acpstore/records.h"
#include "acpstore/result.h"
#include "aegis/reader.h"

namespace acpstore::aegis {

// What a repair did, for the per-kind counts of the report.
enum class RepairKind : uint8_t {
  kLoneSurrogate,       // a lone UTF-16 surrogate escape became U+FFFD
  kPayloadOverLimit,    // over the live payload limits; imported as it is
  kPlaceholder,         // an event kept as a placeholder (same seq)
  kHoleFilled,          // a seq missing from the file, filled
  kLastEventSeqNotKept,  // lastEventSeq above the last event, not kept
  kRescoped,            // moved into its session's scope
  kMetadataKeyDropped,  // a key acpstore refuses, dropped from its map
  kMetadataValueCut,    // a metadata string cut to the value limit
  kTextCut,             // a text over its limit, cut
  kFieldDropped,        // an optional field that cannot be made valid
  kDefaulted,           // a required field missing, filled in
  kDateReplaced,        // a required date present but unparseable, replaced
  kTimeClamped,         // a time before 1970 or after 9999, clamped
  kValueReplaced,       // another required field present but invalid, replaced
  kIdGenerated,         // a missing id acpstore needs, generated
  kWarningsTrimmed,     // validationWarnings cut to the last 50
  kPermissionMode,      // permissionMode kept in backendMetadata
  kInterventionDone,    // intervening with interventionCompletedAt: paused
  kIdempotencyCleared,  // a repeated idempotencyKey cleared on the older
  kPauseIdRenamed,      // a pauseId repeated in its session, renamed
  kSecondActivePause,   // an older active pause of the session, resumed
  kStatusReconciled,    // session status from its latest pause record
};
inline constexpr size_t kRepairKindCount = 22;
static_assert(static_cast<size_t>(RepairKind::kStatusReconciled) + 1 ==
              kRepairKindCount);
// "lone surrogate escape", "payload over the live limit", ...
std::string_view RepairKindName(RepairKind kind);

struct Repair {
  RepairKind kind;
  std::string field;  // "payload", "metadata.apiKey"; "" for the record
  std::string what;   // "1,288,410 bytes, over --max-payload-bytes; imported"
};
using Repairs = std::vector<Repair>;

struct MapOptions {
  Limits limits;  // acpstore's live limits (SPEC §2)
  // Import is not bound by the live payload limits: a payload up to these
  // is stored as it is (and reported); beyond them it becomes a
  // placeholder. The reader's record cap follows max_stored_payload_bytes.
  uint32_t max_stored_payload_bytes = 16 << 20;
  uint32_t max_stored_json_depth = 1000;
};

struct MappedSession {
  Session session;
  // The stream's high-water mark, when the file states one (acpstore's own
  // exports before version 1 of this format wrote lastEventSeq).
  std::optional<EventSeq> last_event_seq;
};

// Events, actions and pauses name their scope; the importer checks it
// against their session's and re-scopes when they differ.
struct MappedEvent {
  Event event;
  std::optional<std::string> event_id;  // as the file states it
  // The payload (and maybe other fields) could not be stored: `event` has
  // the seq and what could be kept, and a payload saying why.
  bool placeholder = false;
  bool times_known = true;  // false: occurredAt/ingestedAt to be filled
};

struct MappedAction {
  Action action;
};

struct MappedPause {
  Pause pause;
};

// Every map also lists the record's members it does not know (`unknown`,
// which may be null when the caller has counted them already).
Result<MappedSession> MapSession(const RawRecord& record,
                                 const MapOptions& options, Repairs* repairs,
                                 std::vector<std::string>* unknown);
Result<MappedEvent> MapEvent(const RawRecord& record, const MapOptions& options,
                             Repairs* repairs,
                             std::vector<std::string>* unknown);
Result<MappedAction> MapAction(const RawRecord& record,
                               const MapOptions& options, Repairs* repairs,
                               std::vector<std::string>* unknown);
Result<MappedPause> MapPause(const RawRecord& record, const MapOptions& options,
                             Repairs* repairs,
                             std::vector<std::string>* unknown);

// The payload of a placeholder event: canonical JSON naming why the
// original could not be kept. The transcript fold recognises it and this
// type (transcript::kImportPlaceholderPayload and kImportPlaceholderType,
// kept equal; import_golden_test.cc checks) and marks the transcript
// incomplete there (SPEC §13).
std::string PlaceholderPayload(std::string_view reason);
// The type of a placeholder whose own type could not be kept.
inline constexpr std::string_view kPlaceholderEventType =
    "acpstore.import.placeholder";

}  // namespace acpstore::aegis

#endif  // ACPSTORE_AEGIS_MAPPING_H_
