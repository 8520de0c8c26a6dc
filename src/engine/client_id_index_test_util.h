// Test helper: clientEventIds whose tags collide under a given key, found
// by a birthday search, so tests can force the collision the index must
// survive. Test-only; header-only.
//
// Thread-safety: a pure function. Lifetime: n/a.

#ifndef ACPSTORE_ENGINE_CLIENT_ID_INDEX_TEST_UTIL_H_
#define ACPSTORE_ENGINE_CLIENT_ID_INDEX_TEST_UTIL_H_

#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>

#include "engine/client_id_index.h"

namespace acpstore::engine {

// Two distinct ids "<prefix><n>" with the same ClientIdTag under `key`.
// Tags are 32 bits, so this takes about 2^16 hashes.
inline std::pair<std::string, std::string> CollidingClientIds(
    const ClientIdKey& key, const std::string& prefix = "retry-") {
  std::unordered_map<uint32_t, uint64_t> seen;
  for (uint64_t n = 0;; ++n) {
    const std::string id = prefix + std::to_string(n);
    auto [it, inserted] = seen.emplace(ClientIdTag(key, id), n);
    if (!inserted) return {prefix + std::to_string(it->second), id};
  }
}

}  // namespace acpstore::engine

#endif  // ACPSTORE_ENGINE_CLIENT_ID_INDEX_TEST_UTIL_H_
