// ImportChecker: see import_check.h. The rules between records, with the
// reasons docs/aegis_format.md lists.
//
// Thread-safety: none.

#include "aegis/import_check.h"

#include <algorithm>
#include <utility>

#include "engine/keys.h"
#include "record/field_error.h"

namespace acpstore::aegis {
namespace {

using engine::TenantKey;
using record::InvalidField;

std::string Quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

}  // namespace

template <typename T>
Result<T> ImportChecker::Reject(Collection c, uint64_t ordinal, Status s) {
  skipped_[static_cast<size_t>(c)].push_back(ordinal);
  return s;
}

bool ImportChecker::Skipped(Collection c, uint64_t ordinal) const {
  const auto& v = skipped_[static_cast<size_t>(c)];
  return std::binary_search(v.begin(), v.end(), ordinal);
}

SessionPlan* ImportChecker::MutablePlan(const std::string& tenant_id,
                                        const std::string& session_id) {
  auto it = sessions_.find(TenantKey(tenant_id, session_id));
  return it == sessions_.end() ? nullptr : &it->second;
}

const SessionPlan* ImportChecker::Plan(const std::string& tenant_id,
                                       const std::string& session_id) const {
  auto it = sessions_.find(TenantKey(tenant_id, session_id));
  return it == sessions_.end() ? nullptr : &it->second;
}

Status ImportChecker::ResolveScope(const std::string& session_id,
                                   std::string* tenant_id,
                                   std::string* owner_key_id) const {
  if (tenant_id->empty()) {
    auto it = tenant_of_id_.find(session_id);
    if (it == tenant_of_id_.end()) {
      return InvalidField("sessionId", "no session " + Quoted(session_id) +
                                           " was imported from the file");
    }
    if (it->second.empty()) {
      return InvalidField("sessionId",
                          "sessions of several tenants have the id " +
                              Quoted(session_id) +
                              "; the record needs a tenantId");
    }
    *tenant_id = it->second;
  }
  const SessionPlan* plan = Plan(*tenant_id, session_id);
  if (plan == nullptr) {
    return InvalidField("sessionId", "no session " + Quoted(session_id) +
                                         " of tenant " + Quoted(*tenant_id) +
                                         " was imported from the file");
  }
  if (owner_key_id->empty()) {
    *owner_key_id = plan->owner_key_id;
  } else if (*owner_key_id != plan->owner_key_id) {
    return InvalidField("ownerKeyId", "is " + Quoted(*owner_key_id) +
                                          " but its session's is " +
                                          Quoted(plan->owner_key_id));
  }
  return Status::OK();
}

Result<MappedSession> ImportChecker::CheckSession(const RawRecord& r) {
  Result<MappedSession> m = MapSession(r, limits_);
  if (!m.ok()) return Reject<MappedSession>(r.collection, r.ordinal, m.error());
  const Session& s = m->session;
  std::string key = TenantKey(s.tenant_id, s.id);
  if (sessions_.count(key) > 0) {
    return Reject<MappedSession>(
        r.collection, r.ordinal,
        InvalidField("id", "session " + Quoted(s.id) + " of tenant " +
                               Quoted(s.tenant_id) +
                               " appears twice; the first one is kept"));
  }
  SessionPlan& plan = sessions_[std::move(key)];
  plan.owner_key_id = s.owner_key_id;
  plan.path = r.path;
  plan.ordinal = r.ordinal;
  plan.declared_last_seq = m->last_event_seq.value_or(0);
  auto [it, inserted] = tenant_of_id_.emplace(s.id, s.tenant_id);
  if (!inserted && it->second != s.tenant_id) it->second.clear();
  return m;
}

Result<MappedEvent> ImportChecker::CheckEvent(const RawRecord& r) {
  Result<MappedEvent> m = MapEvent(r, limits_);
  if (!m.ok()) return Reject<MappedEvent>(r.collection, r.ordinal, m.error());
  Event& e = m->event;
  Status s = ResolveScope(e.session_id, &e.tenant_id, &e.owner_key_id);
  if (!s.ok()) return Reject<MappedEvent>(r.collection, r.ordinal, s);
  if (m->event_id && *m->event_id != e.EventId()) {
    return Reject<MappedEvent>(
        r.collection, r.ordinal,
        InvalidField("eventId", "is " + Quoted(*m->event_id) +
                                    ", not tenantId:ownerKeyId:sessionId:"
                                    "eventSeq (" +
                                    Quoted(e.EventId()) + ")"));
  }
  SessionPlan* plan = MutablePlan(e.tenant_id, e.session_id);
  if (e.seq <= plan->last_seen) {
    return Reject<MappedEvent>(
        r.collection, r.ordinal,
        InvalidField("eventSeq", std::to_string(e.seq) + " does not follow " +
                                     std::to_string(plan->last_seen) +
                                     " (out of order or repeated)"));
  }
  if (plan->kept > 0 && e.seq > plan->last_seen + 1) {
    // A hole: streams are dense and seqs never reused, so only the newest
    // run can be kept (docs/aegis_format.md).
    notes_.push_back(
        r.path + ".eventSeq: " + std::to_string(e.seq) +
        " leaves a hole after " + std::to_string(plan->last_seen) +
        " (missing or skipped events); the events before it (seq " +
        std::to_string(plan->first_kept) + ".." +
        std::to_string(plan->last_seen) +
        ") are dropped to keep the stream gap-free");
    plan->kept = 0;
  }
  if (plan->kept == 0) plan->first_kept = e.seq;
  plan->last_seen = e.seq;
  ++plan->kept;
  return m;
}

Result<MappedAction> ImportChecker::CheckAction(const RawRecord& r) {
  Result<MappedAction> m = MapAction(r, limits_);
  if (!m.ok()) return Reject<MappedAction>(r.collection, r.ordinal, m.error());
  Action& a = m->action;
  Status s = ResolveScope(a.session_id, &a.tenant_id, &a.owner_key_id);
  if (!s.ok()) return Reject<MappedAction>(r.collection, r.ordinal, s);
  std::string key = TenantKey(a.tenant_id, a.action_id);
  if (action_ids_.count(key) > 0) {
    return Reject<MappedAction>(
        r.collection, r.ordinal,
        InvalidField("actionId", "action " + Quoted(a.action_id) +
                                     " of tenant " + Quoted(a.tenant_id) +
                                     " appears twice; the first one is kept"));
  }
  if (a.idempotency_key) {
    std::string idem =
        TenantKey(TenantKey(a.tenant_id, a.session_id), *a.idempotency_key);
    if (!action_idem_keys_.insert(std::move(idem)).second) {
      return Reject<MappedAction>(
          r.collection, r.ordinal,
          InvalidField("idempotencyKey",
                       "repeats another action's key in the same session"));
    }
  }
  action_ids_.insert(std::move(key));
  ++actions_accepted_;
  return m;
}

Result<MappedPause> ImportChecker::CheckPause(const RawRecord& r) {
  Result<MappedPause> m = MapPause(r, limits_);
  if (!m.ok()) return Reject<MappedPause>(r.collection, r.ordinal, m.error());
  Pause& p = m->pause;
  Status s = ResolveScope(p.session_id, &p.tenant_id, &p.owner_key_id);
  if (!s.ok()) return Reject<MappedPause>(r.collection, r.ordinal, s);
  SessionPlan* plan = MutablePlan(p.tenant_id, p.session_id);
  if (!plan->pauses) plan->pauses = std::make_unique<SessionPlan::Pauses>();
  SessionPlan::Pauses& book = *plan->pauses;
  auto reject = [&](std::string_view field, std::string why) {
    return Reject<MappedPause>(r.collection, r.ordinal,
                               InvalidField(field, why));
  };
  if (book.ids.count(p.pause_id) > 0) {
    return reject("pauseId", "pause " + Quoted(p.pause_id) +
                                 " appears twice in its session; the first "
                                 "one is kept");
  }
  const bool active = p.status != PauseStatus::kResumed;
  if (active && book.active) {
    return reject("status", "a second active pause of session " +
                                Quoted(p.session_id) +
                                " (at most one may be paused or intervening)");
  }
  if (p.idempotency_key && book.idempotency_keys.count(*p.idempotency_key)) {
    return reject("idempotencyKey",
                  "repeats another pause's key in the session");
  }
  if (p.resume_id && book.resume_ids.count(*p.resume_id)) {
    return reject("resumeId",
                  "repeats another pause's resumeId in the session");
  }
  book.ids.insert(p.pause_id);
  if (p.idempotency_key) book.idempotency_keys.insert(*p.idempotency_key);
  if (p.resume_id) book.resume_ids.insert(*p.resume_id);
  book.active = book.active || active;
  ++pauses_accepted_;
  return m;
}

void ImportChecker::FinishEvents() {
  std::vector<const SessionPlan*> above;
  for (const auto& [key, plan] : sessions_) {
    if (plan.kept > 0 && plan.declared_last_seq > plan.last_seen) {
      above.push_back(&plan);
    }
  }
  // In file order, whatever the hash map's order.
  std::sort(above.begin(), above.end(),
            [](const SessionPlan* a, const SessionPlan* b) {
              return a->ordinal < b->ordinal;
            });
  for (const SessionPlan* plan : above) {
    notes_.push_back(plan->path + ".lastEventSeq: " +
                     std::to_string(plan->declared_last_seq) +
                     " is above the session's last event (" +
                     std::to_string(plan->last_seen) +
                     "); the events are kept and new ones continue at " +
                     std::to_string(plan->last_seen + 1));
  }
}

uint64_t ImportChecker::events_kept() const {
  uint64_t n = 0;
  for (const auto& [key, plan] : sessions_) n += plan.kept;
  return n;
}

uint64_t ImportChecker::advanced_sessions() const {
  uint64_t n = 0;
  for (const auto& [key, plan] : sessions_) {
    if (plan.AdvanceBeforeEvents() > 0) ++n;
  }
  return n;
}

}  // namespace acpstore::aegis
