// libFuzzer target for the body of a snapshot's sealed-part reference item
// (item 11, decision 0027; docs/recovery.md, "Snapshot contents").
//
// Beyond "does not crash, read out of bounds or allocate what the input
// does not hold": every refusal is kCorruption, and an accepted body is
// one EncodeSealedRef writes: re-encoding the decoded fields (the entry
// sizes through a transcript's sealed bookkeeping, as the writer does)
// and decoding that again gives the same fields.

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/transcript_ref.h"
#include "fuzz_check.h"
#include "transcript/transcript.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using acpstore::StatusCode;
  namespace engine = acpstore::engine;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  engine::SealedRefItem r;
  acpstore::Status s = engine::DecodeSealedRef(in, &r);
  if (!s.ok()) {
    FUZZ_CHECK(s.code() == StatusCode::kCorruption);
    return 0;
  }
  FUZZ_CHECK(r.part.count == r.entry_bytes.size());
  FUZZ_CHECK(r.part.count > 0 && r.part.snapshot > 0 && r.part.length > 0);
  FUZZ_CHECK(r.part.first_index > 0);
  // The writer takes the sizes from the transcript's sealed entries.
  acpstore::transcript::Transcript t;
  for (uint32_t b : r.entry_bytes) t.AddSealedDecoded(b);
  engine::TranscriptSealed::Part p = r.part;
  p.first_index = 1;  // the transcript above starts at entry 1
  std::string body;
  engine::EncodeSealedRef(t, p, &body);
  engine::SealedRefItem again;
  FUZZ_CHECK(engine::DecodeSealedRef(body, &again).ok());
  FUZZ_CHECK(again.part.snapshot == r.part.snapshot);
  FUZZ_CHECK(again.part.offset == r.part.offset);
  FUZZ_CHECK(again.part.length == r.part.length);
  FUZZ_CHECK(again.part.crc == r.part.crc);
  FUZZ_CHECK(again.part.count == r.part.count);
  FUZZ_CHECK(again.part.last_seq == r.part.last_seq);
  FUZZ_CHECK(again.entry_bytes == r.entry_bytes);
  // Canonical input (minimal varints) re-encodes byte for byte, once the
  // first index is put back.
  if (r.part.first_index == 1) {
    std::string canonical;
    engine::EncodeSealedRef(t, r.part, &canonical);
    engine::SealedRefItem third;
    FUZZ_CHECK(engine::DecodeSealedRef(canonical, &third).ok());
    FUZZ_CHECK(third.entry_bytes == r.entry_bytes);
  }
  return 0;
}
