// libFuzzer target for the journal reader: arbitrary bytes read as one
// segment file, both as the journal's last segment (a damaged tail may be
// a torn write) and as a sealed one (it may not).
//
// Beyond "does not crash or hang" (run under ASan/UBSan), it asserts the
// properties recovery relies on:
//  * records are contiguous from the segment header on, lie inside the
//    file, are never segment headers, and re-frame to exactly the bytes
//    they were read from (so nothing is returned that was not written);
//  * a clean end accounts for every byte: end + torn bytes = file size,
//    and a sealed segment never ends torn;
//  * the only failure is kCorruption, and the sealed reading is the last
//    reading's prefix: it never accepts more than the lenient one;
//  * recovery is idempotent: the file cut at the reported end reads back
//    as the same records with no torn tail;
//  * ReadRecordAt agrees with iteration on every record.
// The segment number is taken from where a segment header keeps it, so
// seeds from any segment of a real journal reach past the header check.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "base/coding.h"
#include "fuzz_check.h"
#include "io/string_file.h"
#include "journal/format.h"
#include "journal/journal_reader.h"
#include "journal/record_reader.h"

namespace {

using acpstore::StatusCode;
using namespace acpstore::journal;  // NOLINT(google-build-using-namespace)

struct Reading {
  bool ok = false;
  std::vector<std::string> payloads;
  std::vector<RecordType> types;
  uint64_t end = 0;
  uint64_t torn = 0;
};

Reading Read(const std::string& bytes, uint64_t segment, bool last) {
  JournalReader reader(
      std::make_unique<acpstore::io::StringFile>("fuzz", bytes), bytes.size(),
      segment, last);
  Reading out;
  JournalRecord rec;
  uint64_t expected_offset = 0;
  for (;;) {
    acpstore::Result<bool> more = reader.Next(&rec);
    if (!more) {
      FUZZ_CHECK(more.error().code() == StatusCode::kCorruption);
      FUZZ_CHECK(more.error().Detail("offset") != nullptr);
      // Sticky: asking again gives the same failure.
      FUZZ_CHECK(reader.Next(&rec).status().code() == StatusCode::kCorruption);
      return out;
    }
    if (!*more) break;
    const RecordLocation& loc = rec.location;
    if (expected_offset == 0) {
      FUZZ_CHECK(loc.offset == kFirstRecordOffset);
    } else {
      FUZZ_CHECK(loc.offset == expected_offset);
    }
    FUZZ_CHECK(loc.segment == segment);
    FUZZ_CHECK(loc.end().offset <= bytes.size());
    FUZZ_CHECK(loc.size == kHeaderSize + rec.payload.size());
    FUZZ_CHECK(rec.type != RecordType::kInvalid &&
               rec.type != RecordType::kSegmentHeader);
    std::string reframed;
    AppendRecord(&reframed, rec.type, rec.payload);
    FUZZ_CHECK(reframed == bytes.substr(loc.offset, loc.size));
    expected_offset = loc.end().offset;
    out.payloads.emplace_back(rec.payload);
    out.types.push_back(rec.type);
  }
  FUZZ_CHECK(!*reader.Next(&rec));  // the end is sticky too
  out.ok = true;
  out.end = reader.end_offset();
  out.torn = reader.torn_bytes();
  FUZZ_CHECK(out.end + out.torn == bytes.size());
  if (expected_offset != 0) FUZZ_CHECK(out.end == expected_offset);
  if (!last) FUZZ_CHECK(out.torn == 0);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  uint64_t segment = 1;
  if (bytes.size() >= kFirstRecordOffset) {
    segment =
        acpstore::base::DecodeFixed64(bytes.data() + kFirstRecordOffset - 8);
  }

  const Reading last = Read(bytes, segment, /*last=*/true);
  const Reading sealed = Read(bytes, segment, /*last=*/false);
  if (sealed.ok) {
    FUZZ_CHECK(last.ok && last.torn == 0 && last.payloads == sealed.payloads);
  }
  if (!last.ok) return 0;

  // Cutting the torn tail off, as recovery does, leaves a clean segment.
  const Reading cut = Read(bytes.substr(0, last.end), segment, /*last=*/true);
  FUZZ_CHECK(cut.ok && cut.torn == 0 && cut.payloads == last.payloads);

  // Single-record reads by location agree with iteration.
  acpstore::io::StringFile file("fuzz", bytes);
  uint64_t offset = kFirstRecordOffset;
  for (size_t i = 0; i < last.payloads.size(); ++i) {
    const auto size_i =
        static_cast<uint32_t>(kHeaderSize + last.payloads[i].size());
    for (uint32_t hint : {size_i, 0u}) {
      acpstore::Result<OwnedRecord> r = ReadRecordAt(file, offset, hint);
      FUZZ_CHECK(r.ok());
      FUZZ_CHECK(r->payload == last.payloads[i] && r->type == last.types[i]);
    }
    offset += size_i;
  }
  // A read one byte off a record boundary never returns data silently
  // different from what is there.
  if (!last.payloads.empty()) {
    acpstore::Result<OwnedRecord> off =
        ReadRecordAt(file, kFirstRecordOffset + 1);
    if (off.ok()) {
      std::string reframed;
      AppendRecord(&reframed, off->type, off->payload);
      FUZZ_CHECK(reframed ==
                 bytes.substr(kFirstRecordOffset + 1, reframed.size()));
    } else {
      FUZZ_CHECK(off.error().code() == StatusCode::kDataLoss);
    }
  }
  return 0;
}
