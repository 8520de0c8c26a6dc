// The file engine's snapshots: what a snapshot holds and how the state is
// captured into one, written, and loaded back. The file framing (header,
// CRC-framed chunks, footer, atomic publish) is src/snapshot's; the items
// inside the data chunks are defined here and documented in
// docs/recovery.md ("Snapshot contents"). Item tags are written to disk:
// never renumber or reuse one.
//
// A snapshot holds every small record (sessions, actions, pauses), and per
// session its event index (locations, not payloads), its high-water mark
// and its clientEventId index (tags and seqs, with the key of the tags in
// the meta item), plus the journal position it covers. Recovery loads it
// and replays the journal from that position.
//
// Capture runs under the engine's state lock and only copies; encoding and
// I/O happen afterwards on the snapshot thread. Events still pending at
// capture time are named by record ticket and span (FileEventLog::Image)
// and resolved to locations once their records commit (ResolvePending).
//
// Thread-safety: CaptureState needs the state lock held; the rest are
// functions over their arguments. Lifetime: a StateImage is a value.

#ifndef ACPSTORE_ENGINE_FILE_SNAPSHOT_H_
#define ACPSTORE_ENGINE_FILE_SNAPSHOT_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "acpstore/records.h"
#include "acpstore/result.h"
#include "engine/file_event_log.h"
#include "engine/state.h"
#include "engine/transcript_ref.h"
#include "io/file_system.h"
#include "journal/position.h"
#include "record/byte_reader.h"
#include "snapshot/snapshot_format.h"

namespace acpstore::engine {

namespace snapshot_item {
// One item: uint8 tag, varint32 body length, body. Data chunks hold whole
// items; a session's items follow its kSession item.
// varint32 version, varint64 sessions, varint64 actions; from version 2
// on, fixed64 k0, fixed64 k1 (the ClientIdKey of the kClientIdTags tags).
// Always first.
inline constexpr uint8_t kMeta = 1;
// record_codec EncodeSession; starts the session's items.
inline constexpr uint8_t kSession = 2;
// varint64 first_seq, varint64 last_seq (the high-water mark).
inline constexpr uint8_t kEventRange = 3;
// varint64 start seq, varint32 n, n x (varint32 segment, offset, length,
// payload bytes).
inline constexpr uint8_t kEventIndex = 4;
// varint32 n, n x (length-prefixed clientEventId, varint64 seq). Written by
// content version 1 only; still read.
inline constexpr uint8_t kClientIds = 5;
// record_codec EncodePause, in creation order.
inline constexpr uint8_t kPause = 6;
// record_codec EncodeAction, in insertion (lease tie-break) order.
inline constexpr uint8_t kAction = 7;
// varint32 n, n x (fixed32 tag, varint64 seq minus the previous entry's
// seq, or the seq itself for an item's first entry): seqs ascending.
// Since content version 2.
inline constexpr uint8_t kClientIdTags = 8;
// Transcript::EncodeHead (varint64 first index, uint8 complete, varint64
// folded seq, varint64 entries, 7 x varint64 entries created per kind,
// varint32 n, n x (length-prefixed name, varint64 zigzag usage total)).
// Written for every session while transcripts are on; a session without
// one has its transcript rebuilt from its retained events. Since content
// version 3.
inline constexpr uint8_t kTranscriptHead = 9;
// varint32 n, n x Transcript::EncodeEntry, continuing the head's entries
// in index order. Since content version 3.
inline constexpr uint8_t kTranscriptEntries = 10;
// Decision 0027: a sealed part of the transcript that lies, durably, in an
// older snapshot file: varint64 that snapshot's number, varint64 offset
// and varint32 length of the part's kTranscriptEntries body in it, fixed32
// CRC32C of that body, varint64 first entry index, varint32 entries,
// varint64 highest last_seq, then entries x varint32 Entry::Bytes. Among
// the head's entries items, in index order. Since content version 4.
inline constexpr uint8_t kTranscriptSealedRef = 11;
// Decision 0030: as kTranscriptSealedRef, the part lying in a parts file
// (snapshot_format.h PartsFileName) numbered below this snapshot: the
// body is the same, its number names "<n>.parts". Since content version 5.
inline constexpr uint8_t kTranscriptSealedPartsRef = 12;
// Decision 0033: the whole transcript of the session, evicted (decision
// 0018), lying in older files that stay (snapshots, parts files), in place
// of its head and entries items: varint64 Transcript::bytes, varint64
// folded seq, uint8 complete, varint32 n items, n x (uint8 tag: 9 for the
// first, 10 after it; uint8 kind: 0 snapshot, 1 parts file; varint64 that
// file's number, below this snapshot's; varint64 offset and varint32
// length of the item's body in it; fixed32 CRC32C of that body). Since
// content version 6.
inline constexpr uint8_t kTranscriptEvictedRef = 13;
// Content versions: 1: clientEventIds as strings (kClientIds). 2: as tags
// (kClientIdTags) with their key in kMeta. 3: transcripts
// (kTranscriptHead/Entries). 4: references to sealed parts in older
// snapshots (kTranscriptSealedRef). 5: references to sealed parts in parts
// files (kTranscriptSealedPartsRef). 6: references to evicted transcripts
// (kTranscriptEvictedRef). A snapshot is written with the lowest
// version that has every item it holds (decision 0030, "Amendment"), so a
// release that reads no further still opens it; kVersion is the newest,
// which this build reads up to.
inline constexpr uint32_t kVersionClientIdTags = 2;  // the lowest written
inline constexpr uint32_t kVersionTranscripts = 3;
inline constexpr uint32_t kVersionSealedRef = 4;
inline constexpr uint32_t kVersionSealedPartsRef = 5;
inline constexpr uint32_t kVersionEvictedRef = 6;
inline constexpr uint32_t kVersion = kVersionEvictedRef;
// Entries per kEventIndex or kClientIdTags item, so no item nears the
// chunk cap.
inline constexpr uint32_t kEntriesPerIndexItem = 1 << 16;
}  // namespace snapshot_item

struct SessionImage {
  Session session;
  FileEventLog::Image events;
  // The retained entries of the clientEventId index: seq, tag; in no order.
  std::vector<std::pair<EventSeq, uint32_t>> client_ids;
  std::vector<Pause> pauses;  // creation order
  uint64_t incarnation = 0;  // SessionEntry::incarnation
  // Shares the state's entries (copy-on-write); absent while transcripts
  // are off, or when the transcript is evicted (decision 0018): then
  // `transcript_ref` names its items, which the snapshot copies as they
  // are.
  std::optional<transcript::Transcript> transcript;
  std::shared_ptr<const TranscriptRef> transcript_ref;
  // The sealed prefix of `transcript` (decision 0021): its items are
  // copied as they are.
  std::shared_ptr<const TranscriptSealed> transcript_sealed;
};

struct StateImage {
  ClientIdKey client_id_key;
  std::vector<SessionImage> sessions;
  std::vector<Action> actions;  // insertion (lease tie-break) order
  // Tickets of the records whose pending events the image names.
  uint64_t max_pending_ticket = 0;
  bool has_pending = false;
};

// Copies what a snapshot needs. Every event log of `state` must be a
// FileEventLog.
void CaptureState(const StoreState& state, StateImage* image);

// Gives every pending event in `image` its location, from the committed
// records' locations by ticket. kInternal if a ticket is missing.
Status ResolvePending(
    const std::map<uint64_t, journal::RecordLocation>& records,
    StateImage* image);

// How much of a file the sealed parts a snapshot refers to there must
// make up (bytes of parts / bytes of the file), for the two rules that
// share one scale: the half rule (decision 0027: under it, a kept file's
// parts are re-homed so it can go) and the publish rule (decision 0030:
// the spill file becomes a parts file only from three quarters). The
// margin between them keeps a file just published from being re-homed,
// its bytes written twice, before a quarter of it turned to garbage
// (decision 0030, "Amendment", has the arithmetic).
struct FileShare {
  uint64_t numerator;
  uint64_t denominator;
  // File sizes are far below 2^62: the products do not overflow.
  constexpr bool HeldBy(uint64_t part_bytes, uint64_t file_bytes) const {
    return part_bytes * denominator >= file_bytes * numerator;
  }
};
inline constexpr FileShare kReferShare{1, 2};
inline constexpr FileShare kPublishShare{3, 4};
static_assert(kPublishShare.numerator * kReferShare.denominator >
                  kReferShare.numerator * kPublishShare.denominator,
              "publishing needs a margin above the half rule");

// Decision 0027: which older snapshot files a snapshot may refer to
// instead of copying sealed parts, and which it did.
struct SnapshotRefs {
  // In: published snapshots of the same directory that stay on disk while
  // the new one is kept: number -> file size. A file whose parts in the
  // image are under kReferShare of its size is not referred to: its parts
  // are copied (re-homed) so it can go.
  std::map<uint64_t, uint64_t> referable;
  // Out: the files the written snapshot refers to: number -> bytes of the
  // parts it refers to there.
  std::map<uint64_t, uint64_t> referred;
  // In, decision 0030: the spill file just published as parts file
  // `spill_number` (also in `referable`), whose sealed parts (number 0,
  // this file) are referred to as parts of that file. Null: none.
  const io::RandomAccessFile* spill = nullptr;
  uint64_t spill_number = 0;
};

// Decision 0030: bytes of the sealed parts in `image` that lie in `file`
// and that the cap kept (what a snapshot of it would refer to there).
uint64_t SealedBytesIn(const StateImage& image, const io::RandomAccessFile* file);

// Writes `image` as snapshot `number` of `dir`, covering `covered`.
// Returns the size of the published file. With `refs`, also where each
// session's transcript lies in the published file (aligned with
// image.sessions; null for a session without one), over one shared
// handle of it (decision 0018); with `sealed` too, where each sealed
// prefix's copy lies in it (null for a session without one; decision
// 0021; parts referred to keep their file). Without `snapshot_refs` the
// snapshot is self-contained: every sealed part is copied. Its meta item
// says the lowest content version that has every item it holds.
// A transcript whose bytes it must copy but finds damaged (kDataLoss) is
// left out, its session written without one, so that a load rebuilds it
// from the session's retained events (decision 0034); `damaged`, if given,
// gets each such session.
struct DamagedTranscript {
  size_t session = 0;  // index in image.sessions
  Status status;       // kDataLoss, naming the file ("path")
};
Result<uint64_t> WriteSnapshot(
    io::FileSystem& fs, const std::string& dir, uint64_t number,
    const journal::JournalPosition& covered, TimestampMs created_at,
    const StateImage& image,
    std::vector<std::shared_ptr<const TranscriptRef>>* refs = nullptr,
    std::vector<std::shared_ptr<const TranscriptSealed>>* sealed = nullptr,
    SnapshotRefs* snapshot_refs = nullptr,
    std::vector<DamagedTranscript>* damaged = nullptr);

// What loading a snapshot found beside the state it built.
struct SnapshotLoadNotes {
  // The older files referred to (decisions 0027, 0030, 0033): number ->
  // bytes.
  std::map<uint64_t, uint64_t> referred;
  // Decision 0034: transcripts whose items in a referred file were read
  // back (without a budget) and found damaged (kDataLoss: a checksum or
  // decode mismatch), each rebuilt from its session's retained events
  // rather than failing the load. One kDataLoss status each, with the
  // details "tenant", "session" and "path".
  std::vector<Status> damaged_transcripts;
};

// Loads snapshot `path` into `state` (empty, whose event logs are made with
// `context`). On failure `state` is half built and must be discarded.
// When state->transcript_budget() > 0 each transcript keeps a reference to
// its items in this file, and those past the budget are evicted at once
// (decision 0018).
// A sealed part referred to in an older snapshot or a parts file of the
// same directory (decisions 0027 and 0030) must lie within that file (kCorruption naming it
// otherwise); with a budget the transcript is restored sealed (the part
// not read), without one the part is read back and CRC-checked, and a
// damaged one costs only its transcript (`notes`, decision 0034).
// `notes`, if given, gets what the load found beside the state.
// Returns the header (number and covered position).
struct SnapshotLoadOptions {
  // compact --repair, which must not lose a snapshot for a transcript: a
  // referred file that is missing, too short or unreadable is damage to
  // the transcripts in it too, each rebuilt (`notes`), not a failed load.
  bool salvage = false;
  // verify: an evicted transcript's items (item 13) are read back and
  // checked even with transcripts off, which otherwise leaves them unread;
  // what fails goes to `notes`.
  bool check_evicted = false;
  // Transcripts off, a store opening (FileLayout::keep_transcripts_off):
  // each transcript is kept as an evicted reference to its items.
  bool keep_transcripts_off = false;
};
Result<snapshot::SnapshotHeader> LoadSnapshot(
    io::FileSystem& fs, const std::string& path, StoreState* state,
    FileLogContext* context, SnapshotLoadNotes* notes = nullptr,
    const SnapshotLoadOptions& options = {});

// One item of a snapshot chunk from `in`: its tag byte, then its body
// (varint32 length, bytes). Corruption names the part that is short.
Status ReadSnapshotItem(record::ByteReader& in, uint8_t* tag,
                        std::string_view* body);

// The sealed parts snapshot `path` refers to (decisions 0027 and 0030, in
// older snapshots and parts files), in order: number and kind of the file
// each lies in, offset, length, CRC and entries; file unset. Reads the
// snapshot's items only.
Result<std::vector<TranscriptSealed::Part>> SnapshotReferredParts(
    io::FileSystem& fs, const std::string& path);
// The same, summed by file: number -> bytes of the parts referred to there.
Result<std::map<uint64_t, uint64_t>> SnapshotReferences(
    io::FileSystem& fs, const std::string& path);

}  // namespace acpstore::engine

#endif  // ACPSTORE_ENGINE_FILE_SNAPSHOT_H_
