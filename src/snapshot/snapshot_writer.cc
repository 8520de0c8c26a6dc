// SnapshotWriter: temp file → fsync → rename → fsync dir. See the header.

#include "snapshot/snapshot_writer.h"

#include <utility>

#include "base/coding.h"
#include "base/crc32c.h"
#include "base/uuid.h"

namespace acpstore::snapshot {
namespace {

// Bytes buffered before one Append: big enough that a snapshot of many
// small records costs few syscalls, small enough not to matter for memory.
constexpr size_t kFlushBytes = 1 << 20;

}  // namespace

Result<std::unique_ptr<SnapshotWriter>> SnapshotWriter::Create(
    io::FileSystem& fs, const std::string& dir, const SnapshotHeader& header) {
  ACPSTORE_RETURN_IF_ERROR(fs.CreateDir(dir));
  const std::string name = SnapshotFileName(header.number);
  const std::string path = io::JoinPath(dir, name);
  // A random name with O_EXCL: a stale temp file left by a crash, or a
  // second writer, can never make us write into someone else's file.
  const std::string temp_path =
      io::JoinPath(dir, name + ".tmp-" + base::RandomHex128());
  ACPSTORE_ASSIGN_OR_RETURN(std::unique_ptr<io::WritableFile> file,
                            fs.CreateNew(temp_path));
  std::unique_ptr<SnapshotWriter> writer(
      new SnapshotWriter(fs, dir, path, temp_path, std::move(file)));
  const std::string bytes = EncodeHeader(header);
  writer->buffer_ = bytes;
  writer->file_crc_ = base::crc32c::Value(bytes);
  writer->bytes_ = bytes.size();
  return writer;
}

SnapshotWriter::SnapshotWriter(io::FileSystem& fs, std::string dir,
                               std::string path, std::string temp_path,
                               std::unique_ptr<io::WritableFile> file)
    : fs_(fs),
      dir_(std::move(dir)),
      path_(std::move(path)),
      temp_path_(std::move(temp_path)),
      file_(std::move(file)) {}

SnapshotWriter::~SnapshotWriter() { Abandon(); }

Status SnapshotWriter::Add(std::string_view chunk) {
  if (!failed_.ok()) return failed_;
  if (done_) return Status::Internal("snapshot writer: Add after Finish");
  if (chunk.size() > kMaxChunkBytes) {
    return Fail(Status::InvalidArgument(
        "snapshot chunk of " + std::to_string(chunk.size()) +
        " bytes exceeds the maximum of " + std::to_string(kMaxChunkBytes)));
  }
  const size_t at = buffer_.size();
  AppendChunk(&buffer_, ChunkType::kData, chunk);
  file_crc_ =
      base::crc32c::Extend(file_crc_, buffer_.data() + at, buffer_.size() - at);
  bytes_ += buffer_.size() - at;
  ++chunk_count_;
  if (buffer_.size() >= kFlushBytes) return Flush();
  return Status::OK();
}

Status SnapshotWriter::Flush() {
  if (buffer_.empty()) return Status::OK();
  Status s = file_->Append(buffer_);
  if (!s.ok()) return Fail(std::move(s));
  buffer_.clear();
  return Status::OK();
}

Status SnapshotWriter::Finish() {
  if (!failed_.ok()) return failed_;
  if (done_) return Status::Internal("snapshot writer: Finish called twice");

  std::string footer;
  base::PutFixed64(&footer, chunk_count_);
  base::PutFixed64(&footer, bytes_);
  base::PutFixed32(&footer, base::crc32c::Mask(file_crc_));
  AppendChunk(&buffer_, ChunkType::kFooter, footer);
  bytes_ += kChunkHeaderSize + footer.size();
  ACPSTORE_RETURN_IF_ERROR(Flush());

  Status s = file_->Sync();
  Status closed = file_->Close();
  file_.reset();
  if (s.ok()) s = std::move(closed);
  if (s.ok()) s = fs_.Rename(temp_path_, path_);
  if (!s.ok()) return Fail(std::move(s));
  done_ = true;
  // Without this the rename may be undone by a power loss. The file is
  // already published, so a failure here does not remove anything.
  return fs_.SyncDir(dir_);
}

void SnapshotWriter::Abandon() {
  if (done_) return;
  done_ = true;
  if (file_ != nullptr) {
    (void)file_->Close();  // best effort: the file is being thrown away
    file_.reset();
  }
  (void)fs_.Remove(temp_path_);  // best effort; RemoveTempFiles retries
}

Status SnapshotWriter::Fail(Status status) {
  failed_ = status;
  Abandon();
  return status;
}

}  // namespace acpstore::snapshot
