// Renders acpstore records in the Aegis state-file format
// (docs/aegis_format.md), one compact JSON object per record, for
// `acpstore export-aegis`: only the fields Aegis knows, named and encoded
// as Aegis writes them (actionType, session times in epoch ms). What
// Aegis has no field for is left out: an action's updatedAt and lease
// token, an event's clientEventId, a pause's resumeId and resumeMetadata,
// a stream's high-water mark (exporter.h warns about the last). MapX reads
// the rest back to the same record.
//
// Thread-safety: pure functions.

#ifndef ACPSTORE_AEGIS_WRITER_H_
#define ACPSTORE_AEGIS_WRITER_H_

#include <string>

#include "acpstore/records.h"

namespace acpstore::aegis {

// Session times as epoch milliseconds; backendMetadata.permissionMode is
// written as the session's permissionMode.
void WriteSession(const Session& session, std::string* out);
// Every other time as ISO-8601 UTC with milliseconds.
void WriteEvent(const Event& event, std::string* out);
void WriteAction(const Action& action, std::string* out);
void WritePause(const Pause& pause, std::string* out);

}  // namespace acpstore::aegis

#endif  // ACPSTORE_AEGIS_WRITER_H_
