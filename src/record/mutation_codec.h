// Binary codec of a Mutation: the body of one kMutation journal record.
// Grammar and worked example: docs/mutation_format.md; on-disk numbers:
// mutation_format.h.
//
// The file engine keeps only a small index entry per event in memory and
// reads event bodies back from the journal. So every Event inside an
// AppendEventsOp is a self-contained sub-record with its own checksum,
//   [fixed32 masked CRC32C of the event bytes][varint32 length][event bytes]
// and EncodeMutation reports where each one landed. To read event i later,
// pread EventSpan i at  record start + journal header + span.offset  and pass
// the bytes to DecodeEventAt, which verifies that one event alone.
//
// Thread-safety: pure functions.

#ifndef ACPSTORE_RECORD_MUTATION_CODEC_H_
#define ACPSTORE_RECORD_MUTATION_CODEC_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "acpstore/records.h"
#include "acpstore/status.h"
#include "record/mutation.h"

namespace acpstore::record {

// Where one framed event sub-record sits in an encoded mutation.
struct EventSpan {
  // Bytes from the first byte EncodeMutation wrote for this mutation (not
  // from the start of `dst`, which may already hold a journal header).
  uint32_t offset = 0;
  // The whole sub-record: checksum, length and event bytes.
  uint32_t length = 0;

  friend bool operator==(const EventSpan&, const EventSpan&) = default;
};

// Appends the encoding of `mutation` to *dst. If `event_spans` is not null,
// appends one span per event, in op order then event order. A mutation must
// encode to less than 4 GiB (the journal caps records at 1 GiB).
void EncodeMutation(const Mutation& mutation, std::string* dst,
                    std::vector<EventSpan>* event_spans);

// Decodes one mutation that must fill *input exactly (a journal record body
// holds one mutation; trailing bytes are corruption). Every event
// sub-record's checksum is verified. On success *input is left empty; on
// failure it is unchanged, *out is unspecified and the kCorruption status
// names the op, the field and the byte offset in the mutation.
Status DecodeMutation(std::string_view* input, Mutation* out);

// The same, and on success appends one span per event (op order, then
// event order) saying where its framed sub-record sits in *input: what
// EncodeMutation reported when it wrote these bytes. Recovery uses it to
// index replayed events without encoding them again. The spans are where
// the bytes are, so they stay right even for an input the decoder accepts
// but the encoder would not write (a non-minimal varint). On failure
// *event_spans is unchanged.
Status DecodeMutation(std::string_view* input, Mutation* out,
                      std::vector<EventSpan>* event_spans);

// Appends one framed event sub-record (the unit EventSpan points at).
void EncodeFramedEvent(const Event& event, std::string* dst);

// Verifies and decodes exactly one framed event sub-record, as read back
// from disk by its span. A checksum mismatch or a length that disagrees
// with `bytes` is kDataLoss (the stored bytes are damaged); bytes that pass
// the checksum but do not decode are kCorruption (a bug or a foreign file).
Status DecodeEventAt(std::string_view bytes, Event* out);

}  // namespace acpstore::record

#endif  // ACPSTORE_RECORD_MUTATION_CODEC_H_
