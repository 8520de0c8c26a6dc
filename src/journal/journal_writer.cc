// JournalWriter: segment files, rolling, ENOSPC rollback, fail-stop on
// fsync errors. See journal_writer.h.

#include "journal/journal_writer.h"

#include <algorithm>
#include <chrono>

#include "journal/format.h"
#include "journal/segment_files.h"

namespace acpstore::journal {

JournalWriter::JournalWriter(io::FileSystem& fs, std::string dir,
                             JournalWriterOptions options)
    : fs_(fs), dir_(std::move(dir)), options_(options) {}

JournalWriter::~JournalWriter() = default;

Result<std::unique_ptr<JournalWriter>> JournalWriter::Open(
    io::FileSystem& fs, std::string dir, JournalWriterOptions options,
    JournalPosition end) {
  ACPSTORE_RETURN_IF_ERROR(fs.CreateDir(dir));
  ACPSTORE_ASSIGN_OR_RETURN(std::vector<uint64_t> segments,
                            ListSegments(fs, dir));
  if (!segments.empty() && segments.back() > end.segment) {
    return Status::Corruption("journal segment " +
                              SegmentPath(dir, segments.back()) +
                              " lies past the recovered end of the journal")
        .With("path", SegmentPath(dir, segments.back()));
  }
  std::unique_ptr<JournalWriter> w(
      new JournalWriter(fs, std::move(dir), options));
  const bool exists =
      std::binary_search(segments.begin(), segments.end(), end.segment);
  if (!exists) {
    const uint64_t next =
        std::max(end.segment, segments.empty() ? 0 : segments.back()) + 1;
    ACPSTORE_RETURN_IF_ERROR(w->StartSegment(next));
    return w;
  }

  const std::string path = SegmentPath(w->dir_, end.segment);
  ACPSTORE_ASSIGN_OR_RETURN(w->file_, fs.OpenAppendable(path));
  w->segment_ = end.segment;
  const uint64_t size = w->file_->size();
  if (size < end.offset) {
    return Status::Corruption("journal segment " + path + " is shorter (" +
                              std::to_string(size) +
                              " bytes) than recovered (" +
                              std::to_string(end.offset) + ")")
        .With("path", path);
  }
  // A torn header is a torn tail at offset 0: rewrite the header.
  const uint64_t keep = end.offset < kFirstRecordOffset ? 0 : end.offset;
  if (size > keep) {
    ACPSTORE_RETURN_IF_ERROR(w->file_->Truncate(keep));
  }
  w->size_ = keep;
  if (keep == 0) {
    const std::string header = SegmentHeaderRecord(end.segment);
    ACPSTORE_RETURN_IF_ERROR(w->file_->Append(header));
    w->size_ = header.size();
  }
  ACPSTORE_RETURN_IF_ERROR(w->file_->Sync());
  ACPSTORE_RETURN_IF_ERROR(fs.SyncDir(w->dir_));
  w->synced_size_ = w->size_;
  return w;
}

Status JournalWriter::Fail(const Status& cause) {
  if (failure_.ok()) {
    failure_ = Status::Unavailable(
        "journal failed and accepts no more writes "
        "until reopened: " +
        cause.ToString());
  }
  return failure_;
}

Status JournalWriter::StartSegment(uint64_t segment) {
  const std::string path = SegmentPath(dir_, segment);
  // OpenAppendable + Truncate rather than CreateNew: a leftover of an
  // earlier attempt (ENOSPC, then a failed cleanup) is simply reused. No
  // segment numbered this high holds records (Open checked).
  Result<std::unique_ptr<io::WritableFile>> file = fs_.OpenAppendable(path);
  if (!file) return std::move(file).error();
  const std::string header = SegmentHeaderRecord(segment);
  Status s = (*file)->Truncate(0);
  if (s.ok()) s = (*file)->Append(header);
  if (!s.ok()) {
    if (s.code() != StatusCode::kInsufficientStorage) return Fail(s);
    // Out of space: stay on the current segment, which is sealed but still
    // valid to append to. The new file must go, or it would become the
    // "last" segment at recovery.
    (void)(*file)->Close();
    Status removed = fs_.Remove(path);
    if (!removed.ok()) return Fail(removed);
    return s;
  }
  // The new file's header and its name must be durable before any record
  // in it can be acknowledged.
  s = (*file)->Sync();
  if (s.ok()) s = fs_.SyncDir(dir_);
  if (!s.ok()) return Fail(s);
  if (file_ != nullptr) (void)file_->Close();  // sealed and synced already
  file_ = std::move(*file);
  segment_ = segment;
  size_ = synced_size_ = header.size();
  ++stats_.segments_created;
  ++stats_.fsyncs;
  return Status::OK();
}

Status JournalWriter::SyncFile() {
  const auto start = std::chrono::steady_clock::now();
  Status s = file_->Sync();
  if (!s.ok()) return Fail(s);
  const auto micros = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(
          std::chrono::steady_clock::now() - start)
          .count());
  ++stats_.fsyncs;
  ++stats_
        .fsync_micros_log2[Log2Bucket(micros, stats_.fsync_micros_log2.size())];
  stats_.fsync_micros_total += micros;
  stats_.fsync_micros_max = std::max(stats_.fsync_micros_max, micros);
  synced_size_ = size_;
  return Status::OK();
}

Status JournalWriter::Roll() {
  // Seal first: a sealed segment is never torn (see journal_reader.h).
  if (has_unsynced()) ACPSTORE_RETURN_IF_ERROR(SyncFile());
  return StartSegment(segment_ + 1);
}

Status JournalWriter::Append(std::span<const std::string_view> records,
                             std::vector<RecordLocation>* locations) {
  locations->clear();
  ACPSTORE_RETURN_IF_ERROR(failure_);
  if (file_ == nullptr) return Status::Unavailable("journal is closed");
  if (records.empty()) return Status::OK();
  uint64_t batch_bytes = 0;
  for (std::string_view r : records) batch_bytes += r.size();
  if (size_ > kFirstRecordOffset &&
      size_ + batch_bytes > options_.segment_bytes) {
    Status rolled = Roll();
    if (!rolled.ok()) {
      if (rolled.code() == StatusCode::kInsufficientStorage) {
        stats_.rejected_no_space += records.size();
      }
      return rolled;
    }
  }
  const uint64_t start = size_;
  Status s = file_->Append(records);
  if (!s.ok()) {
    if (s.code() != StatusCode::kInsufficientStorage) return Fail(s);
    // Cut the partial batch off so no record of it can ever be replayed.
    Status cut = file_->Truncate(start);
    if (!cut.ok()) return Fail(cut);
    stats_.rejected_no_space += records.size();
    return s;
  }
  uint64_t offset = start;
  locations->reserve(records.size());
  for (std::string_view r : records) {
    locations->push_back({segment_, offset, static_cast<uint32_t>(r.size())});
    offset += r.size();
  }
  size_ = offset;
  stats_.records += records.size();
  stats_.bytes += batch_bytes;
  ++stats_.batches;
  ++stats_.batch_records_log2[Log2Bucket(records.size(),
                                         stats_.batch_records_log2.size())];
  stats_.max_batch_records =
      std::max<uint64_t>(stats_.max_batch_records, records.size());
  return Status::OK();
}

Status JournalWriter::Sync() {
  ACPSTORE_RETURN_IF_ERROR(failure_);
  if (file_ == nullptr) return Status::Unavailable("journal is closed");
  if (!has_unsynced()) return Status::OK();
  return SyncFile();
}

Status JournalWriter::Close() {
  if (file_ == nullptr) return failure_;
  Status s = failure_.ok() ? Sync() : failure_;
  Status closed = file_->Close();
  file_.reset();
  if (s.ok() && !closed.ok()) s = Fail(closed);
  if (failure_.ok()) failure_ = Status::Unavailable("journal is closed");
  return s;
}

}  // namespace acpstore::journal
