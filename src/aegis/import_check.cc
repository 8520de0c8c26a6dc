// ImportChecker: see import_check.h. The rules between records, with the
// repairs docs/aegis_format.md lists.
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

// Seqs missing between two events of a session are filled with
// placeholders up to this many; a wider gap (not something Aegis writes)
// keeps only the newest run, as retention would have.
constexpr EventSeq kMaxFill = 100000;

std::string Quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

bool Active(PauseStatus s) { return s != PauseStatus::kResumed; }

// Aegis's reconciliation when it reads a session (the latest pause wins).
SessionStatus StatusFor(PauseStatus s) {
  switch (s) {
    case PauseStatus::kPaused:
      return SessionStatus::kPaused;
    case PauseStatus::kIntervening:
      return SessionStatus::kIntervening;
    case PauseStatus::kResumed:
      return SessionStatus::kRunning;
  }
  return SessionStatus::kRunning;
}

}  // namespace

template <typename T>
Result<T> ImportChecker::Reject(Collection c, uint64_t ordinal, Status s) {
  skipped_[static_cast<size_t>(c)].push_back(ordinal);
  return s;
}

void ImportChecker::CountRepaired(Collection c, bool* counted) {
  if (*counted) return;
  *counted = true;
  ++repaired_[static_cast<size_t>(c)];
}

uint64_t ImportChecker::repaired(Collection c) const {
  if (c != Collection::kEvents) return repaired_[static_cast<size_t>(c)];
  uint64_t n = 0;
  for (const auto& [key, plan] : sessions_) n += plan.kept_repaired;
  return n;
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
                                   std::string* owner_key_id,
                                   bool* moved) const {
  *moved = false;
  const SessionPlan* plan =
      tenant_id->empty() ? nullptr : Plan(*tenant_id, session_id);
  if (plan == nullptr) {
    // No session of that id in the record's tenant: the session of that
    // id, when only one tenant has one.
    auto it = tenant_of_id_.find(session_id);
    if (it == tenant_of_id_.end()) {
      return InvalidField("sessionId", "no session " + Quoted(session_id) +
                                           " was imported from the file");
    }
    if (it->second.empty()) {
      return InvalidField("tenantId",
                          "sessions of several tenants have the id " +
                              Quoted(session_id) +
                              ", and none of them is in tenant " +
                              Quoted(*tenant_id));
    }
    *tenant_id = it->second;
    *moved = true;
    plan = Plan(*tenant_id, session_id);
  }
  if (*owner_key_id != plan->owner_key_id) {
    *owner_key_id = plan->owner_key_id;
    *moved = true;
  }
  return Status::OK();
}

void ImportChecker::Rescoped(const std::string& path, const std::string& owner,
                             const std::string& tenant,
                             const std::string& extra) {
  found_.push_back(
      {path,
       {RepairKind::kRescoped, "ownerKeyId",
        "moved into its session's scope (tenant " + Quoted(tenant) +
            ", owner " + Quoted(owner) + ")" + extra}});
}

Result<MappedSession> ImportChecker::CheckSession(
    const RawRecord& r, Repairs* repairs, std::vector<std::string>* unknown) {
  Result<MappedSession> m = MapSession(r, options_, repairs, unknown);
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
  plan.created_at = s.created_at;
  plan.status = s.status;
  plan.conversation_id = s.conversation_id;
  plan.transcript_id = s.transcript_id;
  plan.declared_last_seq = m->last_event_seq.value_or(0);
  if (!repairs->empty()) CountRepaired(r.collection, &plan.repaired);
  auto [it, inserted] = tenant_of_id_.emplace(s.id, s.tenant_id);
  if (!inserted && it->second != s.tenant_id) it->second.clear();
  return m;
}

Result<MappedEvent> ImportChecker::CheckEvent(
    const RawRecord& r, Repairs* repairs, std::vector<std::string>* unknown) {
  Result<MappedEvent> m = MapEvent(r, options_, repairs, unknown);
  if (!m.ok()) return Reject<MappedEvent>(r.collection, r.ordinal, m.error());
  Event& e = m->event;
  bool moved = false;
  Status s = ResolveScope(e.session_id, &e.tenant_id, &e.owner_key_id, &moved);
  if (!s.ok()) return Reject<MappedEvent>(r.collection, r.ordinal, s);
  SessionPlan* plan = MutablePlan(e.tenant_id, e.session_id);
  if (e.seq <= plan->last_seen) {
    return Reject<MappedEvent>(
        r.collection, r.ordinal,
        InvalidField("eventSeq", std::to_string(e.seq) + " does not follow " +
                                     std::to_string(plan->last_seen) +
                                     " (out of order or repeated)"));
  }
  if (moved) {
    Rescoped(r.path, e.owner_key_id, e.tenant_id,
             "; its eventId is now " + Quoted(e.EventId()));
  } else if (m->event_id && *m->event_id != e.EventId()) {
    repairs->push_back({RepairKind::kFieldDropped, "eventId",
                        "is " + Quoted(*m->event_id) +
                            ", not tenantId:ownerKeyId:sessionId:eventSeq; "
                            "the event's id is " +
                            Quoted(e.EventId())});
  }
  if (plan->kept > 0 && e.seq > plan->last_seen + 1) {
    const EventSeq gap = e.seq - plan->last_seen - 1;
    if (gap <= kMaxFill) {
      found_.push_back(
          {r.path,
           {RepairKind::kHoleFilled, "eventSeq",
            "seq " + std::to_string(plan->last_seen + 1) +
                (gap > 1 ? ".." + std::to_string(e.seq - 1) : "") +
                " missing from the file (or skipped); filled with " +
                std::to_string(gap) + " placeholder event" +
                (gap > 1 ? "s" : "")}});
      plan->kept += gap;
      plan->filled += gap;
      ++plan->gaps_filled;
    } else {
      // A report line, not a repair: nothing is filled, and the events
      // before the gap count as skipped (Summarise: read - imported).
      // gaps_filled(), not this line's kind, gives the kHoleFilled count.
      found_.push_back(
          {r.path,
           {RepairKind::kHoleFilled, "eventSeq",
            std::to_string(e.seq) + " leaves a gap of " + std::to_string(gap) +
                " seqs after " + std::to_string(plan->last_seen) +
                ", too wide to fill; " +
                (plan->first_kept == plan->last_seen
                     ? "the event before it (seq " +
                           std::to_string(plan->last_seen) + ") is"
                     : "the events before it (seq " +
                           std::to_string(plan->first_kept) + ".." +
                           std::to_string(plan->last_seen) + ") are") +
                " not imported"}});
      plan->kept = 0;
      plan->filled = 0;  // the fills before the gap go with its run
      plan->gaps_filled = 0;
      // So do the repairs of the events before it: they were reported as
      // found, but not one of them is imported (found by a probe: the
      // summary still counted them).
      for (const auto& [kind, n] : plan->kept_repairs) {
        dropped_repairs_[kind] += n;
      }
      plan->kept_repairs.clear();
      plan->kept_repaired = 0;
    }
  }
  if (plan->kept == 0) plan->first_kept = e.seq;
  plan->last_seen = e.seq;
  ++plan->kept;
  // As the importer counts them: the record's own repairs, and the move
  // into its session's scope (found_), which is a repair of the event too.
  // The fill before it is counted by gaps_filled; it adds records, it
  // does not change this one.
  if (!repairs->empty() || moved) ++plan->kept_repaired;
  for (const Repair& rep : *repairs) ++plan->kept_repairs[rep.kind];
  if (moved) ++plan->kept_repairs[RepairKind::kRescoped];
  return m;
}

Result<MappedAction> ImportChecker::CheckAction(
    const RawRecord& r, Repairs* repairs, std::vector<std::string>* unknown) {
  Result<MappedAction> m = MapAction(r, options_, repairs, unknown);
  if (!m.ok()) return Reject<MappedAction>(r.collection, r.ordinal, m.error());
  Action& a = m->action;
  bool moved = false;
  Status s = ResolveScope(a.session_id, &a.tenant_id, &a.owner_key_id, &moved);
  if (!s.ok()) return Reject<MappedAction>(r.collection, r.ordinal, s);
  std::string key = TenantKey(a.tenant_id, a.action_id);
  if (action_ids_.count(key) > 0) {
    return Reject<MappedAction>(
        r.collection, r.ordinal,
        InvalidField("actionId", "action " + Quoted(a.action_id) +
                                     " of tenant " + Quoted(a.tenant_id) +
                                     " appears twice; the first one is kept"));
  }
  if (moved) Rescoped(r.path, a.owner_key_id, a.tenant_id);
  bool repaired = false;
  if (!repairs->empty() || moved) CountRepaired(r.collection, &repaired);
  if (a.idempotency_key) {
    // The array is in enqueue order: the earlier holder is the older.
    std::string idem =
        TenantKey(TenantKey(a.tenant_id, a.session_id), *a.idempotency_key);
    auto [it, inserted] = action_keys_.try_emplace(
        std::move(idem), KeyHolder{r.ordinal, r.path, repaired});
    if (!inserted) {
      KeyHolder& older = it->second;
      action_clear_.insert(older.ordinal);
      found_.push_back(
          {older.path,
           {RepairKind::kIdempotencyCleared, "idempotencyKey",
            "repeated by the newer " + r.path + "; cleared here"}});
      CountRepaired(r.collection, &older.repaired);
      older = {r.ordinal, r.path, repaired};
    }
  }
  action_ids_.insert(std::move(key));
  ++actions_accepted_;
  return m;
}

Result<MappedPause> ImportChecker::CheckPause(
    const RawRecord& r, Repairs* repairs, std::vector<std::string>* unknown) {
  Result<MappedPause> m = MapPause(r, options_, repairs, unknown);
  if (!m.ok()) return Reject<MappedPause>(r.collection, r.ordinal, m.error());
  Pause& p = m->pause;
  bool moved = false;
  Status s = ResolveScope(p.session_id, &p.tenant_id, &p.owner_key_id, &moved);
  if (!s.ok()) {
    // Aegis pauses sessions it has no record of (legacy sessions).
    return Reject<MappedPause>(r.collection, r.ordinal, s);
  }
  if (moved) Rescoped(r.path, p.owner_key_id, p.tenant_id);
  PauseBook& book = pauses_[TenantKey(p.tenant_id, p.session_id)];
  if (!book.ids.insert(p.pause_id).second) {
    // Aegis does not check pauseIds; both records are kept.
    std::string renamed;
    for (int n = 2;; ++n) {
      renamed = p.pause_id + "~" + std::to_string(n);
      if (renamed.size() <= options_.limits.max_id_bytes &&
          book.ids.insert(renamed).second) {
        break;
      }
      if (renamed.size() > options_.limits.max_id_bytes) {
        return Reject<MappedPause>(
            r.collection, r.ordinal,
            InvalidField("pauseId", "repeats another pause of the session "
                                    "and is too long to rename"));
      }
    }
    pause_fixes_[r.ordinal].new_pause_id = renamed;
    repairs->push_back({RepairKind::kPauseIdRenamed, "pauseId",
                        "repeats another pause of the session; renamed " +
                            Quoted(renamed)});
    p.pause_id = renamed;
  }
  // An interventionId generated here (missing, or not a valid id) must be
  // the one the write pass stores: mapped again, it would get another.
  for (const Repair& rep : *repairs) {
    if (rep.field == "interventionId" &&
        (rep.kind == RepairKind::kIdGenerated ||
         rep.kind == RepairKind::kValueReplaced)) {
      pause_fixes_[r.ordinal].intervention_id = p.intervention_id;
    }
  }
  bool repaired = false;
  if (!repairs->empty() || moved) CountRepaired(r.collection, &repaired);
  book.entries.push_back(
      {r.ordinal, r.path, p.status, p.requested_at, p.updated_at, repaired});
  if (p.idempotency_key) {
    const size_t mine = book.entries.size() - 1;
    auto [it, inserted] = book.keys.try_emplace(*p.idempotency_key, mine);
    if (!inserted) {
      // Aegis never deduplicates pause keys; acpstore's pause route
      // replays by key, so only the newer record may keep it.
      PauseEntry& other = book.entries[it->second];
      const bool other_older =
          other.requested_at < p.requested_at ||
          (other.requested_at == p.requested_at && other.ordinal < r.ordinal);
      PauseEntry& older = other_older ? other : book.entries[mine];
      const PauseEntry& newer = other_older ? book.entries[mine] : other;
      pause_fixes_[older.ordinal].clear_idempotency_key = true;
      found_.push_back({older.path,
                        {RepairKind::kIdempotencyCleared, "idempotencyKey",
                         "repeated by the newer " + newer.path +
                             "; cleared here"}});
      CountRepaired(r.collection, &older.repaired);
      if (other_older) it->second = mine;
    }
  }
  ++pauses_accepted_;
  return m;
}

void ImportChecker::FinishPauses() {
  // In file order of the sessions, whatever the hash map's order.
  std::vector<std::pair<const std::string*, PauseBook*>> books;
  for (auto& [key, book] : pauses_) books.push_back({&key, &book});
  std::sort(books.begin(), books.end(), [&](const auto& a, const auto& b) {
    return sessions_.at(*a.first).ordinal < sessions_.at(*b.first).ordinal;
  });
  auto newer = [](const PauseEntry& a, const PauseEntry& b) {
    return a.updated_at != b.updated_at ? a.updated_at > b.updated_at
                                        : a.ordinal > b.ordinal;
  };
  for (auto& [key, book] : books) {
    SessionPlan& plan = sessions_.at(*key);
    // The latest record by updatedAt decides, as Aegis reads it: when it
    // is active it stays the one active record; when it is resumed, so
    // is every older active one (at most one may be active, and only in
    // a paused or intervening session).
    const PauseEntry* latest = nullptr;
    for (const PauseEntry& e : book->entries) {
      if (latest == nullptr || newer(e, *latest)) latest = &e;
    }
    const PauseEntry* active = nullptr;
    for (const PauseEntry& e : book->entries) {
      if (Active(e.status) && (active == nullptr || newer(e, *active))) {
        active = &e;
      }
    }
    if (latest != nullptr && !Active(latest->status)) active = nullptr;
    for (PauseEntry& e : book->entries) {
      if (!Active(e.status) || &e == active) continue;
      pause_fixes_[e.ordinal].resume = true;
      e.status = PauseStatus::kResumed;
      CountRepaired(Collection::kPauses, &e.repaired);
      found_.push_back(
          {e.path,
           {RepairKind::kSecondActivePause, "status",
            (active != nullptr
                 ? "a newer active pause of the session is " + active->path
                 : "the session's latest pause record " + latest->path +
                       " is resumed") +
                " (at most one may be active); imported as resumed"}});
    }
    // Aegis leaves closing, closed and failed sessions as they are.
    const SessionStatus now = plan.status;
    if (latest == nullptr || now == SessionStatus::kClosing ||
        now == SessionStatus::kClosed || now == SessionStatus::kFailed) {
      continue;
    }
    const SessionStatus want = StatusFor(latest->status);
    if (want == now) continue;
    plan.reconciled = want;
    CountRepaired(Collection::kSessions, &plan.repaired);
    found_.push_back(
        {plan.path,
         {RepairKind::kStatusReconciled, "status",
          std::string(ToString(now)) + ", but its latest pause " +
              "record " + latest->path + " makes it " +
              std::string(ToString(want)) + " (as Aegis reads it)"}});
  }
}

void ImportChecker::FinishEvents() {
  std::vector<SessionPlan*> above;
  for (auto& [key, plan] : sessions_) {
    if (plan.kept > 0 && plan.declared_last_seq > plan.last_seen) {
      above.push_back(&plan);
    }
  }
  std::sort(above.begin(), above.end(),
            [](const SessionPlan* a, const SessionPlan* b) {
              return a->ordinal < b->ordinal;
            });
  for (SessionPlan* plan : above) {
    // The stream's high-water mark is its last event: the value is valid,
    // but not kept, so it is a repair of its own kind (it was counted as
    // an "invalid optional field"), and the session is a repaired one.
    found_.push_back(
        {plan->path,
         {RepairKind::kLastEventSeqNotKept, "lastEventSeq",
          std::to_string(plan->declared_last_seq) +
              " is above the session's last event (" +
              std::to_string(plan->last_seen) +
              "); not kept: new events continue at " +
              std::to_string(plan->last_seen + 1)}});
    CountRepaired(Collection::kSessions, &plan->repaired);
  }
}

uint64_t ImportChecker::events_kept() const {
  uint64_t n = 0;
  for (const auto& [key, plan] : sessions_) n += plan.kept;
  return n;
}

uint64_t ImportChecker::events_filled() const {
  uint64_t n = 0;
  for (const auto& [key, plan] : sessions_) n += plan.filled;
  return n;
}

uint64_t ImportChecker::gaps_filled() const {
  uint64_t n = 0;
  for (const auto& [key, plan] : sessions_) n += plan.gaps_filled;
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
