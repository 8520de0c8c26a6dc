// PauseBook: see pause_book.h.

#include "engine/pause_book.h"

#include <utility>

namespace acpstore::engine {

bool PauseBook::Upsert(Pause pause) {
  size_t index;
  bool created = false;
  auto it = by_id_.find(pause.pause_id);
  if (it == by_id_.end()) {
    index = pauses_.size();
    by_id_.emplace(pause.pause_id, index);
    pauses_.push_back(std::move(pause));
    created = true;
  } else {
    index = it->second;
    const Pause& old = pauses_[index];
    // Keys never change meaning; drop the old spellings before replacing.
    if (old.idempotency_key) by_idempotency_key_.erase(*old.idempotency_key);
    if (old.resume_id) by_resume_id_.erase(*old.resume_id);
    pauses_[index] = std::move(pause);
  }
  const Pause& now = pauses_[index];
  if (now.idempotency_key) by_idempotency_key_[*now.idempotency_key] = index;
  if (now.resume_id) by_resume_id_[*now.resume_id] = index;
  if (IsActive(now.status)) {
    active_ = index;
  } else if (active_ == index) {
    active_.reset();
  }
  return created;
}

const Pause* PauseBook::Active() const {
  return active_ ? &pauses_[*active_] : nullptr;
}

const Pause* PauseBook::Latest() const {
  return pauses_.empty() ? nullptr : &pauses_.back();
}

const Pause* PauseBook::Lookup(
    const std::unordered_map<std::string, size_t>& index,
    std::string_view key) const {
  auto it = index.find(std::string(key));
  return it == index.end() ? nullptr : &pauses_[it->second];
}

const Pause* PauseBook::ById(std::string_view pause_id) const {
  return Lookup(by_id_, pause_id);
}

const Pause* PauseBook::ByIdempotencyKey(std::string_view key) const {
  return Lookup(by_idempotency_key_, key);
}

const Pause* PauseBook::ByResumeId(std::string_view resume_id) const {
  return Lookup(by_resume_id_, resume_id);
}

}  // namespace acpstore::engine
