// File engine snapshots: capture, encode, load. See file_snapshot.h.

#include "engine/file_snapshot.h"

#include <algorithm>
#include <cstddef>
#include <deque>
#include <limits>
#include <memory>
#include <optional>
#include <variant>

#include "base/coding.h"
#include "base/crc32c.h"
#include "base/format_version.h"
#include "journal/format.h"
#include "record/byte_reader.h"
#include "record/record_codec.h"
#include "snapshot/snapshot_reader.h"
#include "snapshot/snapshot_writer.h"

namespace acpstore::engine {
namespace {

namespace item = snapshot_item;

// Data chunks are flushed once they reach this size.
constexpr size_t kChunkTarget = 1 << 20;

class ChunkBuilder {
 public:
  explicit ChunkBuilder(snapshot::SnapshotWriter* writer) : writer_(writer) {}

  // `body_offset`: where the body lands in the file.
  Status Add(uint8_t tag, std::string_view body,
             uint64_t* body_offset = nullptr) {
    // The chunk's data follows its header, after what the writer has.
    if (chunk_.empty()) data_at_ = writer_->bytes() + snapshot::kChunkHeaderSize;
    chunk_.push_back(static_cast<char>(tag));
    base::PutVarint32(&chunk_, static_cast<uint32_t>(body.size()));
    if (body_offset != nullptr) *body_offset = data_at_ + chunk_.size();
    chunk_.append(body);
    if (chunk_.size() >= kChunkTarget) return Flush();
    return Status::OK();
  }
  Status Flush() {
    if (chunk_.empty()) return Status::OK();
    Status s = writer_->Add(chunk_);
    chunk_.clear();
    return s;
  }

 private:
  snapshot::SnapshotWriter* const writer_;
  std::string chunk_;
  uint64_t data_at_ = 0;
};

void PutEntry(std::string* dst, const IndexEntry& e) {
  base::PutVarint32(dst, e.location.segment);
  base::PutVarint32(dst, e.location.offset);
  base::PutVarint32(dst, e.location.length);
  base::PutVarint32(dst, e.payload_bytes);
}

// Decision 0027: the files a snapshot refers to sealed parts in.
struct ReferPolicy {
  std::map<uint64_t, uint64_t> refer;     // number -> file size
  std::map<uint64_t, uint64_t>* referred;  // number -> bytes referred to
  // Decision 0030: the spill file published as parts file spill_number.
  const io::RandomAccessFile* spill = nullptr;
  uint64_t spill_number = 0;

  // The content version the snapshot is written with.
  uint32_t version = item::kVersion;

  // The number of the file `p` lies in, should this snapshot refer to it
  // (0: the spill file unpublished, never referred to).
  uint64_t NumberOf(const TranscriptSealed::Part& p) const {
    if (p.snapshot != 0) return p.snapshot;
    return spill != nullptr && p.file.get() == spill ? spill_number : 0;
  }
  // `p` as this snapshot refers to it (its file's number and kind set), or
  // nullopt to copy it.
  std::optional<TranscriptSealed::Part> Refer(
      const TranscriptSealed::Part& p) const {
    const uint64_t n = NumberOf(p);
    if (n == 0 || refer.count(n) == 0) return std::nullopt;
    TranscriptSealed::Part referred = p;
    if (p.snapshot == 0) {  // in the spill file, published (0030)
      referred.snapshot = n;
      referred.parts_file = true;
    }
    return referred;
  }
  // Decision 0033: an evicted transcript as this snapshot refers to it
  // (every item in a file it refers to, each with its number and kind),
  // or nullopt to copy it: one item elsewhere (the unpublished spill
  // file, a file not referable) and the whole is copied.
  std::optional<EvictedRef> ReferEvicted(const TranscriptRef& ref) const {
    EvictedRef out;
    out.bytes = ref.bytes;
    out.folded_seq = ref.folded_seq;
    out.complete = ref.complete;
    for (const TranscriptRef::Item& it : ref.items) {
      std::optional<TranscriptSealed::Part> referred =
          Refer(PartOfItem(ref, it));
      if (!referred) return std::nullopt;
      out.items.push_back(EvictedRef::Item{it.tag, std::move(*referred)});
    }
    if (out.items.empty()) return std::nullopt;
    return out;
  }
};

// The content version an item 11 (snapshot) or 12 (parts file) needs.
uint32_t VersionOfReference(const TranscriptSealed::Part& referred) {
  return referred.parts_file ? item::kVersionSealedPartsRef
                             : item::kVersionSealedRef;
}

// `damage` gets the kDataLoss of a transcript left out (decision 0034).
Status WriteSession(ChunkBuilder* out, const SessionImage& s,
                    std::shared_ptr<TranscriptRef>* ref_out,
                    std::shared_ptr<TranscriptSealed>* sealed_out,
                    const ReferPolicy* policy, Status* damage) {
  std::string body;
  record::EncodeSession(s.session, &body);
  ACPSTORE_RETURN_IF_ERROR(out->Add(item::kSession, body));

  body.clear();
  base::PutVarint64(&body, s.events.first_seq);
  base::PutVarint64(&body, s.events.last_seq);
  ACPSTORE_RETURN_IF_ERROR(out->Add(item::kEventRange, body));

  if (!s.events.pending.empty()) {
    return Status::Internal("snapshot image has unresolved pending events");
  }
  const std::vector<IndexEntry>& entries = s.events.durable;
  for (size_t at = 0; at < entries.size(); at += item::kEntriesPerIndexItem) {
    const size_t n =
        std::min<size_t>(item::kEntriesPerIndexItem, entries.size() - at);
    body.clear();
    base::PutVarint64(&body, s.events.first_seq + at);
    base::PutVarint32(&body, static_cast<uint32_t>(n));
    for (size_t i = at; i < at + n; ++i) PutEntry(&body, entries[i]);
    ACPSTORE_RETURN_IF_ERROR(out->Add(item::kEventIndex, body));
  }

  // Sorted here, on the snapshot thread, not while capturing under the
  // store lock.
  std::vector<std::pair<EventSeq, uint32_t>> ids = s.client_ids;
  std::sort(ids.begin(), ids.end());
  for (size_t at = 0; at < ids.size(); at += item::kEntriesPerIndexItem) {
    const size_t n =
        std::min<size_t>(item::kEntriesPerIndexItem, ids.size() - at);
    body.clear();
    base::PutVarint32(&body, static_cast<uint32_t>(n));
    EventSeq previous = 0;
    for (size_t i = at; i < at + n; ++i) {
      base::PutFixed32(&body, ids[i].second);
      base::PutVarint64(&body, ids[i].first - previous);
      previous = ids[i].first;
    }
    ACPSTORE_RETURN_IF_ERROR(out->Add(item::kClientIdTags, body));
  }
  for (const Pause& p : s.pauses) {
    body.clear();
    record::EncodePause(p, &body);
    ACPSTORE_RETURN_IF_ERROR(out->Add(item::kPause, body));
  }
  if (s.transcript || s.transcript_ref) {
    // Decision 0018: where the items land, for the reference that lets the
    // transcript leave memory (or move an evicted one's to this file).
    auto ref = std::make_shared<TranscriptRef>();
    std::vector<uint64_t> offsets;  // of each add() call's body
    auto add = [&](uint8_t tag, std::string_view item_body) -> Status {
      TranscriptRef::Item it{tag, 0, static_cast<uint32_t>(item_body.size())};
      it.own_crc = base::crc32c::Value(item_body.data(), item_body.size());
      ACPSTORE_RETURN_IF_ERROR(out->Add(tag, item_body, &it.offset));
      offsets.push_back(it.offset);
      ref->items.push_back(std::move(it));
      ref->crc = base::crc32c::Extend(ref->crc, item_body.data(), item_body.size());
      return Status::OK();
    };
    // Decision 0027: a sealed part in a kept snapshot stays there.
    SealedRefs sealed_refs;
    if (policy != nullptr) {
      sealed_refs.refer = [&](const TranscriptSealed::Part& p) {
        return policy->Refer(p);
      };
      sealed_refs.add_ref = [&](const TranscriptSealed::Part& p,
                                std::string_view item_body) -> Status {
        // The meta item, already written, must cover it: a reader would
        // refuse the snapshot otherwise.
        if (VersionOfReference(p) > policy->version) {
          return Status::Internal(
              "snapshot: a sealed part reference needs content version " +
              std::to_string(VersionOfReference(p)) + ", written as " +
              std::to_string(policy->version));
        }
        ACPSTORE_RETURN_IF_ERROR(
            out->Add(p.parts_file ? item::kTranscriptSealedPartsRef
                                  : item::kTranscriptSealedRef,
                     item_body));
        ref->items.push_back(ElsewhereItem(item::kTranscriptEntries, p));
        (*policy->referred)[p.snapshot] += p.length;
        return Status::OK();
      };
    }
    if (s.transcript) {
      // Decision 0034: the parts it copies are checked before its first
      // item: a damaged one leaves the session without a transcript here
      // rather than failing the snapshot (or, half written, the load).
      Status check = CheckSealedCopies(*s.transcript,
                                       s.transcript_sealed.get(),
                                       policy != nullptr ? &sealed_refs : nullptr);
      if (check.code() == StatusCode::kDataLoss) {
        *damage = std::move(check);
        return Status::OK();
      }
      ACPSTORE_RETURN_IF_ERROR(check);
      ref->bytes = s.transcript->bytes();
      ref->folded_seq = s.transcript->folded_seq();
      ref->complete = s.transcript->complete();
      // Decision 0021: the sealed prefix's items are copied, not
      // re-encoded; where they land becomes the prefix's new home.
      std::vector<std::pair<size_t, TranscriptSealed::Part>> moved;
      ACPSTORE_RETURN_IF_ERROR(EncodeTranscriptItems(
          *s.transcript, s.transcript_sealed.get(), add, &moved,
          policy != nullptr ? &sealed_refs : nullptr));
      if (!moved.empty() && sealed_out != nullptr) {
        auto sealed = std::make_shared<TranscriptSealed>();
        for (auto& [ordinal, part] : moved) {
          // Copied here: its file is set once published. Referred to:
          // stays as it is.
          if (ordinal != kReferred) part.offset = offsets[ordinal];
          sealed->parts.push_back(std::move(part));
        }
        *sealed_out = std::move(sealed);
      }
    } else if (std::optional<EvictedRef> evicted =
                   policy != nullptr
                       ? policy->ReferEvicted(*s.transcript_ref)
                       : std::nullopt) {
      // Decision 0033: every item stays where it is, durably; the snapshot
      // says where. Memory keeps a reference that names each item's file.
      if (policy->version < item::kVersionEvictedRef) {
        return Status::Internal(
            "snapshot: an evicted transcript reference needs content "
            "version " + std::to_string(item::kVersionEvictedRef) +
            ", written as " + std::to_string(policy->version));
      }
      body.clear();
      EncodeEvictedRef(*evicted, &body);
      ACPSTORE_RETURN_IF_ERROR(out->Add(item::kTranscriptEvictedRef, body));
      for (const EvictedRef::Item& it : evicted->items) {
        (*policy->referred)[it.part.snapshot] += it.part.length;
      }
      ref = RefOfEvicted(*evicted);  // its file set: it does not move here
    } else {
      // Copied from its file as it is (verified), not decoded.
      ref->bytes = s.transcript_ref->bytes;
      ref->folded_seq = s.transcript_ref->folded_seq;
      ref->complete = s.transcript_ref->complete;
      // Every item is read and checked before the first is added.
      Status read = ReadTranscriptItems(*s.transcript_ref, add);
      if (read.code() == StatusCode::kDataLoss) {
        *damage = std::move(read);
        return Status::OK();
      }
      ACPSTORE_RETURN_IF_ERROR(read);
    }
    if (ref_out != nullptr) *ref_out = std::move(ref);
  }
  return Status::OK();
}

// Loading: one session at a time, since its items follow it.
class Loader {
 public:
  Loader(io::FileSystem& fs, StoreState* state, FileLogContext* context,
         std::string path, uint64_t number,
         std::shared_ptr<const io::RandomAccessFile> file,
         const SnapshotLoadOptions& options)
      : fs_(fs),
        state_(state),
        context_(context),
        path_(std::move(path)),
        number_(number),
        file_(std::move(file)),
        salvage_(options.salvage),
        check_evicted_(options.check_evicted),
        keep_off_(options.keep_transcripts_off) {}

  const std::map<uint64_t, uint64_t>& referred() const { return referred_; }
  std::vector<Status>& damaged() { return damaged_; }

  // `offset`: the body's offset in its chunk; `file_offset`: in the file.
  Status Item(uint8_t tag, std::string_view body, uint64_t offset,
              uint64_t file_offset) {
    const uint64_t first = transcript_.end_index();
    if (file_ != nullptr && have_transcript_ &&
        tag == item::kTranscriptEntries) {
      NoteItem(tag, body, file_offset);
    }
    record::ByteReader in(body, offset);
    Status s = Dispatch(tag, &in);
    if (s.ok() && file_ != nullptr && tag == item::kTranscriptEntries) {
      // Decision 0027: entries before a reference item are a sealed part
      // (copied here); they stay sealed in this file.
      TranscriptSealed::Part p;
      p.file = file_;
      p.offset = file_offset;
      p.length = static_cast<uint32_t>(body.size());
      p.crc = base::crc32c::Value(body.data(), body.size());
      p.first_index = first;
      p.count = static_cast<uint32_t>(transcript_.end_index() - first);
      p.last_seq = entries_last_seq_;
      p.snapshot = number_;
      if (p.count > 0) parts_.push_back(std::move(p));
    }
    if (s.ok() && file_ != nullptr && tag == item::kTranscriptHead) {
      ref_ = std::make_shared<TranscriptRef>();
      ref_->file = file_;
      ref_->snapshot = number_;
      NoteItem(tag, body, file_offset);
    }
    if (s.ok() && !in.empty()) s = in.Corrupt("trailing bytes in an item");
    return s;
  }

  Status Finish() {
    ACPSTORE_RETURN_IF_ERROR(FinishSession());
    if (!saw_meta_) return Status::Corruption("snapshot has no meta item");
    if (sessions_ != expected_sessions_ || actions_ != expected_actions_) {
      return Status::Corruption("snapshot item counts disagree with its meta");
    }
    return Status::OK();
  }

 private:
  Status Dispatch(uint8_t tag, record::ByteReader* in) {
    if (!saw_meta_ && tag != item::kMeta) {
      return in->Corrupt("first item is not the meta item");
    }
    switch (tag) {
      case item::kMeta: {
        uint32_t version = 0;
        ACPSTORE_RETURN_IF_ERROR(in->Varint32("version", &version));
        if (version > item::kVersion) {
          return NewerFormat("snapshot content (meta item)", version,
                             item::kVersion);
        }
        if (version == 0) return in->Corrupt("snapshot content version 0");
        version_ = version;
        ACPSTORE_RETURN_IF_ERROR(in->Varint64("sessions", &expected_sessions_));
        ACPSTORE_RETURN_IF_ERROR(in->Varint64("actions", &expected_actions_));
        if (version >= 2) {
          // Version 1 stored ids, not tags: the state keeps its own key.
          std::string_view key;
          ACPSTORE_RETURN_IF_ERROR(in->Bytes("client id key", 16, &key));
          ACPSTORE_RETURN_IF_ERROR(state_->SetClientIdKey(
              ClientIdKey{base::DecodeFixed64(key.data()),
                          base::DecodeFixed64(key.data() + 8)}));
        }
        saw_meta_ = true;
        return Status::OK();
      }
      case item::kSession: {
        ACPSTORE_RETURN_IF_ERROR(FinishSession());
        Session session;
        ACPSTORE_RETURN_IF_ERROR(record::DecodeSession(in, &session));
        tenant_ = session.tenant_id;
        id_ = session.id;
        record::Mutation m;
        m.UpsertSession(std::move(session));
        ACPSTORE_RETURN_IF_ERROR(Applied(state_->Apply(std::move(m)), in));
        open_ = true;
        have_range_ = false;
        have_transcript_ = false;
        entries_.clear();
        client_ids_.clear();
        ++sessions_;
        return Status::OK();
      }
      case item::kEventRange: {
        if (!open_ || have_range_) return in->Corrupt("misplaced event range");
        ACPSTORE_RETURN_IF_ERROR(in->Varint64("first_seq", &first_seq_));
        ACPSTORE_RETURN_IF_ERROR(in->Varint64("last_seq", &last_seq_));
        if (first_seq_ == 0 || first_seq_ > last_seq_ + 1) {
          return in->Corrupt("impossible event range");
        }
        have_range_ = true;
        return Status::OK();
      }
      case item::kEventIndex: {
        if (!have_range_) return in->Corrupt("event index before its range");
        uint64_t start = 0;
        uint32_t n = 0;
        ACPSTORE_RETURN_IF_ERROR(in->Varint64("start seq", &start));
        ACPSTORE_RETURN_IF_ERROR(in->Varint32("entries", &n));
        if (start != first_seq_ + entries_.size() ||
            start + n > last_seq_ + 1) {
          return in->Corrupt("event index does not continue its range");
        }
        for (uint32_t i = 0; i < n; ++i) {
          IndexEntry e;
          ACPSTORE_RETURN_IF_ERROR(
              in->Varint32("segment", &e.location.segment));
          ACPSTORE_RETURN_IF_ERROR(in->Varint32("offset", &e.location.offset));
          ACPSTORE_RETURN_IF_ERROR(in->Varint32("length", &e.location.length));
          ACPSTORE_RETURN_IF_ERROR(
              in->Varint32("payload bytes", &e.payload_bytes));
          entries_.push_back(e);
        }
        return Status::OK();
      }
      case item::kClientIds: {
        if (!open_) return in->Corrupt("client ids outside a session");
        uint32_t n = 0;
        ACPSTORE_RETURN_IF_ERROR(in->Varint32("client ids", &n));
        for (uint32_t i = 0; i < n; ++i) {
          std::string id;
          uint64_t seq = 0;
          ACPSTORE_RETURN_IF_ERROR(in->String("client id", &id));
          ACPSTORE_RETURN_IF_ERROR(in->Varint64("client seq", &seq));
          client_ids_.emplace_back(seq, state_->ClientIdTagOf(id));
        }
        return Status::OK();
      }
      case item::kClientIdTags: {
        if (!open_) return in->Corrupt("client id tags outside a session");
        uint32_t n = 0;
        ACPSTORE_RETURN_IF_ERROR(in->Varint32("client id tags", &n));
        EventSeq seq = 0;
        for (uint32_t i = 0; i < n; ++i) {
          uint32_t tag = 0;
          uint64_t delta = 0;
          ACPSTORE_RETURN_IF_ERROR(in->Fixed32("client id tag", &tag));
          ACPSTORE_RETURN_IF_ERROR(in->Varint64("client seq delta", &delta));
          if (delta == 0 ||
              delta > std::numeric_limits<EventSeq>::max() - seq) {
            return in->Corrupt("client id seqs do not ascend");
          }
          seq += delta;
          client_ids_.emplace_back(seq, tag);
        }
        return Status::OK();
      }
      case item::kPause: {
        if (!open_) return in->Corrupt("pause outside a session");
        record::Mutation m;
        Pause p;
        ACPSTORE_RETURN_IF_ERROR(record::DecodePause(in, &p));
        m.UpsertPause(std::move(p));
        return Applied(state_->Apply(std::move(m)), in);
      }
      case item::kTranscriptHead: {
        if (!open_ || have_transcript_ || evicted_ != nullptr) {
          return in->Corrupt("misplaced transcript head");
        }
        std::string_view body;
        ACPSTORE_RETURN_IF_ERROR(
            in->Bytes("transcript head", in->rest().size(), &body));
        Status s = transcript::Transcript::DecodeHead(body, &transcript_);
        if (!s.ok()) return in->Corrupt(std::string(s.message()));
        have_transcript_ = true;
        return Status::OK();
      }
      case item::kTranscriptEntries: {
        if (!have_transcript_) {
          return in->Corrupt("transcript entries before their head");
        }
        if (transcript_damaged_) {  // rebuilt at the session's end
          std::string_view skipped;
          return in->Bytes("transcript entries", in->rest().size(), &skipped);
        }
        std::string_view rest = in->rest();
        uint32_t n = 0;
        if (!base::GetVarint32(&rest, &n)) {
          return in->Corrupt("transcript entries cut short");
        }
        entries_last_seq_ = 0;
        for (uint32_t i = 0; i < n; ++i) {
          transcript::Entry e;
          Status s = transcript::Transcript::DecodeEntry(&rest, &e);
          if (!s.ok()) return in->Corrupt(std::string(s.message()));
          if (transcript_.size() >= transcript_.expected_entries()) {
            return in->Corrupt("more transcript entries than its head says");
          }
          entries_last_seq_ = std::max(entries_last_seq_, e.last_seq);
          transcript_.AddDecoded(std::move(e));
        }
        std::string_view used;
        return in->Bytes("transcript entries",
                         in->rest().size() - rest.size(), &used);
      }
      case item::kTranscriptSealedRef:
        return SealedRef(in, /*parts_file=*/false);
      case item::kTranscriptSealedPartsRef:
        return SealedRef(in, /*parts_file=*/true);
      case item::kTranscriptEvictedRef:
        return EvictedItem(in);
      case item::kAction: {
        ACPSTORE_RETURN_IF_ERROR(FinishSession());
        record::Mutation m;
        Action a;
        ACPSTORE_RETURN_IF_ERROR(record::DecodeAction(in, &a));
        m.UpsertAction(std::move(a));
        ++actions_;
        return Applied(state_->Apply(std::move(m)), in);
      }
      default:
        return in->Corrupt("unknown snapshot item " + std::to_string(tag));
    }
  }

  // Decision 0027: a sealed part in an older snapshot of this directory;
  // decision 0030: in a parts file numbered below this snapshot.
  Status SealedRef(record::ByteReader* in, bool parts_file) {
    if (!have_transcript_) {
      return in->Corrupt("sealed transcript reference before its head");
    }
    if (version_ <
        (parts_file ? item::kVersionSealedPartsRef : item::kVersionSealedRef)) {
      return in->Corrupt("sealed transcript reference in content version " +
                         std::to_string(version_));
    }
    std::string_view body;
    ACPSTORE_RETURN_IF_ERROR(
        in->Bytes("sealed transcript reference", in->rest().size(), &body));
    SealedRefItem r;
    Status s = DecodeSealedRef(body, &r);
    if (!s.ok()) return in->Corrupt(std::string(s.message()));
    TranscriptSealed::Part& p = r.part;
    p.parts_file = parts_file;
    if (p.snapshot >= number_) {
      return in->Corrupt(std::string("sealed transcript reference to ") +
                         (parts_file ? "parts file " : "snapshot ") +
                         std::to_string(p.snapshot) +
                         ", not an older one");
    }
    if (!transcript_damaged_ &&
        (p.first_index != transcript_.end_index() ||
         transcript_.size() + p.count > transcript_.expected_entries())) {
      return in->Corrupt(
          "sealed transcript reference does not continue its entries");
    }
    bool usable = false;
    ACPSTORE_RETURN_IF_ERROR(ReferTo(&p, &usable));
    if (!usable) return Status::OK();  // salvage: rebuilt at the end
    if (file_ == nullptr) {
      // No budget (or an offline check): read the part back, CRC-checked,
      // and hold its entries; a damaged one costs only this transcript.
      if (transcript_damaged_) return Status::OK();
      std::vector<transcript::Entry> entries;
      Status read = ReadHeldPart(p, r.entry_bytes, &entries);
      if (CostsOnlyTheTranscript(read)) return Damaged(read);
      ACPSTORE_RETURN_IF_ERROR(read);
      for (transcript::Entry& e : entries) transcript_.AddDecoded(std::move(e));
      return Status::OK();
    }
    // Restored sealed: the part is not read (its CRC is checked when it
    // is: reads, the next snapshot that copies it, verify).
    transcript_.Seal(transcript_.end_index());
    for (uint32_t b : r.entry_bytes) transcript_.AddSealedDecoded(b);
    if (ref_ != nullptr) {
      ref_->items.push_back(ElsewhereItem(item::kTranscriptEntries, p));
    }
    parts_.push_back(p);
    sealed_parts_ = parts_.size();
    return Status::OK();
  }

  static Status ReadHeldPart(const TranscriptSealed::Part& p,
                             const std::vector<uint32_t>& entry_bytes,
                             std::vector<transcript::Entry>* entries) {
    std::string raw;
    ACPSTORE_RETURN_IF_ERROR(ReadSealedPart(p, &raw));
    ACPSTORE_RETURN_IF_ERROR(DecodeSealedPart(p, raw, entries));
    for (size_t i = 0; i < entries->size(); ++i) {
      if ((*entries)[i].Bytes() != entry_bytes[i]) {
        return Status::DataLoss("sealed transcript entries in " +
                                p.file->path() +
                                " differ from the reference to them")
            .With("path", p.file->path());
      }
    }
    return Status::OK();
  }

  // Decision 0034: the session's transcript read back from a referred
  // file does not match its checksum (or does not decode): noted, the
  // rest of its items skipped, and rebuilt from the session's retained
  // events when the session ends. The snapshot still loads: its sessions,
  // events and actions do not depend on those bytes.
  Status Damaged(const Status& s) {
    transcript_damaged_ = true;
    Status noted = s;
    if (noted.Detail("path") == nullptr) {
      if (const StatusDetail* d = s.Detail("referred_path")) {
        if (const auto* v = std::get_if<std::string>(&d->value)) {
          noted.With("path", *v);
        }
      }
    }
    noted.With("tenant", tenant_).With("session", id_);
    damaged_.push_back(std::move(noted));
    return Status::OK();
  }

  // Decision 0033: the session's whole transcript, evicted, in older
  // files. Each file is opened and its size checked against the items in
  // it; the items are read only without a budget (then decoded and held,
  // each CRC checked), as sealed parts are.
  Status EvictedItem(record::ByteReader* in) {
    if (!open_ || have_transcript_ || evicted_ != nullptr) {
      return in->Corrupt("misplaced evicted transcript reference");
    }
    if (version_ < item::kVersionEvictedRef) {
      return in->Corrupt("evicted transcript reference in content version " +
                         std::to_string(version_));
    }
    std::string_view body;
    ACPSTORE_RETURN_IF_ERROR(
        in->Bytes("evicted transcript reference", in->rest().size(), &body));
    EvictedRef r;
    Status s = DecodeEvictedRef(body, &r);
    if (!s.ok()) return in->Corrupt(std::string(s.message()));
    for (EvictedRef::Item& it : r.items) {
      if (it.part.snapshot >= number_) {
        return in->Corrupt(std::string("evicted transcript reference to ") +
                           (it.part.parts_file ? "parts file " : "snapshot ") +
                           std::to_string(it.part.snapshot) +
                           ", not an older one");
      }
      bool usable = false;
      ACPSTORE_RETURN_IF_ERROR(ReferTo(&it.part, &usable));
      if (!usable) return Status::OK();  // salvage: rebuilt at the end
    }
    evicted_ = RefOfEvicted(r);
    return Status::OK();
  }

  // Sets p->file to the referred file (Referred) and counts p as referred
  // to. In salvage mode a file that cannot hold it marks the transcript
  // damaged instead (decision 0034): *usable false, OK.
  Status ReferTo(TranscriptSealed::Part* p, bool* usable) {
    Result<std::shared_ptr<const io::RandomAccessFile>> referred = Referred(*p);
    if (!referred.ok() && salvage_) {
      *usable = false;
      return Damaged(referred.error());
    }
    ACPSTORE_ASSIGN_OR_RETURN(p->file, std::move(referred));
    referred_[p->snapshot] += p->length;
    *usable = true;
    return Status::OK();
  }

  // Whether a failed read of a transcript's bytes in a referred file is
  // damage to that transcript alone (decision 0034): a checksum or decode
  // mismatch always, any failure in salvage mode.
  bool CostsOnlyTheTranscript(const Status& read) const {
    return read.code() == StatusCode::kDataLoss || (!read.ok() && salvage_);
  }

  // The referred file, opened once (shared by every part in it), after
  // checking that it holds the part.
  Result<std::shared_ptr<const io::RandomAccessFile>> Referred(
      const TranscriptSealed::Part& p) {
    const char* kind = p.parts_file ? "parts file " : "snapshot ";
    auto it = files_.find(p.snapshot);
    if (it != files_.end() && it->second.parts_file != p.parts_file) {
      return Status::Corruption(
          "sealed transcript references name " + std::to_string(p.snapshot) +
          " both as a snapshot and as a parts file");
    }
    if (it == files_.end()) {
      const std::string path = io::JoinPath(
          io::DirName(path_), p.parts_file
                                  ? snapshot::PartsFileName(p.snapshot)
                                  : snapshot::SnapshotFileName(p.snapshot));
      RefFile f;
      f.parts_file = p.parts_file;
      Result<uint64_t> size = fs_.FileSize(path);
      if (!size.ok()) {
        return Status::Corruption(kind + path +
                                  ", which this one refers to, cannot be "
                                  "opened: " + std::string(size.error().message()))
            .With("referred_path", path);
      }
      ACPSTORE_ASSIGN_OR_RETURN(std::unique_ptr<io::RandomAccessFile> opened,
                                fs_.OpenReadable(path));
      f.file = std::move(opened);
      f.size = *size;
      it = files_.emplace(p.snapshot, std::move(f)).first;
    }
    if (p.offset > it->second.size ||
        p.length > it->second.size - p.offset) {
      const std::string& path = it->second.file->path();
      return Status::Corruption(kind + path + " is " +
                                std::to_string(it->second.size) +
                                " bytes, too short for the sealed transcript "
                                "part this one refers to at offset " +
                                std::to_string(p.offset))
          .With("referred_path", path);
    }
    return it->second.file;
  }

  void NoteItem(uint8_t tag, std::string_view body, uint64_t file_offset) {
    if (ref_ == nullptr) return;
    TranscriptRef::Item it{tag, file_offset,
                           static_cast<uint32_t>(body.size())};
    it.own_crc = base::crc32c::Value(body.data(), body.size());
    ref_->items.push_back(std::move(it));
    ref_->crc = base::crc32c::Extend(ref_->crc, body.data(), body.size());
  }

  Status Applied(const Status& s, record::ByteReader* in) {
    if (s.ok()) return s;
    return in->Corrupt("item does not apply: " + std::string(s.message()));
  }

  Status FinishSession() {
    if (!open_) return Status::OK();
    open_ = false;
    if (!have_range_) return Status::Corruption("session without event range");
    if (first_seq_ + entries_.size() != last_seq_ + 1) {
      return Status::Corruption("event index of session " + id_ +
                                " does not cover its range");
    }
    // Ascending seqs let the index pick its sweep point right.
    std::sort(client_ids_.begin(), client_ids_.end());
    ClientIdIndex index;
    for (const auto& [seq, tag] : client_ids_) {
      if (seq > last_seq_) {
        return Status::Corruption("client id of session " + id_ +
                                  " names an event past its last seq");
      }
      index.Insert(tag, seq, first_seq_);  // drops stale ones
    }
    client_ids_.clear();
    auto log = std::make_unique<FileEventLog>(context_, first_seq_, last_seq_,
                                              std::move(entries_));
    entries_.clear();
    ACPSTORE_RETURN_IF_ERROR(state_->RestoreEvents(tenant_, id_, std::move(log),
                                                   std::move(index)));
    if (transcript_damaged_) {
      // Decision 0034: whatever was read of it goes; rebuilt from events.
      transcript_damaged_ = false;
      have_transcript_ = false;
      transcript_ = transcript::Transcript();
      parts_.clear();
      sealed_parts_ = 0;
      ref_.reset();
      evicted_.reset();
      return state_->RebuildDamagedTranscript(tenant_, id_);
    }
    if (evicted_ != nullptr) {
      std::shared_ptr<TranscriptRef> ref = std::move(evicted_);
      evicted_.reset();
      // Transcripts off: the store keeps none, so it is not read (its
      // files were checked and count as referred to all the same), unless
      // verify asks for every item's checksum.
      if (!state_->transcripts_on()) {
        // Decision 0035: kept, unread, for the snapshots to carry on.
        if (keep_off_) {
          return state_->RestoreEvictedTranscript(tenant_, id_, std::move(ref));
        }
        if (!check_evicted_) return Status::OK();
        transcript::Transcript checked;
        Status read = engine::LoadTranscript(*ref, &checked);
        if (!read.ok()) {
          ACPSTORE_RETURN_IF_ERROR(Damaged(read));
          transcript_damaged_ = false;  // there is nothing to rebuild
        }
        return Status::OK();
      }
      if (file_ != nullptr) {
        // Restored evicted, as it was: read back when a fold or a read
        // needs it (its CRCs checked then).
        return state_->RestoreEvictedTranscript(tenant_, id_, std::move(ref));
      }
      // No budget (or an offline check): read back, checked, and held.
      transcript::Transcript t;
      Status read = engine::LoadTranscript(*ref, &t);
      if (CostsOnlyTheTranscript(read)) {
        ACPSTORE_RETURN_IF_ERROR(Damaged(read));
        transcript_damaged_ = false;
        return state_->RebuildDamagedTranscript(tenant_, id_);
      }
      ACPSTORE_RETURN_IF_ERROR(read);
      return state_->RestoreTranscript(tenant_, id_, std::move(t), nullptr,
                                        nullptr);
    }
    if (have_transcript_) {
      have_transcript_ = false;
      if (transcript_.size() != transcript_.expected_entries()) {
        return Status::Corruption("transcript of session " + id_ +
                                  " has fewer entries than its head says");
      }
      std::shared_ptr<TranscriptRef> ref = std::move(ref_);
      if (ref != nullptr) {
        ref->bytes = transcript_.bytes();
        ref->folded_seq = transcript_.folded_seq();
        ref->complete = transcript_.complete();
      }
      std::shared_ptr<TranscriptSealed> sealed;
      if (sealed_parts_ > 0) {
        // Decision 0027: restored sealed up to its last reference; no open
        // tool may lie there (a fold could not reach it).
        for (uint64_t index : transcript_.open_tool_indexes()) {
          if (index < transcript_.held_index()) {
            return Status::Corruption("transcript of session " + id_ +
                                      " has an open tool in its sealed part");
          }
        }
        sealed = std::make_shared<TranscriptSealed>();
        sealed->parts.assign(
            parts_.begin(),
            parts_.begin() + static_cast<std::ptrdiff_t>(sealed_parts_));
      }
      parts_.clear();
      sealed_parts_ = 0;
      // Transcripts off: not held (memory is for what the store serves);
      // a store keeps it as a reference to its items in this file
      // (decision 0035), for its snapshots to carry on.
      if (!state_->transcripts_on()) {
        transcript_ = transcript::Transcript();
        if (keep_off_ && ref != nullptr) {
          return state_->RestoreEvictedTranscript(tenant_, id_, std::move(ref));
        }
        return Status::OK();
      }
      return state_->RestoreTranscript(tenant_, id_, std::move(transcript_),
                                       std::move(ref), std::move(sealed));
    }
    // Written before transcripts (content version < 3) or while they were
    // off: fold what retention left.
    return state_->RebuildTranscript(tenant_, id_);
  }

  io::FileSystem& fs_;
  StoreState* const state_;
  FileLogContext* const context_;
  const std::string path_;
  const uint64_t number_;  // of this snapshot
  uint32_t version_ = 0;   // its content version
  // Decision 0027: the older snapshots (and, 0030, parts files) referred
  // to, opened once; a number names one file of either kind.
  struct RefFile {
    std::shared_ptr<const io::RandomAccessFile> file;
    uint64_t size = 0;
    bool parts_file = false;  // decision 0030
  };
  std::map<uint64_t, RefFile> files_;
  std::map<uint64_t, uint64_t> referred_;  // number -> bytes
  // The transcript's parts so far (with a file only) and how many of
  // them end at its last reference: those stay sealed.
  std::vector<TranscriptSealed::Part> parts_;
  size_t sealed_parts_ = 0;
  EventSeq entries_last_seq_ = 0;  // of the last entries item
  bool saw_meta_ = false;
  uint64_t expected_sessions_ = 0;
  uint64_t expected_actions_ = 0;
  uint64_t sessions_ = 0;
  uint64_t actions_ = 0;
  // The session being loaded.
  bool open_ = false;
  bool have_range_ = false;
  std::string tenant_;
  std::string id_;
  EventSeq first_seq_ = 1;
  EventSeq last_seq_ = 0;
  std::deque<IndexEntry> entries_;
  std::vector<std::pair<EventSeq, uint32_t>> client_ids_;  // seq, tag
  bool have_transcript_ = false;
  // Decision 0034: a part of it read back damaged; rebuilt at the end.
  bool transcript_damaged_ = false;
  std::vector<Status> damaged_;  // every such transcript
  transcript::Transcript transcript_;
  // Decision 0018: the open file and the transcript's items in it.
  std::shared_ptr<const io::RandomAccessFile> file_;
  // Decision 0034, compact --repair: a referred file missing, short or
  // unreadable costs only the transcripts in it too.
  const bool salvage_;
  const bool check_evicted_;  // verify
  const bool keep_off_;  // a store opening with transcripts off (0035)
  std::shared_ptr<TranscriptRef> ref_;
  // Decision 0033: the session's transcript, evicted in older files.
  std::shared_ptr<TranscriptRef> evicted_;
};

Status Located(const Status& s, const std::string& path) {
  if (s.ok()) return s;
  Status out(StatusCode::kCorruption,
             "snapshot " + path + ": " + std::string(s.message()));
  out.With("path", path);
  if (const StatusDetail* d = s.Detail("offset")) {
    if (const auto* v = std::get_if<int64_t>(&d->value)) out.With("offset", *v);
  }
  return out;
}

}  // namespace

void CaptureState(const StoreState& state, StateImage* image) {
  image->client_id_key = state.client_id_key();
  image->sessions.clear();
  image->actions.clear();
  image->has_pending = false;
  image->max_pending_ticket = 0;
  image->sessions.reserve(state.session_count());
  state.ForEachSession([&](const SessionEntry& e) {
    SessionImage& s = image->sessions.emplace_back();
    s.session = e.session;
    const auto* log = static_cast<const FileEventLog*>(e.events.get());
    log->Capture(&s.events);
    for (const auto& p : s.events.pending) {
      image->has_pending = true;
      image->max_pending_ticket = std::max(image->max_pending_ticket, p.ticket);
    }
    e.client_ids.ForEach(s.events.first_seq, [&](uint32_t tag, EventSeq seq) {
      s.client_ids.emplace_back(seq, tag);
    });
    s.pauses = e.pauses.records();
    s.incarnation = e.incarnation;
    if (state.transcripts_on()) {
      if (e.transcript_evicted) {
        s.transcript_ref = e.transcript_ref;
      } else {
        s.transcript = e.transcript;
        s.transcript_sealed = e.transcript_sealed;
      }
    } else if (e.transcript_evicted) {
      // Decision 0035: kept while transcripts are off, carried on as is.
      s.transcript_ref = e.transcript_ref;
    }
  });
  std::vector<const ActionEntry*> actions;
  actions.reserve(state.action_count());
  state.ForEachAction([&](const ActionEntry& a) { actions.push_back(&a); });
  std::sort(actions.begin(), actions.end(),
            [](const ActionEntry* a, const ActionEntry* b) {
              return a->insertion < b->insertion;
            });
  image->actions.reserve(actions.size());
  for (const ActionEntry* a : actions) image->actions.push_back(a->action);
}

Status ResolvePending(
    const std::map<uint64_t, journal::RecordLocation>& records,
    StateImage* image) {
  for (SessionImage& s : image->sessions) {
    for (const FileEventLog::PendingRef& p : s.events.pending) {
      auto it = records.find(p.ticket);
      if (it == records.end()) {
        return Status::Internal("snapshot: record " + std::to_string(p.ticket) +
                                " of a pending event never committed");
      }
      IndexEntry e;
      e.location = EventLocation{
          static_cast<uint32_t>(it->second.segment),
          static_cast<uint32_t>(it->second.offset + journal::kHeaderSize +
                                p.span.offset),
          p.span.length};
      e.payload_bytes = p.payload_bytes;
      s.events.durable.push_back(e);
    }
    s.events.pending.clear();
  }
  image->has_pending = false;
  return Status::OK();
}

namespace {
// Calls fn(part) for each sealed part in `image` that the cap kept whole
// (what a snapshot of it may refer to instead of copying).
template <typename Fn>
void ForEachKeptPart(const StateImage& image, Fn&& fn) {
  for (const SessionImage& s : image.sessions) {
    if (!s.transcript || s.transcript_sealed == nullptr) continue;
    for (const TranscriptSealed::Part& p : s.transcript_sealed->parts) {
      if (p.first_index >= s.transcript->first_index()) fn(p);
    }
  }
}

// Calls fn(items) for each evicted transcript in `image`: its items as
// parts of the files they lie in (snapshot set: a published one; 0: the
// spill file, or a file whose number ReferPolicy::NumberOf finds).
template <typename Fn>
void ForEachEvictedTranscript(const StateImage& image, Fn&& fn) {
  std::vector<TranscriptSealed::Part> items;
  for (const SessionImage& s : image.sessions) {
    if (s.transcript || s.transcript_ref == nullptr) continue;
    const TranscriptRef& ref = *s.transcript_ref;
    items.clear();
    for (const TranscriptRef::Item& it : ref.items) {
      items.push_back(PartOfItem(ref, it));
    }
    fn(items);
  }
}

// The lowest content version that has every item a snapshot of `image`
// holds (with `policy`: the references it may write). Known before the
// first item, the meta item that says it: every part EncodeTranscriptItems
// may refer to is among those counted here, so the version is never too
// low for an item written (add_ref checks).
uint32_t ContentVersionOf(const StateImage& image, const ReferPolicy* policy) {
  uint32_t version = item::kVersionClientIdTags;
  for (const SessionImage& s : image.sessions) {
    if (s.transcript || s.transcript_ref) {
      version = item::kVersionTranscripts;
      break;
    }
  }
  if (policy != nullptr) {
    ForEachKeptPart(image, [&](const TranscriptSealed::Part& p) {
      if (std::optional<TranscriptSealed::Part> r = policy->Refer(p)) {
        version = std::max(version, VersionOfReference(*r));
      }
    });
    for (const SessionImage& s : image.sessions) {
      if (!s.transcript && s.transcript_ref != nullptr &&
          policy->ReferEvicted(*s.transcript_ref)) {
        version = std::max(version, item::kVersionEvictedRef);
      }
    }
  }
  return version;
}
}  // namespace

uint64_t SealedBytesIn(const StateImage& image,
                       const io::RandomAccessFile* file) {
  uint64_t bytes = 0;
  ForEachKeptPart(image, [&](const TranscriptSealed::Part& p) {
    if (p.file.get() == file) bytes += p.length;
  });
  return bytes;
}

Result<uint64_t> WriteSnapshot(
    io::FileSystem& fs, const std::string& dir, uint64_t number,
    const journal::JournalPosition& covered, TimestampMs created_at,
    const StateImage& image,
    std::vector<std::shared_ptr<const TranscriptRef>>* refs,
    std::vector<std::shared_ptr<const TranscriptSealed>>* sealed,
    SnapshotRefs* snapshot_refs, std::vector<DamagedTranscript>* damaged) {
  // Decision 0027: refer to a kept file only while at least half of it is
  // still referred to (kReferShare); below that its parts are copied
  // (re-homed) here, so no file stays on disk for a few parts.
  std::optional<ReferPolicy> policy;
  if (snapshot_refs != nullptr) {
    snapshot_refs->referred.clear();
    policy.emplace();
    policy->referred = &snapshot_refs->referred;
    policy->spill = snapshot_refs->spill;
    policy->spill_number = snapshot_refs->spill_number;
    std::map<uint64_t, uint64_t> live;
    ForEachKeptPart(image, [&](const TranscriptSealed::Part& p) {
      if (const uint64_t n = policy->NumberOf(p); n != 0) live[n] += p.length;
    });
    // Decision 0033: evicted transcripts' items keep their files too,
    // those of a transcript that could be referred to only (every item in
    // a file that stays): one copied whole does not prop up the others.
    ForEachEvictedTranscript(
        image, [&](const std::vector<TranscriptSealed::Part>& items) {
          for (const TranscriptSealed::Part& p : items) {
            const uint64_t n = policy->NumberOf(p);
            if (n == 0 || n >= number ||
                snapshot_refs->referable.count(n) == 0) {
              return;
            }
          }
          for (const TranscriptSealed::Part& p : items) {
            live[policy->NumberOf(p)] += p.length;
          }
        });
    for (const auto& [n, bytes] : live) {
      auto it = snapshot_refs->referable.find(n);
      if (it != snapshot_refs->referable.end() && n < number &&
          kReferShare.HeldBy(bytes, it->second)) {
        policy->refer.emplace(n, it->second);
      }
    }
  }
  const uint32_t version = ContentVersionOf(image, policy ? &*policy : nullptr);
  if (policy) policy->version = version;
  snapshot::SnapshotHeader header;
  header.number = number;
  header.covered = {covered.segment, covered.offset};
  header.created_at = created_at;
  ACPSTORE_ASSIGN_OR_RETURN(std::unique_ptr<snapshot::SnapshotWriter> writer,
                            snapshot::SnapshotWriter::Create(fs, dir, header));
  ChunkBuilder out(writer.get());
  std::string body;
  base::PutVarint32(&body, version);
  base::PutVarint64(&body, image.sessions.size());
  base::PutVarint64(&body, image.actions.size());
  base::PutFixed64(&body, image.client_id_key.k0);
  base::PutFixed64(&body, image.client_id_key.k1);
  ACPSTORE_RETURN_IF_ERROR(out.Add(item::kMeta, body));
  std::vector<std::shared_ptr<TranscriptRef>> written(image.sessions.size());
  std::vector<std::shared_ptr<TranscriptSealed>> moved(image.sessions.size());
  for (size_t i = 0; i < image.sessions.size(); ++i) {
    Status damage;
    ACPSTORE_RETURN_IF_ERROR(WriteSession(
        &out, image.sessions[i], refs != nullptr ? &written[i] : nullptr,
        sealed != nullptr ? &moved[i] : nullptr, policy ? &*policy : nullptr,
        &damage));
    if (!damage.ok()) {
      written[i].reset();
      moved[i].reset();
      if (damaged != nullptr) damaged->push_back({i, std::move(damage)});
    }
  }
  for (const Action& a : image.actions) {
    body.clear();
    record::EncodeAction(a, &body);
    ACPSTORE_RETURN_IF_ERROR(out.Add(item::kAction, body));
  }
  ACPSTORE_RETURN_IF_ERROR(out.Flush());
  ACPSTORE_RETURN_IF_ERROR(writer->Finish());
  if (refs != nullptr) {
    refs->assign(image.sessions.size(), nullptr);
    // One handle for every reference: the file stays readable once a
    // later snapshot deletes it, until the last reference goes.
    Result<std::unique_ptr<io::RandomAccessFile>> opened =
        fs.OpenReadable(writer->path());
    if (opened.ok()) {
      std::shared_ptr<const io::RandomAccessFile> file = std::move(*opened);
      for (size_t i = 0; i < written.size(); ++i) {
        if (written[i] == nullptr) continue;
        if (written[i]->file == nullptr) {  // referred to: it stays put
          written[i]->file = file;
          written[i]->snapshot = number;
        }
        (*refs)[i] = std::move(written[i]);
      }
      if (sealed != nullptr) {
        sealed->assign(image.sessions.size(), nullptr);
        for (size_t i = 0; i < moved.size(); ++i) {
          if (moved[i] == nullptr) continue;
          for (TranscriptSealed::Part& p : moved[i]->parts) {
            if (p.file != nullptr) continue;  // referred to (decision 0027)
            p.file = file;
            p.snapshot = number;
            p.parts_file = false;  // copied here, maybe out of a parts file
          }
          (*sealed)[i] = std::move(moved[i]);
        }
      }
    }
    // Not opened: the snapshot is published all the same; its transcripts
    // just stay where they are.
  }
  return writer->bytes();
}

Result<snapshot::SnapshotHeader> LoadSnapshot(
    io::FileSystem& fs, const std::string& path, StoreState* state,
    FileLogContext* context, SnapshotLoadNotes* notes,
    const SnapshotLoadOptions& options) {
  ACPSTORE_ASSIGN_OR_RETURN(std::unique_ptr<snapshot::SnapshotReader> reader,
                            snapshot::SnapshotReader::Open(fs, path));
  std::shared_ptr<const io::RandomAccessFile> file;
  if (state->transcripts_on() ? state->transcript_budget() > 0
                              : options.keep_transcripts_off) {
    ACPSTORE_ASSIGN_OR_RETURN(std::unique_ptr<io::RandomAccessFile> opened,
                              fs.OpenReadable(path));
    file = std::move(opened);
  }
  Loader loader(fs, state, context, path, reader->header().number,
                std::move(file), options);
  std::string_view chunk;
  uint64_t chunk_index = 0;
  while (reader->Next(&chunk)) {
    record::ByteReader in(chunk);
    while (!in.empty()) {
      uint8_t tag = 0;
      std::string_view body;
      Status s = ReadSnapshotItem(in, &tag, &body);
      const uint64_t at = in.offset() - body.size();  // the body's offset
      if (s.ok()) s = loader.Item(tag, body, at, reader->chunk_offset() + at);
      if (!s.ok()) {
        return Located(
            Status::Corruption("chunk " + std::to_string(chunk_index) + ": " +
                               std::string(s.message())),
            path);
      }
    }
    ++chunk_index;
  }
  ACPSTORE_RETURN_IF_ERROR(reader->status());
  ACPSTORE_RETURN_IF_ERROR(Located(loader.Finish(), path));
  if (notes != nullptr) {
    notes->referred = loader.referred();
    notes->damaged_transcripts = std::move(loader.damaged());
  }
  return reader->header();
}

Status ReadSnapshotItem(record::ByteReader& in, uint8_t* tag,
                        std::string_view* body) {
  uint32_t n = 0;
  ACPSTORE_RETURN_IF_ERROR(in.U8("item tag", tag));
  ACPSTORE_RETURN_IF_ERROR(in.Varint32("item length", &n));
  return in.Bytes("item", n, body);
}

Result<std::vector<TranscriptSealed::Part>> SnapshotReferredParts(
    io::FileSystem& fs, const std::string& path) {
  ACPSTORE_ASSIGN_OR_RETURN(std::unique_ptr<snapshot::SnapshotReader> reader,
                            snapshot::SnapshotReader::Open(fs, path));
  std::vector<TranscriptSealed::Part> out;
  std::string_view chunk;
  while (reader->Next(&chunk)) {
    record::ByteReader in(chunk);
    while (!in.empty()) {
      uint8_t tag = 0;
      std::string_view body;
      Status s = ReadSnapshotItem(in, &tag, &body);
      if (s.ok() && (tag == item::kTranscriptSealedRef ||
                     tag == item::kTranscriptSealedPartsRef)) {
        SealedRefItem r;
        s = DecodeSealedRef(body, &r);
        r.part.parts_file = tag == item::kTranscriptSealedPartsRef;
        if (s.ok()) out.push_back(std::move(r.part));
      } else if (s.ok() && tag == item::kTranscriptEvictedRef) {
        EvictedRef r;
        s = DecodeEvictedRef(body, &r);
        if (s.ok()) {
          for (EvictedRef::Item& it : r.items) out.push_back(std::move(it.part));
        }
      }
      if (!s.ok()) return Located(s, path);
    }
  }
  ACPSTORE_RETURN_IF_ERROR(reader->status());
  return out;
}

Result<std::map<uint64_t, uint64_t>> SnapshotReferences(
    io::FileSystem& fs, const std::string& path) {
  ACPSTORE_ASSIGN_OR_RETURN(std::vector<TranscriptSealed::Part> parts,
                            SnapshotReferredParts(fs, path));
  std::map<uint64_t, uint64_t> out;
  for (const TranscriptSealed::Part& p : parts) out[p.snapshot] += p.length;
  return out;
}

}  // namespace acpstore::engine
