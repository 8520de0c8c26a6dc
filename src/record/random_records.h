// RandomRecords makes arbitrary (not necessarily valid) records and
// mutations from a seeded generator, for codec round-trip tests and for
// generating fuzz seeds. Strings include empty ones and arbitrary bytes;
// every optional field is present or absent at random; timestamps include
// negative and very large values. Test-only; header-only.
//
// Thread-safety: none; one per test. Lifetime: a plain value.

#ifndef ACPSTORE_RECORD_RANDOM_RECORDS_H_
#define ACPSTORE_RECORD_RANDOM_RECORDS_H_

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "acpstore/records.h"
#include "record/mutation.h"

namespace acpstore::record {

class RandomRecords {
 public:
  explicit RandomRecords(uint64_t seed) : rng_(seed) {}

  uint64_t Uniform(uint64_t n) { return rng_() % n; }
  bool Coin() { return Uniform(2) == 0; }

  std::string String(size_t max_len = 24) {
    std::string s(Uniform(max_len + 1), '\0');
    for (char& c : s) c = static_cast<char>(Uniform(256));
    return s;
  }
  std::optional<std::string> OptString() {
    if (Coin()) return std::nullopt;
    return String();
  }
  int64_t Time() {
    switch (Uniform(4)) {
      case 0:
        return 0;
      case 1:
        return -static_cast<int64_t>(Uniform(1ull << 40));
      case 2:
        return static_cast<int64_t>(rng_());
      default:
        return 1700000000000 + static_cast<int64_t>(Uniform(1ull << 36));
    }
  }
  std::optional<int64_t> OptTime() {
    if (Coin()) return std::nullopt;
    return Time();
  }

  Session RandomSession() {
    Session s;
    s.id = String();
    s.tenant_id = String();
    s.owner_key_id = String();
    s.conversation_id = String(36);
    s.transcript_id = String(36);
    s.parent_session_id = OptString();
    s.root_session_id = OptString();
    s.correlation_id = OptString();
    s.resume_from_session_id = OptString();
    s.acp_agent_session_id = OptString();
    s.claude_session_id = OptString();
    s.current_backend_run_id = OptString();
    s.status = static_cast<SessionStatus>(Uniform(8));
    s.created_at = Time();
    s.updated_at = Time();
    s.closed_at = OptTime();
    s.failed_at = OptTime();
    s.backend_metadata = OptString();
    s.validation_warnings.resize(Uniform(4));
    for (ValidationWarning& w : s.validation_warnings) {
      w.code = String();
      w.message = String(64);
    }
    return s;
  }

  Event RandomEvent() {
    Event e;
    e.session_id = String();
    e.tenant_id = String();
    e.owner_key_id = String();
    e.seq = Coin() ? Uniform(1000) + 1 : rng_();
    e.client_event_id = OptString();
    e.event_type = String();
    e.occurred_at = Time();
    e.ingested_at = Time();
    e.backend_run_id = OptString();
    e.payload_ref = OptString();
    e.payload = String(Coin() ? 16 : 300);
    return e;
  }

  Action RandomAction() {
    Action a;
    a.action_id = String();
    a.session_id = String();
    a.tenant_id = String();
    a.owner_key_id = String();
    a.type = static_cast<ActionType>(Uniform(9));
    a.idempotency_key = OptString();
    a.approval_id = OptString();
    a.control_request_id = OptString();
    a.status = static_cast<ActionStatus>(Uniform(5));
    a.created_at = Time();
    a.available_at = Time();
    a.updated_at = Time();
    a.leased_until = OptTime();
    a.attempt_count = static_cast<uint32_t>(Coin() ? Uniform(4) : rng_());
    a.lease_token = String();
    a.metadata = OptString();
    a.result_metadata = OptString();
    a.error_metadata = OptString();
    a.completed_at = OptTime();
    a.failed_at = OptTime();
    a.cancelled_at = OptTime();
    return a;
  }

  Pause RandomPause() {
    Pause p;
    p.pause_id = String();
    p.session_id = String();
    p.tenant_id = String();
    p.owner_key_id = String();
    p.status = static_cast<PauseStatus>(Uniform(3));
    p.idempotency_key = OptString();
    p.reason = String(64);
    p.requested_by = String();
    p.requested_at = Time();
    p.metadata = OptString();
    p.intervention_id = OptString();
    p.intervention_by = OptString();
    p.intervention_started_at = OptTime();
    p.intervention_completed_by = OptString();
    p.intervention_completed_at = OptTime();
    p.guidance = OptString();
    p.resume_id = OptString();
    p.resumed_by = OptString();
    p.resumed_at = OptTime();
    p.resume_metadata = OptString();
    for (uint64_t i = Uniform(3); i > 0; --i) {
      p.earlier_intervention_ids.push_back(String());
    }
    p.updated_at = Time();
    return p;
  }

  Mutation RandomMutation(size_t max_ops = 6) {
    Mutation m;
    const size_t n = Uniform(max_ops + 1);
    for (size_t i = 0; i < n; ++i) {
      switch (Uniform(7)) {
        case 0:
          m.UpsertSession(RandomSession());
          break;
        case 1:
          m.DeleteSession(String(), String());
          break;
        case 2: {
          std::vector<Event> events(Uniform(5));
          for (Event& e : events) e = RandomEvent();
          m.AppendEvents(String(), String(), std::move(events));
          break;
        }
        case 3:
          m.DropEvents(String(), String(), rng_());
          break;
        case 4:
          m.UpsertAction(RandomAction());
          break;
        case 5:
          m.DeleteAction(String(), String());
          break;
        default:
          m.UpsertPause(RandomPause());
          break;
      }
    }
    return m;
  }

  // One op of every kind, each record with random optionals.
  Mutation EveryOpMutation() {
    Mutation m;
    m.UpsertSession(RandomSession());
    m.DeleteSession(String(), String());
    m.AppendEvents(String(), String(), {RandomEvent(), RandomEvent()});
    m.DropEvents(String(), String(), rng_());
    m.UpsertAction(RandomAction());
    m.DeleteAction(String(), String());
    m.UpsertPause(RandomPause());
    m.AdvanceSeq(String(), String(), rng_());
    return m;
  }

 private:
  std::mt19937_64 rng_;
};

}  // namespace acpstore::record

#endif  // ACPSTORE_RECORD_RANDOM_RECORDS_H_
