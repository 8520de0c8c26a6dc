// libFuzzer target for the Aegis importer: an import file is untrusted
// input (SPEC §8). Arbitrary bytes are written to a file and
//  * read with a chunk size taken from the first byte and with 1 MiB
//    chunks: the records (text, surrogate notes, elisions) must be the
//    same, so chunk boundaries never change what the reader sees (the
//    surrogate scrubber holds back split escapes);
//  * checked as a dry run: never a crash, and an error is always
//    kInvalidArgument (a structural problem of the file);
//  * when the dry run passes, imported into a memory store: the counts are
//    the dry run's; the export of that store imports again with nothing
//    skipped and the same counts (rollback round trip).
// Beyond these properties it relies on ASan/UBSan for memory errors.

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "acpstore/store.h"
#include "aegis/exporter.h"
#include "aegis/importer.h"
#include "aegis/reader.h"
#include "engine/migration_target.h"
#include "fuzz_check.h"

namespace {

using acpstore::Result;
using acpstore::Status;
using acpstore::StatusCode;
using namespace acpstore::aegis;  // NOLINT(google-build-using-namespace)

// One scratch directory per process, files rewritten per input, removed
// at exit (every ctest run of the corpus would otherwise leave one behind
// in /tmp). A plain char array, not a std::string, so the path outlives
// every static destructor the exit handler could run after.
char scratch_dir[] = "/tmp/acpstore-aegis-fuzz-XXXXXX";

void RemoveScratch() {
  for (const char* name : {"/in.json", "/out.json"}) {
    std::remove((std::string(scratch_dir) + name).c_str());
  }
  ::rmdir(scratch_dir);
}

const std::string& Scratch() {
  static const std::string dir = [] {
    const char* made = ::mkdtemp(scratch_dir);
    FUZZ_CHECK(made != nullptr);
    std::atexit(RemoveScratch);
    return std::string(made);
  }();
  return dir;
}

struct Seen {
  std::string path, text;
  bool too_large = false;
  std::vector<std::string> surrogates;
  std::string elided;
  bool operator==(const Seen&) const = default;
};

Result<std::vector<Seen>> ReadWith(const std::string& file, size_t chunk) {
  std::vector<Seen> out;
  ReadOptions options;
  options.chunk_bytes = chunk;
  options.max_record_bytes = 4096;  // small, so elision is exercised
  Result<FileLayout> layout =
      ReadAegisFile(file, options, [&](RawRecord& r) {
        out.push_back({r.path, r.text, r.too_large, r.surrogates,
                       r.elided ? r.elided->key : std::string()});
        return Status::OK();
      });
  if (!layout.ok()) return layout.error();
  return out;
}

ImportOptions Options() {
  ImportOptions o;
  o.map.max_stored_payload_bytes = 1 << 16;
  o.map.limits.max_payload_bytes = 1 << 12;
  o.chunk_bytes = 4096;
  return o;
}

acpstore::engine::MigrationStore NewMemoryStore() {
  acpstore::StoreOptions so;
  so.engine = acpstore::Engine::kMemory;
  so.maintenance_interval_ms = 0;
  return acpstore::engine::OpenForMigration(so).value();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string file = Scratch() + "/in.json";
  {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data),
              static_cast<std::streamsize>(size));
  }
  // ReadOptions rounds chunks up to 4 KiB; the reader is exercised with
  // the carry at every offset through inputs larger than that.
  const size_t chunk = size > 0 ? 4096 + data[0] : 4096;
  Result<std::vector<Seen>> small = ReadWith(file, chunk);
  Result<std::vector<Seen>> large = ReadWith(file, 1 << 20);
  FUZZ_CHECK(small.ok() == large.ok());
  if (small.ok()) FUZZ_CHECK(*small == *large);

  ImportOptions dry = Options();
  dry.dry_run = true;
  Result<ImportReport> checked = ImportAegis(file, nullptr, dry);
  if (!checked.ok()) {
    FUZZ_CHECK(checked.error().code() == StatusCode::kInvalidArgument);
    return 0;
  }
  auto store = NewMemoryStore();
  Result<ImportReport> imported = ImportAegis(file, store.target(), Options());
  FUZZ_CHECK(imported.ok());
  FUZZ_CHECK(imported->written);
  FUZZ_CHECK(imported->events.imported == checked->events.imported);
  FUZZ_CHECK(imported->sessions.imported == checked->sessions.imported);
  FUZZ_CHECK(imported->actions.imported == checked->actions.imported);
  FUZZ_CHECK(imported->pauses.imported == checked->pauses.imported);

  const std::string exported = Scratch() + "/out.json";
  Result<ExportReport> ex = ExportAegis(store.target(), exported);
  FUZZ_CHECK(ex.ok());
  auto again = NewMemoryStore();
  Result<ImportReport> back = ImportAegis(exported, again.target(), Options());
  FUZZ_CHECK(back.ok());
  FUZZ_CHECK(back->skipped() == 0);
  FUZZ_CHECK(back->sessions.imported == imported->sessions.imported);
  FUZZ_CHECK(back->events.imported + back->events_filled ==
             imported->events.imported + imported->events_filled);
  FUZZ_CHECK(back->actions.imported == imported->actions.imported);
  FUZZ_CHECK(back->pauses.imported == imported->pauses.imported);
  return 0;
}
