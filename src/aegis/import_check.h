// ImportChecker: the rules between records of an Aegis file (the importer's
// check pass), and the plan the write pass follows.
//
// Check* maps one record (mapping.h), checks it against what came before
// and returns the mapped record, or why it is skipped (kInvalidArgument,
// message starting with the field when there is one). Repairs that need
// other records are decided here and listed with the path of the record
// they change (Found):
//   - a record whose scope is not its session's (an admin key paused
//     someone's session) moves into the session's scope;
//   - a seq missing from a session's events is filled with a placeholder,
//     so the stream is dense and nothing before the gap is dropped;
//   - a repeated idempotencyKey (actions, pauses) is cleared on the older
//     record; a repeated pauseId is renamed;
//   - of two active pauses of a session, the older is resumed;
//   - a session's status is reconciled with its latest pause record, as
//     Aegis does when it reads a session (FinishPauses).
// Per session it keeps a small entry, per action with an idempotency key
// the key, per pause a few fields; nothing per event.
//
// Thread-safety: none; the importer's thread.

#ifndef ACPSTORE_AEGIS_IMPORT_CHECK_H_
#define ACPSTORE_AEGIS_IMPORT_CHECK_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "acpstore/result.h"
#include "aegis/mapping.h"
#include "aegis/reader.h"

namespace acpstore::aegis {

// A repair decided between records: `path` is the record it changes.
struct Found {
  std::string path;
  Repair repair;
};

struct SessionPlan {
  std::string owner_key_id;
  std::string path;  // of the session record, for reports
  uint64_t ordinal = 0;
  EventSeq declared_last_seq = 0;  // lastEventSeq, when the file has one
  EventSeq last_seen = 0;          // highest event seq accepted
  EventSeq first_kept = 0;         // first seq of the stream; 0: none
  uint64_t kept = 0;               // events in the stream, fills included
  TimestampMs created_at = 0;
  SessionStatus status = SessionStatus::kIdle;  // as the file states it
  std::optional<SessionStatus> reconciled;      // status to write instead

  // The write pass: the last seq written, to place gap fills.
  EventSeq written = 0;
  TimestampMs last_time = 0;  // of the last event written

  // The high-water mark to raise the empty stream to before the first
  // append (0: none needed).
  EventSeq AdvanceBeforeEvents() const {
    if (kept > 0) return first_kept > 1 ? first_kept - 1 : 0;
    return std::max(declared_last_seq, last_seen);
  }
};

// What the write pass changes in a pause record.
struct PauseFix {
  bool clear_idempotency_key = false;
  std::optional<std::string> new_pause_id;
  bool resume = false;  // an older active pause: resumed
};

class ImportChecker {
 public:
  explicit ImportChecker(const MapOptions& options) : options_(options) {}

  // Repairs and unknown fields of the record go to `repairs`/`unknown`.
  Result<MappedSession> CheckSession(const RawRecord& r, Repairs* repairs,
                                     std::vector<std::string>* unknown);
  Result<MappedEvent> CheckEvent(const RawRecord& r, Repairs* repairs,
                                 std::vector<std::string>* unknown);
  Result<MappedAction> CheckAction(const RawRecord& r, Repairs* repairs,
                                   std::vector<std::string>* unknown);
  Result<MappedPause> CheckPause(const RawRecord& r, Repairs* repairs,
                                 std::vector<std::string>* unknown);

  // After the check pass: the older active pauses and the reconciled
  // session statuses. Repairs go to found().
  void FinishPauses();
  // After the check pass: sessions whose lastEventSeq is above their
  // last event (a note, nothing changes).
  void FinishEvents();

  // Repairs decided between records, as found; the importer drains them.
  std::vector<Found>& found() { return found_; }

  // After the check pass: true when the check pass skipped the record.
  bool Skipped(Collection c, uint64_t ordinal) const;

  // The session a dependent record names, once checked. nullptr if none.
  const SessionPlan* Plan(const std::string& tenant_id,
                          const std::string& session_id) const;
  SessionPlan* MutablePlan(const std::string& tenant_id,
                           const std::string& session_id);
  // Moves a dependent record into its session's scope (tenant, owner);
  // kInvalidArgument when no session of the file has its id. `moved` is
  // set when the scope changed.
  Status ResolveScope(const std::string& session_id, std::string* tenant_id,
                      std::string* owner_key_id, bool* moved) const;

  // The write pass's changes to one record.
  bool ClearActionKey(uint64_t ordinal) const {
    return action_clear_.count(ordinal) > 0;
  }
  const PauseFix* PauseFixFor(uint64_t ordinal) const {
    auto it = pause_fixes_.find(ordinal);
    return it == pause_fixes_.end() ? nullptr : &it->second;
  }

  // Counts for the report, after the check pass.
  uint64_t sessions_accepted() const { return sessions_.size(); }
  uint64_t events_kept() const;  // placeholders and fills included
  uint64_t events_filled() const { return events_filled_; }
  uint64_t actions_accepted() const { return actions_accepted_; }
  uint64_t pauses_accepted() const { return pauses_accepted_; }
  uint64_t advanced_sessions() const;

 private:
  template <typename T>
  Result<T> Reject(Collection c, uint64_t ordinal, Status s);
  void Rescoped(const std::string& path, const std::string& owner,
                const std::string& tenant, const std::string& extra = "");

  struct PauseEntry {
    uint64_t ordinal;
    std::string path;
    PauseStatus status;
    TimestampMs requested_at;
    TimestampMs updated_at;
  };
  struct PauseBook {
    std::vector<PauseEntry> entries;
    // idempotencyKey -> index into entries of its current holder.
    std::unordered_map<std::string, size_t> keys;
    std::unordered_set<std::string> ids;
  };

  const MapOptions options_;
  // tenant\0id -> plan
  std::unordered_map<std::string, SessionPlan> sessions_;
  // session id -> its tenant, or "" when several tenants use the id.
  std::unordered_map<std::string, std::string> tenant_of_id_;
  std::unordered_set<std::string> action_ids_;  // tenant\0actionId
  // tenant\0session\0key -> ordinal and path of the action holding it.
  std::unordered_map<std::string, std::pair<uint64_t, std::string>>
      action_keys_;
  std::unordered_set<uint64_t> action_clear_;
  // tenant\0session -> its pauses
  std::unordered_map<std::string, PauseBook> pauses_;
  std::unordered_map<uint64_t, PauseFix> pause_fixes_;
  uint64_t actions_accepted_ = 0;
  uint64_t pauses_accepted_ = 0;
  uint64_t events_filled_ = 0;
  std::vector<uint64_t> skipped_[kCollectionCount];  // ascending ordinals
  std::vector<Found> found_;
};

}  // namespace acpstore::aegis

#endif  // ACPSTORE_AEGIS_IMPORT_CHECK_H_
