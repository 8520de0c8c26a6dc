// Time-based retention (SPEC §4): events of ended sessions, ended
// sessions themselves, finished actions. Count-based retention
// (max_events_per_session) is decided with each append instead.
//
// Each rule walks a deadline index, so a pass costs what it removes.
// max_disk_bytes is the file engine's concern (it knows bytes on disk).

#include <string>
#include <unordered_set>

#include "engine/decide.h"
#include "engine/keys.h"

namespace acpstore::engine {

record::Mutation DecideRetention(const StoreState& state,
                                 const DecideContext& ctx,
                                 MaintenanceReport* report) {
  const RetentionOptions& r = ctx.options->retention;
  record::Mutation m;

  // Sessions first: what they take with them is not dropped twice.
  std::unordered_set<const SessionEntry*> deleted;
  if (r.session_retention_ms > 0) {
    for (const SessionEntry* e :
         state.SessionsEndedBy(ctx.now - r.session_retention_ms)) {
      deleted.insert(e);
      report->sessions_deleted += 1;
      report->actions_deleted += e->actions.size();
      report->events_dropped += e->events->Info().retained;
      m.DeleteSession(e->session.tenant_id, e->session.id);
    }
  }
  if (r.terminal_event_retention_ms > 0) {
    for (const SessionEntry* e :
         state.SessionsWithEventsEndedBy(ctx.now -
                                         r.terminal_event_retention_ms)) {
      if (deleted.count(e) != 0) continue;
      EventStreamInfo info = e->events->Info();
      report->events_dropped += info.retained;
      m.DropEvents(e->session.tenant_id, e->session.id, info.last_seq);
    }
  }
  if (r.action_retention_ms > 0) {
    for (const ActionEntry* a :
         state.ActionsFinishedBy(ctx.now - r.action_retention_ms)) {
      if (deleted.count(a->session) != 0) continue;
      report->actions_deleted += 1;
      m.DeleteAction(a->action.tenant_id, a->action.action_id);
    }
  }
  return m;
}

}  // namespace acpstore::engine
