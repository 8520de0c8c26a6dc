// WorkingSet: the rows one request needs, loaded from the database into a
// small StoreState, so the engine-independent deciders (engine/decide.h)
// and readers (engine/queries.h) run on the postgres engine unchanged
// (decision 0008). A mutation loads the rows it may touch (locked FOR
// UPDATE in its transaction), decides, and writes the decided Mutation
// back (pg_write.h) before committing.
//
// Events are not loaded: each session's log is a view (PgEventLog) that
// knows the stream's counters from the session row and the few events the
// request needs (those whose clientEventId the request repeats). Deciders
// only ask a log for its counters and for those events.
//
// Thread-safety: none; one per request. Lifetime: the request's.

#ifndef ACPSTORE_POSTGRES_PG_WORKING_SET_H_
#define ACPSTORE_POSTGRES_PG_WORKING_SET_H_

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "acpstore/records.h"
#include "acpstore/status.h"
#include "engine/state.h"
#include "postgres/pg_rows.h"

namespace acpstore::postgres {

class WorkingSet {
 public:
  WorkingSet();
  WorkingSet(const WorkingSet&) = delete;
  WorkingSet& operator=(const WorkingSet&) = delete;

  // A session as stored, with the retained events of it that the request
  // may dedupe against (clientEventId matches).
  Status AddSession(const SessionRow& row, std::vector<Event> known_events = {});
  // Its session must have been added first.
  Status AddAction(Action action);
  // Its session must have been added first; add in creation order.
  Status AddPause(Pause pause);

  const engine::StoreState& state() const { return state_; }
  engine::StoreState& mutable_state() { return state_; }

  // Whether the record existed when loaded (so writing it is an UPDATE,
  // and a new one an INSERT that a concurrent creator makes fail).
  bool HadSession(std::string_view tenant_id, std::string_view id) const;
  bool HadAction(std::string_view tenant_id, std::string_view id) const;
  // The incarnation of a loaded session (0 if not loaded).
  uint64_t IncarnationOf(std::string_view tenant_id, std::string_view id) const;

 private:
  // Stream counters of the sessions being added, for the log factory.
  std::unordered_map<std::string, EventStreamInfo> pending_info_;
  std::unordered_map<std::string, uint64_t> incarnations_;
  std::unordered_set<std::string> actions_;
  engine::StoreState state_;
};

}  // namespace acpstore::postgres

#endif  // ACPSTORE_POSTGRES_PG_WORKING_SET_H_
