// The wire form of records (SPEC §2, §5): camelCase JSON, timestamps as
// ISO-8601 UTC with milliseconds, optional fields omitted when absent
// (never null), metadata maps and payloads inserted as their stored
// canonical bytes without re-parsing.
//
// Thread-safety: pure functions.

#ifndef ACPSTORE_SERVER_JSON_CODEC_H_
#define ACPSTORE_SERVER_JSON_CODEC_H_

#include <string>

#include "acpstore/records.h"
#include "server/json_writer.h"

namespace acpstore::server {

void WriteSession(const Session& session, JsonWriter* w);
void WriteEvent(const Event& event, JsonWriter* w);
// What the store assigned to an appended event, for `Prefer: return=minimal`
// (SPEC §5.2): {"eventSeq", "eventId", "ingestedAt"}.
void WriteEventAssigned(const Event& e, JsonWriter* w);
void WriteAction(const Action& action, JsonWriter* w);
void WritePause(const Pause& pause, JsonWriter* w);

// One record as a JSON document. EventJson is always one line (SSE data).
std::string SessionJson(const Session& session);
std::string EventJson(const Event& event);
std::string ActionJson(const Action& action);
// {"session": ..., "pause": ...}
std::string PauseResultJson(const Session& session, const Pause& pause);

}  // namespace acpstore::server

#endif  // ACPSTORE_SERVER_JSON_CODEC_H_
