// KillNineLoop: the file engine keeps every acknowledged event across
// SIGKILL (SPEC §3). A child process (crash_child) appends from many
// threads and prints each acknowledged (session, seq); this test kills it
// at a random moment, reopens the data directory in-process and checks:
//
//  * every acknowledged (session, seq) is there with the exact payload;
//  * each session's stream is gap-free from first_seq to last_seq;
//  * a new append gets a seq above every seq ever acknowledged (never
//    reused), exactly last_seq + 1.
//
// Every tenth iteration (and the last) reads every stream from its start;
// the others read only what is new since the previous check, so the loop
// stays linear in the history it builds.
//
// The data directory persists across iterations, so later ones recover a
// long history with snapshots, sealed segments and torn tails. Some kills
// land while the child is still recovering; on some iterations the test
// also appends junk to the newest segment, as a write cut short by a crash
// would leave it (never past acknowledged bytes: only after the end).
//
// ACPSTORE_CRASH_ITERATIONS (default 50) sets the iterations and
// ACPSTORE_CRASH_SEED replays a run (the seed is printed). On failure the
// data directory is kept and its path printed.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "acpstore/blocking_store.h"
#include "acpstore/store.h"
#include "crash_protocol.h"
#include "testing/process.h"

namespace acpstore::crash {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr int kSessions = 6;
constexpr int kThreads = 8;

uint64_t EnvNumber(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 10) : fallback;
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Every (session, seq) acknowledged so far, by any process, with the hash
// of its payload.
using AckMap = std::map<std::pair<std::string, EventSeq>, std::string>;

// Parses complete ack lines of `out` into `acks`. Fails the test if one
// (session, seq) was acknowledged twice with different payloads.
void ParseAcks(const std::string& out, AckMap* acks, uint64_t* count) {
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    if (in.eof()) break;  // no '\n': cannot happen with write(2), but skip
    std::istringstream words(line);
    std::string word, session, hash;
    EventSeq seq = 0;
    words >> word;
    if (word != kAckWord) continue;
    words >> session >> seq >> hash;
    ASSERT_FALSE(words.fail()) << "bad ack line: " << line;
    auto [it, inserted] = acks->emplace(std::make_pair(session, seq), hash);
    ASSERT_TRUE(inserted || it->second == hash)
        << session << " seq " << seq << " acknowledged twice, payload hashes "
        << it->second << " and " << hash;
    ++*count;
  }
}

// Appends bytes to the newest journal segment, past everything there: what
// a crash in the middle of a write leaves. Recovery must cut them off.
bool TearTail(const fs::path& data_dir, std::mt19937_64& rng) {
  fs::path newest;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(data_dir / "journal", ec)) {
    if (e.path().extension() == ".log" && e.path() > newest) newest = e.path();
  }
  if (newest.empty()) return false;
  std::string junk(1 + rng() % 300, '\0');
  if (rng() % 2 == 0) {  // garbage rather than zeros
    for (char& c : junk) c = static_cast<char>(rng());
  }
  std::ofstream out(newest, std::ios::binary | std::ios::app);
  out.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  return out.good();
}

class KillNineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "acpstore-crash-XXXXXX");
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    root_ = templ;
    data_dir_ = root_ / "data";
  }
  void TearDown() override {
    if (HasFailure()) {
      std::cerr << "data directory kept for inspection: " << data_dir_ << "\n";
    } else {
      fs::remove_all(root_);
    }
  }

  // Reopens the store and checks it against the acks; then appends one
  // event per session and checks its seq. Adds torn-tail cuts to *torn.
  // `full`: reads every stream from its start; otherwise only past what
  // the previous check read (reading all history every time would make the
  // loop quadratic; full checks still catch old damage every few kills).
  void ReopenAndVerify(uint64_t iteration, bool full, uint64_t* torn) {
    Result<std::unique_ptr<Store>> opened =
        OpenStore(CrashStoreOptions(data_dir_));
    ASSERT_TRUE(opened.ok())
        << "reopen after iteration " << iteration << ": " << opened.error();
    BlockingStore db(**opened);
    *torn += (*opened)->Stats().torn_tail_truncations;
    const Scope scope = CrashScope();
    for (int i = 0; i < kSessions; ++i) {
      const std::string id = SessionId(i);
      auto first = acks_.lower_bound({id, 0});
      bool any_acked = first != acks_.end() && first->first.first == id;
      Result<Session> session = db.GetSession(scope, id);
      if (!session.ok()) {
        ASSERT_FALSE(any_acked) << id << " lost: " << session.error();
        continue;
      }
      const EventStreamInfo info = session->events;
      EXPECT_EQ(info.first_seq, 1u) << id << ": retention is off";
      EventSeq start = info.first_seq - 1;
      if (!full) start = std::max(start, std::min(checked_[id], info.last_seq));
      EventSeq expect = start + 1;
      size_t acked_seen = 0;
      for (EventSeq after = start; after < info.last_seq;) {
        Result<EventPage> page = db.ListEvents(scope, id, after, 1000);
        ASSERT_TRUE(page.ok())
            << id << " after " << after << ": " << page.error();
        ASSERT_FALSE(page->events.empty())
            << id << " ends at " << after << ", last_seq " << info.last_seq;
        for (const Event& e : page->events) {
          ASSERT_EQ(e.seq, expect) << id << ": gap in the stream";
          ++expect;
          auto ack = acks_.find({id, e.seq});
          if (ack != acks_.end()) {
            ++acked_seen;
            ASSERT_EQ(HashHex(e.payload), ack->second)
                << id << " seq " << e.seq << " payload differs: " << e.payload;
          }
          ASSERT_NE(e.payload.find("\"session\":\"" + id + "\""),
                    std::string::npos)
              << id << " seq " << e.seq << " holds " << e.payload;
        }
        after = page->events.back().seq;
      }
      ASSERT_EQ(expect, info.last_seq + 1) << id;
      size_t acked_total = 0;
      EventSeq max_acked = 0;
      for (auto it = first; it != acks_.end() && it->first.first == id; ++it) {
        if (it->first.second > start) ++acked_total;
        max_acked = it->first.second;
      }
      ASSERT_EQ(acked_seen, acked_total)
          << id << ": acknowledged events missing (max acknowledged seq "
          << max_acked << ", last_seq " << info.last_seq << ")";

      // Never reused: the next seq is above everything acknowledged.
      std::string payload =
          CrashPayload(id, info.last_seq + 1, -1, iteration, iteration, 64);
      Result<Event> next =
          db.Append(scope, id,
                    NewEvent{.event_type = "crash.verify", .payload = payload});
      ASSERT_TRUE(next.ok()) << next.error();
      ASSERT_GT(next->seq, max_acked) << id << ": seq reused";
      ASSERT_EQ(next->seq, info.last_seq + 1) << id;
      acks_[{id, next->seq}] = HashHex(next->payload);
      checked_[id] = info.last_seq;
    }
  }

  fs::path root_;
  fs::path data_dir_;
  AckMap acks_;
  std::map<std::string, EventSeq> checked_;  // read and verified through
};

TEST_F(KillNineTest, KillNineLoop) {
  {
    // A store that does not open is a failure, never a skip: this loop is
    // the evidence for SPEC §3's durability promise.
    Result<std::unique_ptr<Store>> probe =
        OpenStore(CrashStoreOptions(data_dir_));
    ASSERT_TRUE(probe.ok()) << "OpenStore(kFile): " << probe.error();
  }
  const uint64_t iterations = EnvNumber("ACPSTORE_CRASH_ITERATIONS", 50);
  const uint64_t seed =
      EnvNumber("ACPSTORE_CRASH_SEED", std::random_device{}());
  std::cout << "ACPSTORE_CRASH_SEED=" << seed
            << " ACPSTORE_CRASH_ITERATIONS=" << iterations << std::endl;
  std::mt19937_64 rng(seed);
  uint64_t acked = 0, torn_cut = 0, torn_made = 0, early_kills = 0;

  for (uint64_t i = 0; i < iterations; ++i) {
    SCOPED_TRACE("iteration " + std::to_string(i) + " seed " +
                 std::to_string(seed));
    const fs::path err_path = root_ / "child-stderr.txt";
    // stdout on a pipe, so every ack line the child wrote before the kill
    // is read; stderr in a file for failure messages.
    proc::Process child(
        {.argv = {CRASH_CHILD_PATH, data_dir_.string(), std::to_string(kSessions),
                  std::to_string(kThreads), std::to_string(i)},
         .out = proc::Output::Pipe(),
         .err = proc::Output::File(err_path.string())});
    ASSERT_GT(child.pid(), 0) << child.status().ToString();
    auto never = [](std::string_view) { return false; };
    // One kill in eight lands early, possibly during recovery; the rest
    // 20-200 ms into the appends.
    if (rng() % 8 == 0) {
      ++early_kills;
      child.ReadUntil(proc::Stream::kStdout, never,
                      Clock::now() + milliseconds(rng() % 15));
    } else {
      ASSERT_TRUE(child.ReadUntil(
          proc::Stream::kStdout,
          [](std::string_view out) { return proc::HasLine(out, kReadyLine); },
          Clock::now() + std::chrono::seconds(60)))
          << "child never got ready: " << ReadFile(err_path);
      child.ReadUntil(proc::Stream::kStdout, never,
                      Clock::now() + milliseconds(20 + rng() % 181));
    }
    int status = child.Kill().wait_status;
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "child ended on its own (wait status " << status
        << "): " << ReadFile(err_path);
    ParseAcks(child.Text(proc::Stream::kStdout), &acks_, &acked);
    if (HasFatalFailure()) return;
    if (rng() % 4 == 0 && TearTail(data_dir_, rng)) ++torn_made;
    ReopenAndVerify(i, i % 10 == 9 || i + 1 == iterations, &torn_cut);
    if (HasFatalFailure()) return;
  }
  std::cout << iterations << " kills (" << early_kills << " early), " << acked
            << " acks, " << acks_.size() << " events checked, " << torn_made
            << " junk tails added, " << torn_cut << " torn tails cut"
            << std::endl;
  EXPECT_GT(acked, 0u);
  // Every junk tail must have been cut (a real torn write may add more).
  EXPECT_GE(torn_cut, torn_made);
}

}  // namespace
}  // namespace acpstore::crash
