// Transcripts out of memory: reading their items back, spill files. See
// transcript_ref.h.

#include "engine/transcript_ref.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "base/coding.h"
#include "base/crc32c.h"
#include "base/function_ref.h"
#include "base/uuid.h"
#include "engine/file_snapshot.h"
#include "snapshot/snapshot_format.h"

namespace acpstore::engine {
namespace {

namespace item = snapshot_item;

// Entries items are cut at about this size, like the snapshot's chunks.
constexpr size_t kEntriesItemTarget = 1 << 20;

Status ReadBack(const TranscriptRef& ref, std::string_view what) {
  return Status::IoError("transcript could not be read back from " +
                         ref.file->path() + ": " + std::string(what))
      .With("path", ref.file->path());
}

}  // namespace

EventSeq TranscriptSealed::last_seq() const {
  EventSeq seq = 0;
  for (const Part& p : parts) seq = std::max(seq, p.last_seq);
  return seq;
}

Status ReadSealedPart(const TranscriptSealed::Part& p, std::string* body) {
  body->resize(p.length);
  Result<std::string_view> got =
      p.file->ReadAt(p.offset, p.length, body->data());
  auto failed = [&](std::string_view what) {
    const std::string path = p.file->path();
    return Status::IoError("sealed transcript entries could not be read " +
                           ("back from " + path) + ": " + std::string(what))
        .With("path", path);
  };
  if (!got.ok()) return failed(got.error().message());
  if (got->size() != p.length) return failed("short read");
  if (got->data() != body->data()) body->assign(*got);
  if (base::crc32c::Value(body->data(), body->size()) != p.crc) {
    return Status::DataLoss("sealed transcript entries read back from " +
                            p.file->path() + " do not match their checksum")
        .With("path", p.file->path())
        .With(kDamagedEntriesEnd,
              static_cast<int64_t>(p.first_index + p.count));
  }
  return Status::OK();
}

Status DecodeSealedPart(const TranscriptSealed::Part& p, std::string_view body,
                        std::vector<transcript::Entry>* out) {
  uint32_t n = 0;
  if (!base::GetVarint32(&body, &n) || n != p.count) {
    return Status::DataLoss("sealed transcript entries: wrong count");
  }
  EventSeq last_seq = 0;
  for (uint32_t i = 0; i < n; ++i) {
    transcript::Entry e;
    ACPSTORE_RETURN_IF_ERROR(transcript::Transcript::DecodeEntry(&body, &e));
    last_seq = std::max(last_seq, e.last_seq);
    out->push_back(std::move(e));
  }
  if (!body.empty()) {
    return Status::DataLoss("trailing bytes in sealed transcript entries");
  }
  // Reads of the entries changed after a seq trust it (decision 0027: a
  // reference item carries it beside the CRC-checked bytes).
  if (last_seq != p.last_seq) {
    return Status::DataLoss("sealed transcript entries: wrong highest seq");
  }
  return Status::OK();
}

void EncodeSealedRef(const transcript::Transcript& t,
                     const TranscriptSealed::Part& part, std::string* out) {
  base::PutVarint64(out, part.snapshot);
  base::PutVarint64(out, part.offset);
  base::PutVarint32(out, part.length);
  base::PutFixed32(out, part.crc);
  base::PutVarint64(out, part.first_index);
  base::PutVarint32(out, part.count);
  base::PutVarint64(out, part.last_seq);
  for (uint64_t i = part.first_index; i < part.first_index + part.count; ++i) {
    base::PutVarint32(out, t.sealed_entry_bytes(i));
  }
}

Status DecodeSealedRef(std::string_view body, SealedRefItem* out) {
  TranscriptSealed::Part& p = out->part;
  auto bad = [](std::string_view what) {
    return Status::Corruption("sealed transcript reference: " +
                              std::string(what));
  };
  if (!base::GetVarint64(&body, &p.snapshot) ||
      !base::GetVarint64(&body, &p.offset) ||
      !base::GetVarint32(&body, &p.length) || body.size() < 4) {
    return bad("cut short");
  }
  p.crc = base::DecodeFixed32(body.data());
  body.remove_prefix(4);
  if (!base::GetVarint64(&body, &p.first_index) ||
      !base::GetVarint32(&body, &p.count) ||
      !base::GetVarint64(&body, &p.last_seq)) {
    return bad("cut short");
  }
  if (p.snapshot == 0 || p.first_index == 0 || p.count == 0 ||
      p.length == 0) {
    return bad("names no snapshot, entry or byte");
  }
  // Each size takes at least a byte: a count past the body is damage, not
  // an allocation.
  if (p.count > body.size()) return bad("more entries than sizes");
  out->entry_bytes.clear();
  out->entry_bytes.reserve(p.count);
  for (uint32_t i = 0; i < p.count; ++i) {
    uint32_t b = 0;
    if (!base::GetVarint32(&body, &b)) return bad("entry sizes cut short");
    out->entry_bytes.push_back(b);
  }
  if (!body.empty()) return bad("trailing bytes");
  return Status::OK();
}

TranscriptSealed::Part PartOfItem(const TranscriptRef& ref,
                                  const TranscriptRef::Item& it) {
  TranscriptSealed::Part p;
  const bool elsewhere = it.elsewhere != nullptr;
  p.file = elsewhere ? it.elsewhere : ref.file;
  p.snapshot = elsewhere ? it.elsewhere_snapshot : ref.snapshot;
  p.parts_file = elsewhere && it.elsewhere_parts_file;
  p.offset = it.offset;
  p.length = it.length;
  p.crc = it.own_crc;
  return p;
}

TranscriptRef::Item ElsewhereItem(uint8_t tag,
                                  const TranscriptSealed::Part& p) {
  TranscriptRef::Item it{tag, p.offset, p.length};
  it.elsewhere = p.file;
  it.own_crc = p.crc;
  it.elsewhere_snapshot = p.snapshot;
  it.elsewhere_parts_file = p.parts_file;
  return it;
}

void EncodeEvictedRef(const EvictedRef& ref, std::string* out) {
  base::PutVarint64(out, ref.bytes);
  base::PutVarint64(out, ref.folded_seq);
  out->push_back(ref.complete ? 1 : 0);
  base::PutVarint32(out, static_cast<uint32_t>(ref.items.size()));
  for (const EvictedRef::Item& it : ref.items) {
    out->push_back(static_cast<char>(it.tag));
    out->push_back(it.part.parts_file ? 1 : 0);
    base::PutVarint64(out, it.part.snapshot);
    base::PutVarint64(out, it.part.offset);
    base::PutVarint32(out, it.part.length);
    base::PutFixed32(out, it.part.crc);
  }
}

Status DecodeEvictedRef(std::string_view body, EvictedRef* out) {
  auto bad = [](std::string_view what) {
    return Status::Corruption("evicted transcript reference: " +
                              std::string(what));
  };
  uint32_t n = 0;
  if (!base::GetVarint64(&body, &out->bytes) ||
      !base::GetVarint64(&body, &out->folded_seq) || body.empty()) {
    return bad("cut short");
  }
  if (static_cast<uint8_t>(body[0]) > 1) return bad("complete is not 0 or 1");
  out->complete = body[0] == 1;
  body.remove_prefix(1);
  if (!base::GetVarint32(&body, &n)) return bad("cut short");
  // Each item takes at least 9 bytes: a count past the body is damage, not
  // an allocation.
  if (n == 0 || n > body.size() / 9) return bad("impossible item count");
  out->items.clear();
  out->items.reserve(n);
  for (uint32_t i = 0; i < n; ++i) {
    EvictedRef::Item it;
    if (body.size() < 2) return bad("cut short");
    it.tag = static_cast<uint8_t>(body[0]);
    const uint8_t kind = static_cast<uint8_t>(body[1]);
    body.remove_prefix(2);
    const uint8_t want = i == 0 ? snapshot_item::kTranscriptHead
                                : snapshot_item::kTranscriptEntries;
    if (it.tag != want) return bad("items are not a head, then entries");
    if (kind > 1) return bad("a file kind other than 0 or 1");
    it.part.parts_file = kind == 1;
    if (!base::GetVarint64(&body, &it.part.snapshot) ||
        !base::GetVarint64(&body, &it.part.offset) ||
        !base::GetVarint32(&body, &it.part.length) || body.size() < 4) {
      return bad("cut short");
    }
    it.part.crc = base::DecodeFixed32(body.data());
    body.remove_prefix(4);
    if (it.part.snapshot == 0 || it.part.length == 0) {
      return bad("an item names no file or no byte");
    }
    out->items.push_back(std::move(it));
  }
  if (!body.empty()) return bad("trailing bytes");
  return Status::OK();
}

std::shared_ptr<TranscriptRef> RefOfEvicted(const EvictedRef& evicted) {
  auto ref = std::make_shared<TranscriptRef>();
  // Every item lies elsewhere; `file` only names the transcript in
  // messages, `crc` covers no body.
  ref->file = evicted.items.front().part.file;
  ref->bytes = evicted.bytes;
  ref->folded_seq = evicted.folded_seq;
  ref->complete = evicted.complete;
  for (const EvictedRef::Item& e : evicted.items) {
    ref->items.push_back(ElsewhereItem(e.tag, e.part));
  }
  return ref;
}

namespace {

// Entries [from, end) (held ones, at(i) is entry i) as kTranscriptEntries
// bodies of ~kEntriesItemTarget; calls item(body, first index, count, last
// seq). Each body is encoded in *scratch once, behind room for its count
// (a varint written into the room's tail when the group closes), so it is
// never copied to put the count in front. `body` lies in *scratch and is
// valid only during the call.
Status GroupEntries(
    base::FunctionRef<const transcript::Entry&(uint64_t)> at, uint64_t from,
    uint64_t end, std::string* scratch,
    const std::function<Status(std::string_view body, uint64_t first,
                               uint32_t n, EventSeq last_seq)>& item) {
  constexpr size_t kRoom = base::kMaxVarint32Bytes;
  scratch->assign(kRoom, '\0');
  uint32_t n = 0;
  uint64_t first = from;
  EventSeq last_seq = 0;
  auto flush = [&]() -> Status {
    if (n == 0) return Status::OK();
    std::string count;
    base::PutVarint32(&count, n);
    const size_t begin = kRoom - count.size();
    scratch->replace(begin, count.size(), count);
    const std::string_view group{*scratch};
    Status s = item(group.substr(begin), first, n, last_seq);
    scratch->resize(kRoom);
    first += n;
    n = 0;
    last_seq = 0;
    return s;
  };
  for (uint64_t i = from; i < end; ++i) {
    const transcript::Entry& e = at(i);
    transcript::Transcript::EncodeEntry(e, scratch);
    last_seq = std::max(last_seq, e.last_seq);
    ++n;
    if (scratch->size() - kRoom >= kEntriesItemTarget) {
      ACPSTORE_RETURN_IF_ERROR(flush());
    }
  }
  return flush();
}

// Scratch kept between spill writes up to this capacity (one entries
// item and then some); a larger one (a single entry may reach 48 MiB) is
// given back.
constexpr size_t kKeptScratch = 4 * kEntriesItemTarget;

void TrimScratch(std::string* s) {
  if (s->capacity() > kKeptScratch) std::string().swap(*s);
}

// Whether EncodeTranscriptItems copies part `p` of t's sealed prefix (not
// dropped by the cap, not referred to), and whether it must cut it.
struct SealedCopy {
  bool copied = false;
  bool cut = false;
};
SealedCopy CopyOf(const transcript::Transcript& t,
                  const TranscriptSealed::Part& p, const SealedRefs* refs,
                  std::optional<TranscriptSealed::Part>* referred) {
  referred->reset();
  if (p.first_index + p.count <= t.first_index()) return {};  // dropped
  if (refs != nullptr && p.first_index >= t.first_index()) {
    *referred = refs->refer(p);
    if (*referred) return {};
  }
  return {true, p.first_index < t.first_index()};
}

}  // namespace

Status CheckSealedCopies(const transcript::Transcript& t,
                         const TranscriptSealed* sealed,
                         const SealedRefs* refs) {
  if (t.held_index() <= t.first_index() || sealed == nullptr) {
    return Status::OK();
  }
  std::string raw;
  std::vector<transcript::Entry> entries;
  std::optional<TranscriptSealed::Part> referred;
  for (const TranscriptSealed::Part& p : sealed->parts) {
    const SealedCopy copy = CopyOf(t, p, refs, &referred);
    if (!copy.copied) continue;
    ACPSTORE_RETURN_IF_ERROR(ReadSealedPart(p, &raw));
    if (copy.cut) {
      entries.clear();
      ACPSTORE_RETURN_IF_ERROR(DecodeSealedPart(p, raw, &entries));
    }
  }
  return Status::OK();
}

Status EncodeTranscriptItems(
    const transcript::Transcript& t, const TranscriptSealed* sealed,
    const std::function<Status(uint8_t tag, std::string_view body)>& add,
    std::vector<std::pair<size_t, TranscriptSealed::Part>>* moved,
    const SealedRefs* refs) {
  std::string body;
  t.EncodeHead(&body);
  ACPSTORE_RETURN_IF_ERROR(add(item::kTranscriptHead, body));
  size_t ordinal = 1;
  auto add_sealed = [&](std::string_view item_body,
                        TranscriptSealed::Part part) -> Status {
    ACPSTORE_RETURN_IF_ERROR(add(item::kTranscriptEntries, item_body));
    if (moved != nullptr) {
      part.file = nullptr;
      part.offset = 0;
      part.parts_file = false;  // its new home is the snapshot
      moved->emplace_back(ordinal, std::move(part));
    }
    ++ordinal;
    return Status::OK();
  };
  if (t.held_index() > t.first_index()) {
    if (sealed == nullptr) {
      return Status::Internal("a sealed transcript without its sealed part");
    }
    // Decision 0021: the sealed items as they are (CRC checked), no
    // decode, no re-encode; only a part the cap cut into is rewritten.
    std::string raw;
    std::optional<TranscriptSealed::Part> referred;
    for (const TranscriptSealed::Part& p : sealed->parts) {
      const SealedCopy copy = CopyOf(t, p, refs, &referred);
      if (referred) {
        // Decision 0027: the bytes stay where they are, durably.
        body.clear();
        EncodeSealedRef(t, *referred, &body);
        ACPSTORE_RETURN_IF_ERROR(refs->add_ref(*referred, body));
        if (moved != nullptr) moved->emplace_back(kReferred, *referred);
        continue;
      }
      if (!copy.copied) continue;  // dropped by the cap
      ACPSTORE_RETURN_IF_ERROR(ReadSealedPart(p, &raw));
      if (!copy.cut) {
        ACPSTORE_RETURN_IF_ERROR(add_sealed(raw, p));
        continue;
      }
      std::vector<transcript::Entry> entries;
      ACPSTORE_RETURN_IF_ERROR(DecodeSealedPart(p, raw, &entries));
      const uint64_t skip = t.first_index() - p.first_index;
      body.clear();
      base::PutVarint32(&body, static_cast<uint32_t>(entries.size() - skip));
      TranscriptSealed::Part cut;
      cut.first_index = t.first_index();
      cut.count = static_cast<uint32_t>(entries.size() - skip);
      for (size_t i = skip; i < entries.size(); ++i) {
        transcript::Transcript::EncodeEntry(entries[i], &body);
        cut.last_seq = std::max(cut.last_seq, entries[i].last_seq);
      }
      cut.length = static_cast<uint32_t>(body.size());
      cut.crc = base::crc32c::Value(body.data(), body.size());
      ACPSTORE_RETURN_IF_ERROR(add_sealed(body, std::move(cut)));
    }
  }
  // The held entries, in groups up to ~1 MiB (one entry may be larger: a
  // message is capped by max_bytes, at most 48 MiB, under the 64 MiB chunk
  // cap).
  std::string scratch;
  return GroupEntries(
      [&t](uint64_t i) -> const transcript::Entry& { return t.at(i); },
      t.held_index(), t.end_index(), &scratch,
      [&](std::string_view item_body, uint64_t, uint32_t, EventSeq) {
        return add(item::kTranscriptEntries, item_body);
      });
}

Status LoadSealed(const TranscriptSealed& sealed, transcript::Transcript* t) {
  std::vector<transcript::Entry> entries;
  std::vector<transcript::Entry> part;
  std::string raw;
  uint64_t next = 0;
  for (const TranscriptSealed::Part& p : sealed.parts) {
    if (next != 0 && p.first_index != next) {
      return Status::Internal("sealed transcript parts are not contiguous");
    }
    next = p.first_index + p.count;
    if (next <= t->first_index()) continue;  // dropped by the cap since
    ACPSTORE_RETURN_IF_ERROR(ReadSealedPart(p, &raw));
    part.clear();
    ACPSTORE_RETURN_IF_ERROR(DecodeSealedPart(p, raw, &part));
    for (size_t i = 0; i < part.size(); ++i) {
      if (p.first_index + i >= t->first_index()) {
        entries.push_back(std::move(part[i]));
      }
    }
  }
  if (next != t->held_index()) {
    return Status::Internal("sealed transcript parts do not reach its tail");
  }
  return t->Unseal(std::move(entries));
}

Status ReadTranscriptItems(
    const TranscriptRef& ref,
    const std::function<Status(uint8_t tag, std::string_view body)>& visit) {
  // Read everything first: nothing is handed out before the CRC matched.
  std::vector<std::string> bodies(ref.items.size());
  uint32_t crc = 0;
  for (size_t i = 0; i < ref.items.size(); ++i) {
    const TranscriptRef::Item& it = ref.items[i];
    std::string& body = bodies[i];
    if (it.elsewhere != nullptr) {
      // Decision 0027: a sealed part in an older snapshot, checked alone
      // (decision 0033: any item of an evicted transcript referred to).
      TranscriptSealed::Part p;
      p.file = it.elsewhere;
      p.offset = it.offset;
      p.length = it.length;
      p.crc = it.own_crc;
      ACPSTORE_RETURN_IF_ERROR(ReadSealedPart(p, &body));
      continue;
    }
    body.resize(it.length);
    Result<std::string_view> got = ref.file->ReadAt(it.offset, it.length,
                                                    body.data());
    if (!got.ok()) return ReadBack(ref, got.error().message());
    if (got->size() != it.length) return ReadBack(ref, "short read");
    if (got->data() != body.data()) body.assign(*got);
    crc = base::crc32c::Extend(crc, body.data(), body.size());
  }
  if (crc != ref.crc) {
    return Status::DataLoss("transcript read back from " + ref.file->path() +
                            " does not match its checksum")
        .With("path", ref.file->path());
  }
  for (size_t i = 0; i < ref.items.size(); ++i) {
    ACPSTORE_RETURN_IF_ERROR(visit(ref.items[i].tag, bodies[i]));
  }
  return Status::OK();
}

Status LoadTranscript(const TranscriptRef& ref, transcript::Transcript* out,
                      std::shared_ptr<const TranscriptSealed>* sealed) {
  bool head = false;
  // Decision 0027: each entries item as a part, should it stay sealed.
  std::vector<TranscriptSealed::Part> parts;
  size_t item_index = 0;
  Status s = ReadTranscriptItems(
      ref, [&](uint8_t tag, std::string_view body) -> Status {
        const TranscriptRef::Item& it = ref.items[item_index++];
        if (sealed != nullptr && tag == item::kTranscriptEntries) {
          TranscriptSealed::Part p = PartOfItem(ref, it);
          p.first_index = out->end_index();
          parts.push_back(std::move(p));
        }
        if (tag == item::kTranscriptHead) {
          if (head) return Status::Corruption("two transcript heads");
          head = true;
          return transcript::Transcript::DecodeHead(body, out);
        }
        if (tag != item::kTranscriptEntries || !head) {
          return Status::Corruption("transcript items out of order");
        }
        uint32_t n = 0;
        if (!base::GetVarint32(&body, &n)) {
          return Status::Corruption("transcript entries cut short");
        }
        for (uint32_t i = 0; i < n; ++i) {
          transcript::Entry e;
          ACPSTORE_RETURN_IF_ERROR(
              transcript::Transcript::DecodeEntry(&body, &e));
          if (out->size() >= out->expected_entries()) {
            return Status::Corruption(
                "more transcript entries than its head says");
          }
          if (!parts.empty()) {
            parts.back().last_seq = std::max(parts.back().last_seq, e.last_seq);
          }
          out->AddDecoded(std::move(e));
        }
        if (!parts.empty() && tag == item::kTranscriptEntries) {
          parts.back().count =
              static_cast<uint32_t>(out->end_index() - parts.back().first_index);
        }
        if (!body.empty()) {
          return Status::Corruption("trailing bytes in transcript entries");
        }
        return Status::OK();
      });
  if (!s.ok()) return s;
  if (sealed != nullptr) {
    sealed->reset();
    const uint64_t end = out->sealable_end();
    auto kept = std::make_shared<TranscriptSealed>();
    for (TranscriptSealed::Part& p : parts) {
      if (p.snapshot == 0 || p.count == 0 || p.first_index + p.count > end) {
        break;
      }
      kept->parts.push_back(std::move(p));
    }
    if (!kept->parts.empty()) {
      const TranscriptSealed::Part& last = kept->parts.back();
      out->Seal(last.first_index + last.count);
      *sealed = std::move(kept);
    }
  }
  if (!head || out->size() != out->expected_entries() ||
      out->bytes() != ref.bytes || out->folded_seq() != ref.folded_seq ||
      out->complete() != ref.complete) {
    return Status::DataLoss("transcript read back from " + ref.file->path() +
                            " is not the one that was written");
  }
  return Status::OK();
}

// ---------------------------------------------------------------- builder

TranscriptRefBuilder::TranscriptRefBuilder(
    std::shared_ptr<const io::RandomAccessFile> file,
    const transcript::Transcript& head)
    : ref_(std::make_shared<TranscriptRef>()) {
  ref_->file = std::move(file);
  ref_->bytes = head.bytes();
  ref_->folded_seq = head.folded_seq();
  ref_->complete = head.complete();
}

TranscriptRefBuilder::TranscriptRefBuilder(
    std::shared_ptr<const io::RandomAccessFile> file, const TranscriptRef& like)
    : ref_(std::make_shared<TranscriptRef>()) {
  ref_->file = std::move(file);
  ref_->bytes = like.bytes;
  ref_->folded_seq = like.folded_seq;
  ref_->complete = like.complete;
}

void TranscriptRefBuilder::Add(uint8_t tag, std::string_view body,
                               uint64_t offset) {
  TranscriptRef::Item it{tag, offset, static_cast<uint32_t>(body.size())};
  it.own_crc = base::crc32c::Value(body.data(), body.size());
  ref_->items.push_back(std::move(it));
  ref_->crc = base::crc32c::Extend(ref_->crc, body.data(), body.size());
}

std::shared_ptr<const TranscriptRef> TranscriptRefBuilder::Finish() {
  return std::move(ref_);
}

// ------------------------------------------------------------------ spill

Result<std::unique_ptr<TranscriptSpill>> TranscriptSpill::Create(
    io::FileSystem& fs, const std::string& snapshot_dir) {
  // Snapshot number 0 is never written (numbers start at 1); the temp
  // name makes RemoveTempFiles delete a file a crash left behind.
  std::string path = io::JoinPath(
      snapshot_dir, std::string(snapshot::kNumberDigits, '0') +
                        std::string(snapshot::kTempInfix) +
                        base::RandomHex128());
  ACPSTORE_ASSIGN_OR_RETURN(std::unique_ptr<io::WritableFile> out,
                            fs.CreateNew(path));
  Result<std::unique_ptr<io::RandomAccessFile>> in = fs.OpenReadable(path);
  if (!in.ok()) {
    out.reset();
    (void)fs.Remove(path);
    return in.error();
  }
  return std::unique_ptr<TranscriptSpill>(
      new TranscriptSpill(fs, snapshot_dir, std::move(path), std::move(out),
                          std::move(*in)));
}

TranscriptSpill::~TranscriptSpill() {
  // Unpublished: scratch. Open handles keep it readable (POSIX) for the
  // references still into it; a failed remove leaves a temp file the
  // next open deletes.
  if (!published_) (void)fs_.Remove(path_);
}

Status TranscriptSpill::Publish(uint64_t number) {
  if (published_) return Status::Internal("a spill file published twice");
  ACPSTORE_RETURN_IF_ERROR(out_->Sync());
  ACPSTORE_RETURN_IF_ERROR(
      fs_.Rename(path_, io::JoinPath(dir_, snapshot::PartsFileName(number))));
  published_ = true;
  // The name must be durable before a snapshot that refers to it is:
  // otherwise a power cut could keep the snapshot and lose the name.
  return fs_.SyncDir(dir_);
}

Result<std::vector<TranscriptSealed::Part>> TranscriptSpill::WriteSealed(
    uint64_t first_index,
    const std::vector<std::shared_ptr<const transcript::Entry>>& entries) {
  std::vector<TranscriptSealed::Part> parts;
  // Each item goes to the file from where it was encoded: no gathering
  // copy (a sealed part is usually one item; an append is one writev).
  Status s = GroupEntries(
      [&](uint64_t i) -> const transcript::Entry& {
        return *entries[i - first_index];
      },
      first_index, first_index + entries.size(), &scratch_,
      [&](std::string_view body, uint64_t first, uint32_t n,
          EventSeq last_seq) -> Status {
        TranscriptSealed::Part p;
        p.file = in_;
        p.offset = out_->size();
        p.length = static_cast<uint32_t>(body.size());
        p.crc = base::crc32c::Value(body.data(), body.size());
        p.first_index = first;
        p.count = n;
        p.last_seq = last_seq;
        ACPSTORE_RETURN_IF_ERROR(out_->Append(body));
        parts.push_back(std::move(p));
        return Status::OK();
      });
  TrimScratch(&scratch_);
  if (!s.ok()) return s;
  return parts;
}

Result<std::shared_ptr<const TranscriptRef>> TranscriptSpill::Write(
    const transcript::Transcript& t, const TranscriptSealed* sealed) {
  TranscriptRefBuilder ref(in_, t);
  // A cold transcript is often small: its items are gathered so that it
  // takes one write, in a buffer kept between calls.
  std::string& buf = gather_;
  buf.clear();
  std::vector<std::pair<uint8_t, std::pair<size_t, size_t>>> spans;
  Status s = EncodeTranscriptItems(
      t, sealed, [&](uint8_t tag, std::string_view body) -> Status {
        spans.push_back({tag, {buf.size(), body.size()}});
        buf.append(body);
        return Status::OK();
      });
  const uint64_t at = out_->size();
  if (s.ok()) s = out_->Append(buf);
  if (s.ok()) {
    const std::string_view written = buf;
    for (const auto& [tag, span] : spans) {
      ref.Add(tag, written.substr(span.first, span.second), at + span.first);
    }
  }
  TrimScratch(&buf);
  if (!s.ok()) return s;
  return ref.Finish();
}

}  // namespace acpstore::engine
