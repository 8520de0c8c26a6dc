// libFuzzer target for SnapshotReader over arbitrary file contents.
//
// Beyond "does not crash or read out of bounds" (run under ASan/UBSan), it
// asserts the reader's corruption policy: every refusal is kCorruption with
// a "path" and an "offset" detail inside the file; and since every field of
// the format is fixed-width, a snapshot the reader accepts is canonical:
// rebuilding it from its header and chunks gives back the input byte for
// byte (so nothing in an accepted file went unchecked).

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <variant>

#include "base/coding.h"
#include "base/crc32c.h"
#include "fuzz_check.h"
#include "io/string_file.h"
#include "snapshot/snapshot_format.h"
#include "snapshot/snapshot_reader.h"

namespace {

namespace snap = acpstore::snapshot;
using acpstore::Status;
using acpstore::StatusCode;

void CheckRefusal(const Status& s, size_t file_size) {
  FUZZ_CHECK(s.code() == StatusCode::kCorruption);
  FUZZ_CHECK(s.Detail("path") != nullptr);
  const acpstore::StatusDetail* offset = s.Detail("offset");
  FUZZ_CHECK(offset != nullptr);
  const int64_t at = std::get<int64_t>(offset->value);
  FUZZ_CHECK(at >= 0 && static_cast<uint64_t>(at) <= file_size);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string in(reinterpret_cast<const char*>(data), size);
  auto reader = snap::SnapshotReader::Open(
      std::make_unique<acpstore::io::StringFile>("fuzz.snap", in), in.size(),
      std::nullopt);
  if (!reader) {
    CheckRefusal(reader.error(), in.size());
    return 0;
  }
  std::string rebuilt = snap::EncodeHeader((*reader)->header());
  std::string_view chunk;
  uint64_t chunks = 0;
  while ((*reader)->Next(&chunk)) {
    FUZZ_CHECK(chunk.size() <= snap::kMaxChunkBytes);
    snap::AppendChunk(&rebuilt, snap::ChunkType::kData, chunk);
    ++chunks;
  }
  const Status& s = (*reader)->status();
  if (!s.ok()) {
    CheckRefusal(s, in.size());
    return 0;
  }
  FUZZ_CHECK((*reader)->chunk_count() == chunks);
  std::string footer;
  acpstore::base::PutFixed64(&footer, chunks);
  acpstore::base::PutFixed64(&footer, rebuilt.size());
  acpstore::base::PutFixed32(
      &footer,
      acpstore::base::crc32c::Mask(acpstore::base::crc32c::Value(rebuilt)));
  snap::AppendChunk(&rebuilt, snap::ChunkType::kFooter, footer);
  FUZZ_CHECK(rebuilt == in);
  return 0;
}
