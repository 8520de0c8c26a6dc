// Mapping from Aegis records (docs/aegis_format.md) to acpstore's: Map*
// turns one RawRecord of the file into a validated acpstore record.
// (writer.h goes the other way.)
//
// Map* applies every rule of SPEC §2 that a single record can break (ids,
// enums, times, limits, canonical payloads and metadata maps, through
// record/validate.h) and fills in what the format lets a record omit. A
// failure is kInvalidArgument whose message starts with the field
// ("createdAt: must be ...") and carries a "field" detail, or names the
// whole record ("not an object"); the importer prefixes the record's path.
// Rules between records (the session exists, ids are unique, seqs ascend)
// are the importer's.
//
// Thread-safety: pure functions.

#ifndef ACPSTORE_AEGIS_MAPPING_H_
#define ACPSTORE_AEGIS_MAPPING_H_

#include <optional>
#include <string>

#include "acpstore/options.h"
#include "acpstore/records.h"
#include "acpstore/result.h"
#include "aegis/reader.h"

namespace acpstore::aegis {

struct MappedSession {
  Session session;
  // The stream's high-water mark as the file states it (lastEventSeq).
  std::optional<EventSeq> last_event_seq;
};

// Events, actions and pauses may omit their scope: the importer takes it
// from their session, and refuses a record whose scope contradicts it.
struct MappedEvent {
  Event event;  // tenant_id / owner_key_id empty when the record omits them
  std::optional<std::string> event_id;  // as the file states it
};

struct MappedAction {
  Action action;  // tenant_id / owner_key_id empty when omitted
};

struct MappedPause {
  Pause pause;  // tenant_id / owner_key_id empty when omitted
};

Result<MappedSession> MapSession(const RawRecord& record, const Limits& limits);
Result<MappedEvent> MapEvent(const RawRecord& record, const Limits& limits);
Result<MappedAction> MapAction(const RawRecord& record, const Limits& limits);
Result<MappedPause> MapPause(const RawRecord& record, const Limits& limits);

}  // namespace acpstore::aegis

#endif  // ACPSTORE_AEGIS_MAPPING_H_
