// Keys of the engine's hash maps: a record is named by its tenant and its
// id, joined by a NUL byte. Identifiers may not contain control characters
// (SPEC §2.5), so the join is unambiguous.
//
// Thread-safety: pure functions.

#ifndef ACPSTORE_ENGINE_KEYS_H_
#define ACPSTORE_ENGINE_KEYS_H_

#include <string>
#include <string_view>

namespace acpstore::engine {

inline std::string TenantKey(std::string_view tenant_id,
                             std::string_view id) {
  std::string key;
  key.reserve(tenant_id.size() + 1 + id.size());
  key.append(tenant_id);
  key.push_back('\0');
  key.append(id);
  return key;
}

}  // namespace acpstore::engine

#endif  // ACPSTORE_ENGINE_KEYS_H_
