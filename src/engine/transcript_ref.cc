// Transcripts out of memory: reading their items back, spill files. See
// transcript_ref.h.

#include "engine/transcript_ref.h"

#include <utility>

#include "base/coding.h"
#include "base/crc32c.h"
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

Status EncodeTranscriptItems(
    const transcript::Transcript& t,
    const std::function<Status(uint8_t tag, std::string_view body)>& add) {
  std::string body;
  t.EncodeHead(&body);
  ACPSTORE_RETURN_IF_ERROR(add(item::kTranscriptHead, body));
  // Groups of entries up to ~1 MiB (one entry may be larger: a message is
  // capped by max_bytes, at most 48 MiB, under the 64 MiB chunk cap).
  std::string group;
  uint32_t n = 0;
  auto flush = [&]() -> Status {
    if (n == 0) return Status::OK();
    body.clear();
    base::PutVarint32(&body, n);
    body.append(group);
    group.clear();
    n = 0;
    return add(item::kTranscriptEntries, body);
  };
  for (uint64_t i = t.first_index(); i < t.end_index(); ++i) {
    transcript::Transcript::EncodeEntry(t.at(i), &group);
    ++n;
    if (group.size() >= kEntriesItemTarget) ACPSTORE_RETURN_IF_ERROR(flush());
  }
  return flush();
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

Status LoadTranscript(const TranscriptRef& ref, transcript::Transcript* out) {
  bool head = false;
  Status s = ReadTranscriptItems(
      ref, [&](uint8_t tag, std::string_view body) -> Status {
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
          out->AddDecoded(std::move(e));
        }
        if (!body.empty()) {
          return Status::Corruption("trailing bytes in transcript entries");
        }
        return Status::OK();
      });
  if (!s.ok()) return s;
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
  ref_->items.push_back(
      TranscriptRef::Item{tag, offset, static_cast<uint32_t>(body.size())});
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
  const std::string path = io::JoinPath(
      snapshot_dir, std::string(snapshot::kNumberDigits, '0') +
                        std::string(snapshot::kTempInfix) +
                        base::RandomHex128());
  ACPSTORE_ASSIGN_OR_RETURN(std::unique_ptr<io::WritableFile> out,
                            fs.CreateNew(path));
  Result<std::unique_ptr<io::RandomAccessFile>> in = fs.OpenReadable(path);
  Status removed = fs.Remove(path);
  if (!in.ok()) return in.error();
  if (!removed.ok()) return removed;
  return std::unique_ptr<TranscriptSpill>(
      new TranscriptSpill(std::move(out), std::move(*in)));
}

Result<std::shared_ptr<const TranscriptRef>> TranscriptSpill::Write(
    const transcript::Transcript& t) {
  TranscriptRefBuilder ref(in_, t);
  std::string buf;
  std::vector<std::pair<uint8_t, std::pair<size_t, size_t>>> spans;
  ACPSTORE_RETURN_IF_ERROR(EncodeTranscriptItems(
      t, [&](uint8_t tag, std::string_view body) -> Status {
        spans.push_back({tag, {buf.size(), body.size()}});
        buf.append(body);
        return Status::OK();
      }));
  const uint64_t at = out_->size();
  ACPSTORE_RETURN_IF_ERROR(out_->Append(buf));
  const std::string_view written = buf;
  for (const auto& [tag, span] : spans) {
    ref.Add(tag, written.substr(span.first, span.second), at + span.first);
  }
  return ref.Finish();
}

}  // namespace acpstore::engine
