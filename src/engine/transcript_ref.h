// Transcripts out of memory (SPEC §4 and §13, decision 0018): where the
// encoded items of a transcript whose entries left memory can be read back.
//
// A TranscriptRef names the items (kTranscriptHead, then kTranscriptEntries;
// docs/recovery.md, "Snapshot contents") of one transcript in one file,
// which is either a snapshot (the one recovery loaded, or one the
// snapshotter wrote) or a spill file (TranscriptSpill: an unlinked scratch
// file the snapshot thread writes cold transcripts to between snapshots).
// The file handle is shared by every reference into that file, so the file
// stays readable after it is unlinked (an older snapshot deleted by the
// snapshotter, a spill file) until the last reference goes. The references
// move to each new snapshot, which copies the items without decoding them.
//
// Reading back verifies a CRC32C of the item bodies taken when they were
// written: a short read or an I/O error is kIoError, changed bytes are
// kDataLoss; never a different transcript.
//
// Thread-safety: a TranscriptRef is immutable once built and may be read
// from any thread; RandomAccessFile::ReadAt is a pread. TranscriptSpill
// is used by one thread at a time (the snapshot thread).

#ifndef ACPSTORE_ENGINE_TRANSCRIPT_REF_H_
#define ACPSTORE_ENGINE_TRANSCRIPT_REF_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "acpstore/records.h"
#include "acpstore/result.h"
#include "acpstore/status.h"
#include "io/file_system.h"
#include "transcript/transcript.h"

namespace acpstore::engine {

struct TranscriptRef {
  struct Item {
    uint8_t tag = 0;  // snapshot_item::kTranscriptHead / kTranscriptEntries
    uint64_t offset = 0;  // of the item's body in the file
    uint32_t length = 0;
    // Decision 0027: an entries item that a snapshot refers to in an older
    // snapshot (its sealed part) lies in that file (not covered by `crc`);
    // null for one in `file`.
    std::shared_ptr<const io::RandomAccessFile> elsewhere;
    // CRC32C of this item's body, wherever it lies (decision 0033: a
    // snapshot may refer to any item of an evicted transcript).
    uint32_t own_crc = 0;
    uint64_t elsewhere_snapshot = 0;  // the number of `elsewhere`
    bool elsewhere_parts_file = false;  // a parts file (decision 0030)
  };
  std::shared_ptr<const io::RandomAccessFile> file;
  std::vector<Item> items;  // the head first, then the entries in order
  uint32_t crc = 0;  // CRC32C of the bodies in `file`, in order
  // What the transcript's head says, for the state's counters and checks
  // without reading it back.
  uint64_t bytes = 0;  // Transcript::bytes()
  EventSeq folded_seq = 0;
  bool complete = true;
  // Decision 0027: the number of the published snapshot `file` is, or 0
  // (a spill file).
  uint64_t snapshot = 0;
};

// Decision 0021: the sealed prefix of a resident transcript
// (Transcript::held_index()): kTranscriptEntries items in a spill file or
// a snapshot, each with its own CRC32C. The parts are contiguous and end
// at held_index(); the first may begin below first_index() (the cap
// dropped entries after they were sealed: bookkeeping, no rewrite), and
// the reader skips those. Immutable once built; shared by copies.
struct TranscriptSealed {
  struct Part {
    std::shared_ptr<const io::RandomAccessFile> file;
    uint64_t offset = 0;  // of the item's body in the file
    uint32_t length = 0;
    uint32_t crc = 0;          // CRC32C of the body
    uint64_t first_index = 0;  // of its first entry
    uint32_t count = 0;        // entries in it
    EventSeq last_seq = 0;     // the highest Entry::last_seq in it
    // Decision 0027: the number of the published snapshot `file` is, or 0
    // (a spill file not published: not durable, never referred to).
    uint64_t snapshot = 0;
    // Decision 0030: `snapshot` numbers a parts file (a spill file
    // published with a snapshot), not a snapshot.
    bool parts_file = false;
  };
  std::vector<Part> parts;
  // The highest Entry::last_seq of every part: a read of the entries
  // changed after a seq at or above it need not read them.
  EventSeq last_seq() const;
};

// Where item `it` of `ref` lies, as a part of that file: the file, its
// number and kind (number 0: the unpublished spill file, or `ref.file`
// before it is published), offset, length and the item's CRC32C. The
// entries fields (first index, count, last seq) are left unset.
TranscriptSealed::Part PartOfItem(const TranscriptRef& ref,
                                  const TranscriptRef::Item& it);
// The other way: an item (`tag`) lying in part `p`'s file, elsewhere than
// the reference's own, with the part's CRC32C.
TranscriptRef::Item ElsewhereItem(uint8_t tag, const TranscriptSealed::Part& p);

// Decision 0027: how a snapshot writes sealed parts that already lie in an
// older snapshot file (or, decision 0030, a parts file). refer(part): the
// part as the snapshot refers to it (its file's number and kind set), or
// nullopt to copy its bytes (a part the cap cut into is always copied);
// add_ref(that part, body): adds its reference item.
struct SealedRefs {
  std::function<std::optional<TranscriptSealed::Part>(
      const TranscriptSealed::Part&)>
      refer;
  std::function<Status(const TranscriptSealed::Part&, std::string_view body)>
      add_ref;
};

// The body of a kTranscriptSealedRef item for `part` of `t`
// (docs/recovery.md, "Snapshot contents").
void EncodeSealedRef(const transcript::Transcript& t,
                     const TranscriptSealed::Part& part, std::string* out);

// A decoded kTranscriptSealedRef item.
struct SealedRefItem {
  TranscriptSealed::Part part;  // file unset; snapshot set
  std::vector<uint32_t> entry_bytes;  // Entry::Bytes of each entry
};
Status DecodeSealedRef(std::string_view body, SealedRefItem* out);

// Decision 0033: an evicted transcript whose items all lie in files that
// stay (kept snapshots, parts files), as a snapshot refers to it instead
// of copying it: what its head says (for the state's counters without
// reading it back) and each item where it lies, the head first.
struct EvictedRef {
  struct Item {
    uint8_t tag = 0;  // snapshot_item::kTranscriptHead / kTranscriptEntries
    // snapshot (its number), parts_file, offset, length, crc; and file
    // once opened. The other fields are unused.
    TranscriptSealed::Part part;
  };
  uint64_t bytes = 0;  // Transcript::bytes()
  EventSeq folded_seq = 0;
  bool complete = true;
  std::vector<Item> items;
};

// The body of a kTranscriptEvictedRef item (docs/recovery.md, "Snapshot
// contents") and back; decoding checks the shape (a head first, then
// entries items; numbers, lengths and kinds that can be), not the files.
void EncodeEvictedRef(const EvictedRef& ref, std::string* out);
Status DecodeEvictedRef(std::string_view body, EvictedRef* out);

// The reference that reads an EvictedRef's items back (each item's file
// set): every item elsewhere, with its own CRC32C.
std::shared_ptr<TranscriptRef> RefOfEvicted(const EvictedRef& evicted);

// Reads one sealed part's body back and checks its length and CRC32C
// (kIoError on a short read, kDataLoss on changed bytes).
Status ReadSealedPart(const TranscriptSealed::Part& p, std::string* body);
// Decodes a part's body: exactly p.count entries (kDataLoss otherwise).
Status DecodeSealedPart(const TranscriptSealed::Part& p, std::string_view body,
                        std::vector<transcript::Entry>* out);

// Calls add(tag, body) for the head item, then for each entries item (at
// most ~1 MiB of entries each, one entry may be larger): the items a
// snapshot holds for `t`. With `sealed` (t's sealed prefix), its parts are
// read back (CRC checked) and passed on as they are, not decoded, except
// a part the cap dropped entries of (decoded, the kept ones re-encoded);
// `moved`, if given, gets each sealed item as a part (offset 0, file
// unset) with the ordinal of its add() call, for the caller to point at
// where the items landed. With `refs` (snapshots only, decision 0027), the
// parts refs->refer() picks are written as reference items and given to
// `moved` as they are, with ordinal kReferred.
inline constexpr size_t kReferred = static_cast<size_t>(-1);
Status EncodeTranscriptItems(
    const transcript::Transcript& t, const TranscriptSealed* sealed,
    const std::function<Status(uint8_t tag, std::string_view body)>& add,
    std::vector<std::pair<size_t, TranscriptSealed::Part>>* moved = nullptr,
    const SealedRefs* refs = nullptr);

// The detail of ReadSealedPart's kDataLoss that says one past the index of
// the part's last entry (decision 0034: once the cap dropped entries up to
// there, the transcript no longer holds the damage).
inline constexpr std::string_view kDamagedEntriesEnd = "entries_end";

// Decision 0034: reads back (CRC checked) the parts of `sealed` that
// EncodeTranscriptItems(t, sealed, ..., refs) would copy rather than refer
// to, decoding those it would cut, and adds nothing: kDataLoss before a
// caller has written a transcript it could not finish.
Status CheckSealedCopies(const transcript::Transcript& t,
                         const TranscriptSealed* sealed,
                         const SealedRefs* refs = nullptr);

// Reads the sealed entries of `t` back from `sealed` (CRC checked, those
// below t.first_index() skipped) and unseals them: `t` is then whole.
Status LoadSealed(const TranscriptSealed& sealed, transcript::Transcript* t);

// Reads every item of `ref` back and checks their CRC; calls
// visit(tag, body) for each once all of them verified.
Status ReadTranscriptItems(
    const TranscriptRef& ref,
    const std::function<Status(uint8_t tag, std::string_view body)>& visit);

// Reads `ref` back and decodes it into *out (a fresh transcript). With
// `sealed` (decision 0027), the entries items that lie in published
// snapshots and end before out->sealable_end() stay sealed there: *out
// holds the rest, and *sealed names them (null when none).
Status LoadTranscript(const TranscriptRef& ref, transcript::Transcript* out,
                      std::shared_ptr<const TranscriptSealed>* sealed =
                          nullptr);

// Builds a reference while a transcript's items are written to `file`:
// Add each item's tag, body and file offset, in order.
class TranscriptRefBuilder {
 public:
  TranscriptRefBuilder(std::shared_ptr<const io::RandomAccessFile> file,
                       const transcript::Transcript& head);
  TranscriptRefBuilder(std::shared_ptr<const io::RandomAccessFile> file,
                       const TranscriptRef& like);
  void Add(uint8_t tag, std::string_view body, uint64_t offset);
  std::shared_ptr<const TranscriptRef> Finish();

 private:
  std::shared_ptr<TranscriptRef> ref_;
};

// A scratch file of transcript items for the ones evicted between
// snapshots: created under a snapshot temp-file name (so a crash leaves
// nothing that the next open does not delete), removed when destroyed
// unless published; it stays readable while a reference into it does.
// Decision 0030: a snapshot may publish it as a parts file and refer to
// its sealed parts instead of copying them.
class TranscriptSpill {
 public:
  static Result<std::unique_ptr<TranscriptSpill>> Create(
      io::FileSystem& fs, const std::string& snapshot_dir);
  ~TranscriptSpill();
  TranscriptSpill(const TranscriptSpill&) = delete;
  TranscriptSpill& operator=(const TranscriptSpill&) = delete;
  // Appends `t`'s items and returns their reference. Not fsync'ed: the
  // journal and the snapshots hold the transcript durably; this file is
  // memory's overflow.
  // `sealed`: t's sealed prefix (decision 0021), copied as it is.
  Result<std::shared_ptr<const TranscriptRef>> Write(
      const transcript::Transcript& t, const TranscriptSealed* sealed);
  // Appends `entries`, indexes first_index onwards (a transcript's held
  // entries up to its sealable_end(), Transcript::ShareHeld), as
  // kTranscriptEntries items and returns them as sealed parts.
  Result<std::vector<TranscriptSealed::Part>> WriteSealed(
      uint64_t first_index,
      const std::vector<std::shared_ptr<const transcript::Entry>>& entries);
  uint64_t bytes() const { return out_->size(); }
  // The handle its parts and references read through.
  const io::RandomAccessFile* file() const { return in_.get(); }
  // Decision 0030: makes it parts file `number` of the snapshot directory:
  // fsync, rename, fsync of the directory. Nothing may be written to it
  // afterwards. On failure the caller drops it (its references stay
  // readable; a parts file left unreferenced goes with the next snapshot).
  Status Publish(uint64_t number);

 private:
  TranscriptSpill(io::FileSystem& fs, std::string dir, std::string path,
                  std::unique_ptr<io::WritableFile> out,
                  std::shared_ptr<const io::RandomAccessFile> in)
      : fs_(fs),
        dir_(std::move(dir)),
        path_(std::move(path)),
        out_(std::move(out)),
        in_(std::move(in)) {}
  io::FileSystem& fs_;
  const std::string dir_;
  const std::string path_;  // the temp name
  std::unique_ptr<io::WritableFile> out_;
  std::shared_ptr<const io::RandomAccessFile> in_;
  bool published_ = false;
  // Encoding buffers reused between writes, so that the snapshot thread
  // does not fault in fresh pages for every transcript it writes.
  std::string scratch_;  // WriteSealed's items
  std::string gather_;   // Write's items, gathered into one write
};

}  // namespace acpstore::engine

#endif  // ACPSTORE_ENGINE_TRANSCRIPT_REF_H_
