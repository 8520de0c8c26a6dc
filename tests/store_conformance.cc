// The conformance fixture's plumbing: opening engines, scenario helpers
// and matcher support. See store_conformance.h.
//
// Thread-safety and lifetime: as the fixture (one per test).

#include "store_conformance.h"

#include <stdlib.h>

#include <string>
#include <system_error>
#include <utility>

namespace acpstore::conformance {

const Scope StoreConformance::kAlice{"t1", "alice", Scope::Access::kOwner};
const Scope StoreConformance::kBob{"t1", "bob", Scope::Access::kOwner};
const Scope StoreConformance::kReader{"t1", "rita", Scope::Access::kTenantRead};
const Scope StoreConformance::kAdmin{"t1", "adam", Scope::Access::kTenantWrite};
const Scope StoreConformance::kStranger{"t2", "alice",
                                        Scope::Access::kTenantWrite};

std::optional<std::string> DetailString(const Status& s, std::string_view key) {
  const StatusDetail* d = s.Detail(key);
  if (d == nullptr) return std::nullopt;
  if (const auto* v = std::get_if<std::string>(&d->value)) return *v;
  return std::nullopt;
}

std::optional<int64_t> DetailInt(const Status& s, std::string_view key) {
  const StatusDetail* d = s.Detail(key);
  if (d == nullptr) return std::nullopt;
  if (const auto* v = std::get_if<int64_t>(&d->value)) return *v;
  return std::nullopt;
}

bool IsUuidV4(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return s[14] == '4' &&
         (s[19] == '8' || s[19] == '9' || s[19] == 'a' || s[19] == 'b');
}

StoreConformance::StoreConformance() {
  options_.clock = &clock_;
  // Tests run maintenance themselves, at the times they choose.
  options_.maintenance_interval_ms = 0;
  std::string pattern =
      (std::filesystem::temp_directory_path() / "acpstore-conf-XXXXXX")
          .string();
  if (mkdtemp(pattern.data()) != nullptr) scratch_dir_ = pattern;
}

StoreConformance::~StoreConformance() {
  db_.reset();
  store_.reset();
  if (!scratch_dir_.empty() && GetParam().discard) {
    GetParam().discard(scratch_dir_);
  }
  if (!scratch_dir_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(scratch_dir_, ignored);
  }
}

StoreOptions& StoreConformance::options() {
  EXPECT_EQ(store_, nullptr) << "options changed after the store opened";
  return options_;
}

BlockingStore& StoreConformance::db() {
  if (db_ == nullptr) Open();
  return *db_;
}

void StoreConformance::Open() {
  if (scratch_dir_.empty()) {
    ADD_FAILURE() << "could not create a scratch directory";
    throw ScenarioAborted("no scratch directory");
  }
  Result<std::unique_ptr<Store>> opened =
      GetParam().open(options_, scratch_dir_);
  if (!opened.ok()) {
    ADD_FAILURE() << "opening engine '" << GetParam().name
                  << "' failed: " << opened.error();
    throw ScenarioAborted("engine did not open");
  }
  store_ = std::move(opened).value();
  db_ = std::make_unique<BlockingStore>(*store_);
}

void StoreConformance::Reopen() {
  db_.reset();
  store_.reset();
  Open();
}

void StoreConformance::Abort(const Status& s, std::source_location loc) {
  ADD_FAILURE_AT(loc.file_name(), static_cast<int>(loc.line()))
      << "the store refused a step of the scenario: " << s;
  throw ScenarioAborted("scenario step failed (see the failure above)");
}

Session StoreConformance::CreateSession(std::string id, const Scope& scope,
                                        std::source_location loc) {
  NewSession req;
  req.id = std::move(id);
  return Must(db().CreateSession(scope, std::move(req)), loc);
}

Session StoreConformance::SessionIn(SessionStatus status, std::string id,
                                    const Scope& scope,
                                    std::source_location loc) {
  Session s = CreateSession(id, scope, loc);
  auto step = [&](SessionEvent e) { s = Transition(id, e, scope, loc); };
  switch (status) {
    case SessionStatus::kInitializing:
      break;
    case SessionStatus::kIdle:
      step(SessionEvent::kAgentReady);
      break;
    case SessionStatus::kRunning:
      step(SessionEvent::kRunStarted);
      break;
    case SessionStatus::kPaused:
      step(SessionEvent::kRunStarted);
      s = RequestPause(id, {}, scope, loc).session;
      break;
    case SessionStatus::kIntervening:
      step(SessionEvent::kRunStarted);
      RequestPause(id, {}, scope, loc);
      s = Must(db().StartIntervention(scope, id, {.intervention_by = "op"}),
               loc)
              .session;
      break;
    case SessionStatus::kClosing:
      step(SessionEvent::kCloseRequested);
      break;
    case SessionStatus::kClosed:
      step(SessionEvent::kCloseRequested);
      step(SessionEvent::kCloseCompleted);
      break;
    case SessionStatus::kFailed:
      step(SessionEvent::kRuntimeFailed);
      break;
  }
  EXPECT_EQ(s.status, status) << "driving " << id << " went astray";
  return s;
}

Session StoreConformance::Transition(std::string_view id, SessionEvent event,
                                     const Scope& scope,
                                     std::source_location loc) {
  return Must(db().TransitionSession(scope, id, event), loc);
}

Session StoreConformance::Get(std::string_view id, const Scope& scope,
                              std::source_location loc) {
  return Must(db().GetSession(scope, id), loc);
}

Event StoreConformance::Append(std::string_view session_id, NewEvent event,
                               const Scope& scope, std::source_location loc) {
  return Must(db().Append(scope, session_id, std::move(event)), loc);
}

std::vector<Event> StoreConformance::AppendN(std::string_view session_id, int n,
                                             const Scope& scope,
                                             std::source_location loc) {
  std::vector<Event> out;
  for (int i = 0; i < n; ++i) {
    out.push_back(Append(
        session_id,
        {.event_type = "note", .payload = "{\"i\":" + std::to_string(i) + "}"},
        scope, loc));
  }
  return out;
}

EventPage StoreConformance::List(std::string_view session_id, EventSeq after,
                                 uint32_t limit, const Scope& scope,
                                 std::source_location loc) {
  return Must(db().ListEvents(scope, session_id, after, limit), loc);
}

Action StoreConformance::Enqueue(NewAction req, const Scope& scope,
                                 std::source_location loc) {
  return Must(db().EnqueueAction(scope, std::move(req)), loc).action;
}

Action StoreConformance::Enqueue(std::string session_id, ActionType type,
                                 const Scope& scope, std::source_location loc) {
  NewAction req;
  req.session_id = std::move(session_id);
  req.type = type;
  return Enqueue(std::move(req), scope, loc);
}

Action StoreConformance::Lease(LeaseRequest req, const Scope& scope,
                               std::source_location loc) {
  std::optional<Action> a = TryLease(std::move(req), scope, loc);
  if (!a.has_value()) {
    ADD_FAILURE_AT(loc.file_name(), static_cast<int>(loc.line()))
        << "expected an eligible action, the lease found none";
    throw ScenarioAborted("nothing to lease");
  }
  return *std::move(a);
}

std::optional<Action> StoreConformance::TryLease(LeaseRequest req,
                                                 const Scope& scope,
                                                 std::source_location loc) {
  return Must(db().LeaseAction(scope, std::move(req)), loc);
}

Action StoreConformance::GetAction(std::string_view id, const Scope& scope,
                                   std::source_location loc) {
  return Must(db().GetAction(scope, id), loc);
}

PauseResult StoreConformance::RequestPause(std::string_view session_id,
                                           PauseRequest req, const Scope& scope,
                                           std::source_location loc) {
  if (req.reason.empty()) req.reason = "human review";
  if (req.requested_by.empty()) req.requested_by = "operator";
  return Must(db().PauseSession(scope, session_id, std::move(req)), loc);
}

PauseResult StoreConformance::Intervene(std::string_view session_id,
                                        const std::string& id,
                                        std::optional<std::string> guidance,
                                        std::source_location loc) {
  Must(db().StartIntervention(kAlice, session_id,
                              {.intervention_by = "op", .intervention_id = id}),
       loc);
  return Must(db().CompleteIntervention(kAlice, session_id,
                                        {.intervention_id = id,
                                         .completed_by = "op",
                                         .guidance = std::move(guidance)}),
              loc);
}

MaintenanceReport StoreConformance::Maintain(std::source_location loc) {
  return Must(db().RunMaintenance(), loc);
}

}  // namespace acpstore::conformance
