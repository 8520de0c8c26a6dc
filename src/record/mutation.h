// Mutation describes one atomic change to the store as a list of
// post-images: every engine decides a request against its current state,
// expresses the outcome as a Mutation, and applies it. The file engine
// journals the same value, so replaying a journal applies exactly what was
// acknowledged; nothing in a Mutation depends on the state it is applied to
// beyond "the records it names exist as the decider saw them".
//
// The ops are applied in order and all-or-nothing: a Mutation is the unit
// of atomicity (an event batch, a pause = session upsert + pause upsert, a
// maintenance sweep). Records are full values, lease tokens included, since
// a lease must survive a restart.
//
// Thread-safety: a plain value. Lifetime: owned by whoever built it.

#ifndef ACPSTORE_RECORD_MUTATION_H_
#define ACPSTORE_RECORD_MUTATION_H_

#include <cstddef>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "acpstore/records.h"

namespace acpstore::record {

// Inserts or replaces the session (tenant_id, id). Session::events is
// ignored: the event stream's summary belongs to the store.
struct UpsertSessionOp {
  Session session;
};

// Removes the session with every event, action and pause of it.
struct DeleteSessionOp {
  std::string tenant_id;
  std::string session_id;
};

// Appends events to a session's stream. Their seqs are consecutive and
// continue the stream's high-water mark.
struct AppendEventsOp {
  std::string tenant_id;
  std::string session_id;
  std::vector<Event> events;
};

// Retention: drops the session's events with seq <= through_seq. The
// high-water mark is unaffected.
struct DropEventsOp {
  std::string tenant_id;
  std::string session_id;
  EventSeq through_seq = 0;
};

// Inserts or replaces the action (tenant_id, action_id), lease token
// included.
struct UpsertActionOp {
  Action action;
};

struct DeleteActionOp {
  std::string tenant_id;
  std::string action_id;
};

// Inserts or replaces the pause (tenant_id, session_id, pause_id). The
// session must exist.
struct UpsertPauseOp {
  Pause pause;
};

// Migration (`acpstore import-aegis`): raises the high-water mark of a
// stream to through_seq, which must not be below it. Every retained event
// (all have seq <= through_seq) is dropped, so the stream then reads
// {first_seq = through_seq + 1, last_seq = through_seq, retained 0} and the
// next append gets through_seq + 1: a session whose older events were
// pruned elsewhere keeps numbering after them. Readers whose cursor lies
// below it are told `truncated`, as after retention.
struct AdvanceSeqOp {
  std::string tenant_id;
  std::string session_id;
  EventSeq through_seq = 0;
};

using MutationOp =
    std::variant<UpsertSessionOp, DeleteSessionOp, AppendEventsOp,
                 DropEventsOp, UpsertActionOp, DeleteActionOp, UpsertPauseOp,
                 AdvanceSeqOp>;

struct Mutation {
  std::vector<MutationOp> ops;

  bool empty() const { return ops.empty(); }

  void UpsertSession(Session session) {
    ops.emplace_back(UpsertSessionOp{std::move(session)});
  }
  void DeleteSession(std::string tenant_id, std::string session_id) {
    ops.emplace_back(
        DeleteSessionOp{std::move(tenant_id), std::move(session_id)});
  }
  void AppendEvents(std::string tenant_id, std::string session_id,
                    std::vector<Event> events) {
    ops.emplace_back(AppendEventsOp{std::move(tenant_id),
                                    std::move(session_id), std::move(events)});
  }
  void DropEvents(std::string tenant_id, std::string session_id,
                  EventSeq through_seq) {
    ops.emplace_back(DropEventsOp{std::move(tenant_id), std::move(session_id),
                                  through_seq});
  }
  void UpsertAction(Action action) {
    ops.emplace_back(UpsertActionOp{std::move(action)});
  }
  void DeleteAction(std::string tenant_id, std::string action_id) {
    ops.emplace_back(
        DeleteActionOp{std::move(tenant_id), std::move(action_id)});
  }
  void UpsertPause(Pause pause) {
    ops.emplace_back(UpsertPauseOp{std::move(pause)});
  }
  void AdvanceSeq(std::string tenant_id, std::string session_id,
                  EventSeq through_seq) {
    ops.emplace_back(AdvanceSeqOp{std::move(tenant_id), std::move(session_id),
                                  through_seq});
  }

  // Moves every op of `other` to the end of this one.
  void Append(Mutation&& other);

  // Rough heap footprint, for write-buffer accounting.
  size_t ApproximateBytes() const;

  // One line per op, naming kinds and ids but never payloads or metadata
  // values (those must not reach logs).
  std::string DebugString() const;
};

}  // namespace acpstore::record

#endif  // ACPSTORE_RECORD_MUTATION_H_
