// Renders acpstore records in the Aegis state-file format
// (docs/aegis_format.md), one compact JSON object per record, for
// `acpstore export-aegis`. The inverse of mapping.h: what WriteX renders,
// MapX reads back to the same record.
//
// Thread-safety: pure functions.

#ifndef ACPSTORE_AEGIS_WRITER_H_
#define ACPSTORE_AEGIS_WRITER_H_

#include <string>

#include "acpstore/records.h"

namespace acpstore::aegis {

// Session times as epoch milliseconds; `last_event_seq` is the stream's
// high-water mark (written as lastEventSeq).
void WriteSession(const Session& session, EventSeq last_event_seq,
                  std::string* out);
// Every other time as ISO-8601 UTC with milliseconds.
void WriteEvent(const Event& event, std::string* out);
void WriteAction(const Action& action, std::string* out);
void WritePause(const Pause& pause, std::string* out);

}  // namespace acpstore::aegis

#endif  // ACPSTORE_AEGIS_WRITER_H_
