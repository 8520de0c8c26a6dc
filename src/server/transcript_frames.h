// A session's transcript entries as JSON (GET .../transcript) and as the
// frames of its live stream (GET .../transcript/stream, docs/http_api.md,
// "Transcripts").
//
// Thread-safety: pure functions; `read` is called on the caller's thread.

#ifndef ACPSTORE_SERVER_TRANSCRIPT_FRAMES_H_
#define ACPSTORE_SERVER_TRANSCRIPT_FRAMES_H_

#include <string>

#include "acpstore/records.h"
#include "acpstore/status.h"
#include "base/function_ref.h"
#include "server/json_writer.h"

namespace acpstore::server {

// One entry as the API's JSON object.
void WriteTranscriptEntry(const TranscriptEntry& e, JsonWriter* w);

// Appends to *out the frames of every entry that changed after *seq, in
// ascending lastSeq (each frame's id), and moves *seq past them. `read`
// is Store::ReadTranscript for the stream's session.
//
// Once the frames appended reach `max_bytes` (the stream's buffer: a
// transcript holds up to --transcript-max-bytes, and a client that does
// not read must not make the server hold all of it) the call stops after
// that frame, leaves *seq at its lastSeq and sets *more: the next call
// goes on from there exactly as a client resuming from that id would.
//
// The transcript moves while its pages are read one by one: an entry on an
// early page can change after that page was read while a later page shows
// a newer change. So only the changes folded when the first page was read
// (its folded_seq) are sent in one call; a later change is sent by the next
// call, which the event that made it wakes the stream for. Each event
// changes at most one entry, so ids strictly ascend across calls, and a
// resume from the last id received misses nothing the cap kept.
//
// What the cap (--transcript-max-bytes) dropped is never sent: when the
// events after *seq made or changed entries it has dropped, a frame
// `event: truncated` with {"firstIndex": n} (n: the first kept entry's
// index) comes first, the transcript stream's counterpart of the events
// stream's. `*told_first_index` is the n the stream last said (0 at
// first): the same n is not said twice.
Status TranscriptFrames(
    base::FunctionRef<Result<TranscriptPage>(const TranscriptQuery&)> read,
    EventSeq* seq, uint64_t* told_first_index, size_t max_bytes,
    std::string* out, bool* more);

}  // namespace acpstore::server

#endif  // ACPSTORE_SERVER_TRANSCRIPT_FRAMES_H_
