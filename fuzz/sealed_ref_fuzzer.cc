// libFuzzer target for the snapshot items that refer to a sealed
// transcript part in an older snapshot (item 11, decision 0027) or in a
// parts file (item 12, decision 0030; docs/recovery.md, "Snapshot
// contents"), and the body of item 13 (decision 0033: an evicted
// transcript referred to where it lies).
//
// Two layers. (1) The input as the item's body: every refusal of
// DecodeSealedRef is kCorruption, and an accepted body re-encodes (the
// entry sizes through a transcript's sealed bookkeeping, as the writer
// does) to the same fields. (2) The input XORed over the body of a valid
// reference (and any further bytes appended), written into a real
// snapshot that refers to a real older one (as item 11) and to a parts
// file holding the same bytes (as item 12), each loaded by the engine with
// a transcript budget (restored sealed, the part read back afterwards) and
// without one (the part read back at load): never a crash or an
// out-of-bounds read; a refused load is kCorruption; a load that succeeds
// holds a transcript that reads back exactly as written or fails with
// data_loss / io_error, never another one. The empty input is the valid
// reference.

#include <stdlib.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/coding.h"
#include "base/crc32c.h"
#include "engine/file_event_log.h"
#include "engine/file_recovery.h"
#include "engine/file_snapshot.h"
#include "engine/transcript_ref.h"
#include "fuzz_check.h"
#include "io/file_system.h"
#include "record/byte_reader.h"
#include "snapshot/snapshot_format.h"
#include "snapshot/snapshot_reader.h"
#include "snapshot/snapshot_writer.h"
#include "transcript/transcript.h"

namespace {

using acpstore::Status;
using acpstore::StatusCode;
namespace engine = acpstore::engine;
namespace io = acpstore::io;
namespace snapshot = acpstore::snapshot;
namespace transcript = acpstore::transcript;

void CheckBody(std::string_view in) {
  engine::SealedRefItem r;
  Status s = engine::DecodeSealedRef(in, &r);
  if (!s.ok()) {
    FUZZ_CHECK(s.code() == StatusCode::kCorruption);
    return;
  }
  FUZZ_CHECK(r.part.count == r.entry_bytes.size());
  FUZZ_CHECK(r.part.count > 0 && r.part.snapshot > 0 && r.part.length > 0);
  FUZZ_CHECK(r.part.first_index > 0);
  transcript::Transcript t;
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
}

// Decision 0033: the input as the body of an evicted transcript's
// reference (item 13): every refusal is kCorruption; an accepted body
// re-encodes to the same fields, a head first and entries after it, each
// naming a file and some bytes.
void CheckEvictedBody(std::string_view in) {
  engine::EvictedRef r;
  Status s = engine::DecodeEvictedRef(in, &r);
  if (!s.ok()) {
    FUZZ_CHECK(s.code() == StatusCode::kCorruption);
    return;
  }
  FUZZ_CHECK(!r.items.empty());
  std::string out;
  engine::EncodeEvictedRef(r, &out);
  engine::EvictedRef again;
  FUZZ_CHECK(engine::DecodeEvictedRef(out, &again).ok());
  FUZZ_CHECK(again.bytes == r.bytes && again.folded_seq == r.folded_seq &&
             again.complete == r.complete);
  FUZZ_CHECK(again.items.size() == r.items.size());
  for (size_t i = 0; i < r.items.size(); ++i) {
    const engine::TranscriptSealed::Part& a = again.items[i].part;
    const engine::TranscriptSealed::Part& b = r.items[i].part;
    FUZZ_CHECK(again.items[i].tag == r.items[i].tag);
    FUZZ_CHECK(a.snapshot == b.snapshot && a.snapshot != 0);
    FUZZ_CHECK(a.parts_file == b.parts_file && a.offset == b.offset);
    FUZZ_CHECK(a.length == b.length && a.length != 0 && a.crc == b.crc);
  }
}

// A snapshot 1 holding a part of two entries, and the items of a snapshot
// 2 whose session's transcript refers to that part (written by the
// engine's own WriteSnapshot), set up once per process.
struct World {
  std::string dir;
  std::vector<std::pair<uint8_t, std::string>> items;  // snapshot 2's
  size_t ref_at = 0;                                   // item 11 among them
  transcript::Transcript whole;                        // what it holds
};

transcript::Entry MakeEntry(acpstore::EventSeq seq, char c) {
  transcript::Entry e;
  e.kind = transcript::EntryKind::kAssistant;
  e.first_seq = seq;
  e.last_seq = seq;
  e.text = std::string(100, c);
  return e;
}

World* Setup() {
  auto* w = new World;
  char tmpl[] = "/tmp/sealed_ref_fuzzer.XXXXXX";
  FUZZ_CHECK(mkdtemp(tmpl) != nullptr);
  w->dir = tmpl;
  static std::string* dir = new std::string(w->dir);
  std::atexit([] { std::filesystem::remove_all(*dir); });
  io::FileSystem& fs = io::PosixFileSystem();
  for (int i = 0; i < 3; ++i) w->whole.AddDecoded(MakeEntry(i + 1, 'a' + i));
  // Snapshot 1: one data chunk, the entries body of entries 1 and 2.
  std::string part;
  acpstore::base::PutVarint32(&part, 2);
  transcript::Transcript::EncodeEntry(w->whole.at(1), &part);
  transcript::Transcript::EncodeEntry(w->whole.at(2), &part);
  snapshot::SnapshotHeader h1;
  h1.number = 1;
  auto writer = snapshot::SnapshotWriter::Create(fs, w->dir, h1);
  FUZZ_CHECK(writer.ok());
  FUZZ_CHECK((*writer)->Add(part).ok());
  FUZZ_CHECK((*writer)->Finish().ok());
  const std::string path1 = (*writer)->path();
  // Parts file 1: the same bytes (a parts file has no framing of its own,
  // so the part lies at the same offset).
  std::filesystem::copy_file(
      path1, io::JoinPath(w->dir, snapshot::PartsFileName(1)));
  auto file = fs.OpenReadable(path1);
  FUZZ_CHECK(file.ok());
  engine::TranscriptSealed::Part p;
  p.file = std::move(*file);
  p.offset = snapshot::kHeaderSize + snapshot::kChunkHeaderSize;
  p.length = static_cast<uint32_t>(part.size());
  p.crc = acpstore::base::crc32c::Value(part.data(), part.size());
  p.first_index = 1;
  p.count = 2;
  p.last_seq = 2;
  p.snapshot = 1;
  std::string back;
  FUZZ_CHECK(engine::ReadSealedPart(p, &back).ok());
  // Snapshot 2, referring to it.
  engine::StateImage image;
  engine::SessionImage& s = image.sessions.emplace_back();
  s.session.id = "s";
  s.session.tenant_id = "t";
  s.session.owner_key_id = "o";
  s.events.first_seq = 1;
  s.events.last_seq = 0;
  transcript::Transcript sealed = w->whole;
  sealed.Seal(3);
  s.transcript = sealed;
  auto parts = std::make_shared<engine::TranscriptSealed>();
  parts->parts.push_back(p);
  s.transcript_sealed = parts;
  engine::SnapshotRefs refs;
  refs.referable[1] = fs.FileSize(path1).value();
  FUZZ_CHECK(engine::WriteSnapshot(fs, w->dir, 2, {}, 0, image, nullptr,
                                   nullptr, &refs)
                 .ok());
  FUZZ_CHECK(refs.referred.count(1) == 1);
  const std::string path2 =
      io::JoinPath(w->dir, snapshot::SnapshotFileName(2));
  auto reader = snapshot::SnapshotReader::Open(fs, path2);
  FUZZ_CHECK(reader.ok());
  std::string_view chunk;
  while ((*reader)->Next(&chunk)) {
    acpstore::record::ByteReader in(chunk);
    while (!in.empty()) {
      uint8_t tag = 0;
      std::string_view body;
      FUZZ_CHECK(engine::ReadSnapshotItem(in, &tag, &body).ok());
      if (tag == engine::snapshot_item::kTranscriptSealedRef) {
        w->ref_at = w->items.size();
      }
      w->items.emplace_back(tag, std::string(body));
    }
  }
  FUZZ_CHECK((*reader)->status().ok());
  FUZZ_CHECK(w->items[w->ref_at].first ==
             engine::snapshot_item::kTranscriptSealedRef);
  return w;
}

// Loads snapshot 2 with `budget`; checks the outcome (see the file
// comment).
void Load(const World& w, uint64_t budget) {
  io::FileSystem& fs = io::PosixFileSystem();
  engine::FileLogContext context(nullptr);
  std::unique_ptr<acpstore::engine::StoreState> state =
      engine::NewFileState(&context, transcript::Limits{});
  state->set_transcript_budget(budget);
  auto loaded = engine::LoadSnapshot(
      fs, io::JoinPath(w.dir, snapshot::SnapshotFileName(2)), state.get(),
      &context);
  if (!loaded.ok()) {
    FUZZ_CHECK(loaded.error().code() == StatusCode::kCorruption);
    return;
  }
  const engine::SessionEntry* e = state->FindSessionInTenant("t", "s");
  FUZZ_CHECK(e != nullptr);
  transcript::Transcript t = e->transcript;
  if (e->transcript_sealed != nullptr) {
    Status s = engine::LoadSealed(*e->transcript_sealed, &t);
    if (!s.ok()) {
      FUZZ_CHECK(s.code() == StatusCode::kDataLoss ||
                 s.code() == StatusCode::kIoError);
      return;
    }
  }
  FUZZ_CHECK(t.first_index() == 1 && t.end_index() == 4);
  for (uint64_t i = 1; i < 4; ++i) {
    FUZZ_CHECK(t.at(i).text == w.whole.at(i).text);
    FUZZ_CHECK(t.at(i).last_seq == w.whole.at(i).last_seq);
  }
  FUZZ_CHECK(t.bytes() == w.whole.bytes());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World* world = Setup();
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  CheckBody(in);
  CheckEvictedBody(in);
  // The valid reference with the input XORed over it (longer input:
  // appended).
  std::string body = world->items[world->ref_at].second;
  for (size_t i = 0; i < in.size(); ++i) {
    if (i < body.size()) {
      body[i] = static_cast<char>(body[i] ^ in[i]);
    } else {
      body.push_back(in[i]);
    }
  }
  for (uint8_t tag : {engine::snapshot_item::kTranscriptSealedRef,
                      engine::snapshot_item::kTranscriptSealedPartsRef}) {
    std::string chunk;
    for (size_t i = 0; i < world->items.size(); ++i) {
      const bool ref = i == world->ref_at;
      const std::string& b = ref ? body : world->items[i].second;
      chunk.push_back(static_cast<char>(ref ? tag : world->items[i].first));
      acpstore::base::PutVarint32(&chunk, static_cast<uint32_t>(b.size()));
      chunk.append(b);
    }
    snapshot::SnapshotHeader h2;
    h2.number = 2;
    auto writer =
        snapshot::SnapshotWriter::Create(io::PosixFileSystem(), world->dir, h2);
    FUZZ_CHECK(writer.ok());
    FUZZ_CHECK((*writer)->Add(chunk).ok());
    FUZZ_CHECK((*writer)->Finish().ok());
    Load(*world, 1 << 20);
    Load(*world, 0);
  }
  return 0;
}
