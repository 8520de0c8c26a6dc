// Test fixture for journal scenarios: a temp data directory behind a
// FaultInjectionFileSystem, helpers to open a committer after recovery,
// submit-and-wait, replay everything, and rewrite segment bytes.
// Test-only; header-only.

#ifndef ACPSTORE_JOURNAL_JOURNAL_TEST_UTIL_H_
#define ACPSTORE_JOURNAL_JOURNAL_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <future>
#include <memory>
#include <string>
#include <vector>

#include "io/fault_injection_file_system.h"
#include "io/test_dir.h"
#include "journal/group_committer.h"
#include "journal/journal_writer.h"
#include "journal/replay.h"
#include "journal/segment_files.h"

namespace acpstore::journal {

struct Replayed {
  Status status;
  std::vector<std::string> payloads;
  std::vector<RecordLocation> locations;
  ReplayResult result;
};

class JournalTest : public ::testing::Test {
 protected:
  JournalTest() : dir_(tmp_.Join("journal")) {}

  // Recovers (cutting any torn tail) and starts a committer.
  std::unique_ptr<GroupCommitter> Open(SyncMode mode = SyncMode::kAlways,
                                       uint64_t segment_bytes = 64 << 20,
                                       int64_t interval_ms = 100) {
    GroupCommitOptions options;
    options.sync = mode;
    options.sync_interval_ms = interval_ms;
    return OpenWith(options, segment_bytes);
  }

  std::unique_ptr<GroupCommitter> OpenWith(GroupCommitOptions options,
                                           uint64_t segment_bytes = 64 << 20) {
    Replayed r = ReplayAll();
    EXPECT_TRUE(r.status.ok()) << r.status;
    auto writer = JournalWriter::Open(fs_, dir_, {segment_bytes}, r.result.end);
    EXPECT_TRUE(writer.ok()) << writer.status();
    if (!writer.ok()) return nullptr;
    return std::make_unique<GroupCommitter>(std::move(*writer), options);
  }

  static Result<RecordLocation> Commit(GroupCommitter& c,
                                       std::string_view payload) {
    std::promise<Result<RecordLocation>> p;
    c.Submit(RecordType::kMutation, payload,
             [&p](Result<RecordLocation> r) { p.set_value(std::move(r)); });
    return p.get_future().get();
  }

  Replayed ReplayAll(JournalPosition from = {}) {
    Replayed out;
    Result<ReplayResult> r =
        ReplayJournal(fs_, dir_, from, [&out](const JournalRecord& rec) {
          out.payloads.emplace_back(rec.payload);
          out.locations.push_back(rec.location);
          return Status::OK();
        });
    if (r.ok()) {
      out.result = *r;
    } else {
      out.status = r.status();
    }
    return out;
  }

  std::string SegmentBytes(uint64_t segment) {
    auto r =
        io::ReadFileToString(io::PosixFileSystem(), SegmentPath(dir_, segment));
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : "";
  }

  // Replaces a segment's content without syncing (tests only read it back).
  void SetSegmentBytes(uint64_t segment, std::string_view bytes) {
    auto f = io::PosixFileSystem().OpenAppendable(SegmentPath(dir_, segment));
    ASSERT_TRUE(f.ok()) << f.status();
    ASSERT_TRUE((*f)->Truncate(0).ok());
    ASSERT_TRUE((*f)->Append(bytes).ok());
  }

  io::TempDir tmp_;
  const std::string dir_;
  io::FaultInjectionFileSystem fs_{io::PosixFileSystem()};
};

}  // namespace acpstore::journal

#endif  // ACPSTORE_JOURNAL_JOURNAL_TEST_UTIL_H_
