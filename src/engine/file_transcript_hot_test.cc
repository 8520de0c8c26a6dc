// Hot transcripts on the file engine (decision 0021, SPEC §4 and §13):
// sessions appended to all the time keep only their open tail in memory;
// the sealed entries before it go to disk, and every read equals the fold
// of the same events kept whole in memory (what the memory engine does),
// through the cap, snapshots, restarts and a failing disk.

#include <gtest/gtest.h>

#include <cerrno>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/file_snapshot.h"
#include "engine/file_transcript_hot_test_util.h"
#include "engine/transcript_dump_test_util.h"
#include "snapshot/snapshot_format.h"
#include "transcript/transcript.h"
#include "transcript/transcript_page.h"

namespace acpstore::engine {
namespace {

TEST_F(TranscriptHotTest, AHotSetKeepsOnlyItsOpenTailsResident) {
  Open();
  for (int s = 0; s < kSessions; ++s) MustCreate(Id(s));
  uint64_t whole_bytes = 0;
  for (int round = 0; round < 30; ++round) {
    Round(round);
    // As the background passes do: only transcripts untouched since the
    // previous pass may be evicted, and every one was written to.
    ASSERT_TRUE(store().EvictTranscriptsNow(/*all=*/false).ok());
    const StoreStats st = store().Stats();
    EXPECT_LE(st.memory_transcript_bytes, Share() + kSessions * kTailBound)
        << "round " << round;
    if (round % 10 == 9) ExpectAllEqualTheWholeFold();
  }
  for (const auto& [s, t] : whole_) whole_bytes += t.bytes();
  // Without sealing the six would hold every entry (~0.6 MB).
  EXPECT_GT(whole_bytes, 10 * (Share() + kSessions * kTailBound));
  // Reading a sealed part back does not make it resident.
  const uint64_t resident = store().Stats().memory_transcript_bytes;
  ExpectAllEqualTheWholeFold();
  EXPECT_EQ(store().Stats().memory_transcript_bytes, resident);
  // The transcript stream's reads (entries changed after a seq) of the
  // newest changes need only the tail.
  TranscriptQuery q;
  q.changed_after_seq = whole_[0].folded_seq() - 2;
  Result<TranscriptPage> changed = db().ReadTranscript(kAlice, Id(0), q);
  ASSERT_TRUE(changed.ok()) << changed.error();
  ASSERT_FALSE(changed->entries.empty());
  for (const TranscriptEntry& e : changed->entries) {
    EXPECT_GT(e.last_seq, q.changed_after_seq);
  }
}

TEST_F(TranscriptHotTest, TheCapDropsSealedEntriesAndSnapshotsCopyTheRest) {
  options_.transcript_max_bytes = 40 << 10;
  limits_.max_bytes = 40 << 10;
  Open();
  for (int s = 0; s < kSessions; ++s) MustCreate(Id(s));
  for (int round = 0; round < 25; ++round) {
    Round(round);
    ASSERT_TRUE(store().EvictTranscriptsNow(/*all=*/false).ok());
  }
  ASSERT_FALSE(whole_[0].complete());
  ASSERT_GT(whole_[0].first_index(), 10u);
  ExpectAllEqualTheWholeFold();
  // Snapshots copy the sealed items (the parts the cap cut into rewritten)
  // and the sealed parts move into them; the older files go.
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(store().SnapshotNow().ok());
    ExpectAllEqualTheWholeFold();
    Round(25 + i);
    ASSERT_TRUE(store().EvictTranscriptsNow(/*all=*/false).ok());
    ExpectAllEqualTheWholeFold();
  }
  ASSERT_TRUE(store().SnapshotNow().ok());
  // The two kept snapshots, and parts files only where one of them refers
  // to it (decision 0030: whether the last spill file was published
  // depends on when the background passes sealed); spill files are
  // unlinked, older files gone.
  std::vector<std::string> snapshots;
  std::set<uint64_t> parts;
  size_t other = 0;
  for (const auto& e : std::filesystem::directory_iterator(SnapshotDir())) {
    const std::string name = e.path().filename().string();
    if (snapshot::ParseSnapshotFileName(name)) {
      snapshots.push_back(e.path().string());
    } else if (std::optional<uint64_t> n = snapshot::ParsePartsFileName(name)) {
      parts.insert(*n);
    } else {
      ++other;
    }
  }
  EXPECT_EQ(snapshots.size(), 2u);
  EXPECT_EQ(other, 0u);
  std::set<uint64_t> referred;
  for (const std::string& path : snapshots) {
    Result<std::map<uint64_t, uint64_t>> refs = SnapshotReferences(fs_, path);
    ASSERT_TRUE(refs.ok()) << refs.error();
    for (const auto& [n, bytes] : *refs) referred.insert(n);
  }
  for (uint64_t n : parts) EXPECT_TRUE(referred.count(n)) << "parts file " << n;
  // Recovery: from the snapshot, then from the snapshot and the journal.
  Reopen();
  ExpectAllEqualTheWholeFold();
  Round(28);
  ASSERT_TRUE(store().EvictTranscriptsNow(/*all=*/false).ok());
  ExpectAllEqualTheWholeFold();
  Close();
  RemoveSnapshots();  // from the journal alone
  Open();
  ExpectAllEqualTheWholeFold();
}

// Decision 0031: a tool start that never completes stops holding the
// entries after it once the window passes it. Session 0 starts a tool
// that nothing completes, then takes the workload's rounds: after the
// window its transcript's resident part is bounded as the others' are
// (before, it kept every entry), the sealed start survives snapshots and
// restarts (copied, referred to, replayed) without coming back open, and
// a late completion is an entry of its own, as in the whole fold.
TEST_F(TranscriptHotTest, AnAbandonedToolStartStopsHoldingTheTailOnceTheWindowPasses) {
  Open();
  for (int s = 0; s < kSessions; ++s) MustCreate(Id(s));
  Append(0, "tool.started",
         R"({"input":{"cmd":"sleep"},"kind":"execute","title":"abandoned","toolCallId":"gone"})");
  int round = 0;
  // Each round adds 3-4 entries per session.
  while (whole_[0].end_index() < transcript::Transcript::kOpenToolWindow + 40) {
    Round(round++);
    ASSERT_TRUE(store().EvictTranscriptsNow(/*all=*/false).ok());
    if (round % 20 == 0) {
      ASSERT_TRUE(store().SnapshotNow().ok());
    }
  }
  ASSERT_TRUE(whole_[0].open_tool_indexes().size() <= 1u);
  ASSERT_TRUE(whole_[0].open_tool_indexes().empty() ||
              whole_[0].open_tool_indexes().front() != 1u);
  for (int i = 0; i < 3; ++i) {
    Round(round++);
    ASSERT_TRUE(store().EvictTranscriptsNow(/*all=*/false).ok());
  }
  EXPECT_LE(store().Stats().memory_transcript_bytes,
            Share() + kSessions * kTailBound);
  ExpectAllEqualTheWholeFold();
  ASSERT_TRUE(store().SnapshotNow().ok());
  Round(round++);
  ASSERT_TRUE(store().SnapshotNow().ok());  // refers to the sealed start
  Reopen();
  ExpectAllEqualTheWholeFold();
  Append(0, "tool.completed",
         R"({"status":"completed","text":"late","toolCallId":"gone"})");
  const transcript::Entry& late = whole_[0].at(whole_[0].end_index() - 1);
  ASSERT_FALSE(late.started);  // the whole fold's rule, checked here too
  ASSERT_EQ(late.text, "late");
  ExpectAllEqualTheWholeFold();
  Close();
  RemoveSnapshots();  // from the journal alone
  Open();
  ExpectAllEqualTheWholeFold();
}

TEST_F(TranscriptHotTest, AppendsNeedOnlyTheTailAndAFailedSealedReadIsAnError) {
  // A 256 KiB share that the rounds below never pass, so that no
  // background pass runs: the explicit one (the first, which evicts
  // nothing) seals the largest transcripts until the resident ones fit
  // three quarters of it; nothing is evicted.
  options_.memory_budget_bytes = 1 << 20;
  Open();
  for (int s = 0; s < kSessions; ++s) MustCreate(Id(s));
  for (int round = 0; round < 10; ++round) Round(round);
  ASSERT_GT(store().Stats().memory_transcript_bytes, Share() - Share() / 4);
  ASSERT_LT(store().Stats().memory_transcript_bytes, Share());
  ASSERT_TRUE(store().EvictTranscriptsNow(/*all=*/false).ok());
  ASSERT_EQ(store().Stats().transcripts_evicted, 0u);
  ASSERT_LE(store().Stats().memory_transcript_bytes, Share() - Share() / 4);
  // Every read of the spill file or a snapshot fails.
  fs_.InjectFault(io::FaultInjectionFileSystem::Fault(
                      io::FaultInjectionFileSystem::kRead, EIO)
                      .OnPaths([](const std::string& path) {
                        return path.find("/snapshot/") != std::string::npos;
                      }));
  int failed = 0;
  for (int s = 0; s < kSessions; ++s) {
    Result<std::string> d = StoreDump(s);
    if (!d.ok()) {
      ++failed;
      EXPECT_EQ(d.error().code(), StatusCode::kIoError) << d.error();
    }
    // The newest entries are held: a page of them reads nothing back.
    TranscriptQuery q;
    q.after = whole_[s].end_index() - 2;
    Result<TranscriptPage> tail = db().ReadTranscript(kAlice, Id(s), q);
    ASSERT_TRUE(tail.ok()) << tail.error();
    ASSERT_EQ(tail->entries.size(), 1u);
  }
  EXPECT_GE(failed, 1);  // those with a sealed part
  // Appends fold into the held tail and never read the sealed part back.
  Round(10);
  ASSERT_EQ(store().Stats().transcripts_evicted, 0u);
  fs_.ClearFaults();
  ExpectAllEqualTheWholeFold();
  // Damaged sealed bytes are caught by their checksum: flip a byte of the
  // sealed text where the snapshot left it (the parts file published with
  // it, decision 0030, or the snapshot itself).
  ASSERT_TRUE(store().SnapshotNow().ok());
  for (int k = 0; k < kSessions; ++k) {
    const std::string text = "s" + std::to_string(k) + "-1-0 caf";
    bool flipped = false;
    for (const auto& e : std::filesystem::directory_iterator(SnapshotDir())) {
      const std::string path = e.path().string();
      const size_t at = ReadFile(path).find(text);
      if (at == std::string::npos) continue;
      std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
      f.seekp(static_cast<std::streamoff>(at));
      f.put('S');
      flipped = true;
      break;
    }
    ASSERT_TRUE(flipped) << text;
  }
  int damaged = 0;
  for (int k = 0; k < kSessions; ++k) {
    Result<std::string> d = StoreDump(k);
    if (d.ok()) {
      EXPECT_EQ(*d, WholeDump(k));  // held whole: never read back
    } else {
      ++damaged;
      EXPECT_EQ(d.error().code(), StatusCode::kDataLoss) << d.error();
    }
  }
  EXPECT_GE(damaged, 1);
}

}  // namespace
}  // namespace acpstore::engine
