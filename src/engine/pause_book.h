// PauseBook holds one session's pause records (SPEC §2.4) in creation
// order, with hash indexes for the keys each pause endpoint is idempotent
// by: pauseId, idempotencyKey and resumeId. At most one record is active
// (paused or intervening); the deciders enforce that, the book tracks it.
//
// Thread-safety: none; guarded by the owning state's lock. Lifetime: owned
// by its session's entry.

#ifndef ACPSTORE_ENGINE_PAUSE_BOOK_H_
#define ACPSTORE_ENGINE_PAUSE_BOOK_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "acpstore/records.h"

namespace acpstore::engine {

inline bool IsActive(PauseStatus status) {
  return status != PauseStatus::kResumed;
}

class PauseBook {
 public:
  // Inserts, or replaces the record with the same pause_id. Returns true
  // when it was new.
  bool Upsert(Pause pause);

  // The active (paused or intervening) record, else nullptr.
  const Pause* Active() const;
  // The most recently created record, else nullptr.
  const Pause* Latest() const;
  const Pause* ById(std::string_view pause_id) const;
  const Pause* ByIdempotencyKey(std::string_view key) const;
  const Pause* ByResumeId(std::string_view resume_id) const;

  size_t size() const { return pauses_.size(); }
  // Every record, in creation order (snapshots upsert them in this order).
  const std::vector<Pause>& records() const { return pauses_; }

 private:
  const Pause* Lookup(const std::unordered_map<std::string, size_t>& index,
                      std::string_view key) const;

  std::vector<Pause> pauses_;  // creation order
  std::unordered_map<std::string, size_t> by_id_;
  std::unordered_map<std::string, size_t> by_idempotency_key_;
  std::unordered_map<std::string, size_t> by_resume_id_;
  std::optional<size_t> active_;
};

}  // namespace acpstore::engine

#endif  // ACPSTORE_ENGINE_PAUSE_BOOK_H_
