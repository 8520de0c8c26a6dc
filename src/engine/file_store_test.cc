// Scenarios of the file engine that are about files: persistence across a
// reopen, torn tails and corruption, the data-directory lock and modes,
// disk-full and fsync failures, snapshots, segment reclaim.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "engine/file_store_test_util.h"
#include "engine/file_tools.h"
#include "journal/format.h"
#include "record/mutation_codec.h"
#include "snapshot/snapshot_dir.h"

namespace acpstore::engine {
namespace {

using ::testing::HasSubstr;

std::vector<EventSeq> Seqs(const std::vector<Event>& events) {
  std::vector<EventSeq> out;
  out.reserve(events.size());
  for (const Event& e : events) out.push_back(e.seq);
  return out;
}

// The names of this process's threads, as `top -H` shows them.
std::vector<std::string> ThreadNames() {
  std::vector<std::string> out;
  for (const auto& task :
       std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream in(task.path() / "comm");
    std::string name;
    std::getline(in, name);
    out.push_back(name);
  }
  return out;
}

// An operator reading `top -H` on a busy server tells the engine's threads
// apart by name (base/thread_name.h; docs/operations.md lists them): they
// all showed the binary's name.
TEST_F(FileStoreTest, ItsThreadsAreNamedForTheirJobs) {
  options_.maintenance_interval_ms = 60000;
  Open();
  // Each thread names itself as it starts: wait for them to have started.
  const auto matcher = ::testing::IsSupersetOf(
      {"acp-journal", "acp-snapshot", "acp-maintenance"});
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!::testing::Matches(matcher)(ThreadNames()) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_THAT(ThreadNames(), matcher);
}

TEST_F(FileStoreTest, ReopenKeepsEverything) {
  Open();
  MustCreate("s-1");
  MustAppend("s-1", R"({"a":1})", "c-1");
  MustAppend("s-1", R"({"a":2})");
  ASSERT_TRUE(
      db().TransitionSession(kAlice, "s-1", SessionEvent::kRunStarted).ok());
  auto action = db().EnqueueAction(kAlice, NewAction{.session_id = "s-1"});
  ASSERT_TRUE(action.ok());
  ASSERT_TRUE(
      db().PauseSession(kAlice, "s-1", {.reason = "why", .requested_by = "me"})
          .ok());
  Session before = db().GetSession(kAlice, "s-1").value();

  Reopen();

  Session after = db().GetSession(kAlice, "s-1").value();
  EXPECT_EQ(after.status, SessionStatus::kPaused);
  EXPECT_EQ(after.updated_at, before.updated_at);
  EXPECT_EQ(after.events.last_seq, 2u);
  EXPECT_EQ(after.events.bytes, before.events.bytes);
  std::vector<Event> events = AllEvents("s-1");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].payload, R"({"a":1})");
  EXPECT_EQ(events[1].payload, R"({"a":2})");
  EXPECT_EQ(db().GetAction(kAlice, action->action.action_id)->status,
            ActionStatus::kQueued);
  EXPECT_TRUE(db().GetPause(kAlice, "s-1").ok());
  // The clientEventId still dedupes.
  NewEvent retry{
      .event_type = "note", .payload = R"({"a":1})", .client_event_id = "c-1"};
  auto r = db().AppendEvents(kAlice, "s-1", AppendRequest{.events = {retry}});
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->any_created);
  EXPECT_EQ(r->events[0].seq, 1u);
}

TEST_F(FileStoreTest, ReopenWithoutSnapshotReplaysTheJournal) {
  Open();
  MustCreate("s-1");
  for (int i = 0; i < 20; ++i) MustAppend("s-1", std::to_string(i));
  Close();
  RemoveSnapshots();
  Open();
  EXPECT_EQ(AllEvents("s-1").size(), 20u);
  EXPECT_GT(store().Info().records_replayed, 20u);
}

TEST_F(FileStoreTest, EverySyncModeKeepsAcknowledgedWritesAcrossAReopen) {
  for (SyncMode mode :
       {SyncMode::kAlways, SyncMode::kInterval, SyncMode::kNone}) {
    options_.sync = mode;
    options_.sync_interval_ms = 5;
    Open();
    const std::string id = "s-" + std::to_string(static_cast<int>(mode));
    MustCreate(id);
    MustAppend(id, "1");
    MustAppend(id, "2");
    Reopen();
    EXPECT_EQ(Seqs(AllEvents(id)), (std::vector<EventSeq>{1, 2}));
    Close();
  }
}

TEST_F(FileStoreTest, SeqNeverReusedAfterRetentionAndReopen) {
  options_.retention.max_events_per_session = 2;
  Open();
  MustCreate("s-1");
  for (int i = 0; i < 5; ++i) MustAppend("s-1", std::to_string(i));
  EXPECT_EQ(Seqs(AllEvents("s-1")), (std::vector<EventSeq>{4, 5}));
  Reopen();
  EXPECT_EQ(MustAppend("s-1", "6").seq, 6u);
  // Terminal retention drops everything; the high-water mark stays.
  CloseSession("s-1");
  clock_.Advance(options_.retention.terminal_event_retention_ms + 1);
  ASSERT_TRUE(db().RunMaintenance().ok());
  EXPECT_TRUE(AllEvents("s-1").empty());
  Close();
  RemoveSnapshots();  // the journal alone must remember it too
  Open();
  Session s = db().GetSession(kAlice, "s-1").value();
  EXPECT_EQ(s.events.last_seq, 6u);
  EXPECT_EQ(s.events.first_seq, 7u);
  EXPECT_EQ(MustAppend("s-1", "7").seq, 7u);
}

// SPEC §3: cut off, logged (the server logs what on_recovery_damage
// reports: the segment, the offset cut at, the bytes cut) and counted.
TEST_F(FileStoreTest, TornTailIsTruncatedReportedAndCounted) {
  std::vector<Status> reported;
  options_.on_recovery_damage = [&](const Status& s) { reported.push_back(s); };
  Open();
  MustCreate("s-1");
  MustAppend("s-1", "1");
  MustAppend("s-1", "2");
  Close();
  EXPECT_TRUE(reported.empty());
  const uint64_t last = Segments().back();
  const std::string path = SegmentPath(last);
  const std::string good = ReadFile(path);
  WriteFile(path,
            good + std::string("\x17\x00\x00\x00garbage-of-a-torn-write", 27));

  Open();
  EXPECT_EQ(store().Stats().torn_tail_truncations, 1u);
  ASSERT_EQ(reported.size(), 1u);
  const std::string message(reported[0].message());
  EXPECT_NE(message.find("torn tail off journal segment " + path +
                         " at offset " + std::to_string(good.size()) +
                         " (27 bytes cut)"),
            std::string::npos)
      << message;
  EXPECT_EQ(reported[0].code(), StatusCode::kDataLoss);
  reported.clear();
  EXPECT_EQ(AllEvents("s-1").size(), 2u);
  EXPECT_EQ(ReadFile(path).size(), good.size());
  EXPECT_EQ(MustAppend("s-1", "3").seq, 3u);
  Reopen();
  EXPECT_EQ(store().Stats().torn_tail_truncations, 0u);
  EXPECT_TRUE(reported.empty());
  EXPECT_EQ(AllEvents("s-1").size(), 3u);
}

TEST_F(FileStoreTest, CorruptionBeforeTheTailRefusesToOpenNamingFileAndOffset) {
  Open();
  MustCreate("s-1");
  for (int i = 0; i < 5; ++i) MustAppend("s-1", std::to_string(i));
  Close();
  RemoveSnapshots();  // recovery must read the damaged record
  const std::string path = SegmentPath(Segments().front());
  FlipByte(path, journal::kFirstRecordOffset + journal::kHeaderSize + 3);

  auto s = TryOpen();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), StatusCode::kCorruption);
  EXPECT_THAT(std::string(s.error().message()), HasSubstr(path));
  EXPECT_THAT(
      std::string(s.error().message()),
      HasSubstr("offset " + std::to_string(journal::kFirstRecordOffset)));
}

TEST_F(FileStoreTest, DamageInASnapshotCoveredSegmentIsDataLossOnRead) {
  Open();
  MustCreate("s-1");
  MustCreate("s-2");
  MustAppend("s-1", R"({"m":"first"})");
  MustAppend("s-1", R"({"m":"DAMAGE-ME"})");
  MustAppend("s-1", R"({"m":"third"})");
  MustAppend("s-2", R"({"m":"other"})");
  Close();  // writes a snapshot covering every record
  const std::string path = SegmentPath(Segments().front());
  const size_t at = ReadFile(path).find("DAMAGE-ME");
  ASSERT_NE(at, std::string::npos);
  FlipByte(path, at);

  Open();  // recovery does not read covered segments
  auto page = db().ListEvents(kAlice, "s-1", 0, 100);
  ASSERT_FALSE(page.ok());
  EXPECT_EQ(page.error().code(), StatusCode::kDataLoss);
  EXPECT_THAT(std::string(page.error().message()), HasSubstr(path));
  EXPECT_EQ(store().Info().data_loss_reads, 1u);
  // Other events read fine.
  auto after = db().ListEvents(kAlice, "s-1", 2, 100);
  ASSERT_TRUE(after.ok()) << after.error();
  EXPECT_EQ(Seqs(after->events), (std::vector<EventSeq>{3}));
  EXPECT_EQ(AllEvents("s-2").size(), 1u);
  auto first = db().ListEvents(kAlice, "s-1", 0, 1);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->events.at(0).payload, R"({"m":"first"})");
}

TEST_F(FileStoreTest, SecondOpenerFailsAtOnce) {
  Open();
  auto second = TryOpen();
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code(), StatusCode::kUnavailable);
  EXPECT_THAT(std::string(second.error().message()),
              HasSubstr("data directory " + options_.data_dir +
                        " is in use by another process (lock file " +
                        options_.data_dir + "/LOCK)"));
  Close();
  EXPECT_TRUE(TryOpen().ok());
}

TEST_F(FileStoreTest, DataDirIs0700AndFiles0600) {
  Open();
  MustCreate("s-1");
  MustAppend("s-1", "1");
  ASSERT_TRUE(store().SnapshotNow().ok());
  EXPECT_EQ(Mode(options_.data_dir), 0700);
  EXPECT_EQ(Mode(JournalDir()), 0700);
  EXPECT_EQ(Mode(SnapshotDir()), 0700);
  EXPECT_EQ(Mode(options_.data_dir + "/LOCK"), 0600);
  int files = 0;
  for (const auto& dir : {JournalDir(), SnapshotDir()}) {
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
      EXPECT_EQ(Mode(e.path().string()), 0600) << e.path();
      ++files;
    }
  }
  EXPECT_GE(files, 2);
}

TEST_F(FileStoreTest, DiskFullRejectsWritesReadsWorkAndWritesResume) {
  Open();
  MustCreate("s-1");
  MustAppend("s-1", "1");
  fs_.InjectFault(io::FaultInjectionFileSystem::Fault(
                      io::FaultInjectionFileSystem::kAppend, ENOSPC)
                      .OnPaths([](const std::string& p) {
                        return p.find("/journal/") != std::string::npos;
                      }));
  NewEvent e{.event_type = "note", .payload = "2"};
  auto failed = db().Append(kAlice, "s-1", e);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code(), StatusCode::kInsufficientStorage);
  EXPECT_EQ(store().CheckWritable().code(), StatusCode::kInsufficientStorage);
  // Reads work and never saw the refused event.
  EXPECT_EQ(Seqs(AllEvents("s-1")), (std::vector<EventSeq>{1}));
  EXPECT_EQ(db().GetSession(kAlice, "s-1")->events.last_seq, 1u);
  // Still full: still refused.
  EXPECT_EQ(db().Append(kAlice, "s-1", e).error().code(),
            StatusCode::kInsufficientStorage);

  fs_.ClearFaults();
  auto ok = db().Append(kAlice, "s-1", e);
  ASSERT_TRUE(ok.ok()) << ok.error();
  EXPECT_EQ(ok->seq, 2u);
  EXPECT_TRUE(store().CheckWritable().ok());
  EXPECT_EQ(MustAppend("s-1", "3").seq, 3u);
  Reopen();
  EXPECT_EQ(Seqs(AllEvents("s-1")), (std::vector<EventSeq>{1, 2, 3}));
}

// A snapshot that cannot be written is counted and says why until one
// succeeds (it was silent, even at --log-level debug: found by a probe
// with an unwritable snapshot/ directory). The store goes on.
TEST_F(FileStoreTest, AFailedSnapshotIsCountedAndSaysWhy) {
  Open();
  MustCreate("s");
  fs_.InjectFault(io::FaultInjectionFileSystem::Fault(
                      io::FaultInjectionFileSystem::kCreate, EACCES)
                      .OnPaths([](const std::string& p) {
                        return p.find("/snapshot/") != std::string::npos;
                      }));
  EXPECT_FALSE(store().SnapshotNow().ok());
  EXPECT_FALSE(store().SnapshotNow().ok());
  StoreStats stats = store().Stats();
  EXPECT_EQ(stats.snapshots_failed, 2u);
  EXPECT_NE(stats.snapshot_failing.find("Permission denied"), std::string::npos)
      << stats.snapshot_failing;
  MustAppend("s", "1");  // still takes writes
  fs_.ClearFaults();
  ASSERT_TRUE(store().SnapshotNow().ok());
  stats = store().Stats();
  EXPECT_EQ(stats.snapshots_failed, 2u);
  EXPECT_EQ(stats.snapshot_failing, "");
}

TEST_F(FileStoreTest, FailedFsyncMakesTheStoreUnavailableUntilReopened) {
  Open();
  MustCreate("s-1");
  MustAppend("s-1", "1");
  fs_.InjectFault(io::FaultInjectionFileSystem::Fault(
      io::FaultInjectionFileSystem::kSync, EIO));
  auto failed = db().Append(kAlice, "s-1",
                            NewEvent{.event_type = "note", .payload = "2"});
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code(), StatusCode::kUnavailable);
  EXPECT_EQ(store().CheckWritable().code(), StatusCode::kUnavailable);
  fs_.ClearFaults();
  // No retry-and-hope: still refused, without touching the disk.
  auto again = db().Append(kAlice, "s-1",
                           NewEvent{.event_type = "note", .payload = "3"});
  EXPECT_EQ(again.error().code(), StatusCode::kUnavailable);
  EXPECT_FALSE(db().CreateSession(kAlice, NewSession{}).ok());
  // Reads keep working, and never show the unacknowledged event.
  EXPECT_EQ(Seqs(AllEvents("s-1")), (std::vector<EventSeq>{1}));
  Reopen();
  EXPECT_TRUE(store().CheckWritable().ok());
  const EventSeq next = MustAppend("s-1", "4").seq;
  EXPECT_TRUE(next == 2u || next == 3u) << next;  // 2 may have reached disk
}

TEST_F(FileStoreTest,
       WritesBeyondTheMemoryBudgetAreRefusedUntilTheJournalCatchesUp) {
  options_.memory_budget_bytes = 1;  // anything in flight exhausts it
  Open();
  MustCreate("s-1");
  // Completions run on the journal's writer thread: holding one there keeps
  // every later record in flight.
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> entered;
  store().AppendEvents(
      kAlice, "s-1",
      AppendRequest{.events = {{.event_type = "a", .payload = "1"}}},
      [&](const Result<AppendResult>&) {
        entered.set_value();
        released.wait();
      });
  entered.get_future().wait();
  std::promise<Result<AppendResult>> second;
  store().AppendEvents(
      kAlice, "s-1",
      AppendRequest{.events = {{.event_type = "b", .payload = "2"}}},
      [&](Result<AppendResult> r) { second.set_value(std::move(r)); });
  // The first admitted write may exceed the budget alone; a second may not.
  std::promise<Result<AppendResult>> third;
  store().AppendEvents(
      kAlice, "s-1",
      AppendRequest{.events = {{.event_type = "c", .payload = "3"}}},
      [&](Result<AppendResult> r) { third.set_value(std::move(r)); });
  Result<AppendResult> refused = third.get_future().get();
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), StatusCode::kUnavailable);
  EXPECT_EQ(store().Stats().memory_cache_bytes,
            0u);  // the cache gave way first
  release.set_value();
  EXPECT_TRUE(second.get_future().get().ok());
  EXPECT_EQ(MustAppend("s-1", "4").seq, 3u);
}

TEST_F(FileStoreTest, SnapshotPlusReplayEqualsFullReplay) {
  options_.segment_bytes = 4096;
  Open();
  for (int s = 0; s < 4; ++s) MustCreate("s-" + std::to_string(s));
  for (int i = 0; i < 40; ++i) {
    MustAppend("s-" + std::to_string(i % 4),
               R"({"i":)" + std::to_string(i) + "}",
               i % 3 == 0 ? std::optional<std::string>("c" + std::to_string(i))
                          : std::nullopt);
    if (i == 20) {
      ASSERT_TRUE(store().SnapshotNow().ok());
    }
  }
  ASSERT_TRUE(db().EnqueueAction(kAlice, NewAction{.session_id = "s-1"}).ok());
  CloseSession("s-2");
  Close();
  // A copy of the directory without snapshots replays everything.
  const std::string copy = dir_.Join("copy");
  std::filesystem::copy(options_.data_dir, copy,
                        std::filesystem::copy_options::recursive);
  std::filesystem::remove(copy + "/LOCK");
  for (const auto& e :
       std::filesystem::directory_iterator(copy + "/snapshot")) {
    std::filesystem::remove(e.path());
  }
  auto dump = [&]() {
    std::string out;
    auto sessions = db().ListSessions(kAlice, SessionQuery{.limit = 1000});
    for (const Session& s : sessions->sessions) {
      out += s.id + " " + std::string(ToString(s.status)) + " " +
             std::to_string(s.updated_at) + " " +
             std::to_string(s.events.first_seq) + ".." +
             std::to_string(s.events.last_seq) + "\n";
      for (const Event& e : AllEvents(s.id)) {
        out += "  " + std::to_string(e.seq) + " " + e.payload + " " +
               e.client_event_id.value_or("-") + "\n";
      }
    }
    auto actions = db().ListActions(kAlice, ActionQuery{.limit = 1000});
    for (const Action& a : actions->actions) out += a.action_id + "\n";
    return out;
  };
  Open();
  EXPECT_TRUE(store().Info().snapshot_loaded.has_value());
  const std::string with_snapshot = dump();
  Close();
  options_.data_dir = copy;
  Open();
  EXPECT_FALSE(store().Info().snapshot_loaded.has_value());
  EXPECT_EQ(dump(), with_snapshot);
  EXPECT_THAT(with_snapshot, HasSubstr(R"(10 {"i":39} c39)"));
}

TEST_F(FileStoreTest, SegmentsAreDeletedOnceRetentionEmptiedThem) {
  options_.segment_bytes = 4096;
  options_.snapshot_every_bytes = 1ULL << 40;  // only when asked
  Open();
  MustCreate("old");
  MustCreate("live");
  const std::string big(500, 'x');
  for (int i = 0; i < 40; ++i) MustAppend("old", "\"" + big + "\"");
  MustAppend("live", R"({"keep":1})");
  const size_t before = Segments().size();
  ASSERT_GT(before, 4u);
  CloseSession("old");
  clock_.Advance(options_.retention.terminal_event_retention_ms + 1);
  auto report = db().RunMaintenance();
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->events_dropped, 40u);
  // Records the journal directory's removes and syncs, in order (the
  // predicates never fail an operation).
  using FaultFs = io::FaultInjectionFileSystem;
  std::vector<std::string> journal_ops;
  const std::string journal = JournalDir();
  fs_.InjectFault(FaultFs::Fault(FaultFs::kRemove).OnPaths([&](const std::string& p) {
    if (io::DirName(p) == journal) journal_ops.push_back("remove");
    return false;
  }));
  fs_.InjectFault(FaultFs::Fault(FaultFs::kSyncDir).OnPaths([&](const std::string& p) {
    if (p == journal) journal_ops.push_back("sync");
    return false;
  }));
  ASSERT_TRUE(store().SnapshotNow().ok());
  ASSERT_TRUE(store().SnapshotNow().ok());
  (void)store().ReclaimSegments();
  fs_.ClearFaults();
  // The deletions were made durable before the reclaim returned, so a
  // crash cannot bring a reclaimed segment back.
  auto last_remove = std::find(journal_ops.rbegin(), journal_ops.rend(), "remove");
  ASSERT_NE(last_remove, journal_ops.rend());
  EXPECT_NE(std::find(journal_ops.rbegin(), last_remove, "sync"), last_remove);
  const size_t after = Segments().size();
  EXPECT_LT(after, before - 3);
  EXPECT_GT(store().Info().segments_deleted, 0u);
  EXPECT_EQ(AllEvents("live").size(), 1u);
  Reopen();
  EXPECT_EQ(AllEvents("live").size(), 1u);
  EXPECT_EQ(MustAppend("old", "1").seq, 41u);
}

TEST_F(FileStoreTest, DiskLimitDropsOldestEventsTerminalSessionsFirst) {
  options_.segment_bytes = 4096;
  options_.snapshot_every_bytes = 1ULL << 40;
  options_.retention.terminal_event_retention_ms = 0;  // keep
  Open();
  MustCreate("done");
  MustCreate("live");
  const std::string big(500, 'y');
  for (int i = 0; i < 20; ++i) MustAppend("done", "\"" + big + "\"");
  for (int i = 0; i < 20; ++i) MustAppend("live", "\"" + big + "\"");
  CloseSession("done");
  Close();
  options_.retention.max_disk_bytes = uint64_t{16} * 1024;
  Open();
  auto report = db().RunMaintenance();
  ASSERT_TRUE(report.ok());
  EXPECT_GT(report->events_dropped, 0u);
  // The terminal session went first and entirely.
  EXPECT_TRUE(AllEvents("done").empty());
  auto live = db().GetSession(kAlice, "live").value();
  EXPECT_EQ(live.events.last_seq, 20u);
  // Space comes back after snapshots: wait for the background ones (a
  // deadline for a loaded sanitizer run, not a time they need).
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (store().Info().segments_deleted == 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_GT(store().Info().segments_deleted, 0u);
}

// The recovery-damage tests below: a fresh directory whose journal spans
// several segments after a few dozen appends, transcripts off.
class RecoveryDamageTest : public FileStoreTest {
 protected:
  void OpenFresh() {
    Close();
    std::filesystem::remove_all(options_.data_dir);
    options_.segment_bytes = 8 << 10;
    options_.transcript_max_bytes = 0;
    Open();
  }
  // `n` events of ~500 bytes of `fill` to `session`.
  void AppendFilled(const std::string& session, int n, char fill) {
    for (int i = 0; i < n; ++i) {
      MustAppend(session, R"({"t":")" + std::string(500, fill) + R"("})");
    }
  }
  // Sessions "a" and "b" of 20 events each, a snapshot after each, then
  // closed without a third: the snapshot files, newest first.
  std::vector<snapshot::SnapshotFile> TwoSnapshotsThenClose() {
    OpenFresh();
    MustCreate("a");
    AppendFilled("a", 20, 'q');
    EXPECT_TRUE(store().SnapshotNow().ok());
    MustCreate("b");
    AppendFilled("b", 20, 'r');
    EXPECT_TRUE(store().SnapshotNow().ok());
    CloseWithoutItsSnapshot();
    Result<std::vector<snapshot::SnapshotFile>> files =
        snapshot::ListSnapshots(fs_, SnapshotDir());
    EXPECT_TRUE(files.ok()) << files.error();
    return files.ok() ? *files : std::vector<snapshot::SnapshotFile>{};
  }
};

// Segments are reclaimed only once a kept snapshot covers them, so with
// every snapshot damaged (or gone) the journal alone no longer holds the
// store: a session created in a reclaimed segment, with no event left, is
// only in the snapshots. Recovery refuses to open rather than replay the
// journal's rest into a store without it; compact --repair salvages.
TEST_F(RecoveryDamageTest, NoSnapshotAndAReclaimedJournalIsRefused) {
  options_.retention.max_events_per_session = 50;
  OpenFresh();
  MustCreate("idle");  // its record is in segment 1 only
  MustCreate("busy");
  for (int round = 0; round < 4; ++round) {
    // Retention keeps the newest 50 events: older segments die.
    AppendFilled("busy", 50, 'q');
    ASSERT_TRUE(store().SnapshotNow().ok());
  }
  ASSERT_TRUE(store().SnapshotNow().ok());
  Close();
  ASSERT_FALSE(std::filesystem::exists(JournalDir() + "/0000000000000001.log"));
  // The journal past the snapshots as after `compact`: one segment that
  // holds no record yet (before this check, such a store opened empty).
  std::vector<std::filesystem::path> segments;
  for (const auto& f : std::filesystem::directory_iterator(JournalDir())) {
    segments.push_back(f.path());
  }
  std::sort(segments.begin(), segments.end());
  for (size_t i = 0; i + 1 < segments.size(); ++i) {
    std::filesystem::remove(segments[i]);
  }
  std::filesystem::resize_file(segments.back(), journal::kFirstRecordOffset);
  for (const auto& f : std::filesystem::directory_iterator(SnapshotDir())) {
    std::fstream out(f.path(), std::ios::in | std::ios::out | std::ios::binary);
    out.seekp(100);
    out.write("XXXX", 4);
  }
  // verify reports it too.
  Result<VerifyReport> v = Verify(options_.data_dir, nullptr, &fs_);
  ASSERT_TRUE(v.ok()) << v.error();
  EXPECT_FALSE(v->ok());
  Result<std::unique_ptr<FileStore>> opened = TryOpen();
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code(), StatusCode::kCorruption);
  EXPECT_NE(opened.error().message().find("no snapshot loads"), std::string::npos)
      << opened.error();
  EXPECT_NE(opened.error().message().find("compact --repair"), std::string::npos)
      << opened.error();
  // Repair opens what remains and lists the loss (both snapshots).
  Result<CompactReport> repaired = Compact(options_.data_dir, true, nullptr, &fs_);
  ASSERT_TRUE(repaired.ok()) << repaired.error();
  EXPECT_GE(repaired->lost.size(), 2u);
  Open();
}

// A record whose framing, checksums and encoding all hold but which does
// not apply to the state before it (here: seq 10 after seq 3) makes
// recovery refuse to open. verify decoded records without applying them
// and called such a directory clean; it now recovers in memory as an open
// would.
TEST_F(RecoveryDamageTest, VerifyFailsWhereARecordWouldNotApply) {
  OpenFresh();
  MustCreate("a");
  AppendFilled("a", 3, 'q');
  CloseWithoutItsSnapshot();
  Event e;
  e.tenant_id = kAlice.tenant_id;
  e.session_id = "a";
  e.owner_key_id = kAlice.owner_key_id;
  e.seq = 10;
  e.event_type = "note";
  e.occurred_at = e.ingested_at = 1;
  e.payload = "{}";
  record::Mutation m;
  m.ops.emplace_back(record::AppendEventsOp{kAlice.tenant_id, "a", {e}});
  std::string body;
  record::EncodeMutation(m, &body, nullptr);
  std::string framed;
  journal::AppendRecord(&framed, journal::RecordType::kMutation, body);
  {
    std::ofstream out(SegmentPath(Segments().back()),
                      std::ios::binary | std::ios::app);
    out.write(framed.data(), static_cast<std::streamsize>(framed.size()));
  }
  Result<VerifyReport> v = Verify(options_.data_dir, nullptr, &fs_);
  ASSERT_TRUE(v.ok()) << v.error();
  ASSERT_FALSE(v->ok());
  bool named = false;
  for (const Problem& p : v->problems) {
    named = named || (p.what.find("an open would fail") != std::string::npos &&
                      p.what.find("does not apply") != std::string::npos &&
                      p.file == SegmentPath(Segments().back()));
  }
  EXPECT_TRUE(named);
  Result<std::unique_ptr<FileStore>> opened = TryOpen();
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code(), StatusCode::kCorruption) << opened.error();
}

// Plain compact opens the store, which falls back past a damaged newest
// snapshot to an older one and the journal after it (nothing is lost);
// compaction's own snapshots then replace the damaged file. It used to go
// without a word: the report names it now.
TEST_F(RecoveryDamageTest, CompactNamesADamagedSnapshotItReplaces) {
  const std::vector<snapshot::SnapshotFile> files = TwoSnapshotsThenClose();
  ASSERT_GE(files.size(), 2u);
  const std::string newest = files.front().path;
  FlipByte(newest, 100);
  Result<CompactReport> c = Compact(options_.data_dir, false, nullptr, &fs_);
  ASSERT_TRUE(c.ok()) << c.error();
  ASSERT_EQ(c->snapshots_skipped.size(), 1u);
  EXPECT_NE(c->snapshots_skipped[0].find(newest), std::string::npos)
      << c->snapshots_skipped[0];
  EXPECT_NE(c->snapshots_skipped[0].find("; kept as " + newest + ".damaged-"),
            std::string::npos)
      << c->snapshots_skipped[0];
  EXPECT_EQ(snapshot::ListSetAside(fs_, SnapshotDir())->size(), 1u);
  EXPECT_TRUE(c->lost.empty());
  Open();
  EXPECT_EQ(db().GetSession(kAlice, "a")->events.last_seq, 20u);
  EXPECT_EQ(db().GetSession(kAlice, "b")->events.last_seq, 20u);
  EXPECT_TRUE(store().Info().snapshots_skipped.empty());
}

// docs/recovery.md step 3: a damaged snapshot is skipped, reported and
// kept for inspection. It was skipped silently, and the next snapshot
// deleted it as unkept (found by an outside tester). It is now reported
// to on_recovery_damage (the server logs it) and renamed aside, where no
// later open reads it and no snapshot deletes it; verify and inspect name
// it without calling it damage.
TEST_F(RecoveryDamageTest, ADamagedSnapshotIsReportedAndKeptAside) {
  const std::vector<snapshot::SnapshotFile> files = TwoSnapshotsThenClose();
  ASSERT_EQ(files.size(), 2u);
  const std::string newest = files[0].path;
  const std::string older = files[1].path;
  FlipByte(newest, 100);
  const std::string damaged = ReadFile(newest);

  std::vector<Status> reported;
  options_.on_recovery_damage = [&](const Status& s) { reported.push_back(s); };
  Open();
  ASSERT_EQ(reported.size(), 1u);
  const std::string message(reported[0].message());
  EXPECT_TRUE(message.starts_with("snapshot " + newest +
                                  " is damaged and was skipped ("))
      << message;
  EXPECT_NE(message.find("the state came from snapshot " + older),
            std::string::npos)
      << message;
  Result<std::vector<std::string>> aside =
      snapshot::ListSetAside(fs_, SnapshotDir());
  ASSERT_TRUE(aside.ok()) << aside.error();
  ASSERT_EQ(aside->size(), 1u);
  const std::string kept = aside->front();
  EXPECT_TRUE(kept.starts_with(newest + ".damaged-")) << kept;
  EXPECT_NE(message.find("kept as " + kept + " for inspection"),
            std::string::npos)
      << message;
  EXPECT_FALSE(std::filesystem::exists(newest));
  EXPECT_EQ(ReadFile(kept), damaged);
  EXPECT_EQ(db().GetSession(kAlice, "b")->events.last_seq, 20u);
  ASSERT_EQ(store().Info().snapshots_skipped.size(), 1u);

  // Snapshots, their clean-up and a restart leave it alone and never
  // read it again.
  MustCreate("c");
  ASSERT_TRUE(store().SnapshotNow().ok());
  ASSERT_TRUE(store().SnapshotNow().ok());
  reported.clear();
  Reopen();
  EXPECT_TRUE(reported.empty());
  EXPECT_TRUE(store().Info().snapshots_skipped.empty());
  EXPECT_EQ(db().GetSession(kAlice, "b")->events.last_seq, 20u);
  Close();
  EXPECT_EQ(ReadFile(kept), damaged);

  Result<VerifyReport> v = Verify(options_.data_dir, nullptr, &fs_);
  ASSERT_TRUE(v.ok()) << v.error();
  EXPECT_TRUE(v->ok());
  EXPECT_EQ(v->set_aside, std::vector<std::string>{kept});
  Result<InspectReport> inspect = Inspect(options_.data_dir, nullptr, &fs_);
  ASSERT_TRUE(inspect.ok()) << inspect.error();
  ASSERT_EQ(inspect->set_aside.size(), 1u);
  EXPECT_EQ(inspect->set_aside[0].path, kept);
  EXPECT_EQ(inspect->set_aside[0].bytes, damaged.size());
}

// The segment the newest snapshot covers up to is never reclaimed, so
// when it is gone (with every segment after it, or the whole journal
// directory) the records acknowledged after the snapshot are gone too:
// the store refuses to open instead of serving the snapshot's state as if
// it were all (it opened without session "b" before).
TEST_F(RecoveryDamageTest, AMissingCoveredSegmentOrJournalIsRefused) {
  for (const bool whole_journal : {false, true}) {
    SCOPED_TRACE(whole_journal ? "journal/ gone" : "segments from the covered one gone");
    OpenFresh();
    MustCreate("a");
    AppendFilled("a", 30, 'q');
    ASSERT_TRUE(store().SnapshotNow().ok());
    const uint64_t covered = Segments().back();
    MustCreate("b");
    AppendFilled("b", 60, 'r');
    CloseWithoutItsSnapshot();  // "b" is only in the journal
    if (whole_journal) {
      std::filesystem::remove_all(JournalDir());
    } else {
      for (uint64_t s : Segments()) {
        if (s >= covered) std::filesystem::remove(SegmentPath(s));
      }
    }
    Result<VerifyReport> v = Verify(options_.data_dir, nullptr, &fs_);
    if (v.ok()) {
      bool named = false;
      for (const Problem& p : v->problems) {
        named = named || p.file == journal::SegmentPath(JournalDir(), covered);
      }
      EXPECT_TRUE(named);  // verify said clean before
      for (const Problem& p : v->problems) {
        // Named once, by the journal check, not again by the dry run.
        EXPECT_EQ(p.what.find("an open would fail"), std::string::npos) << p.what;
      }
    }  // else: no journal/ at all, an error of its own
    Result<std::unique_ptr<FileStore>> opened = TryOpen();
    ASSERT_FALSE(opened.ok());
    EXPECT_EQ(opened.error().code(), StatusCode::kCorruption) << opened.error();
    EXPECT_NE(opened.error().message().find(
                  journal::SegmentPath(JournalDir(), covered)),
              std::string::npos)
        << opened.error();
  }
}

// compact --repair swaps its new journal/ and snapshot/ in with four
// renames. Stopped between them (each in turn fails here), the directory held
// the new journal beside the old snapshots, and opened without session b
// and with the old index pointing into the new segments; the REPAIR intent
// file now makes the next open finish the swap.
TEST_F(RecoveryDamageTest, ARepairStoppedWhileSwappingIsFinishedByTheNextOpen) {
  // Renames: the new snapshot's temp name, REPAIR's temp name, then the
  // swaps: old journal aside, new journal in, old snapshots aside, new
  // snapshots in. Each of the four swaps fails in one round.
  for (uint64_t fail_at : {2, 3, 4, 5}) {
    SCOPED_TRACE("rename " + std::to_string(fail_at + 1) + " fails");
    OpenFresh();
    MustCreate("a");
    AppendFilled("a", 60, 'q');
    ASSERT_TRUE(store().SnapshotNow().ok());
    MustCreate("b");
    AppendFilled("b", 20, 'r');
    CloseWithoutItsSnapshot();  // b is in the journal only
    fs_.InjectFault(io::FaultInjectionFileSystem::Fault(
                        io::FaultInjectionFileSystem::kRename)
                        .Skip(fail_at)
                        .Times(1));
    Result<CompactReport> c = Compact(options_.data_dir, true, nullptr, &fs_);
    fs_.ClearFaults();
    ASSERT_FALSE(c.ok());
    ASSERT_TRUE(std::filesystem::exists(options_.data_dir + "/REPAIR"));
    // verify cannot vouch for directories an open would swap first.
    Result<VerifyReport> v = Verify(options_.data_dir, nullptr, &fs_);
    ASSERT_TRUE(v.ok()) << v.error();
    ASSERT_EQ(v->problems.size(), 1u);
    EXPECT_EQ(v->problems[0].file, options_.data_dir + "/REPAIR");
    // inspect reports what the open below recovers, the swap finished,
    // and moves nothing itself (it described the directories the swap
    // moves aside, and said nothing of the repair: found by a review).
    Result<InspectReport> in = Inspect(options_.data_dir, nullptr, &fs_);
    ASSERT_TRUE(in.ok()) << in.error();
    EXPECT_EQ(in->repair_intent, options_.data_dir + "/REPAIR");
    ASSERT_FALSE(in->repair_moves.empty());
    EXPECT_TRUE(in->recovery.ok()) << in->recovery;
    EXPECT_EQ(in->sessions, 2u);
    EXPECT_EQ(in->events_retained, 80u);
    ASSERT_FALSE(in->snapshots.empty());
    EXPECT_TRUE(in->snapshots.front().loaded);
    for (const InterruptedRepair::Move& m : in->repair_moves) {
      EXPECT_NE(m.from.find(".repair-"), std::string::npos) << m.from;
      const bool journal = m.to == JournalDir();
      EXPECT_TRUE(journal || m.to == SnapshotDir()) << m.to;
      const std::string read =
          journal ? in->segments.front().path : in->snapshots.front().path;
      EXPECT_EQ(read.rfind(m.from + "/", 0), 0u) << read;
    }
    EXPECT_TRUE(std::filesystem::exists(options_.data_dir + "/REPAIR"));
    EXPECT_TRUE(std::filesystem::exists(in->repair_moves.back().from));
    Open();
    EXPECT_FALSE(std::filesystem::exists(options_.data_dir + "/REPAIR"));
    EXPECT_TRUE(db().GetSession(kAlice, "b").ok());
    EXPECT_EQ(AllEvents("a").size(), 60u);
    EXPECT_EQ(AllEvents("b").size(), 20u);
    int kept_aside = 0;
    for (const auto& e :
         std::filesystem::directory_iterator(options_.data_dir)) {
      if (e.path().filename().string().find(".damaged-") != std::string::npos) {
        ++kept_aside;
      }
    }
    EXPECT_EQ(kept_aside, 2);  // the old journal/ and snapshot/
  }
}

// Bytes that do not verify at the end of the newest segment are a torn
// tail only past what the snapshot covers: before it, nothing cuts them
// and reads of those events fail, so verify reports damage (it reported a
// torn tail, "cut at the next open", and no problem before).
TEST_F(RecoveryDamageTest, VerifyCallsDamageTheSnapshotCoversDamageNotATornTail) {
  OpenFresh();
  MustCreate("a");
  AppendFilled("a", 5, 'q');
  Close();  // its snapshot covers every record
  const std::string seg = SegmentPath(Segments().back());
  std::string bytes = ReadFile(seg);
  bytes[bytes.size() - 20] ^= 0x20;  // inside the last event
  WriteFile(seg, bytes);
  Result<VerifyReport> v = Verify(options_.data_dir, nullptr, &fs_);
  ASSERT_TRUE(v.ok()) << v.error();
  EXPECT_FALSE(v->torn_tail.has_value());
  ASSERT_FALSE(v->ok());
  EXPECT_EQ(v->problems.back().file, seg);
  EXPECT_NE(v->problems.back().what.find("not a torn tail"), std::string::npos)
      << v->problems.back().what;
}

// The same bytes cut off instead of changed: the segment ends before the
// covered position, which an open refuses; verify says so (it said "nothing
// cuts it" beside "torn tail (cut at the next open)", both untrue; found by
// a probe).
TEST_F(RecoveryDamageTest, VerifySaysAnOpenRefusesASegmentCutBeforeTheSnapshot) {
  OpenFresh();
  MustCreate("a");
  AppendFilled("a", 5, 'q');
  Close();
  const std::string seg = SegmentPath(Segments().back());
  std::string bytes = ReadFile(seg);
  bytes.resize(bytes.size() - 5);
  WriteFile(seg, bytes);
  Result<VerifyReport> v = Verify(options_.data_dir, nullptr, &fs_);
  ASSERT_TRUE(v.ok()) << v.error();
  ASSERT_FALSE(v->ok());
  EXPECT_EQ(v->problems.back().file, seg);
  const std::string what = v->problems.back().what;
  EXPECT_NE(what.find("an open refuses it"), std::string::npos) << what;
  EXPECT_EQ(what.find("torn tail (cut"), std::string::npos) << what;
  EXPECT_FALSE(TryOpen().ok());
}

// A segment holding retained events, deleted: the store opens (the
// snapshot holds the index) and every read of those events fails with
// data_loss, so verify must not call the directory clean (it did; found by
// a probe).
TEST_F(RecoveryDamageTest, VerifyReportsAMissingSegmentThatHoldsRetainedEvents) {
  OpenFresh();
  MustCreate("a");
  AppendFilled("a", 40, 'q');  // ~20 KB: several 8 KiB segments
  Close();
  ASSERT_GE(Segments().size(), 3u);
  const std::string gone = SegmentPath(Segments().front());
  std::filesystem::remove(gone);
  Result<VerifyReport> v = Verify(options_.data_dir, nullptr, &fs_);
  ASSERT_TRUE(v.ok()) << v.error();
  ASSERT_FALSE(v->ok());
  EXPECT_EQ(v->problems.back().file, gone);
  EXPECT_NE(v->problems.back().what.find("retained events"), std::string::npos)
      << v->problems.back().what;
}

// A message.delta of message "m" with `text` (JSON-safe).
NewEvent MessageDelta(const std::string& text) {
  NewEvent e;
  e.event_type = "message.delta";
  e.payload = R"({"messageId":"m","text":")" + text + R"("})";
  return e;
}

// A store that kept transcripts, reopened with them off: the snapshot's
// transcripts are not held in memory (they counted ~20 MB in /v1/stats on
// a probe's server, memory the store served nothing from), but kept as
// references that its snapshots carry on (decision 0035): turned on again,
// every transcript is whole, also where retention has dropped the events
// (a probe found one restart with transcripts off erased them for good),
// and it catches up with what was appended while they were off.
TEST_F(FileStoreTest, TranscriptsTurnedOffAreKeptNotHeld) {
  options_.retention.max_events_per_session = 5;
  Open();
  MustCreate("s");   // untouched while transcripts are off
  MustCreate("t");   // appended to while they are off
  std::string s_text, t_text;
  for (int i = 0; i < 20; ++i) {
    const std::string piece = "d" + std::to_string(i) + std::string(200, 'a') + " ";
    ASSERT_TRUE(db().Append(kAlice, "s", MessageDelta(piece)).ok());
    ASSERT_TRUE(db().Append(kAlice, "t", MessageDelta(piece)).ok());
    s_text += piece;
    t_text += piece;
  }
  ASSERT_GT(store().Stats().memory_transcript_bytes, 8000u);
  Close();  // a snapshot with the transcripts

  options_.transcript_max_bytes = 0;
  for (int restart = 0; restart < 2; ++restart) {  // two snapshots while off
    Open();
    EXPECT_EQ(store().Stats().memory_transcript_bytes, 0u);
    MustCreate("other-" + std::to_string(restart));
    for (int i = 0; i < 2; ++i) {
      const std::string piece = "off" + std::to_string(restart) +
                                std::to_string(i) + " ";
      ASSERT_TRUE(db().Append(kAlice, "t", MessageDelta(piece)).ok());
      t_text += piece;
    }
    Close();
  }

  options_.transcript_max_bytes = 16 << 20;
  Open();
  for (const auto& [id, text] : {std::pair{std::string("s"), s_text},
                                 std::pair{std::string("t"), t_text}}) {
    SCOPED_TRACE(id);
    Result<TranscriptPage> page =
        db().ReadTranscript(kAlice, id, TranscriptQuery{});
    ASSERT_TRUE(page.ok()) << page.error();
    ASSERT_EQ(page->entries.size(), 1u);
    EXPECT_EQ(page->entries[0].text, text);
    EXPECT_TRUE(page->complete);
  }
  // Appends continue the same entry.
  ASSERT_TRUE(db().Append(kAlice, "t", MessageDelta("on")).ok());
  EXPECT_EQ(db().ReadTranscript(kAlice, "t", TranscriptQuery{})->entries[0].text,
            t_text + "on");
}

// More appended while transcripts were off than retention keeps: the
// transcript keeps what it had, folds what is left, and says it is
// incomplete.
TEST_F(FileStoreTest, ATranscriptKeptWhileOffIsIncompleteWhereRetentionDroppedEvents) {
  options_.retention.max_events_per_session = 5;
  Open();
  MustCreate("s");
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(db().Append(kAlice, "s", MessageDelta("a")).ok());
  Close();
  options_.transcript_max_bytes = 0;
  Open();
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(db().Append(kAlice, "s", MessageDelta(std::to_string(i))).ok());
  }
  Close();
  options_.transcript_max_bytes = 16 << 20;
  Open();
  Result<TranscriptPage> page = db().ReadTranscript(kAlice, "s", TranscriptQuery{});
  ASSERT_TRUE(page.ok()) << page.error();
  ASSERT_EQ(page->entries.size(), 1u);
  EXPECT_EQ(page->entries[0].text, "aaa56789");  // 0-4 were dropped
  EXPECT_FALSE(page->complete);
}

// compact folds the journal past the snapshot itself: under the limits
// the server runs with (given to it), not the defaults, which cut a 60 KB
// tool input to 16 KiB for good (both compact and compact --repair did).
TEST_F(FileStoreTest, CompactFoldsUnderTheServersTranscriptLimits) {
  for (const bool repair : {false, true}) {
    SCOPED_TRACE(repair ? "compact --repair" : "compact");
    Close();
    std::filesystem::remove_all(options_.data_dir);
    options_.transcript_max_tool_bytes = 256 << 10;
    Open();
    MustCreate("s");
    NewEvent e;
    e.event_type = "tool.started";
    e.payload = R"({"input":{"cmd":")" + std::string(60000, 'x') +
                R"("},"kind":"execute","title":"big","toolCallId":"t1"})";
    ASSERT_TRUE(db().Append(kAlice, "s", std::move(e)).ok());
    CloseWithoutItsSnapshot();  // the event is a journal tail
    transcript::Limits limits;
    limits.max_bytes = options_.transcript_max_bytes;
    limits.max_tool_bytes = options_.transcript_max_tool_bytes;
    Result<CompactReport> c =
        Compact(options_.data_dir, repair, nullptr, &fs_, limits);
    ASSERT_TRUE(c.ok()) << c.error();
    Open();
    Result<TranscriptPage> page =
        db().ReadTranscript(kAlice, "s", TranscriptQuery{});
    ASSERT_TRUE(page.ok()) << page.error();
    ASSERT_EQ(page->entries.size(), 1u);
    EXPECT_FALSE(page->entries[0].input_cut);
    EXPECT_GT(page->entries[0].input.size(), 60000u);
  }
}

}  // namespace
}  // namespace acpstore::engine
