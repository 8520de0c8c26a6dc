// Test fixture for the file engine: a FileStore over a fault-injecting file
// system in a scratch directory, with a manual clock, plus helpers to read
// and damage the files it wrote. Test-only.
//
// Thread-safety: one fixture per test; db() may be used from the threads a
// test starts. Lifetime: the store is closed before the directory goes.

#ifndef ACPSTORE_ENGINE_FILE_STORE_TEST_UTIL_H_
#define ACPSTORE_ENGINE_FILE_STORE_TEST_UTIL_H_

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "acpstore/blocking_store.h"
#include "engine/file_store.h"
#include "io/fault_injection_file_system.h"
#include "io/test_dir.h"
#include "journal/segment_files.h"

namespace acpstore::engine {

inline const Scope kAlice{"t1", "alice", Scope::Access::kOwner};

class FileStoreTest : public ::testing::Test {
 protected:
  FileStoreTest() : fs_(io::PosixFileSystem()) {
    options_.engine = Engine::kFile;
    options_.data_dir = dir_.Join("data");
    options_.clock = &clock_;
    options_.maintenance_interval_ms = 0;
    options_.sync = SyncMode::kAlways;
  }
  ~FileStoreTest() override { Close(); }

  Result<std::unique_ptr<FileStore>> TryOpen() {
    return FileStore::Open(options_, &fs_);
  }
  void Open() {
    auto s = TryOpen();
    ASSERT_TRUE(s.ok()) << s.error();
    store_ = std::move(*s);
    db_ = std::make_unique<BlockingStore>(*store_);
  }
  void Close() {
    db_.reset();
    store_.reset();
  }
  // Closes the store with the close's snapshot failing (its rename): what
  // came after the newest snapshot stays a journal tail.
  void CloseWithoutItsSnapshot() {
    fs_.InjectFault(io::FaultInjectionFileSystem::Fault(
        io::FaultInjectionFileSystem::kRename));
    Close();
    fs_.ClearFaults();
  }
  void Reopen() {
    Close();
    Open();
  }
  BlockingStore& db() { return *db_; }
  FileStore& store() { return *store_; }

  std::string JournalDir() const { return options_.data_dir + "/journal"; }
  std::string SnapshotDir() const { return options_.data_dir + "/snapshot"; }
  std::vector<uint64_t> Segments() {
    return journal::ListSegments(fs_, JournalDir()).value();
  }
  std::string SegmentPath(uint64_t s) const {
    return journal::SegmentPath(JournalDir(), s);
  }
  void RemoveSnapshots() {
    for (const auto& e : std::filesystem::directory_iterator(SnapshotDir())) {
      std::filesystem::remove(e.path());
    }
  }

  static std::string ReadFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  static void WriteFile(const std::string& path, const std::string& data) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << data;
  }
  // Flips one byte of `path` at `offset`.
  static void FlipByte(const std::string& path, size_t offset) {
    std::string data = ReadFile(path);
    ASSERT_LT(offset, data.size());
    data[offset] = static_cast<char>(data[offset] ^ 0x5a);
    WriteFile(path, data);
  }
  static int Mode(const std::string& path) {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return -1;
    return static_cast<int>(st.st_mode & 0777);
  }

  Session MustCreate(const std::string& id) {
    NewSession req;
    req.id = id;
    auto s = db().CreateSession(kAlice, std::move(req));
    EXPECT_TRUE(s.ok()) << s.error();
    return s.ok() ? *s : Session{};
  }
  Event MustAppend(const std::string& session, const std::string& payload,
                   std::optional<std::string> client_id = std::nullopt) {
    NewEvent e;
    e.event_type = "note";
    e.payload = payload;
    e.client_event_id = std::move(client_id);
    auto r = db().Append(kAlice, session, std::move(e));
    EXPECT_TRUE(r.ok()) << r.error();
    return r.ok() ? *r : Event{};
  }
  std::vector<Event> AllEvents(const std::string& session) {
    auto page = db().ListEvents(kAlice, session, 0, 1000);
    EXPECT_TRUE(page.ok()) << page.error();
    return page.ok() ? page->events : std::vector<Event>{};
  }
  void CloseSession(const std::string& session) {
    ASSERT_TRUE(
        db().TransitionSession(kAlice, session, SessionEvent::kCloseRequested)
            .ok());
    ASSERT_TRUE(
        db().TransitionSession(kAlice, session, SessionEvent::kCloseCompleted)
            .ok());
  }

  io::TempDir dir_;
  io::FaultInjectionFileSystem fs_;
  ManualClock clock_{1'779'000'000'000};
  StoreOptions options_;
  std::unique_ptr<FileStore> store_;
  std::unique_ptr<BlockingStore> db_;
};

}  // namespace acpstore::engine

#endif  // ACPSTORE_ENGINE_FILE_STORE_TEST_UTIL_H_
