// BlockingStore wraps a Store for callers that would rather wait: offline
// tools, tests, benchmarks. Each mutation returns once its completion has
// fired, i.e. once the write is durable (or has failed).
//
// Never use it on a thread a completion might need (an Asio I/O thread in
// the server): the wait would block that thread.
//
// Thread-safety: as Store. Lifetime: borrows the Store, which must outlive
// it.

#ifndef ACPSTORE_BLOCKING_STORE_H_
#define ACPSTORE_BLOCKING_STORE_H_

#include <future>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "acpstore/store.h"

namespace acpstore {

class BlockingStore {
 public:
  explicit BlockingStore(Store& store) : store_(store) {}

  Store& store() { return store_; }

  Result<Session> CreateSession(const Scope& s, NewSession req) {
    return Wait<Session>([&](auto done) {
      store_.CreateSession(s, std::move(req), std::move(done));
    });
  }
  Result<Session> GetSession(const Scope& s, std::string_view id) {
    return store_.GetSession(s, id);
  }
  Result<SessionPage> ListSessions(const Scope& s, const SessionQuery& q) {
    return store_.ListSessions(s, q);
  }
  Result<Session> UpdateSession(const Scope& s, std::string_view id,
                                SessionPatch patch) {
    return Wait<Session>([&](auto done) {
      store_.UpdateSession(s, id, std::move(patch), std::move(done));
    });
  }
  Result<Session> TransitionSession(const Scope& s, std::string_view id,
                                    SessionEvent event) {
    return Wait<Session>([&](auto done) {
      store_.TransitionSession(s, id, event, std::move(done));
    });
  }
  Status DeleteSession(const Scope& s, std::string_view id) {
    std::promise<Status> p;
    auto f = p.get_future();
    store_.DeleteSession(s, id, [&p](Status st) { p.set_value(std::move(st)); });
    return f.get();
  }

  Result<AppendResult> AppendEvents(const Scope& s, std::string_view id,
                                    AppendRequest req) {
    return Wait<AppendResult>([&](auto done) {
      store_.AppendEvents(s, id, std::move(req), std::move(done));
    });
  }
  // Appends one event and returns it.
  Result<Event> Append(const Scope& s, std::string_view id, NewEvent event) {
    AppendRequest req;
    req.events.push_back(std::move(event));
    auto r = AppendEvents(s, id, std::move(req));
    if (!r.ok()) return std::move(r).error();
    return std::move(r->events.front());
  }
  Result<EventPage> ListEvents(const Scope& s, std::string_view id,
                               EventSeq after, uint32_t limit) {
    return store_.ListEvents(s, id, after, limit);
  }
  Result<TranscriptPage> ReadTranscript(const Scope& s, std::string_view id,
                                        const TranscriptQuery& q) {
    return store_.ReadTranscript(s, id, q);
  }

  Result<EnqueueResult> EnqueueAction(const Scope& s, NewAction req) {
    return Wait<EnqueueResult>([&](auto done) {
      store_.EnqueueAction(s, std::move(req), std::move(done));
    });
  }
  Result<Action> GetAction(const Scope& s, std::string_view id) {
    return store_.GetAction(s, id);
  }
  Result<ActionPage> ListActions(const Scope& s, const ActionQuery& q) {
    return store_.ListActions(s, q);
  }
  Result<std::optional<Action>> LeaseAction(const Scope& s, LeaseRequest req) {
    return Wait<std::optional<Action>>([&](auto done) {
      store_.LeaseAction(s, std::move(req), std::move(done));
    });
  }
  Result<Action> HeartbeatAction(const Scope& s, std::string_view id,
                                 std::string_view token, int64_t lease_ms) {
    return Wait<Action>([&](auto done) {
      store_.HeartbeatAction(s, id, token, lease_ms, std::move(done));
    });
  }
  Result<Action> CompleteAction(const Scope& s, std::string_view id,
                                std::string_view token,
                                std::optional<std::string> result = {}) {
    return Wait<Action>([&](auto done) {
      store_.CompleteAction(s, id, token, std::move(result), std::move(done));
    });
  }
  Result<Action> FailAction(const Scope& s, std::string_view id,
                            std::string_view token,
                            std::optional<std::string> error, bool retry) {
    return Wait<Action>([&](auto done) {
      store_.FailAction(s, id, token, std::move(error), retry,
                        std::move(done));
    });
  }
  Result<Action> CancelAction(const Scope& s, std::string_view id,
                              std::optional<std::string> error = {}) {
    return Wait<Action>([&](auto done) {
      store_.CancelAction(s, id, std::move(error), std::move(done));
    });
  }

  Result<PauseResult> PauseSession(const Scope& s, std::string_view id,
                                   PauseRequest req) {
    return Wait<PauseResult>([&](auto done) {
      store_.PauseSession(s, id, std::move(req), std::move(done));
    });
  }
  Result<PauseResult> StartIntervention(const Scope& s, std::string_view id,
                                        InterventionStartRequest req) {
    return Wait<PauseResult>([&](auto done) {
      store_.StartIntervention(s, id, std::move(req), std::move(done));
    });
  }
  Result<PauseResult> CompleteIntervention(const Scope& s,
                                           std::string_view id,
                                           InterventionCompleteRequest req) {
    return Wait<PauseResult>([&](auto done) {
      store_.CompleteIntervention(s, id, std::move(req), std::move(done));
    });
  }
  Result<PauseResult> ResumeSession(const Scope& s, std::string_view id,
                                    ResumeRequest req) {
    return Wait<PauseResult>([&](auto done) {
      store_.ResumeSession(s, id, std::move(req), std::move(done));
    });
  }
  Result<Pause> GetPause(const Scope& s, std::string_view id) {
    return store_.GetPause(s, id);
  }

  Result<MaintenanceReport> RunMaintenance() {
    return Wait<MaintenanceReport>(
        [&](auto done) { store_.RunMaintenance(std::move(done)); });
  }

 private:
  // Calls start(completion) and waits for the completion to fire.
  template <typename T, typename Start>
  Result<T> Wait(Start&& start) {
    // shared_ptr: the completion (a copyable std::function) owns the promise
    // jointly with this frame, whichever finishes last.
    auto p = std::make_shared<std::promise<Result<T>>>();
    auto f = p->get_future();
    start(Completion<T>([p](Result<T> r) { p->set_value(std::move(r)); }));
    return f.get();
  }

  Store& store_;
};

}  // namespace acpstore

#endif  // ACPSTORE_BLOCKING_STORE_H_
