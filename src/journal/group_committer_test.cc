// Scenarios for the writer side: group commit, durability across a
// simulated power loss, fail-stop on fsync errors, ENOSPC recovery,
// segment rollover and the sync modes.

#include "journal/group_committer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "journal/journal_test_util.h"

namespace acpstore::journal {
namespace {

using Fault = io::FaultInjectionFileSystem::Fault;
using FIFS = io::FaultInjectionFileSystem;

class GroupCommitterTest : public JournalTest {};

// Submits `per_thread` records from each of `threads` threads without
// waiting between them and waits for every completion.
struct Load {
  std::mutex mu;
  std::set<std::string> acked;
  std::set<std::string> submitted;
  std::atomic<int> completed{0};
  std::atomic<int> failed{0};
};

void SubmitFrom(GroupCommitter& c, Load& load, int threads, int per_thread) {
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        std::string payload = "t" + std::to_string(t) + "-" + std::to_string(i);
        {
          std::lock_guard<std::mutex> lock(load.mu);
          load.submitted.insert(payload);
        }
        c.Submit(RecordType::kMutation, payload,
                 [&load, payload](Result<RecordLocation> r) {
                   if (r.ok()) {
                     std::lock_guard<std::mutex> lock(load.mu);
                     load.acked.insert(payload);
                   } else {
                     ++load.failed;
                   }
                   ++load.completed;
                 });
      }
    });
  }
  for (auto& w : workers) w.join();
}

void WaitFor(const std::atomic<int>& n, int target) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (n.load() < target && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_EQ(n.load(), target);
}

// Counts completions and the batch ends after them, on the writer thread
// (the test thread reads only the atomics).
class CountingListener final : public BatchListener {
 public:
  void OnBatchEnd() override {
    // Every batch end follows at least one completion of its own.
    if (completed.load() == completed_at_last_end) ++empty_ends;
    completed_at_last_end = completed.load();
    ++ends;
    seen.store(completed_at_last_end);
  }
  std::atomic<int> completed{0};
  std::atomic<int> ends{0};
  std::atomic<int> empty_ends{0};
  std::atomic<int> seen{0};  // completions before the latest batch end
  int completed_at_last_end = 0;
};

TEST_F(GroupCommitterTest, BatchListenerFollowsEveryRunOfCompletions) {
  auto c = Open();
  CountingListener listener;
  c->SetBatchListener(&listener);
  constexpr int kThreads = 4, kPerThread = 200;
  std::vector<std::thread> workers;
  for (int t = 0; t < kThreads; ++t) {
    workers.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        c->Submit(RecordType::kMutation, "x",
                  [&listener](Result<RecordLocation> r) {
                    EXPECT_TRUE(r.ok());
                    ++listener.completed;
                  });
      }
    });
  }
  for (auto& w : workers) w.join();
  // A Flush returns only after the batch end of every record before it
  // (the file engine's snapshot window depends on it).
  ASSERT_TRUE(c->Flush().ok());
  EXPECT_EQ(listener.seen.load(), kThreads * kPerThread);
  EXPECT_GE(listener.ends.load(), 1);
  EXPECT_LE(listener.ends.load(), kThreads * kPerThread);
  EXPECT_EQ(listener.empty_ends.load(), 0);

  // Records refused after Close complete inline, and so does the end.
  ASSERT_TRUE(c->Close().ok());
  const int ends = listener.ends.load();
  c->Submit(RecordType::kMutation, "late",
            [&listener](Result<RecordLocation> r) {
              EXPECT_FALSE(r.ok());
              ++listener.completed;
            });
  EXPECT_EQ(listener.ends.load(), ends + 1);
  EXPECT_EQ(listener.seen.load(), kThreads * kPerThread + 1);
}

TEST_F(GroupCommitterTest, GroupCommitSharesOneFsync) {
  auto c = Open();
  const uint64_t syncs_before = fs_.sync_count();
  Load load;
  constexpr int kThreads = 8, kPerThread = 250;
  SubmitFrom(*c, load, kThreads, kPerThread);
  WaitFor(load.completed, kThreads * kPerThread);
  EXPECT_EQ(load.failed.load(), 0);
  const uint64_t syncs = fs_.sync_count() - syncs_before;
  const JournalStats stats = c->stats();
  EXPECT_LT(syncs, uint64_t{kThreads * kPerThread});
  EXPECT_EQ(stats.records, uint64_t{kThreads * kPerThread});
  EXPECT_LT(stats.batches, stats.records);
  EXPECT_GT(stats.max_batch_records, 1u);
  EXPECT_EQ(stats.batches, syncs) << "kAlways: exactly one fsync per batch";
  ASSERT_TRUE(c->Close().ok());
  Replayed r = ReplayAll();
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.payloads.size(), size_t{kThreads * kPerThread});
}

TEST_F(GroupCommitterTest, RecordsAreWrittenInSubmitOrder) {
  auto c = Open();
  std::atomic<int> done{0};
  std::vector<RecordLocation> locations(100);
  for (int i = 0; i < 100; ++i) {
    c->Submit(RecordType::kMutation, std::to_string(i),
              [&, i](Result<RecordLocation> r) {
                ASSERT_TRUE(r.ok());
                locations[i] = *r;
                ++done;
              });
  }
  WaitFor(done, 100);
  for (int i = 1; i < 100; ++i) {
    EXPECT_EQ(locations[i].offset, locations[i - 1].end().offset);
  }
}

TEST_F(GroupCommitterTest, AckedRecordsSurviveSimulatedCrash) {
  auto c = Open();
  Load load;
  std::atomic<bool> crashed{false};
  std::atomic<int> submitted{0};
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    // Each writer keeps submitting until 50 submissions past the crash.
    writers.emplace_back([&, t] {
      int after_crash = 0;
      for (int i = 0; after_crash < 50; ++i) {
        if (crashed.load()) ++after_crash;
        std::string payload = "t" + std::to_string(t) + "-" + std::to_string(i);
        {
          std::lock_guard<std::mutex> lock(load.mu);
          load.submitted.insert(payload);
        }
        ++submitted;
        c->Submit(RecordType::kMutation, payload,
                  [&load, payload](Result<RecordLocation> r) {
                    if (r.ok()) {
                      std::lock_guard<std::mutex> lock(load.mu);
                      load.acked.insert(payload);
                    } else {
                      ++load.failed;
                    }
                    ++load.completed;
                  });
        if (i % 16 == 0) std::this_thread::yield();
      }
    });
  }
  while (load.completed.load() < 500) std::this_thread::yield();
  // Power loss while writers run; asserted once they are joined (a return
  // with them running ends the process instead of failing the test).
  const Status crash = fs_.SimulateCrash();
  crashed = true;
  for (auto& w : writers) w.join();
  ASSERT_TRUE(crash.ok()) << crash;
  WaitFor(load.completed, submitted.load());
  EXPECT_GT(load.failed.load(), 0) << "writes after the crash must fail";
  c.reset();

  Replayed r = ReplayAll();
  ASSERT_TRUE(r.status.ok()) << r.status;
  std::set<std::string> recovered(r.payloads.begin(), r.payloads.end());
  EXPECT_EQ(recovered.size(), r.payloads.size()) << "no record twice";
  for (const std::string& p : load.acked) {
    EXPECT_TRUE(recovered.count(p)) << "acknowledged record lost: " << p;
  }
  for (const std::string& p : recovered) {
    EXPECT_TRUE(load.submitted.count(p)) << "garbage recovered: " << p;
  }
  EXPECT_GE(load.acked.size(), 500u);
}

TEST_F(GroupCommitterTest, FsyncFailureMakesJournalReadOnly) {
  auto c = Open();
  ASSERT_TRUE(Commit(*c, "before").ok());
  fs_.InjectFault(Fault(FIFS::kSync, EIO).Times(1));
  Result<RecordLocation> failed = Commit(*c, "during");
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code(), StatusCode::kUnavailable) << failed.error();
  EXPECT_NE(failed.error().message().find("fdatasync"), std::string::npos);
  // The fault is gone, but the file's content is unknown: no retry.
  Result<RecordLocation> later = Commit(*c, "after");
  ASSERT_FALSE(later.ok());
  EXPECT_EQ(later.error().code(), StatusCode::kUnavailable);
  EXPECT_EQ(c->health().code(), StatusCode::kUnavailable);
  EXPECT_FALSE(c->Flush().ok());
  c.reset();
  // Reopening runs recovery and the journal works again.
  auto reopened = Open();
  ASSERT_TRUE(Commit(*reopened, "reopened").ok());
  ASSERT_TRUE(reopened->Close().ok());
  Replayed r = ReplayAll();
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.payloads.front(), "before");
  EXPECT_EQ(r.payloads.back(), "reopened");
  EXPECT_EQ(std::count(r.payloads.begin(), r.payloads.end(), "after"), 0);
}

TEST_F(GroupCommitterTest, EnospcRejectsThenRecovers) {
  auto c = Open();
  ASSERT_TRUE(Commit(*c, "first").ok());
  // The disk fills up for two writes; each lands half its bytes.
  fs_.InjectFault(Fault(FIFS::kAppend, ENOSPC).Times(2));
  for (int i = 0; i < 2; ++i) {
    Result<RecordLocation> r = Commit(*c, "rejected-" + std::to_string(i));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), StatusCode::kInsufficientStorage) << r.error();
  }
  EXPECT_TRUE(c->health().ok()) << "ENOSPC is not fatal";
  Result<RecordLocation> third = Commit(*c, "third");
  ASSERT_TRUE(third.ok()) << third.status();
  EXPECT_EQ(c->stats().rejected_no_space, 2u);
  ASSERT_TRUE(c->Close().ok());
  Replayed r = ReplayAll();
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.payloads, (std::vector<std::string>{"first", "third"}));
  EXPECT_EQ(r.result.torn_bytes, 0u) << "no fragment of a rejected write left";
}

TEST_F(GroupCommitterTest, AbortQueuedFailsRecordsBehindAFailedOne) {
  GroupCommitOptions options;
  options.max_batch_bytes = 1;  // one record per batch
  auto c = OpenWith(options);
  std::promise<void> all_submitted;
  std::shared_future<void> go = all_submitted.get_future().share();
  // The first write blocks until three records are queued, then hits ENOSPC.
  fs_.InjectFault(
      Fault(FIFS::kAppend, ENOSPC).Times(1).OnPaths([go](const std::string&) {
        go.wait();
        return true;
      }));
  std::vector<std::promise<Status>> results(3);
  for (int i = 0; i < 3; ++i) {
    c->Submit(RecordType::kMutation, "dependent-" + std::to_string(i),
              [&, i](Result<RecordLocation> r) {
                // As an engine would: a failure poisons what was decided on
                // top of it.
                if (!r.ok()) c->AbortQueued(Status::Unavailable("aborted"));
                results[i].set_value(r.status());
              });
  }
  all_submitted.set_value();
  EXPECT_EQ(results[0].get_future().get().code(),
            StatusCode::kInsufficientStorage);
  EXPECT_EQ(results[1].get_future().get().message(), "aborted");
  EXPECT_EQ(results[2].get_future().get().message(), "aborted");
  ASSERT_TRUE(Commit(*c, "independent").ok());
  ASSERT_TRUE(c->Close().ok());
  EXPECT_EQ(ReplayAll().payloads, std::vector<std::string>{"independent"});
}

TEST_F(GroupCommitterTest, EnospcWhileRollingRejectsThenRecovers) {
  auto c = Open(SyncMode::kAlways, /*segment_bytes=*/60);
  ASSERT_TRUE(Commit(*c, "first").ok());
  fs_.InjectFault(Fault(FIFS::kCreate, ENOSPC).Times(1));
  Result<RecordLocation> r = Commit(*c, std::string(40, 'x'));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), StatusCode::kInsufficientStorage);
  Result<RecordLocation> next = Commit(*c, "next");
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->segment, 2u);
  ASSERT_TRUE(c->Close().ok());
  Replayed replayed = ReplayAll();
  ASSERT_TRUE(replayed.status.ok()) << replayed.status;
  EXPECT_EQ(replayed.payloads, (std::vector<std::string>{"first", "next"}));
}

TEST_F(GroupCommitterTest, SegmentRollover) {
  constexpr uint64_t kSegmentBytes = 200;
  auto c = Open(SyncMode::kAlways, kSegmentBytes);
  std::vector<std::string> payloads;
  std::vector<RecordLocation> locations;
  for (int i = 0; i < 20; ++i) {
    payloads.push_back("payload-" + std::to_string(i) + std::string(30, '.'));
    Result<RecordLocation> r = Commit(*c, payloads.back());
    ASSERT_TRUE(r.ok()) << r.status();
    if (!locations.empty()) {
      EXPECT_GE(r->segment, locations.back().segment);
    }
    locations.push_back(*r);
  }
  ASSERT_TRUE(c->Close().ok());
  auto segments = ListSegments(fs_, dir_);
  ASSERT_TRUE(segments.ok());
  EXPECT_GT(segments->size(), 3u);
  EXPECT_EQ(segments->front(), 1u);
  EXPECT_EQ(segments->back(), locations.back().segment);
  for (uint64_t s : *segments) {
    EXPECT_LE(*fs_.FileSize(SegmentPath(dir_, s)), kSegmentBytes);
  }
  EXPECT_EQ(c->stats().segments_created, segments->size());
  Replayed r = ReplayAll();
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.payloads, payloads);
  EXPECT_EQ(r.locations, locations);
}

TEST_F(GroupCommitterTest, IntervalModeSyncsInTheBackground) {
  auto c = Open(SyncMode::kInterval, 64 << 20, /*interval_ms=*/10);
  const uint64_t before = fs_.sync_count();
  Result<RecordLocation> r = Commit(*c, "x");
  ASSERT_TRUE(r.ok());
  const std::string path = SegmentPath(dir_, r->segment);
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (fs_.synced_size(path) != r->end().offset &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(fs_.synced_size(path), r->end().offset);
  EXPECT_GT(fs_.sync_count(), before);
}

TEST_F(GroupCommitterTest, NoneModeNeverSyncsUntilFlush) {
  auto c = Open(SyncMode::kNone);
  const uint64_t before = fs_.sync_count();
  RecordLocation last;
  for (int i = 0; i < 10; ++i) {
    Result<RecordLocation> r = Commit(*c, "r" + std::to_string(i));
    ASSERT_TRUE(r.ok());
    last = *r;
  }
  EXPECT_EQ(fs_.sync_count(), before);
  Result<JournalPosition> flushed = c->Flush();
  ASSERT_TRUE(flushed.ok()) << flushed.status();
  EXPECT_EQ(*flushed, last.end());
  EXPECT_EQ(fs_.sync_count(), before + 1);
  EXPECT_EQ(fs_.synced_size(SegmentPath(dir_, last.segment)),
            last.end().offset);
}

TEST_F(GroupCommitterTest, CloseDrainsQueueThenRejects) {
  auto c = Open(SyncMode::kNone);
  std::atomic<int> ok{0};
  for (int i = 0; i < 50; ++i) {
    c->Submit(RecordType::kMutation, "queued", [&](Result<RecordLocation> r) {
      if (r.ok()) ++ok;
    });
  }
  ASSERT_TRUE(c->Close().ok());
  EXPECT_EQ(ok.load(), 50);
  Status late;
  c->Submit(RecordType::kMutation, "late",
            [&](Result<RecordLocation> r) { late = r.status(); });
  EXPECT_EQ(late.code(), StatusCode::kUnavailable);
  EXPECT_EQ(ReplayAll().payloads.size(), 50u);
}

TEST_F(GroupCommitterTest, SubmitFramedWritesZeroCopyRecordsAndRefusesBadOnes) {
  auto c = Open();
  std::string framed;
  const size_t at = BeginRecord(&framed);
  framed.append("built in place");
  FinishRecord(&framed, at, RecordType::kMutation);
  std::promise<Result<RecordLocation>> good, bad;
  c->SubmitFramed(std::move(framed), [&](Result<RecordLocation> r) {
    good.set_value(std::move(r));
  });
  c->SubmitFramed(
      "short", [&](Result<RecordLocation> r) { bad.set_value(std::move(r)); });
  EXPECT_TRUE(good.get_future().get().ok());
  EXPECT_EQ(bad.get_future().get().status().code(),
            StatusCode::kInvalidArgument);
  ASSERT_TRUE(c->Close().ok());
  EXPECT_EQ(ReplayAll().payloads, std::vector<std::string>{"built in place"});
}

TEST_F(GroupCommitterTest, ReopenContinuesTheLastSegment) {
  {
    auto c = Open();
    ASSERT_TRUE(Commit(*c, "a").ok());
  }
  auto c = Open();
  Result<RecordLocation> b = Commit(*c, "b");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->segment, 1u);
  ASSERT_TRUE(c->Close().ok());
  EXPECT_EQ(ReplayAll().payloads, (std::vector<std::string>{"a", "b"}));
}

}  // namespace
}  // namespace acpstore::journal
