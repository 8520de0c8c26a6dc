// libFuzzer target for the mutation decoder: DecodeMutation (a journal
// record body), DecodeEventAt (one event read back by its span) and the
// record decoders of record_codec.h.
//
// Beyond "does not crash or read out of bounds" (run under ASan/UBSan), it
// asserts what recovery relies on: every refusal is kCorruption (or
// kDataLoss for a positioned event read); an accepted mutation re-encodes
// to bytes that decode to the same encoding again (a fixed point after one
// round, since the decoder may accept non-minimal varints); every event
// span the encoder reports decodes alone to the event it names; and the
// spans the decoder reports (what recovery indexes) do too, in the input's
// own bytes, and equal the encoder's on the re-encoded form.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "record/mutation_codec.h"
#include "record/record_codec.h"

namespace {

using acpstore::Status;
using acpstore::StatusCode;
using acpstore::record::DecodeEventAt;
using acpstore::record::DecodeMutation;
using acpstore::record::EncodeEvent;
using acpstore::record::EncodeMutation;
using acpstore::record::EventSpan;
using acpstore::record::Mutation;

std::string EncodeOf(const acpstore::Event& e) {
  std::string out;
  EncodeEvent(e, &out);
  return out;
}

void CheckMutation(std::string_view in) {
  Mutation m;
  std::string_view input = in;
  std::vector<EventSpan> decoded_spans;
  Status s = DecodeMutation(&input, &m, &decoded_spans);
  if (!s.ok()) {
    FUZZ_CHECK(s.code() == StatusCode::kCorruption);
    FUZZ_CHECK(input.size() == in.size());  // unchanged on failure
    FUZZ_CHECK(decoded_spans.empty());
    return;
  }
  FUZZ_CHECK(input.empty());

  std::vector<EventSpan> spans;
  std::string once;
  EncodeMutation(m, &once, &spans);
  Mutation again;
  std::string_view once_view = once;
  std::vector<EventSpan> once_spans;
  FUZZ_CHECK(DecodeMutation(&once_view, &again, &once_spans).ok());
  FUZZ_CHECK(once_spans == spans);
  std::string twice;
  EncodeMutation(again, &twice, nullptr);
  FUZZ_CHECK(twice == once);
  FUZZ_CHECK(decoded_spans.size() == spans.size());

  size_t i = 0;
  for (const auto& op : m.ops) {
    const auto* append = std::get_if<acpstore::record::AppendEventsOp>(&op);
    if (append == nullptr) continue;
    for (const acpstore::Event& e : append->events) {
      FUZZ_CHECK(i < spans.size());
      FUZZ_CHECK(uint64_t{spans[i].offset} + spans[i].length <= once.size());
      acpstore::Event alone;
      FUZZ_CHECK(DecodeEventAt(std::string_view(once).substr(spans[i].offset,
                                                             spans[i].length),
                               &alone)
                     .ok());
      FUZZ_CHECK(EncodeOf(alone) == EncodeOf(e));
      // The same event where the decoder found it in the input.
      const EventSpan& d = decoded_spans[i];
      FUZZ_CHECK(uint64_t{d.offset} + d.length <= in.size());
      acpstore::Event found;
      FUZZ_CHECK(DecodeEventAt(in.substr(d.offset, d.length), &found).ok());
      FUZZ_CHECK(EncodeOf(found) == EncodeOf(e));
      ++i;
    }
  }
  FUZZ_CHECK(i == spans.size());
}

// The record decoders alone: event bodies inside a mutation sit behind a
// checksum the fuzzer rarely forges, so feed them raw bytes too.
template <typename T>
void CheckRecord(std::string_view in, Status (*decode)(std::string_view*, T*),
                 void (*encode)(const T&, std::string*)) {
  T record;
  std::string_view input = in;
  Status s = decode(&input, &record);
  if (!s.ok()) {
    FUZZ_CHECK(s.code() == StatusCode::kCorruption);
    FUZZ_CHECK(input.size() == in.size());
    return;
  }
  std::string once;
  encode(record, &once);
  std::string_view once_view = once;
  T again;
  FUZZ_CHECK(decode(&once_view, &again).ok());
  FUZZ_CHECK(once_view.empty());
  std::string twice;
  encode(again, &twice);
  FUZZ_CHECK(twice == once);
}

void CheckEventAt(std::string_view in) {
  acpstore::Event e;
  Status s = DecodeEventAt(in, &e);
  if (!s.ok()) {
    FUZZ_CHECK(s.code() == StatusCode::kDataLoss ||
               s.code() == StatusCode::kCorruption);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  CheckMutation(in);
  CheckEventAt(in);
  namespace r = acpstore::record;
  CheckRecord<acpstore::Session>(in, &r::DecodeSession, &r::EncodeSession);
  CheckRecord<acpstore::Event>(in, &r::DecodeEvent, &r::EncodeEvent);
  CheckRecord<acpstore::Action>(in, &r::DecodeAction, &r::EncodeAction);
  CheckRecord<acpstore::Pause>(in, &r::DecodePause, &r::EncodePause);
  return 0;
}
