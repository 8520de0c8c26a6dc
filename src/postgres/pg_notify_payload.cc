// Notification payloads: see pg_notify_payload.h.

#include "postgres/pg_notify_payload.h"

#include <charconv>

namespace acpstore::postgres {
namespace {

// One line split into its seq and its "<tenantId>\t<sessionId>" key; false
// if malformed.
bool SplitLine(std::string_view line, EventSeq* last_seq,
               std::string_view* key) {
  const size_t space = line.find(' ');
  if (space == std::string_view::npos || space == 0) return false;
  auto [end, ec] = std::from_chars(line.data(), line.data() + space, *last_seq);
  if (ec != std::errc() || end != line.data() + space) return false;
  *key = line.substr(space + 1);
  return key->find('\t') != std::string_view::npos;
}

// Calls fn(line) for each line of `payload`.
template <typename Fn>
void ForEachLine(std::string_view payload, Fn fn) {
  while (!payload.empty()) {
    const size_t lf = payload.find('\n');
    fn(payload.substr(0, lf));
    if (lf == std::string_view::npos) break;
    payload.remove_prefix(lf + 1);
  }
}

}  // namespace

std::string NotifyChannel(const std::string& schema) {
  return schema + ".events";
}

Status CheckSchemaName(std::string_view schema) {
  if (schema.empty()) {
    return Status::InvalidArgument("the postgres schema name is empty")
        .With("field", "postgresSchema");
  }
  if (schema.size() > kMaxSchemaNameBytes) {
    return Status::InvalidArgument(
               "the postgres schema name \"" + std::string(schema) + "\" is " +
               std::to_string(schema.size()) + " bytes; at most " +
               std::to_string(kMaxSchemaNameBytes) +
               " work (PostgreSQL keeps 63 bytes of a name, and the "
               "notification channel \"<schema>.events\" adds 7)")
        .With("field", "postgresSchema");
  }
  if (schema.find('\0') != std::string_view::npos) {
    return Status::InvalidArgument(
               "the postgres schema name holds a NUL byte")
        .With("field", "postgresSchema");
  }
  return Status::OK();
}

std::string NotifyPayload(EventSeq last_seq, std::string_view tenant_id,
                          std::string_view session_id) {
  std::string payload = std::to_string(last_seq);
  payload.push_back(' ');
  payload.append(tenant_id);
  payload.push_back('\t');
  payload.append(session_id);
  return payload;
}

size_t ForEachNotified(
    std::string_view payload,
    base::FunctionRef<void(std::string_view tenant_id,
                           std::string_view session_id, EventSeq last_seq)>
        visit) {
  size_t visited = 0;
  ForEachLine(payload, [&](std::string_view line) {
    EventSeq seq = 0;
    std::string_view key;
    if (!SplitLine(line, &seq, &key)) return;
    const size_t tab = key.find('\t');
    visit(key.substr(0, tab), key.substr(tab + 1), seq);
    ++visited;
  });
  return visited;
}

bool PendingNotifications::Add(std::string_view line) {
  EventSeq seq = 0;
  std::string_view key;
  if (!SplitLine(line, &seq, &key)) return false;
  auto it = by_session_.find(std::string(key));
  if (it != by_session_.end()) {
    if (seq > it->second) it->second = seq;
    return true;
  }
  if (by_session_.size() >= max_sessions_) {
    ++dropped_;
    return false;
  }
  by_session_.emplace(key, seq);
  return true;
}

void PendingNotifications::AddPayload(std::string_view payload) {
  ForEachLine(payload, [&](std::string_view line) { (void)Add(line); });
}

void PendingNotifications::Discard(std::string_view payload) {
  ForEachLine(payload, [&](std::string_view) { ++dropped_; });
}

std::vector<std::string> PendingNotifications::TakePayloads(size_t max_bytes) {
  std::vector<std::string> payloads;
  std::string line;
  for (const auto& [key, seq] : by_session_) {
    line = std::to_string(seq);
    line.push_back(' ');
    line.append(key);
    if (line.size() > max_bytes) {
      ++dropped_;
      continue;
    }
    if (payloads.empty() ||
        payloads.back().size() + 1 + line.size() > max_bytes) {
      payloads.push_back(line);
    } else {
      payloads.back().push_back('\n');
      payloads.back().append(line);
    }
  }
  by_session_.clear();
  return payloads;
}

}  // namespace acpstore::postgres
