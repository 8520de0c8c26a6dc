// Mutation helpers: concatenation, size estimate, log-safe description.

#include "record/mutation.h"

#include <optional>
#include <string>
#include <type_traits>
#include <variant>

namespace acpstore::record {
namespace {

size_t OptBytes(const std::optional<std::string>& s) {
  return s ? s->size() : 0;
}

size_t SessionBytes(const Session& s) {
  size_t n = sizeof(Session) + s.id.size() + s.tenant_id.size() +
             s.owner_key_id.size() + s.conversation_id.size() +
             s.transcript_id.size() + OptBytes(s.parent_session_id) +
             OptBytes(s.root_session_id) + OptBytes(s.correlation_id) +
             OptBytes(s.resume_from_session_id) +
             OptBytes(s.acp_agent_session_id) + OptBytes(s.claude_session_id) +
             OptBytes(s.current_backend_run_id) + OptBytes(s.backend_metadata);
  for (const auto& w : s.validation_warnings) {
    n += sizeof(w) + w.code.size() + w.message.size();
  }
  return n;
}

size_t EventBytes(const Event& e) {
  return sizeof(Event) + e.session_id.size() + e.tenant_id.size() +
         e.owner_key_id.size() + OptBytes(e.client_event_id) +
         e.event_type.size() + OptBytes(e.backend_run_id) +
         OptBytes(e.payload_ref) + e.payload.size();
}

size_t ActionBytes(const Action& a) {
  return sizeof(Action) + a.action_id.size() + a.session_id.size() +
         a.tenant_id.size() + a.owner_key_id.size() +
         OptBytes(a.idempotency_key) + OptBytes(a.approval_id) +
         OptBytes(a.control_request_id) + a.lease_token.size() +
         OptBytes(a.metadata) + OptBytes(a.result_metadata) +
         OptBytes(a.error_metadata);
}

size_t PauseBytes(const Pause& p) {
  return sizeof(Pause) + p.pause_id.size() + p.session_id.size() +
         p.tenant_id.size() + p.owner_key_id.size() +
         OptBytes(p.idempotency_key) + p.reason.size() + p.requested_by.size() +
         OptBytes(p.metadata) + OptBytes(p.intervention_id) +
         OptBytes(p.intervention_by) + OptBytes(p.intervention_completed_by) +
         OptBytes(p.guidance) + OptBytes(p.resume_id) + OptBytes(p.resumed_by) +
         OptBytes(p.resume_metadata) + [&] {
           size_t n = p.earlier_intervention_ids.capacity() * sizeof(std::string);
           for (const std::string& id : p.earlier_intervention_ids) n += id.size();
           return n;
         }();
}

}  // namespace

void Mutation::Append(Mutation&& other) {
  if (ops.empty()) {
    ops = std::move(other.ops);
  } else {
    ops.reserve(ops.size() + other.ops.size());
    for (auto& op : other.ops) ops.push_back(std::move(op));
  }
  other.ops.clear();
}

size_t Mutation::ApproximateBytes() const {
  size_t n = sizeof(Mutation);
  for (const auto& op : ops) {
    n += sizeof(MutationOp);
    std::visit(
        [&n](const auto& o) {
          using T = std::decay_t<decltype(o)>;
          if constexpr (std::is_same_v<T, UpsertSessionOp>) {
            n += SessionBytes(o.session);
          } else if constexpr (std::is_same_v<T, AppendEventsOp>) {
            n += o.tenant_id.size() + o.session_id.size();
            for (const auto& e : o.events) n += EventBytes(e);
          } else if constexpr (std::is_same_v<T, UpsertActionOp>) {
            n += ActionBytes(o.action);
          } else if constexpr (std::is_same_v<T, UpsertPauseOp>) {
            n += PauseBytes(o.pause);
          } else if constexpr (std::is_same_v<T, DeleteActionOp>) {
            n += o.tenant_id.size() + o.action_id.size();
          } else {
            n += o.tenant_id.size() + o.session_id.size();
          }
        },
        op);
  }
  return n;
}

std::string Mutation::DebugString() const {
  std::string out;
  for (const auto& op : ops) {
    std::visit(
        [&out](const auto& o) {
          using T = std::decay_t<decltype(o)>;
          if constexpr (std::is_same_v<T, UpsertSessionOp>) {
            out += "upsert_session ";
            out += o.session.tenant_id + "/" + o.session.id + " " +
                   std::string(ToString(o.session.status));
          } else if constexpr (std::is_same_v<T, DeleteSessionOp>) {
            out += "delete_session " + o.tenant_id + "/" + o.session_id;
          } else if constexpr (std::is_same_v<T, AppendEventsOp>) {
            out += "append_events " + o.tenant_id + "/" + o.session_id;
            if (!o.events.empty()) {
              out += " seq " + std::to_string(o.events.front().seq) + ".." +
                     std::to_string(o.events.back().seq);
            }
          } else if constexpr (std::is_same_v<T, DropEventsOp>) {
            out += "drop_events " + o.tenant_id + "/" + o.session_id +
                   " through " + std::to_string(o.through_seq);
          } else if constexpr (std::is_same_v<T, UpsertActionOp>) {
            out += "upsert_action " + o.action.tenant_id + "/" +
                   o.action.action_id + " " +
                   std::string(ToString(o.action.status));
          } else if constexpr (std::is_same_v<T, DeleteActionOp>) {
            out += "delete_action " + o.tenant_id + "/" + o.action_id;
          } else if constexpr (std::is_same_v<T, AdvanceSeqOp>) {
            out += "advance_seq " + o.tenant_id + "/" + o.session_id +
                   " through " + std::to_string(o.through_seq);
          } else {
            out += "upsert_pause " + o.pause.tenant_id + "/" +
                   o.pause.session_id + "/" + o.pause.pause_id + " " +
                   std::string(ToString(o.pause.status));
          }
        },
        op);
    out += '\n';
  }
  return out;
}

}  // namespace acpstore::record
