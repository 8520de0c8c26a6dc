// SessionCache: see pg_session_cache.h.

#include "postgres/pg_session_cache.h"

#include "engine/keys.h"

namespace acpstore::postgres {

std::string SessionCache::Key(std::string_view tenant_id,
                              std::string_view session_id) {
  return engine::TenantKey(tenant_id, session_id);
}

std::optional<std::vector<CachedSession>> SessionCache::TakeAll(
    const std::vector<std::pair<std::string, std::string>>& keys) {
  std::vector<std::string> names;
  names.reserve(keys.size());
  for (const auto& [tenant, session] : keys) {
    names.push_back(Key(tenant, session));
  }
  base::MutexLock lock(&mu_);
  for (const std::string& name : names) {
    if (!rows_.contains(name)) return std::nullopt;
  }
  std::vector<CachedSession> out;
  out.reserve(names.size());
  for (const std::string& name : names) {
    auto it = rows_.find(name);
    out.push_back(std::move(it->second));
    rows_.erase(it);
  }
  return out;
}

void SessionCache::Put(std::vector<CachedSession> rows) {
  base::MutexLock lock(&mu_);
  for (CachedSession& r : rows) {
    std::string name = Key(r.row.session.tenant_id, r.row.session.id);
    if (!rows_.contains(name) && rows_.size() >= kMaxEntries) {
      rows_.erase(rows_.begin());
    }
    rows_.insert_or_assign(std::move(name), std::move(r));
  }
}

void SessionCache::Checkpointed(std::string_view tenant_id,
                                std::string_view session_id,
                                uint32_t xmin_before, EventSeq last_seq,
                                uint32_t xid) {
  const std::string name = Key(tenant_id, session_id);
  base::MutexLock lock(&mu_);
  auto it = rows_.find(name);
  if (it == rows_.end()) return;
  CachedSession& c = it->second;
  if (c.xmin != xmin_before || c.row.session.events.last_seq != last_seq) {
    return;
  }
  c.xmin = xid;
  c.folded_seq = last_seq;
  c.unfolded = 0;
}

size_t SessionCache::size() const {
  base::MutexLock lock(&mu_);
  return rows_.size();
}

}  // namespace acpstore::postgres
