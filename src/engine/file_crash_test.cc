// AckedWritesSurviveSimulatedCrash: writers append concurrently while the
// fault-injecting file system "loses power" at a random moment (every
// unsynced byte, create and rename is dropped). After each crash every
// acknowledged event is still there with its payload, every stream is a
// gap-free prefix, and new appends never reuse a seq.
//
// Seed: ACPSTORE_CRASH_SEED (default fixed) so a failure can be replayed.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "engine/file_store_test_util.h"

namespace acpstore::engine {
namespace {

struct Acked {
  std::mutex mu;
  std::map<std::string, std::map<EventSeq, std::string>> payloads;
};

// Appends batches of async events to random sessions until `stop`.
void Writer(Store* store, int id, int round,
            const std::vector<std::string>& sessions, std::atomic<bool>* stop,
            Acked* acked) {
  std::mt19937 rng(id * 7919 + round);
  int i = 0;
  while (!stop->load()) {
    constexpr int kInFlight = 8;
    std::mutex mu;
    std::condition_variable cv;
    int done = 0;
    for (int k = 0; k < kInFlight; ++k, ++i) {
      const std::string& session = sessions[rng() % sessions.size()];
      std::string payload = "{\"r\":" + std::to_string(round) +
                            ",\"w\":" + std::to_string(id) +
                            ",\"i\":" + std::to_string(i) + "}";
      AppendRequest req;
      req.events.push_back({.event_type = "note", .payload = payload});
      if (rng() % 4 == 0)
        req.events.push_back({.event_type = "note2", .payload = payload});
      store->AppendEvents(kAlice, session, std::move(req),
                          [&, session](Result<AppendResult> r) {
                            if (r.ok()) {
                              std::lock_guard<std::mutex> l(acked->mu);
                              for (const Event& e : r->events) {
                                acked->payloads[session][e.seq] = e.payload;
                              }
                            }
                            std::lock_guard<std::mutex> l(mu);
                            ++done;
                            cv.notify_all();
                          });
    }
    std::unique_lock<std::mutex> l(mu);
    cv.wait(l, [&] { return done == kInFlight; });
  }
}

TEST_F(FileStoreTest, AckedWritesSurviveSimulatedCrash) {
  const char* env = std::getenv("ACPSTORE_CRASH_SEED");
  const uint32_t seed = env != nullptr ? std::atoi(env) : 20260523;
  std::mt19937 rng(seed);
  options_.segment_bytes = 8 * 1024;          // many segment rolls
  options_.snapshot_every_bytes = 24 * 1024;  // background snapshots too
  const std::vector<std::string> sessions = {"s-0", "s-1", "s-2"};
  Open();
  for (const auto& s : sessions) MustCreate(s);

  Acked acked;
  std::map<std::string, EventSeq> recovered_last;
  size_t acked_total = 0;
  for (int round = 0; round < 6; ++round) {
    SCOPED_TRACE("seed " + std::to_string(seed) + " round " +
                 std::to_string(round));
    std::atomic<bool> stop{false};
    std::vector<std::thread> writers;
    for (int w = 0; w < 3; ++w) {
      writers.emplace_back(Writer, &store(), w, round, sessions, &stop, &acked);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5 + rng() % 60));
    // On a loaded machine (sanitizers, parallel ctest) the sleep alone may
    // end before the first ack of the round; crash only once one arrived,
    // so every round tests an acknowledged write.
    const auto give_up =
        std::chrono::steady_clock::now() + std::chrono::seconds(20);
    for (;;) {
      size_t n = 0;
      {
        std::lock_guard<std::mutex> l(acked.mu);
        for (const auto& [s, seqs] : acked.payloads) n += seqs.size();
      }
      if (n > acked_total || std::chrono::steady_clock::now() > give_up) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    // Asserted once the writers are joined: returning with them running
    // ended the process (std::terminate) instead of failing the test.
    const Status crashed = fs_.SimulateCrash();
    stop = true;
    for (auto& t : writers) t.join();
    ASSERT_TRUE(crashed.ok()) << crashed;
    Close();

    Open();
    std::lock_guard<std::mutex> l(acked.mu);
    size_t acked_now = 0;
    for (const auto& [s, seqs] : acked.payloads) acked_now += seqs.size();
    EXPECT_GT(acked_now, acked_total) << "nothing was acknowledged this round";
    acked_total = acked_now;
    for (const auto& s : sessions) {
      std::vector<Event> events;
      EventSeq after = 0;
      for (;;) {
        auto page = db().ListEvents(kAlice, s, after, 1000);
        ASSERT_TRUE(page.ok()) << page.error();
        if (page->events.empty()) break;
        events.insert(events.end(), page->events.begin(), page->events.end());
        after = page->events.back().seq;
      }
      // A gap-free prefix: 1, 2, ..., last.
      for (size_t k = 0; k < events.size(); ++k) {
        ASSERT_EQ(events[k].seq, k + 1) << s;
      }
      const EventSeq last = events.empty() ? 0 : events.back().seq;
      EXPECT_GE(last, recovered_last[s]) << s << ": a recovered event vanished";
      for (const auto& [seq, payload] : acked.payloads[s]) {
        ASSERT_LE(seq, last)
            << s << ": acknowledged seq " << seq << " was lost";
        EXPECT_EQ(events[seq - 1].payload, payload) << s << " seq " << seq;
      }
      recovered_last[s] = last;
    }
    // Every unacknowledged survivor is now part of history: remember it so
    // a later round cannot hand its seq out again unnoticed.
    for (const auto& s : sessions) {
      auto page = db().ListEvents(kAlice, s, 0, 1000);
      ASSERT_TRUE(page.ok());
      EventSeq after = 0;
      while (true) {
        auto p = db().ListEvents(kAlice, s, after, 1000);
        if (p->events.empty()) break;
        for (const Event& e : p->events) acked.payloads[s][e.seq] = e.payload;
        after = p->events.back().seq;
      }
    }
  }
}

}  // namespace
}  // namespace acpstore::engine
