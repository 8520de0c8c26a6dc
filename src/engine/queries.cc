// Readers: see queries.h.

#include "engine/queries.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "engine/cursor.h"
#include "engine/decide_util.h"

namespace acpstore::engine {
namespace {

template <typename Enum>
bool Matches(const std::vector<Enum>& wanted, Enum value) {
  return wanted.empty() ||
         std::find(wanted.begin(), wanted.end(), value) != wanted.end();
}

Result<EventPage> ReadPage(const SessionEntry& e, EventSeq after,
                           uint32_t limit, uint64_t max_bytes) {
  EventPage page;
  EventStreamInfo info = e.events->VisibleInfo();
  page.first_seq = info.first_seq;
  page.last_seq = info.last_seq;
  page.truncated = after + 1 < info.first_seq;
  Status s = e.events->Read(after, limit, max_bytes, &page.events);
  if (!s.ok()) return s;
  return page;
}

}  // namespace

Result<Session> QueryGetSession(const StoreState& state, const Scope& scope,
                                std::string_view session_id) {
  const SessionEntry* e = state.FindSession(scope, session_id);
  if (e == nullptr) return SessionNotFound(session_id);
  return StoreState::View(*e);
}

Result<SessionPage> QueryListSessions(const StoreState& state,
                                      const Scope& scope,
                                      const SessionQuery& query) {
  std::optional<CursorKey> cursor;
  if (!query.cursor.empty()) {
    ACPSTORE_ASSIGN_OR_RETURN(cursor, DecodeCursor(CursorKind::kSessions, query.cursor));
  }
  RecencyIndex<SessionEntry>::Key after{};
  if (cursor) after = {cursor->time, cursor->id};

  SessionPage page;
  bool more = false;
  state.ScanSessions(scope, cursor ? &after : nullptr,
                     [&](const SessionEntry& e) {
                       const Session& s = e.session;
                       // Newest first: nothing later is newer.
                       if (query.updated_after &&
                           s.updated_at <= *query.updated_after) {
                         return false;
                       }
                       if (!Matches(query.statuses, s.status)) {
                         return true;
                       }
                       if (page.sessions.size() == query.limit) {
                         more = true;
                         return false;
                       }
                       page.sessions.push_back(StoreState::View(e));
                       return true;
                     });
  if (more && !page.sessions.empty()) {
    const Session& last = page.sessions.back();
    page.next_cursor = EncodeCursor(CursorKind::kSessions, last.updated_at, last.id);
  }
  return page;
}

Result<EventPage> QueryListEvents(const StoreState& state, const Scope& scope,
                                  std::string_view session_id, EventSeq after,
                                  uint32_t limit, uint64_t max_bytes) {
  const SessionEntry* e = state.FindSession(scope, session_id);
  if (e == nullptr) return SessionNotFound(session_id);
  return ReadPage(*e, after, limit, max_bytes);
}

Result<EventPage> QuerySubscriptionPage(const StoreState& state,
                                        std::string_view tenant_id,
                                        std::string_view session_id,
                                        uint64_t incarnation, EventSeq after,
                                        uint32_t limit, uint64_t max_bytes) {
  const SessionEntry* e = state.FindSessionInTenant(tenant_id, session_id);
  if (e == nullptr || e->incarnation != incarnation) {
    return Status::NotFound("the session was deleted")
        .With("sessionId", session_id);
  }
  return ReadPage(*e, after, limit, max_bytes);
}

Result<Action> QueryGetAction(const StoreState& state, const Scope& scope,
                              std::string_view action_id) {
  const ActionEntry* e = state.FindAction(scope, action_id);
  if (e == nullptr) return ActionNotFound(action_id);
  return StoreState::View(*e);
}

Result<ActionPage> QueryListActions(const StoreState& state,
                                    const Scope& scope,
                                    const ActionQuery& query) {
  std::optional<CursorKey> cursor;
  if (!query.cursor.empty()) {
    ACPSTORE_ASSIGN_OR_RETURN(cursor, DecodeCursor(CursorKind::kActions, query.cursor));
  }
  const SessionEntry* only_session = nullptr;
  if (query.session_id) {
    only_session = state.FindSession(scope, *query.session_id);
    if (only_session == nullptr) return SessionNotFound(*query.session_id);
  }
  RecencyIndex<ActionEntry>::Key after{};
  if (cursor) after = {cursor->time, cursor->id};

  ActionPage page;
  bool more = false;
  state.ScanActions(scope, only_session, cursor ? &after : nullptr,
                    [&](const ActionEntry& e) {
                      if (!Matches(query.statuses, e.action.status)) {
                        return true;
                      }
                      if (page.actions.size() == query.limit) {
                        more = true;
                        return false;
                      }
                      page.actions.push_back(StoreState::View(e));
                      return true;
                    });
  if (more && !page.actions.empty()) {
    const Action& last = page.actions.back();
    page.next_cursor = EncodeCursor(CursorKind::kActions, last.created_at, last.action_id);
  }
  return page;
}

Result<Pause> QueryGetPause(const StoreState& state, const Scope& scope,
                            std::string_view session_id) {
  const SessionEntry* e = state.FindSession(scope, session_id);
  if (e == nullptr) return SessionNotFound(session_id);
  const Pause* p = e->pauses.Active();
  if (p == nullptr) p = e->pauses.Latest();
  if (p == nullptr) {
    return Status::NotFound("the session has never been paused")
        .With("sessionId", session_id);
  }
  return *p;
}

}  // namespace acpstore::engine

