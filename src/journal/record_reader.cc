// Single-record reads by location. See record_reader.h.

#include "journal/record_reader.h"

#include "journal/segment_files.h"

namespace acpstore::journal {
namespace {

Status LostAt(const io::RandomAccessFile& file, uint64_t offset,
              std::string_view why) {
  return Status::DataLoss("journal record in " + file.path() + " at offset " +
                          std::to_string(offset) + ": " + std::string(why))
      .With("path", file.path())
      .With("offset", static_cast<int64_t>(offset));
}

}  // namespace

Result<OwnedRecord> ReadRecordAt(const io::RandomAccessFile& file,
                                 uint64_t offset, uint32_t size_hint) {
  std::string buf(size_hint >= kHeaderSize ? size_hint : kHeaderSize, '\0');
  ACPSTORE_ASSIGN_OR_RETURN(std::string_view got,
                            file.ReadAt(offset, buf.size(), buf.data()));
  if (got.size() < kHeaderSize) {
    return LostAt(file, offset, "file ends inside the header");
  }
  RecordHeader header;
  if (!DecodeHeader(got, &header)) {
    return LostAt(file, offset, "header checksum mismatch");
  }
  const size_t size = kHeaderSize + size_t{header.length};
  if (size_hint != 0 && size != size_hint) {
    return LostAt(file, offset,
                  "record size " + std::to_string(size) +
                      " differs from the index's " + std::to_string(size_hint));
  }
  OwnedRecord record;
  record.type = header.type;
  if (size_hint != 0) {
    if (got.size() < size) {
      return LostAt(file, offset, "file ends inside the record");
    }
    record.payload = buf.substr(kHeaderSize, header.length);
  } else {
    record.payload.resize(header.length);
    ACPSTORE_ASSIGN_OR_RETURN(std::string_view body,
                              file.ReadAt(offset + kHeaderSize, header.length,
                                          record.payload.data()));
    if (body.size() < header.length) {
      return LostAt(file, offset, "file ends inside the record");
    }
  }
  if (!PayloadMatches(header, record.payload)) {
    return LostAt(file, offset, "payload checksum mismatch");
  }
  return record;
}

RecordReader::RecordReader(io::FileSystem& fs, std::string dir)
    : fs_(fs), dir_(std::move(dir)) {}

Result<std::shared_ptr<io::RandomAccessFile>> RecordReader::File(
    uint64_t segment) {
  {
    base::MutexLock lock(&mu_);
    if (auto it = files_.find(segment); it != files_.end()) return it->second;
  }
  // Open outside the lock; a racing opener's handle is simply dropped.
  ACPSTORE_ASSIGN_OR_RETURN(std::unique_ptr<io::RandomAccessFile> file,
                            fs_.OpenReadable(SegmentPath(dir_, segment)));
  base::MutexLock lock(&mu_);
  return files_.emplace(segment, std::move(file)).first->second;
}

Result<OwnedRecord> RecordReader::ReadRecordAt(uint64_t segment,
                                               uint64_t offset,
                                               uint32_t size_hint) {
  ACPSTORE_ASSIGN_OR_RETURN(std::shared_ptr<io::RandomAccessFile> file,
                            File(segment));
  return journal::ReadRecordAt(*file, offset, size_hint);
}

void RecordReader::Forget(uint64_t segment) {
  base::MutexLock lock(&mu_);
  files_.erase(segment);
}

}  // namespace acpstore::journal
