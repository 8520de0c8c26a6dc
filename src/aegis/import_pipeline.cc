// ImportPipeline: see import_pipeline.h.
//
// Thread-safety: see the header.

#include "aegis/import_pipeline.h"

#include <algorithm>
#include <string>
#include <utility>
#include <variant>

namespace acpstore::aegis {
namespace {

size_t EventBytes(const Event& e) {
  return sizeof(Event) + e.payload.size() + e.event_type.size() +
         e.session_id.size() + 64;
}

}  // namespace

ImportPipeline::ImportPipeline(engine::MigrationTarget* target,
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
  record::Mutation m = std::move(batch_);
  batch_ = record::Mutation();
  batch_event_count_ = 0;
  batch_byte_count_ = 0;
  // Not under mu_: the completion may run inline. The engine re-checks
  // what the check pass promised (engine/migration_batch.h).
  target_->CommitBatch(std::move(m), [this](Status s) {
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
