// Binary encodings of the records (Session, Event, Action, Pause): the
// building blocks of journal mutations (mutation_codec.h) and of the file
// engine's snapshot chunks. Grammar: docs/mutation_format.md; on-disk
// numbers: mutation_format.h.
//
// Each encoding starts with its own version byte and a presence bitmap of
// its optional fields, so it can be decoded alone (an event read back from
// the journal by position) and can grow fields later.
//
// Decoders are strict: they never read past the input, and reject an
// unsupported version, presence bits no field owns, enum codes out of range,
// truncated or overlong varints and lengths past the end, with kCorruption
// naming the field and byte offset. Decode(std::string_view*) consumes one
// record from the front of the input and leaves the input unchanged on
// failure; checking that nothing follows is the caller's business.
//
// Session::events (the stream summary) is not encoded: it belongs to the
// store, which rebuilds it from its event index. It decodes as the default.
//
// Thread-safety: pure functions.

#ifndef ACPSTORE_RECORD_RECORD_CODEC_H_
#define ACPSTORE_RECORD_RECORD_CODEC_H_

#include <string>
#include <string_view>

#include "acpstore/records.h"
#include "acpstore/status.h"
#include "record/byte_reader.h"

namespace acpstore::record {

void EncodeSession(const Session& session, std::string* dst);
void EncodeEvent(const Event& event, std::string* dst);
// EncodeEvent without its last field, the length-prefixed payload: the
// journal frames an event from this head and the payload's own bytes, so
// the payload is copied once (issue 14). EncodeEvent is the head followed
// by PutLengthPrefixed(payload).
void EncodeEventHead(const Event& event, std::string* dst);
void EncodeAction(const Action& action, std::string* dst);
void EncodePause(const Pause& pause, std::string* dst);

Status DecodeSession(std::string_view* input, Session* out);
Status DecodeEvent(std::string_view* input, Event* out);
Status DecodeAction(std::string_view* input, Action* out);
Status DecodePause(std::string_view* input, Pause* out);

// The same, reading from a ByteReader positioned inside a larger encoding
// (so error offsets are relative to its start). On failure the reader's
// position is unspecified.
Status DecodeSession(ByteReader* in, Session* out);
Status DecodeEvent(ByteReader* in, Event* out);
Status DecodeAction(ByteReader* in, Action* out);
Status DecodePause(ByteReader* in, Pause* out);

}  // namespace acpstore::record

#endif  // ACPSTORE_RECORD_RECORD_CODEC_H_
