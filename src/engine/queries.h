// Readers: the Store's read calls, answered from a StoreState. Every one is
// confined to the scope (missing and out-of-scope answer kNotFound alike)
// and returns copies, so the caller may release the lock before using them.
//
// Thread-safety: the caller holds the lock that guards `state`.

#ifndef ACPSTORE_ENGINE_QUERIES_H_
#define ACPSTORE_ENGINE_QUERIES_H_

#include <cstdint>
#include <string_view>

#include "acpstore/records.h"
#include "acpstore/result.h"
#include "engine/state.h"

namespace acpstore::engine {

Result<Session> QueryGetSession(const StoreState& state, const Scope& scope,
                                std::string_view session_id);
// Precondition: ValidateSessionQuery passed. Decodes the cursor.
Result<SessionPage> QueryListSessions(const StoreState& state,
                                      const Scope& scope,
                                      const SessionQuery& query);
// Precondition: limit is 1..1000. A page also stops before its payloads
// pass max_bytes, with at least one event (event_log.h PageTakes).
Result<EventPage> QueryListEvents(const StoreState& state, const Scope& scope,
                                  std::string_view session_id, EventSeq after,
                                  uint32_t limit, uint64_t max_bytes);
// Reads one session's events the way a subscription does: the session
// must still be the incarnation the subscription opened.
Result<EventPage> QuerySubscriptionPage(const StoreState& state,
                                        std::string_view tenant_id,
                                        std::string_view session_id,
                                        uint64_t incarnation, EventSeq after,
                                        uint32_t limit, uint64_t max_bytes);
Result<Action> QueryGetAction(const StoreState& state, const Scope& scope,
                              std::string_view action_id);
// Precondition: ValidateActionQuery passed. Decodes the cursor.
Result<ActionPage> QueryListActions(const StoreState& state,
                                    const Scope& scope,
                                    const ActionQuery& query);
Result<Pause> QueryGetPause(const StoreState& state, const Scope& scope,
                            std::string_view session_id);

}  // namespace acpstore::engine

#endif  // ACPSTORE_ENGINE_QUERIES_H_
