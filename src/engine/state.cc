// StoreState: see state.h. Apply keeps one rule everywhere: unindex a
// record with its old fields, change it, index it with the new ones.

#include "engine/state.h"

#include <algorithm>
#include <functional>
#include <utility>
#include <variant>

#include "engine/keys.h"
#include "engine/transcript_ref.h"

namespace acpstore::engine {
namespace {

TimestampMs EndedAt(const Session& s) {
  if (s.status == SessionStatus::kClosed) {
    return s.closed_at.value_or(s.updated_at);
  }
  return s.failed_at.value_or(s.updated_at);
}

TimestampMs FinishedAt(const Action& a) {
  switch (a.status) {
    case ActionStatus::kCompleted:
      return a.completed_at.value_or(a.updated_at);
    case ActionStatus::kFailed:
      return a.failed_at.value_or(a.updated_at);
    case ActionStatus::kCancelled:
      return a.cancelled_at.value_or(a.updated_at);
    default:
      return a.updated_at;
  }
}

std::string IdempotencyIndexKey(std::string_view tenant_id,
                                std::string_view session_id,
                                std::string_view key) {
  return TenantKey(TenantKey(tenant_id, session_id), key);
}

// The id half of a "tenant\0id" map key, so indexes can view it.
std::string_view IdOfKey(const std::string& key, size_t tenant_size) {
  return static_cast<std::string_view>(key).substr(tenant_size + 1);
}

template <typename Index>
void RemoveFromView(std::unordered_map<std::string, Index>* views,
                    const std::string& view, TimestampMs time,
                    std::string_view id) {
  auto it = views->find(view);
  if (it == views->end()) return;
  it->second.Remove(time, id);
  if (it->second.empty()) views->erase(it);
}

template <typename T>
std::vector<const T*> AsConst(std::vector<T*> items) {
  return std::vector<const T*>(items.begin(), items.end());
}

// Keeps the shortest prefix of `ordered` whose resident transcript bytes,
// taken from `resident`, bring it to `target` or under: the sessions a
// pass has to write out, in the order it prefers them.
void KeepUntilUnder(uint64_t resident, uint64_t target,
                    std::vector<SessionEntry*>* ordered) {
  size_t n = 0;
  while (n < ordered->size() && resident > target) {
    resident -= (*ordered)[n]->transcript.resident_bytes();
    ++n;
  }
  ordered->resize(n);
}

}  // namespace

bool ScopeCanSee(const Scope& scope, std::string_view tenant_id,
                 std::string_view owner_key_id) {
  if (scope.tenant_id != tenant_id) return false;
  return scope.access != Scope::Access::kOwner ||
         scope.owner_key_id == owner_key_id;
}

std::string TenantViewKey(std::string_view tenant_id) {
  return std::string(tenant_id);
}

std::string OwnerViewKey(std::string_view tenant_id,
                         std::string_view owner_key_id) {
  // Distinct from every tenant view: a tenant id holds no NUL.
  return TenantKey(tenant_id, owner_key_id);
}

StoreState::StoreState(EventLogFactory event_log_factory,
                       ClientIdKey client_id_key)
    : event_log_factory_(std::move(event_log_factory)),
      client_id_key_(client_id_key) {}

StoreState::~StoreState() = default;

Status StoreState::Apply(record::Mutation&& mutation) {
  for (auto& op : mutation.ops) {
    Status s = std::visit(
        [this](auto& o) { return ApplyOp(std::move(o)); }, op);
    if (!s.ok()) return s;
  }
  return Status::OK();
}

Status StoreState::Apply(const record::Mutation& mutation) {
  record::Mutation copy = mutation;
  return Apply(std::move(copy));
}

// ------------------------------------------------------------------ lookups

const SessionEntry* StoreState::FindSessionInTenant(
    std::string_view tenant_id, std::string_view session_id) const {
  auto it = sessions_.find(TenantKey(tenant_id, session_id));
  return it == sessions_.end() ? nullptr : &it->second;
}

const SessionEntry* StoreState::FindSession(
    const Scope& scope, std::string_view session_id) const {
  const SessionEntry* e = FindSessionInTenant(scope.tenant_id, session_id);
  if (e == nullptr ||
      !ScopeCanSee(scope, e->session.tenant_id, e->session.owner_key_id)) {
    return nullptr;
  }
  return e;
}

const ActionEntry* StoreState::FindActionInTenant(
    std::string_view tenant_id, std::string_view action_id) const {
  auto it = actions_.find(TenantKey(tenant_id, action_id));
  return it == actions_.end() ? nullptr : &it->second;
}

const ActionEntry* StoreState::FindAction(const Scope& scope,
                                          std::string_view action_id) const {
  const ActionEntry* e = FindActionInTenant(scope.tenant_id, action_id);
  if (e == nullptr ||
      !ScopeCanSee(scope, e->action.tenant_id, e->action.owner_key_id)) {
    return nullptr;
  }
  return e;
}

const ActionEntry* StoreState::FindActionByIdempotencyKey(
    std::string_view tenant_id, std::string_view session_id,
    std::string_view idempotency_key) const {
  auto it = idempotency_.find(
      IdempotencyIndexKey(tenant_id, session_id, idempotency_key));
  return it == idempotency_.end() ? nullptr : it->second;
}

Result<std::optional<Event>> StoreState::FindClientEvent(
    const SessionEntry& session, std::string_view client_id) const {
  // Candidates below first_seq were dropped by retention: the original is
  // gone, so the id no longer dedupes.
  std::vector<EventSeq> candidates;
  session.client_ids.ForEachCandidate(ClientIdTagOf(client_id),
                                      session.events->Info().first_seq,
                                      [&](EventSeq seq) {
                                        candidates.push_back(seq);
                                        return true;
                                      });
  // Newest first, as when the index was a map overwritten by each append.
  std::sort(candidates.begin(), candidates.end(), std::greater<>());
  for (EventSeq seq : candidates) {
    // Under the engine's lock, and in the file engine a pread unless the
    // payload cache holds the event. Acceptable because it happens on a
    // dedupe hit (a retry, which returns this very event) and, for a new
    // id, only when a retained event shares its 32-bit tag: with the keyed
    // hash about one lookup in 2^32 / (entries in the session).
    ACPSTORE_ASSIGN_OR_RETURN(Event event, session.events->Get(seq));
    if (event.client_event_id && *event.client_event_id == client_id) {
      return std::optional<Event>(std::move(event));
    }
  }
  return std::optional<Event>();
}

Session StoreState::View(const SessionEntry& entry) {
  Session s = entry.session;
  s.events = entry.events->VisibleInfo();
  return s;
}

Action StoreState::View(const ActionEntry& entry) {
  Action a = entry.action;
  a.lease_token.clear();
  return a;
}

// ------------------------------------------------------------ leasing/sweeps

const ActionEntry* StoreState::NextLeasable(
    const Scope& scope, const SessionEntry* only_session,
    const std::vector<ActionType>& types, TimestampMs now) const {
  using Queue = LeaseQueue<ActionEntry>;
  std::string view;
  if (only_session != nullptr) {
    view = Queue::SessionView(only_session->session.tenant_id,
                              only_session->id);
  } else if (scope.access == Scope::Access::kOwner) {
    view = Queue::OwnerView(scope.tenant_id, scope.owner_key_id);
  } else {
    view = Queue::TenantView(scope.tenant_id);
  }
  return lease_queue_.FindFirst(view, now, [&](const ActionEntry& e) {
    return types.empty() ||
           std::find(types.begin(), types.end(), e.action.type) != types.end();
  });
}

std::vector<const ActionEntry*> StoreState::ExpiredLeases(
    TimestampMs now) const {
  return AsConst(lease_expiry_.Due(now));
}

std::vector<const ActionEntry*> StoreState::ActionsFinishedBy(
    TimestampMs time) const {
  return AsConst(finished_actions_.Due(time));
}

std::vector<const SessionEntry*> StoreState::SessionsEndedBy(
    TimestampMs time) const {
  return AsConst(ended_sessions_.Due(time));
}

std::vector<const SessionEntry*> StoreState::SessionsWithEventsEndedBy(
    TimestampMs time) const {
  return AsConst(ended_with_events_.Due(time));
}

// ----------------------------------------------------------------- indexing

void StoreState::IndexSession(SessionEntry* e) {
  const Session& s = e->session;
  session_views_[TenantViewKey(s.tenant_id)].Add(s.updated_at, e->id, e);
  session_views_[OwnerViewKey(s.tenant_id, s.owner_key_id)].Add(s.updated_at,
                                                                e->id, e);
  ++counters_.sessions_by_status[static_cast<size_t>(s.status) % 8];
  if (IsTerminal(s.status)) {
    ended_sessions_.Add(EndedAt(s), e->incarnation, e);
    if (e->events->Info().retained > 0) {
      ended_with_events_.Add(EndedAt(s), e->incarnation, e);
    }
  }
}

void StoreState::UnindexSession(SessionEntry* e) {
  const Session& s = e->session;
  RemoveFromView(&session_views_, TenantViewKey(s.tenant_id), s.updated_at,
                 e->id);
  RemoveFromView(&session_views_, OwnerViewKey(s.tenant_id, s.owner_key_id),
                 s.updated_at, e->id);
  --counters_.sessions_by_status[static_cast<size_t>(s.status) % 8];
  if (IsTerminal(s.status)) {
    ended_sessions_.Remove(EndedAt(s), e->incarnation);
    ended_with_events_.Remove(EndedAt(s), e->incarnation);
  }
}

void StoreState::IndexAction(ActionEntry* e) {
  const Action& a = e->action;
  action_views_[TenantViewKey(a.tenant_id)].Add(a.created_at, e->id, e);
  action_views_[OwnerViewKey(a.tenant_id, a.owner_key_id)].Add(a.created_at,
                                                               e->id, e);
  e->session->actions.Add(a.created_at, e->id, e);
  if (a.idempotency_key) {
    idempotency_[IdempotencyIndexKey(a.tenant_id, a.session_id,
                                     *a.idempotency_key)] = e;
  }
  if (a.status == ActionStatus::kQueued) {
    lease_queue_.Add(a.tenant_id, a.owner_key_id, a.session_id,
                     LeaseOrder{a.available_at, a.created_at, e->insertion},
                     e);
  } else if (a.status == ActionStatus::kLeased && a.leased_until) {
    lease_expiry_.Add(*a.leased_until, e->insertion, e);
  } else if (IsTerminal(a.status)) {
    finished_actions_.Add(FinishedAt(a), e->insertion, e);
  }
}

void StoreState::UnindexAction(ActionEntry* e) {
  const Action& a = e->action;
  RemoveFromView(&action_views_, TenantViewKey(a.tenant_id), a.created_at,
                 e->id);
  RemoveFromView(&action_views_, OwnerViewKey(a.tenant_id, a.owner_key_id),
                 a.created_at, e->id);
  e->session->actions.Remove(a.created_at, e->id);
  if (a.idempotency_key) {
    auto it = idempotency_.find(
        IdempotencyIndexKey(a.tenant_id, a.session_id, *a.idempotency_key));
    if (it != idempotency_.end() && it->second == e) idempotency_.erase(it);
  }
  if (a.status == ActionStatus::kQueued) {
    lease_queue_.Remove(a.tenant_id, a.owner_key_id, a.session_id,
                        LeaseOrder{a.available_at, a.created_at, e->insertion});
  } else if (a.status == ActionStatus::kLeased && a.leased_until) {
    lease_expiry_.Remove(*a.leased_until, e->insertion);
  } else if (IsTerminal(a.status)) {
    finished_actions_.Remove(FinishedAt(a), e->insertion);
  }
}

void StoreState::SweepClientIds(SessionEntry* e) {
  const size_t before = e->client_ids.memory_bytes();
  e->client_ids.Sweep(e->events->Info().first_seq);
  CountClientIdBytes(*e, before);
}

void StoreState::CountClientIdBytes(const SessionEntry& e, size_t before) {
  counters_.client_id_index_bytes += e.client_ids.memory_bytes();
  counters_.client_id_index_bytes -= before;
}

void StoreState::CountTranscript(const SessionEntry& e) {
  if (e.transcript_evicted) {
    counters_.transcript_evicted_bytes += e.transcript_ref->bytes;
    ++counters_.transcripts_evicted;
    if (!e.transcript_ref->complete) ++counters_.transcripts_incomplete;
    return;
  }
  counters_.transcript_bytes += e.transcript.resident_bytes();
  counters_.transcript_sealed_bytes += e.transcript.sealed_bytes();
  if (e.transcript_ref == nullptr) {
    counters_.transcript_dirty_bytes += e.transcript.resident_bytes();
  }
  if (!e.transcript.complete()) ++counters_.transcripts_incomplete;
}

void StoreState::UncountTranscript(const SessionEntry& e) {
  if (e.transcript_evicted) {
    counters_.transcript_evicted_bytes -= e.transcript_ref->bytes;
    --counters_.transcripts_evicted;
    if (!e.transcript_ref->complete) --counters_.transcripts_incomplete;
    return;
  }
  counters_.transcript_bytes -= e.transcript.resident_bytes();
  counters_.transcript_sealed_bytes -= e.transcript.sealed_bytes();
  if (e.transcript_ref == nullptr) {
    counters_.transcript_dirty_bytes -= e.transcript.resident_bytes();
  }
  if (!e.transcript.complete()) --counters_.transcripts_incomplete;
}

Status StoreState::RestoreTranscript(std::string_view tenant_id,
                                     std::string_view session_id,
                                     transcript::Transcript transcript,
                                     std::shared_ptr<const TranscriptRef> ref,
                                     std::shared_ptr<const TranscriptSealed> sealed) {
  SessionEntry* e = MutableSession(tenant_id, session_id);
  if (e == nullptr) return Status::Internal("transcript of an unknown session");
  if ((sealed != nullptr) !=
      (transcript.held_index() > transcript.first_index())) {
    return Status::Internal("a sealed transcript without its sealed parts");
  }
  UncountTranscript(*e);
  e->transcript = std::move(transcript);
  e->transcript_ref = std::move(ref);
  e->transcript_sealed = std::move(sealed);
  e->transcript_evicted = false;
  e->transcript_used = ++transcript_tick_;
  CountTranscript(*e);
  // Recovery keeps the first transcripts that fit and leaves the rest on
  // disk, so opening a store is bounded too.
  if (e->transcript_ref != nullptr && transcript_budget_ > 0 &&
      counters_.transcript_bytes > transcript_budget_) {
    EvictTranscript(e);
  }
  return Status::OK();
}

Status StoreState::RestoreEvictedTranscript(
    std::string_view tenant_id, std::string_view session_id,
    std::shared_ptr<const TranscriptRef> ref) {
  SessionEntry* e = MutableSession(tenant_id, session_id);
  if (e == nullptr) return Status::Internal("transcript of an unknown session");
  if (ref == nullptr) return Status::Internal("an evicted transcript without its reference");
  UncountTranscript(*e);
  e->transcript = transcript::Transcript();
  e->transcript_sealed.reset();
  e->transcript_ref = std::move(ref);
  e->transcript_evicted = true;
  e->transcript_used = ++transcript_tick_;
  CountTranscript(*e);
  return Status::OK();
}

Status StoreState::LoadTranscript(SessionEntry* e) {
  if (!e->transcript_evicted) return Status::OK();
  transcript::Transcript t;
  std::shared_ptr<const TranscriptSealed> sealed;
  Status s = engine::LoadTranscript(*e->transcript_ref, &t, &sealed);
  if (s.code() == StatusCode::kDataLoss) {
    // Its bytes on disk changed (a checksum mismatch): for good, unlike an
    // I/O error. A fold rebuilds it from the session's retained events
    // (complete: false where retention dropped some) rather than refusing
    // every append to the session, and the open that replays one
    // (decision 0033: an older file referred to is not checked at open).
    // Reads before that fail with data_loss; verify names the file.
    return RebuildDamagedTranscript(e->session.tenant_id, e->session.id);
  }
  ACPSTORE_RETURN_IF_ERROR(s);
  TranscriptLoaded(e, std::move(t), std::move(sealed));
  return Status::OK();
}

void StoreState::TranscriptLoaded(
    SessionEntry* e, transcript::Transcript t,
    std::shared_ptr<const TranscriptSealed> sealed) {
  UncountTranscript(*e);
  // Whole, or (decision 0027) with the entries that lie in published
  // snapshots left sealed there: they need no copy again.
  e->transcript = std::move(t);
  e->transcript_sealed = std::move(sealed);
  e->transcript_evicted = false;
  e->transcript_used = ++transcript_tick_;
  CountTranscript(*e);
}

bool StoreState::AttachTranscriptRef(SessionEntry* e,
                                     std::shared_ptr<const TranscriptRef> ref) {
  if (e->transcript_evicted) {
    const TranscriptRef& now = *e->transcript_ref;
    if (now.folded_seq != ref->folded_seq || now.complete != ref->complete ||
        now.bytes != ref->bytes) {
      return false;
    }
  } else if (e->transcript.folded_seq() != ref->folded_seq ||
             e->transcript.complete() != ref->complete ||
             e->transcript.bytes() != ref->bytes) {
    return false;
  }
  UncountTranscript(*e);
  e->transcript_ref = std::move(ref);
  CountTranscript(*e);
  return true;
}

void StoreState::EvictTranscript(SessionEntry* e) {
  if (e->transcript_evicted || e->transcript_ref == nullptr) return;
  UncountTranscript(*e);
  e->transcript = transcript::Transcript();
  e->transcript_sealed.reset();  // the reference holds those entries too
  e->transcript_evicted = true;
  CountTranscript(*e);
}

uint64_t StoreState::BeginEvictionPass(bool all) {
  const uint64_t used_by = all ? transcript_tick_ : transcript_pass_tick_;
  transcript_pass_tick_ = transcript_tick_;
  return used_by;
}

size_t StoreState::EvictTranscriptsDownTo(uint64_t target, uint64_t used_by) {
  if (counters_.transcript_bytes <= target) return 0;
  std::vector<SessionEntry*> clean;
  for (auto& [key, e] : sessions_) {
    if (!e.transcript_evicted && e.transcript_ref != nullptr &&
        e.transcript.resident_bytes() > 0 && e.transcript_used <= used_by) {
      clean.push_back(&e);
    }
  }
  std::sort(clean.begin(), clean.end(),
            [](const SessionEntry* a, const SessionEntry* b) {
              return a->transcript_used < b->transcript_used;
            });
  size_t n = 0;
  for (SessionEntry* e : clean) {
    if (counters_.transcript_bytes <= target) break;
    EvictTranscript(e);
    ++n;
  }
  return n;
}

std::vector<SessionEntry*> StoreState::ColdDirtyTranscripts(uint64_t target,
                                                            uint64_t used_by) {
  std::vector<SessionEntry*> dirty;
  if (counters_.transcript_bytes <= target) return dirty;
  for (auto& [key, e] : sessions_) {
    if (!e.transcript_evicted && e.transcript_ref == nullptr &&
        e.transcript.resident_bytes() > 0 && e.transcript_used <= used_by) {
      dirty.push_back(&e);
    }
  }
  std::sort(dirty.begin(), dirty.end(),
            [](const SessionEntry* a, const SessionEntry* b) {
              return a->transcript_used < b->transcript_used;
            });
  KeepUntilUnder(counters_.transcript_bytes, target, &dirty);
  return dirty;
}

std::vector<SessionEntry*> StoreState::SealCandidates(uint64_t target) {
  std::vector<SessionEntry*> out;
  if (counters_.transcript_bytes <= target) return out;
  for (auto& [key, e] : sessions_) {
    if (!e.transcript_evicted && e.transcript.resident_bytes() > 0) {
      out.push_back(&e);
    }
  }
  std::sort(
      out.begin(), out.end(), [](const SessionEntry* a, const SessionEntry* b) {
        return a->transcript.resident_bytes() > b->transcript.resident_bytes();
      });
  KeepUntilUnder(counters_.transcript_bytes, target, &out);
  return out;
}

bool StoreState::SealTranscript(SessionEntry* e, uint64_t held, uint64_t end,
                                std::vector<TranscriptSealed::Part> parts) {
  transcript::Transcript& t = e->transcript;
  if (e->transcript_evicted || t.held_index() != held ||
      end > t.sealable_end() || end <= held) {
    return false;
  }
  auto sealed = std::make_shared<TranscriptSealed>();
  if (e->transcript_sealed != nullptr) {
    // Parts the cap dropped whole since are bookkeeping no more.
    for (const TranscriptSealed::Part& p : e->transcript_sealed->parts) {
      if (p.first_index + p.count > t.first_index()) sealed->parts.push_back(p);
    }
  }
  for (TranscriptSealed::Part& p : parts) sealed->parts.push_back(std::move(p));
  UncountTranscript(*e);
  t.Seal(end);
  e->transcript_sealed = std::move(sealed);
  CountTranscript(*e);
  return true;
}

void StoreState::MoveSealed(SessionEntry* e, const TranscriptSealed* was,
                            std::shared_ptr<const TranscriptSealed> now) {
  if (e->transcript_evicted || e->transcript_sealed == nullptr ||
      was == nullptr || now == nullptr) {
    return;
  }
  if (e->transcript_sealed.get() == was) {
    e->transcript_sealed = std::move(now);
    return;
  }
  // Sealed again since the capture (SealTranscript keeps the earlier
  // parts, less those the cap dropped whole, and adds new ones): the
  // captured parts still held move, the new ones stay after them. Without
  // this, a file the snapshot re-homed parts out of (decision 0027) would
  // stay referred to by memory.
  const std::vector<TranscriptSealed::Part>& cur = e->transcript_sealed->parts;
  if (cur.empty() || was->parts.empty()) return;
  const TranscriptSealed::Part& last = was->parts.back();
  size_t after = cur.size();  // first part sealed after the capture
  for (size_t i = 0; i < cur.size(); ++i) {
    if (cur[i].file == last.file && cur[i].offset == last.offset &&
        cur[i].first_index == last.first_index) {
      after = i + 1;
      break;
    }
  }
  if (after == cur.size() && !(cur.back().file == last.file &&
                               cur.back().offset == last.offset)) {
    return;  // not a continuation of what was captured
  }
  auto merged = std::make_shared<TranscriptSealed>();
  const uint64_t first = e->transcript.first_index();
  for (const TranscriptSealed::Part& p : now->parts) {
    if (p.first_index + p.count > first) merged->parts.push_back(p);
  }
  for (size_t i = after; i < cur.size(); ++i) merged->parts.push_back(cur[i]);
  e->transcript_sealed = std::move(merged);
}

Status StoreState::RebuildDamagedTranscript(std::string_view tenant_id,
                                            std::string_view session_id) {
  if (transcripts_on()) ++counters_.transcripts_rebuilt;
  return RebuildTranscript(tenant_id, session_id);
}

Status StoreState::RebuildTranscript(std::string_view tenant_id,
                                     std::string_view session_id) {
  SessionEntry* e = MutableSession(tenant_id, session_id);
  if (e == nullptr) return Status::Internal("transcript of an unknown session");
  if (!transcripts_on()) return Status::OK();
  transcript::Transcript t;
  const EventStreamInfo info = e->events->Info();
  if (info.first_seq > 1) t.set_incomplete();
  FoldRetained(e, info.first_seq - 1, info.last_seq, &t);
  return RestoreTranscript(tenant_id, session_id, std::move(t));
}

void StoreState::FoldRetained(SessionEntry* e, EventSeq after,
                              EventSeq through, transcript::Transcript* t) {
  std::vector<Event> page;
  while (after < through) {
    page.clear();
    Status s = e->events->Read(after, 1000, kNoByteCap, &page);
    if (s.ok() && page.empty()) {
      // Past what is durable (a rebuild under an append, decision 0033:
      // earlier appends may still wait for their fdatasync): those events
      // are in memory.
      Result<Event> pending = e->events->Get(after + 1);
      if (pending.ok()) page.push_back(std::move(*pending));
    }
    // A failed read returns the events before the one it could not read:
    // those are folded, and only that one is skipped.
    for (const Event& ev : page) {
      if (ev.seq > through) return;
      if (ev.seq != after + 1) t->set_incomplete();
      t->Fold(transcript::EventView{ev.seq, ev.event_type, ev.occurred_at,
                                    ev.payload},
              transcript_limits_);
      after = ev.seq;
    }
    if (!s.ok() || page.empty()) {
      // An unreadable event (data_loss) cannot be folded: skip past it.
      t->set_incomplete();
      ++after;
    }
  }
}

Status StoreState::CatchUpTranscript(SessionEntry* e, EventSeq through) {
  if (!transcripts_on()) return Status::OK();
  const EventSeq folded = e->transcript_evicted
                              ? e->transcript_ref->folded_seq
                              : e->transcript.folded_seq();
  if (folded >= through) return Status::OK();
  ACPSTORE_RETURN_IF_ERROR(LoadTranscript(e));
  if (e->transcript.folded_seq() >= through) return Status::OK();  // rebuilt
  UncountTranscript(*e);
  e->transcript_ref.reset();  // it is about to differ from its copy
  const EventStreamInfo info = e->events->Info();
  EventSeq after = e->transcript.folded_seq();
  if (info.retained == 0 || info.first_seq > after + 1) {
    // Retention dropped events appended while transcripts were off.
    e->transcript.set_incomplete();
    after = std::max<EventSeq>(after, info.first_seq - 1);
  }
  FoldRetained(e, after, through, &e->transcript);
  if (e->transcript.held_index() == e->transcript.first_index()) {
    e->transcript_sealed.reset();
  }
  e->transcript_used = ++transcript_tick_;
  CountTranscript(*e);
  return Status::OK();
}

Status StoreState::CatchUpTranscripts() {
  if (!transcripts_on()) return Status::OK();
  for (auto& [key, e] : sessions_) {
    ACPSTORE_RETURN_IF_ERROR(CatchUpTranscript(&e, e.events->Info().last_seq));
  }
  return Status::OK();
}

Status StoreState::SetClientIdKey(const ClientIdKey& key) {
  if (!sessions_.empty()) {
    return Status::Internal("clientEventId key set on a state with sessions");
  }
  client_id_key_ = key;
  return Status::OK();
}

SessionEntry* StoreState::MutableSession(std::string_view tenant_id,
                                         std::string_view session_id) {
  auto it = sessions_.find(TenantKey(tenant_id, session_id));
  return it == sessions_.end() ? nullptr : &it->second;
}

// ---------------------------------------------------------------------- ops

Status StoreState::ApplyOp(record::UpsertSessionOp&& op) {
  Session& s = op.session;
  s.events = EventStreamInfo{};
  std::string key = TenantKey(s.tenant_id, s.id);
  auto it = sessions_.find(key);
  if (it == sessions_.end()) {
    size_t tenant_size = s.tenant_id.size();
    it = sessions_.try_emplace(std::move(key)).first;
    SessionEntry* e = &it->second;
    e->id = IdOfKey(it->first, tenant_size);
    e->incarnation = next_incarnation_++;
    e->events = event_log_factory_(s);
    e->session = std::move(s);
    IndexSession(e);
    return Status::OK();
  }
  SessionEntry* e = &it->second;
  if (e->session.owner_key_id != s.owner_key_id) {
    return Status::Internal("session upsert changes the owner");
  }
  UnindexSession(e);
  e->session = std::move(s);
  IndexSession(e);
  return Status::OK();
}

Status StoreState::ApplyOp(record::DeleteSessionOp&& op) {
  auto it = sessions_.find(TenantKey(op.tenant_id, op.session_id));
  if (it == sessions_.end()) {
    return Status::Internal("delete of an unknown session");
  }
  SessionEntry* e = &it->second;
  std::vector<std::string> action_keys;
  e->actions.Scan(nullptr, [&](const auto&, ActionEntry* a) {
    action_keys.push_back(TenantKey(op.tenant_id, a->id));
    return true;
  });
  for (const auto& key : action_keys) RemoveAction(key);
  EventStreamInfo info = e->events->Info();
  counters_.events_retained -= info.retained;
  counters_.event_payload_bytes -= info.bytes;
  counters_.pauses -= e->pauses.size();
  counters_.client_id_index_bytes -= e->client_ids.memory_bytes();
  UncountTranscript(*e);
  UnindexSession(e);
  sessions_.erase(it);
  return Status::OK();
}

Status StoreState::ApplyOp(record::AppendEventsOp&& op) {
  SessionEntry* e = MutableSession(op.tenant_id, op.session_id);
  if (e == nullptr) return Status::Internal("append to an unknown session");
  const bool fold = transcripts_on() && !op.events.empty();
  if (fold) {
    // Decision 0018: read an evicted transcript back before folding into
    // it. Nothing has changed yet if that fails. Decision 0035: one kept
    // while transcripts were off first catches up with the stream.
    ACPSTORE_RETURN_IF_ERROR(LoadTranscript(e));
    ACPSTORE_RETURN_IF_ERROR(
        CatchUpTranscript(e, op.events.front().seq - 1));
    UncountTranscript(*e);
    e->transcript_ref.reset();  // it is about to differ from its copy
    e->transcript_used = ++transcript_tick_;
  }
  UnindexSession(e);
  const size_t index_bytes = e->client_ids.memory_bytes();
  Status status;
  for (Event& event : op.events) {
    if (event.seq != e->events->Info().last_seq + 1) {
      status = Status::Internal("appended seq does not continue the stream")
                   .With("seq", static_cast<int64_t>(event.seq));
      break;
    }
    const EventSeq seq = event.seq;
    std::optional<uint32_t> tag;
    if (event.client_event_id) tag = ClientIdTagOf(*event.client_event_id);
    ++counters_.events_retained;
    ++counters_.events_appended;
    counters_.event_payload_bytes += event.payload.size();
    if (fold) {
      e->transcript.Fold(transcript::EventView{seq, event.event_type,
                                               event.occurred_at,
                                               event.payload},
                         transcript_limits_);
    }
    e->events->Append(std::move(event));
    if (tag) e->client_ids.Insert(*tag, seq, e->events->Info().first_seq);
  }
  CountClientIdBytes(*e, index_bytes);
  if (fold) {
    // The cap dropped every sealed entry: the parts are bookkeeping no more.
    if (e->transcript.held_index() == e->transcript.first_index()) {
      e->transcript_sealed.reset();
    }
    CountTranscript(*e);
    if (transcript_budget_ > 0 && transcripts_over_ &&
        counters_.transcript_bytes > transcript_budget_) {
      if (!transcripts_over_told_) {
        transcripts_over_told_ = true;
        transcripts_over_(false);
      } else if (!transcripts_twice_told_ &&
                 counters_.transcript_bytes > 2 * transcript_budget_) {
        transcripts_twice_told_ = true;
        transcripts_over_(true);
      }
    }
  }
  IndexSession(e);
  return status;
}

Status StoreState::ApplyOp(record::DropEventsOp&& op) {
  SessionEntry* e = MutableSession(op.tenant_id, op.session_id);
  if (e == nullptr) return Status::Internal("drop from an unknown session");
  UnindexSession(e);
  EventStreamInfo before = e->events->Info();
  uint64_t dropped = e->events->DropThrough(op.through_seq);
  EventStreamInfo after = e->events->Info();
  counters_.events_retained -= before.retained - after.retained;
  counters_.event_payload_bytes -= before.bytes - after.bytes;
  counters_.events_dropped_retention += dropped;
  SweepClientIds(e);
  IndexSession(e);
  return Status::OK();
}

Status StoreState::ApplyOp(record::AdvanceSeqOp&& op) {
  SessionEntry* e = MutableSession(op.tenant_id, op.session_id);
  if (e == nullptr) return Status::Internal("advance of an unknown session");
  EventStreamInfo before = e->events->Info();
  if (op.through_seq < before.last_seq) {
    return Status::Internal("advance would lower the high-water mark")
        .With("lastSeq", static_cast<int64_t>(before.last_seq));
  }
  // Events below the new mark were never seen here: a transcript that has
  // not folded up to it misses them.
  const EventSeq folded = e->transcript_evicted
                              ? e->transcript_ref->folded_seq
                              : e->transcript.folded_seq();
  if (transcripts_on() && op.through_seq > folded) {
    ACPSTORE_RETURN_IF_ERROR(LoadTranscript(e));
    UncountTranscript(*e);
    e->transcript.set_incomplete();
    e->transcript_ref.reset();
    CountTranscript(*e);
  }
  UnindexSession(e);
  const uint64_t dropped = e->events->AdvanceTo(op.through_seq);
  counters_.events_retained -= before.retained;
  counters_.event_payload_bytes -= before.bytes;
  counters_.events_dropped_retention += dropped;
  SweepClientIds(e);
  IndexSession(e);
  return Status::OK();
}

Status StoreState::ApplyOp(record::UpsertActionOp&& op) {
  Action& a = op.action;
  SessionEntry* session = MutableSession(a.tenant_id, a.session_id);
  if (session == nullptr) {
    return Status::Internal("action of an unknown session");
  }
  std::string key = TenantKey(a.tenant_id, a.action_id);
  auto it = actions_.find(key);
  if (it == actions_.end()) {
    size_t tenant_size = a.tenant_id.size();
    it = actions_.try_emplace(std::move(key)).first;
    ActionEntry* e = &it->second;
    e->id = IdOfKey(it->first, tenant_size);
    e->insertion = next_insertion_++;
    e->session = session;
    e->action = std::move(a);
    IndexAction(e);
    return Status::OK();
  }
  ActionEntry* e = &it->second;
  UnindexAction(e);
  e->session = session;
  e->action = std::move(a);
  IndexAction(e);
  return Status::OK();
}

void StoreState::RemoveAction(const std::string& key) {
  auto it = actions_.find(key);
  if (it == actions_.end()) return;
  UnindexAction(&it->second);
  actions_.erase(it);
}

Status StoreState::ApplyOp(record::DeleteActionOp&& op) {
  std::string key = TenantKey(op.tenant_id, op.action_id);
  if (actions_.find(key) == actions_.end()) {
    return Status::Internal("delete of an unknown action");
  }
  RemoveAction(key);
  return Status::OK();
}

Status StoreState::RestoreEvents(std::string_view tenant_id,
                                 std::string_view session_id,
                                 std::unique_ptr<EventLog> log,
                                 ClientIdIndex client_ids) {
  SessionEntry* e = MutableSession(tenant_id, session_id);
  if (e == nullptr) return Status::Internal("restore of an unknown session");
  UnindexSession(e);
  EventStreamInfo old_info = e->events->Info();
  EventStreamInfo new_info = log->Info();
  counters_.events_retained += new_info.retained - old_info.retained;
  counters_.event_payload_bytes += new_info.bytes - old_info.bytes;
  e->events = std::move(log);
  const size_t index_bytes = e->client_ids.memory_bytes();
  e->client_ids = std::move(client_ids);
  CountClientIdBytes(*e, index_bytes);
  IndexSession(e);
  return Status::OK();
}

Status StoreState::ApplyOp(record::UpsertPauseOp&& op) {
  SessionEntry* e = MutableSession(op.pause.tenant_id, op.pause.session_id);
  if (e == nullptr) return Status::Internal("pause of an unknown session");
  if (e->pauses.Upsert(std::move(op.pause))) ++counters_.pauses;
  return Status::OK();
}

}  // namespace acpstore::engine
