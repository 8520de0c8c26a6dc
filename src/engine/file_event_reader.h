// FileEventReader fetches single events of the file engine from the
// journal by location: one pread of the framed event sub-record
// (record/mutation_codec.h), verified on its own with DecodeEventAt. Hot
// events come from the PayloadCache instead, and every event read from
// disk is put into it.
//
// Corruption policy: bytes that fail their checksum, a sub-record cut short
// by the end of the file, a segment file that is gone, or an event that is
// not the one the index expects are all kDataLoss naming the file and
// offset (details "path", "offset"): the event was durable once, so this is
// lost data, and damaged bytes are never returned. Each one is counted
// (data_loss_reads) so /readyz and verify can report it.
//
// Thread-safety: thread-safe. Segment handles are opened on first use and
// shared; a mutex guards only the handle table, never a read.
// Lifetime: `fs` and `cache` are borrowed and must outlive the reader.

#ifndef ACPSTORE_ENGINE_FILE_EVENT_READER_H_
#define ACPSTORE_ENGINE_FILE_EVENT_READER_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "acpstore/records.h"
#include "acpstore/result.h"
#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "engine/payload_cache.h"
#include "io/file_system.h"

namespace acpstore::engine {

// Where one framed event sub-record lives: absolute byte offset in its
// segment file. Segments are capped well below 4 GiB (FileStore clamps
// segment_bytes), so 32-bit fields suffice.
struct EventLocation {
  uint32_t segment = 0;
  uint32_t offset = 0;
  uint32_t length = 0;

  uint64_t CacheKey() const { return PayloadCache::Key(segment, offset); }
  friend bool operator==(const EventLocation&, const EventLocation&) = default;
};

class FileEventReader {
 public:
  FileEventReader(io::FileSystem& fs, std::string journal_dir,
                  PayloadCache* cache);
  FileEventReader(const FileEventReader&) = delete;
  FileEventReader& operator=(const FileEventReader&) = delete;

  // The event at `location`, which must carry seq `expected_seq`.
  // `unlocked`: the caller planned the read under the state lock and let
  // go of it, so retention may have dropped the event and its segment may
  // be gone since; a missing segment is then kNotFound (retry under the
  // lock), not data loss.
  Result<std::shared_ptr<const Event>> Read(const EventLocation& location,
                                            EventSeq expected_seq,
                                            bool unlocked = false);

  // Drops the cached handle of a segment about to be deleted.
  void Forget(uint64_t segment) EXCLUDES(mu_);

  PayloadCache* cache() const { return cache_; }
  uint64_t data_loss_reads() const { return data_loss_reads_.load(); }
  uint64_t disk_reads() const { return disk_reads_.load(); }

 private:
  Result<std::shared_ptr<io::RandomAccessFile>> File(uint64_t segment)
      EXCLUDES(mu_);
  Status Lost(const std::string& path, uint64_t offset, std::string_view why);

  io::FileSystem& fs_;
  const std::string journal_dir_;
  PayloadCache* const cache_;
  std::atomic<uint64_t> data_loss_reads_{0};
  std::atomic<uint64_t> disk_reads_{0};
  base::Mutex mu_;
  std::map<uint64_t, std::shared_ptr<io::RandomAccessFile>> files_
      GUARDED_BY(mu_);
};

}  // namespace acpstore::engine

#endif  // ACPSTORE_ENGINE_FILE_EVENT_READER_H_
