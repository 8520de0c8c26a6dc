// TimeIndex: items ordered by a deadline, for the sweeps maintenance runs
// (expired leases, retention windows). Due() visits only what is due, so a
// sweep costs what it removes, not what is stored.
//
// Each item is named by a unique 64-bit tag (its insertion number) so equal
// times do not collide. Stores pointers it never dereferences.
//
// Thread-safety: none; guarded by the owning state's lock.

#ifndef ACPSTORE_ENGINE_TIME_INDEX_H_
#define ACPSTORE_ENGINE_TIME_INDEX_H_

#include <cstdint>
#include <map>
#include <utility>
#include <vector>

#include "acpstore/clock.h"

namespace acpstore::engine {

template <typename T>
class TimeIndex {
 public:
  void Add(TimestampMs time, uint64_t tag, T* item) {
    items_.emplace(std::make_pair(time, tag), item);
  }
  void Remove(TimestampMs time, uint64_t tag) {
    items_.erase(std::make_pair(time, tag));
  }
  // Items whose time is <= now, oldest first.
  std::vector<T*> Due(TimestampMs now) const {
    std::vector<T*> out;
    for (auto it = items_.begin(); it != items_.end() && it->first.first <= now;
         ++it) {
      out.push_back(it->second);
    }
    return out;
  }
  size_t size() const { return items_.size(); }

 private:
  std::map<std::pair<TimestampMs, uint64_t>, T*> items_;
};

}  // namespace acpstore::engine

#endif  // ACPSTORE_ENGINE_TIME_INDEX_H_
