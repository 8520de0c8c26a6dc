// ImportChecker: the rules between records of an Aegis file (the importer's
// check pass) and what the write pass needs to know from it. Per session it
// keeps a small entry (owner, event seq bookkeeping, pause keys); per
// action an id; per skipped record its ordinal. Nothing per event.
//
// Check* maps one record (mapping.h), checks it against what came before,
// and returns the mapped record, or a problem: kInvalidArgument whose
// message starts with the field when there is one. Every problem is also
// remembered as the record's verdict, so the write pass skips exactly the
// records the check pass rejected (Skipped()).
//
// Thread-safety: none; the importer's thread.

#ifndef ACPSTORE_AEGIS_IMPORT_CHECK_H_
#define ACPSTORE_AEGIS_IMPORT_CHECK_H_

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "acpstore/options.h"
#include "acpstore/result.h"
#include "aegis/mapping.h"
#include "aegis/reader.h"

namespace acpstore::aegis {

struct SessionPlan {
  std::string owner_key_id;
  std::string path;  // of the session record, for notes
  uint64_t ordinal = 0;
  EventSeq declared_last_seq = 0;  // lastEventSeq of the file
  EventSeq last_seen = 0;          // highest event seq accepted
  EventSeq first_kept = 0;         // first seq of the kept run; 0: none
  uint64_t kept = 0;               // events in the kept run
  // Pause rules (SPEC §2.4), allocated for sessions with pauses only.
  struct Pauses {
    std::unordered_set<std::string> ids;
    std::unordered_set<std::string> idempotency_keys;
    std::unordered_set<std::string> resume_ids;
    bool active = false;
  };
  std::unique_ptr<Pauses> pauses;

  // The high-water mark to raise the empty stream to before the first
  // append (0: none needed).
  EventSeq AdvanceBeforeEvents() const {
    if (kept > 0) return first_kept > 1 ? first_kept - 1 : 0;
    return std::max(declared_last_seq, last_seen);
  }
};

class ImportChecker {
 public:
  explicit ImportChecker(const Limits& limits) : limits_(limits) {}

  Result<MappedSession> CheckSession(const RawRecord& r);
  Result<MappedEvent> CheckEvent(const RawRecord& r);
  Result<MappedAction> CheckAction(const RawRecord& r);
  Result<MappedPause> CheckPause(const RawRecord& r);

  // Problems that do not reject the record they name (an event seq hole
  // drops the events before it; a lastEventSeq above the last event),
  // as "<path>: <reason>" lines; the importer drains them.
  std::vector<std::string>& notes() { return notes_; }

  // After the check pass: true when the check pass rejected the record.
  bool Skipped(Collection c, uint64_t ordinal) const;

  // The session a dependent record names, once checked. nullptr if none.
  const SessionPlan* Plan(const std::string& tenant_id,
                          const std::string& session_id) const;
  // Fills in the scope of an accepted dependent record from its session.
  Status ResolveScope(const std::string& session_id, std::string* tenant_id,
                      std::string* owner_key_id) const;

  // Counts for the report, after the check pass.
  uint64_t sessions_accepted() const { return sessions_.size(); }
  uint64_t events_kept() const;
  uint64_t actions_accepted() const { return actions_accepted_; }
  uint64_t pauses_accepted() const { return pauses_accepted_; }
  uint64_t advanced_sessions() const;

  // Adds a note for every session whose lastEventSeq is above its last
  // event; called once after the check pass(es).
  void FinishEvents();

 private:
  template <typename T>
  Result<T> Reject(Collection c, uint64_t ordinal, Status s);
  SessionPlan* MutablePlan(const std::string& tenant_id,
                           const std::string& session_id);

  const Limits limits_;
  // tenant\0id -> plan
  std::unordered_map<std::string, SessionPlan> sessions_;
  // session id -> its tenant, or "" when several tenants use the id.
  std::unordered_map<std::string, std::string> tenant_of_id_;
  std::unordered_set<std::string> action_ids_;        // tenant\0actionId
  std::unordered_set<std::string> action_idem_keys_;  // tenant\0session\0key
  uint64_t actions_accepted_ = 0;
  uint64_t pauses_accepted_ = 0;
  std::vector<uint64_t> skipped_[kCollectionCount];  // ascending ordinals
  std::vector<std::string> notes_;
};

}  // namespace acpstore::aegis

#endif  // ACPSTORE_AEGIS_IMPORT_CHECK_H_
