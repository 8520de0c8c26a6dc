// The fixture of the engine conformance suite (SPEC §9): one set of
// scenarios, run once per engine listed in Engines()
// (store_conformance_test.cc). It hides the plumbing - opening the engine
// over a ManualClock, waiting on completions, driving a session into a
// status - so each TEST_P reads as a short named scenario.
//
// Tests use only the public API (include/acpstore/). Expected values (wire
// names, canonical JSON) are written out by hand rather than computed with
// the library, so a bug in a shared helper cannot hide itself.
//
// Thread-safety: a fixture belongs to one test; db() may be used from
// threads the test starts, the scenario helpers only from the test thread
// (they abort the test with an exception on failure).
// Lifetime: one store per test, opened lazily on first use of db() and
// closed, with its scratch directory removed, when the test ends.

#ifndef ACPSTORE_TESTS_STORE_CONFORMANCE_H_
#define ACPSTORE_TESTS_STORE_CONFORMANCE_H_

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <source_location>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "acpstore/blocking_store.h"
#include "acpstore/clock.h"
#include "acpstore/options.h"
#include "acpstore/records.h"
#include "acpstore/result.h"
#include "acpstore/status.h"
#include "acpstore/store.h"

namespace acpstore {

// Lets gtest print a Result in a failure message.
template <typename T>
void PrintTo(const Result<T>& r, std::ostream* os) {
  if (r.ok()) {
    *os << "OK";
  } else {
    *os << r.error();
  }
}

namespace conformance {

// How to open one engine. Adding an engine = one entry in Engines().
struct EngineFactory {
  std::string name;  // the test-name suffix: "memory", "file", "postgres"
  // True when a store reopened over the same scratch directory sees what
  // the previous one acknowledged; the StorePersistence scenarios run only
  // on these engines.
  bool persistent = false;
  // Sets the engine-specific fields of `options` (engine, data_dir inside
  // `scratch_dir`, postgres_url, ...) and opens the store. The fixture has
  // already set clock, maintenance_interval_ms and the test's limits.
  std::function<Result<std::unique_ptr<Store>>(
      StoreOptions options, const std::filesystem::path& scratch_dir)>
      open;
  // When set, called as the test ends, after the store closed, to remove
  // what `open` made outside `scratch_dir` (the postgres engine's schema:
  // left behind, every run of the suite added ~170 to the test database).
  std::function<void(const std::filesystem::path& scratch_dir)> discard;
};

inline void PrintTo(const EngineFactory& f, std::ostream* os) { *os << f.name; }

// Every engine the suite runs against (store_conformance_test.cc).
const std::vector<EngineFactory>& Engines();
// Those of Engines() that are persistent.
std::vector<EngineFactory> PersistentEngines();

// ----------------------------------------------------------------- matchers

inline Status StatusOf(const Status& s) { return s; }
template <typename T>
Status StatusOf(const Result<T>& r) {
  return r.status();
}

// The string value of detail `key`, if the status has one.
std::optional<std::string> DetailString(const Status& s, std::string_view key);
// The integer value of detail `key`, if the status has one.
std::optional<int64_t> DetailInt(const Status& s, std::string_view key);

// "f47ac10b-58cc-4372-a567-0e02b2c3d479": lowercase, version 4, variant 1.
bool IsUuidV4(std::string_view s);

// A Status or Result that succeeded.
// (gtest prints the Status or Result itself, so the matchers add nothing.)
MATCHER(Succeeds, "succeeds") { return StatusOf(arg).ok(); }

// A Status or Result that failed with `code`.
MATCHER_P(FailsWith, code,
          std::string(negation ? "does not fail" : "fails") + " with " +
              std::string(StatusCodeName(code))) {
  return StatusOf(arg).code() == code;
}

// A Status or Result that failed with `code` and a "field" detail naming
// `field` (a substring: "events[0].payload" names "payload").
MATCHER_P2(FailsOnField, code, field,
           std::string("fails with ") + std::string(StatusCodeName(code)) +
               " on field " + std::string(field)) {
  Status s = StatusOf(arg);
  std::optional<std::string> f = DetailString(s, "field");
  return s.code() == code && f.has_value() &&
         f->find(std::string_view(field)) != std::string::npos;
}

#define EXPECT_OK(expr) EXPECT_THAT((expr), ::acpstore::conformance::Succeeds())
#define ASSERT_OK(expr) ASSERT_THAT((expr), ::acpstore::conformance::Succeeds())

// A helper that needs a result it cannot do without records the failure at
// the caller's line and throws this; gtest then ends the test.
class ScenarioAborted : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// ------------------------------------------------------------------ fixture

class StoreConformance : public ::testing::TestWithParam<EngineFactory> {
 protected:
  // 2026-05-17T06:40:00.000Z: every test starts here.
  static constexpr TimestampMs kT0 = 1'779'000'000'000;

  // Writer "alice" and writer "bob" in tenant t1, a reader and an admin of
  // t1, and an admin of tenant t2 whose key id is also "alice" (so only the
  // tenant keeps it out).
  static const Scope kAlice;
  static const Scope kBob;
  static const Scope kReader;
  static const Scope kAdmin;
  static const Scope kStranger;

  StoreConformance();
  ~StoreConformance() override;

  // Options for the store; change them before the first use of db().
  StoreOptions& options();
  // The store under test, opened on first use.
  BlockingStore& db();
  Store& store() { return db().store(); }
  ManualClock& clock() { return clock_; }
  TimestampMs Now() const { return clock_.NowMs(); }
  void Advance(int64_t ms) { clock_.Advance(ms); }

  // Closes the store and opens it again over the same scratch directory.
  // Only for persistent engines: scenarios that reopen are TEST_Ps of
  // StorePersistence.
  void Reopen();

  // ------------------------------------------------- scenario helpers
  // Each aborts the test at the caller's line if the store refuses.

  Session CreateSession(
      std::string id, const Scope& scope = kAlice,
      std::source_location loc = std::source_location::current());
  // A new session `id` driven into `status` by a legal path: transitions,
  // plus PauseSession / StartIntervention for paused and intervening.
  Session SessionIn(SessionStatus status, std::string id,
                    const Scope& scope = kAlice,
                    std::source_location loc = std::source_location::current());
  Session Transition(
      std::string_view id, SessionEvent event, const Scope& scope = kAlice,
      std::source_location loc = std::source_location::current());
  Session Get(std::string_view id, const Scope& scope = kAlice,
              std::source_location loc = std::source_location::current());

  Event Append(std::string_view session_id, NewEvent event,
               const Scope& scope = kAlice,
               std::source_location loc = std::source_location::current());
  // Appends `n` events {"i":<k>} of type "note", one request each.
  std::vector<Event> AppendN(
      std::string_view session_id, int n, const Scope& scope = kAlice,
      std::source_location loc = std::source_location::current());
  EventPage List(std::string_view session_id, EventSeq after,
                 uint32_t limit = 1000, const Scope& scope = kAlice,
                 std::source_location loc = std::source_location::current());

  Action Enqueue(NewAction req, const Scope& scope = kAlice,
                 std::source_location loc = std::source_location::current());
  Action Enqueue(std::string session_id, ActionType type = ActionType::kPrompt,
                 const Scope& scope = kAlice,
                 std::source_location loc = std::source_location::current());
  // Leases an action; fails the test if nothing is eligible.
  Action Lease(LeaseRequest req = {}, const Scope& scope = kAlice,
               std::source_location loc = std::source_location::current());
  std::optional<Action> TryLease(
      LeaseRequest req = {}, const Scope& scope = kAlice,
      std::source_location loc = std::source_location::current());
  Action GetAction(std::string_view id, const Scope& scope = kAlice,
                   std::source_location loc = std::source_location::current());

  PauseResult RequestPause(
      std::string_view session_id, PauseRequest req = {},
      const Scope& scope = kAlice,
      std::source_location loc = std::source_location::current());

  // Starts intervention `id` on the session's active pause and completes
  // it with `guidance`, both as "op"; the completed record.
  PauseResult Intervene(
      std::string_view session_id, const std::string& id,
      std::optional<std::string> guidance = std::nullopt,
      std::source_location loc = std::source_location::current());

  MaintenanceReport Maintain(
      std::source_location loc = std::source_location::current());

  template <typename T>
  T Must(Result<T> r,
         std::source_location loc = std::source_location::current()) {
    if (!r.ok()) {
      Abort(r.error(), loc);
    }
    return std::move(r).value();
  }
  void MustOk(const Status& s,
              std::source_location loc = std::source_location::current()) {
    if (!s.ok()) Abort(s, loc);
  }

 private:
  [[noreturn]] static void Abort(const Status& s, std::source_location loc);
  void Open();

  ManualClock clock_{kT0};
  StoreOptions options_;
  std::filesystem::path scratch_dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<BlockingStore> db_;
};

// The scenarios about persistence across a reopen: the same fixture,
// instantiated only for the persistent engines, so no engine skips a test.
class StorePersistence : public StoreConformance {};

// Transcripts (SPEC §13, conformance_transcripts_test.cc): their own suites
// so that an engine that does not keep transcripts yet (postgres, issue 16)
// can leave them out by name, visibly, instead of skipping cases.
class StoreTranscripts : public StoreConformance {};
class StoreTranscriptPersistence : public StoreConformance {};

}  // namespace conformance
}  // namespace acpstore

#endif  // ACPSTORE_TESTS_STORE_CONFORMANCE_H_
