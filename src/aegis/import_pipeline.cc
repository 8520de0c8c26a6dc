// ImportPipeline: see import_pipeline.h.
//
// Thread-safety: see the header.

#include "aegis/import_pipeline.h"

#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <variant>

#include "engine/keys.h"
#include "engine/state.h"

namespace acpstore::aegis {
namespace {

using engine::StoreState;
using engine::TenantKey;

// What the check pass promised, checked again against the state the batch
// will be applied to.
Status CheckBatch(const StoreState& st, const record::Mutation& m) {
  // Next seq of the sessions this batch touches, as the batch goes.
  std::unordered_map<std::string, EventSeq> next;
  auto next_of = [&](const std::string& tenant,
                     const std::string& id) -> EventSeq* {
    std::string key = TenantKey(tenant, id);
    auto it = next.find(key);
    if (it != next.end()) return &it->second;
    const engine::SessionEntry* e = st.FindSessionInTenant(tenant, id);
    if (e == nullptr) return nullptr;
    return &next.emplace(std::move(key), e->events->Info().last_seq + 1)
                .first->second;
  };
  for (const record::MutationOp& op : m.ops) {
    if (const auto* s = std::get_if<record::UpsertSessionOp>(&op)) {
      if (st.FindSessionInTenant(s->session.tenant_id, s->session.id) !=
              nullptr ||
          next.count(TenantKey(s->session.tenant_id, s->session.id)) > 0) {
        return Status::Conflict("session " + s->session.id + " (tenant " +
                                s->session.tenant_id +
                                ") already exists in the store");
      }
      next.emplace(TenantKey(s->session.tenant_id, s->session.id), 1);
    } else if (const auto* a = std::get_if<record::AdvanceSeqOp>(&op)) {
      EventSeq* n = next_of(a->tenant_id, a->session_id);
      if (n == nullptr || a->through_seq + 1 < *n) {
        return Status::Internal("import: high-water mark of session " +
                                a->session_id + " does not fit the store");
      }
      *n = a->through_seq + 1;
    } else if (const auto* e = std::get_if<record::AppendEventsOp>(&op)) {
      EventSeq* n = next_of(e->tenant_id, e->session_id);
      if (n == nullptr) {
        return Status::Internal("import: events of a session not in the store");
      }
      for (const Event& ev : e->events) {
        if (ev.seq != *n) {
          return Status::Internal("import: event seq " +
                                  std::to_string(ev.seq) + " of session " +
                                  e->session_id + " does not continue it");
        }
        ++*n;
      }
    } else if (const auto* u = std::get_if<record::UpsertActionOp>(&op)) {
      if (st.FindActionInTenant(u->action.tenant_id, u->action.action_id) !=
          nullptr) {
        return Status::Conflict("action " + u->action.action_id + " (tenant " +
                                u->action.tenant_id +
                                ") already exists in the store");
      }
    }
  }
  return Status::OK();
}

size_t EventBytes(const Event& e) {
  return sizeof(Event) + e.payload.size() + e.event_type.size() +
         e.session_id.size() + 64;
}

}  // namespace

ImportPipeline::ImportPipeline(engine::ImportTarget* target,
                               size_t batch_events, size_t batch_bytes,
                               size_t max_in_flight)
    : target_(target),
      batch_events_(std::max<size_t>(batch_events, 1)),
      batch_bytes_(std::max<size_t>(batch_bytes, 1)),
      max_in_flight_(std::max<size_t>(max_in_flight, 1)) {}

ImportPipeline::~ImportPipeline() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return in_flight_ == 0; });
}

Status ImportPipeline::Failed() {
  std::lock_guard<std::mutex> lock(mu_);
  return failure_;
}

Status ImportPipeline::AddSession(Session session, EventSeq advance_to) {
  std::string tenant = session.tenant_id;
  std::string id = session.id;
  batch_byte_count_ += sizeof(Session) + 512;
  batch_.UpsertSession(std::move(session));
  if (advance_to > 0) {
    batch_.AdvanceSeq(std::move(tenant), std::move(id), advance_to);
  }
  return MaybeFlush();
}

Status ImportPipeline::AddEvent(Event event) {
  const size_t bytes = EventBytes(event);
  if (bytes > batch_bytes_) {
    // A payload larger than a whole batch (an import stores payloads over
    // the live limit) commits alone, with nothing else waiting for the
    // disk: the engine admits a write while the bytes pending are within
    // its memory budget, and this one alone may take most of it.
    ACPSTORE_RETURN_IF_ERROR(Flush());
    Drain();
    AppendToBatch(std::move(event), bytes);
    ACPSTORE_RETURN_IF_ERROR(Flush());
    Drain();
    return Failed();
  }
  AppendToBatch(std::move(event), bytes);
  return MaybeFlush();
}

void ImportPipeline::Drain() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return in_flight_ == 0; });
}

void ImportPipeline::AppendToBatch(Event event, size_t bytes) {
  batch_byte_count_ += bytes;
  ++batch_event_count_;
  auto* last = batch_.ops.empty()
                   ? nullptr
                   : std::get_if<record::AppendEventsOp>(&batch_.ops.back());
  if (last != nullptr && last->tenant_id == event.tenant_id &&
      last->session_id == event.session_id) {
    last->events.push_back(std::move(event));
  } else {
    std::string tenant = event.tenant_id;
    std::string id = event.session_id;
    std::vector<Event> events;
    events.push_back(std::move(event));
    batch_.AppendEvents(std::move(tenant), std::move(id), std::move(events));
  }
}

Status ImportPipeline::AddAction(Action action) {
  batch_byte_count_ += sizeof(Action) + 512;
  batch_.UpsertAction(std::move(action));
  return MaybeFlush();
}

Status ImportPipeline::AddPause(Pause pause) {
  batch_byte_count_ += sizeof(Pause) + 512;
  batch_.UpsertPause(std::move(pause));
  return MaybeFlush();
}

Status ImportPipeline::MaybeFlush() {
  if (batch_event_count_ >= batch_events_ ||
      batch_byte_count_ >= batch_bytes_ || batch_.ops.size() >= batch_events_) {
    return Flush();
  }
  return Status::OK();
}

Status ImportPipeline::Flush() {
  if (batch_.empty()) return Failed();
  {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock,
             [this] { return in_flight_ < max_in_flight_ || !failure_.ok(); });
    if (!failure_.ok()) return failure_;
    ++in_flight_;
  }
  auto m = std::make_shared<record::Mutation>(std::move(batch_));
  batch_ = record::Mutation();
  batch_event_count_ = 0;
  batch_byte_count_ = 0;
  // Not under mu_: the completion may run inline.
  target_->CommitImport(
      [m](const StoreState& st) -> Result<record::Mutation> {
        ACPSTORE_RETURN_IF_ERROR(CheckBatch(st, *m));
        return std::move(*m);
      },
      [this](Status s) {
        std::lock_guard<std::mutex> lock(mu_);
        --in_flight_;
        if (!s.ok() && failure_.ok()) failure_ = std::move(s);
        cv_.notify_all();
      });
  return Failed();
}

Status ImportPipeline::Finish() {
  Status s = Flush();
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return in_flight_ == 0; });
  return failure_.ok() ? s : failure_;
}

}  // namespace acpstore::aegis
