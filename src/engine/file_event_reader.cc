// FileEventReader: see file_event_reader.h.

#include "engine/file_event_reader.h"

#include <utility>

#include "journal/segment_files.h"
#include "record/mutation_codec.h"

namespace acpstore::engine {

FileEventReader::FileEventReader(io::FileSystem& fs, std::string journal_dir,
                                 PayloadCache* cache)
    : fs_(fs), journal_dir_(std::move(journal_dir)), cache_(cache) {}

Status FileEventReader::Lost(const std::string& path, uint64_t offset,
                             std::string_view why) {
  data_loss_reads_.fetch_add(1);
  return Status::DataLoss("stored event in " + path + " at offset " +
                          std::to_string(offset) +
                          " is damaged: " + std::string(why))
      .With("path", path)
      .With("offset", static_cast<int64_t>(offset));
}

Result<std::shared_ptr<io::RandomAccessFile>> FileEventReader::File(
    uint64_t segment) {
  {
    base::MutexLock lock(&mu_);
    if (auto it = files_.find(segment); it != files_.end()) return it->second;
  }
  // Open outside the lock; a racing opener's handle is simply dropped.
  ACPSTORE_ASSIGN_OR_RETURN(
      std::unique_ptr<io::RandomAccessFile> file,
      fs_.OpenReadable(journal::SegmentPath(journal_dir_, segment)));
  base::MutexLock lock(&mu_);
  return files_.emplace(segment, std::move(file)).first->second;
}

void FileEventReader::Forget(uint64_t segment) {
  base::MutexLock lock(&mu_);
  files_.erase(segment);
}

Result<std::shared_ptr<const Event>> FileEventReader::Read(
    const EventLocation& location, EventSeq expected_seq, bool unlocked) {
  if (cache_ != nullptr) {
    if (auto hit = cache_->Lookup(location.CacheKey())) return hit;
  }
  disk_reads_.fetch_add(1);
  Result<std::shared_ptr<io::RandomAccessFile>> file = File(location.segment);
  if (!file.ok()) {
    const std::string path =
        journal::SegmentPath(journal_dir_, location.segment);
    if (io::IsNotFoundError(file.error())) {
      if (unlocked) return Status::NotFound("the segment was deleted");
      return Lost(path, location.offset, "the segment file is missing");
    }
    return file.error();
  }
  std::string buf(location.length, '\0');
  ACPSTORE_ASSIGN_OR_RETURN(
      std::string_view bytes,
      (*file)->ReadAt(location.offset, location.length, buf.data()));
  if (bytes.size() < location.length) {
    return Lost((*file)->path(), location.offset, "the file ends inside it");
  }
  auto event = std::make_shared<Event>();
  Status s = record::DecodeEventAt(bytes, event.get());
  if (!s.ok()) return Lost((*file)->path(), location.offset, s.message());
  if (event->seq != expected_seq) {
    return Lost((*file)->path(), location.offset,
                "it holds seq " + std::to_string(event->seq) + ", not " +
                    std::to_string(expected_seq));
  }
  std::shared_ptr<const Event> out = std::move(event);
  if (cache_ != nullptr) cache_->Insert(location.CacheKey(), out);
  return out;
}

}  // namespace acpstore::engine
