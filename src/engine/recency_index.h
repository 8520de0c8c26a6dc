// RecencyIndex: records newest first by (time, id) -- sessions by
// updated_at, actions by created_at -- for paged listing. A page resumes
// strictly after the cursor's (time, id) with one tree lookup, so paging
// deep into a large tenant does not rescan what earlier pages returned.
//
// Ids are string_views into storage the caller keeps stable while indexed
// (the key of the state's hash-map node). Pointers are never dereferenced.
//
// Thread-safety: none; guarded by the owning state's lock.

#ifndef ACPSTORE_ENGINE_RECENCY_INDEX_H_
#define ACPSTORE_ENGINE_RECENCY_INDEX_H_

#include <map>
#include <string_view>
#include <tuple>

#include "acpstore/clock.h"

namespace acpstore::engine {

template <typename T>
class RecencyIndex {
 public:
  struct Key {
    TimestampMs time;
    std::string_view id;
  };

  void Add(TimestampMs time, std::string_view id, T* item) {
    items_.emplace(Key{time, id}, item);
  }
  void Remove(TimestampMs time, std::string_view id) {
    items_.erase(Key{time, id});
  }
  bool empty() const { return items_.empty(); }
  size_t size() const { return items_.size(); }

  // Calls visit(const Key&, T*) newest first, starting strictly after
  // `after` when given, until visit returns false.
  template <typename Visit>
  void Scan(const Key* after, Visit visit) const {
    auto it = after ? items_.upper_bound(*after) : items_.begin();
    for (; it != items_.end(); ++it) {
      if (!visit(it->first, it->second)) return;
    }
  }

 private:
  struct NewestFirst {
    bool operator()(const Key& a, const Key& b) const {
      return std::tie(a.time, a.id) > std::tie(b.time, b.id);
    }
  };
  std::map<Key, T*, NewestFirst> items_;
};

}  // namespace acpstore::engine

#endif  // ACPSTORE_ENGINE_RECENCY_INDEX_H_
