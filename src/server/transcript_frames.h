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

// What one transcript stream remembers between calls (per connection,
// a few fields whatever the transcript's size).
struct TranscriptStreamState {
  // The stream sends `event: append` frames (?textAppends=true).
  bool text_appends = false;
  // The firstIndex the stream last said in a `truncated` frame (0 at
  // first): the same n is not said twice.
  uint64_t told_first_index = 0;
  // With text_appends: the assistant or thought entry this connection last
  // sent and how many bytes of its text it sent (index 0: none). Only the
  // newest entry of a transcript grows, and once another entry follows it
  // never changes again, so this one is the only entry an append can be
  // for; a tool entry sent meanwhile does not change it (a tool's late
  // completion may come between two deltas of the newest message).
  HeldText sent;
};

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
// stream's; state->told_first_index keeps the same n from being said
// twice.
//
// With state->text_appends, a changed entry that is state->sent grown
// (only its text appended to) is sent as `event: append` with
// {"index","lastSeq","lastAt","text"}, `text` being only the bytes added
// since this connection last sent it; every other entry (a new one, a
// tool, the first frame of an entry on this connection) is sent whole as
// `event: entry`. The pages are read with held_text = state->sent, so a
// growing entry's text already sent is not copied again.
Status TranscriptFrames(
    base::FunctionRef<Result<TranscriptPage>(const TranscriptQuery&)> read,
    EventSeq* seq, TranscriptStreamState* state, size_t max_bytes,
    std::string* out, bool* more);

}  // namespace acpstore::server

#endif  // ACPSTORE_SERVER_TRANSCRIPT_FRAMES_H_
