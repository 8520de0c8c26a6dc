// WorkingSet and PgEventLog: see pg_working_set.h.

#include "postgres/pg_working_set.h"

#include <map>
#include <utility>

#include "engine/client_id_index.h"
#include "engine/event_log.h"
#include "engine/keys.h"

namespace acpstore::postgres {
namespace {

using engine::TenantKey;

// A session's event stream as far as one request needs it: the counters
// of the session row, moved along by what the request's Mutation does,
// and the events it loaded or appended. Reads of other events are not
// possible here; the engine reads events with SQL (pg_store_reads.cc).
class PgEventLog final : public engine::EventLog {
 public:
  explicit PgEventLog(EventStreamInfo info) : info_(info) {}

  EventStreamInfo Info() const override { return info_; }

  void Append(Event event) override {
    if (info_.retained == 0) info_.first_seq = event.seq;
    info_.last_seq = event.seq;
    info_.retained += 1;
    info_.bytes += event.payload.size();
    EventSeq seq = event.seq;
    events_[seq] = std::move(event);
  }

  uint64_t DropThrough(EventSeq through_seq) override {
    if (info_.retained == 0 || through_seq < info_.first_seq) return 0;
    EventSeq last = std::min(through_seq, info_.last_seq);
    uint64_t dropped = last - info_.first_seq + 1;
    // Payload bytes of events this view never loaded are unknown here;
    // the database keeps the true count (pg_write.cc). Deciders do not
    // read bytes.
    for (auto it = events_.begin();
         it != events_.end() && it->first <= last;) {
      info_.bytes -= std::min<uint64_t>(info_.bytes, it->second.payload.size());
      it = events_.erase(it);
    }
    info_.first_seq = last + 1;
    info_.retained -= dropped;
    if (info_.retained == 0) info_.bytes = 0;
    return dropped;
  }

  uint64_t AdvanceTo(EventSeq through_seq) override {
    uint64_t dropped = info_.retained;
    events_.clear();
    info_ = EventStreamInfo{through_seq + 1, through_seq, 0, 0};
    return dropped;
  }

  Status Read(EventSeq, size_t, uint64_t, std::vector<Event>*) const override {
    return Status::Internal("postgres working sets do not read event ranges");
  }

  Result<Event> Get(EventSeq seq) const override {
    auto it = events_.find(seq);
    if (it == events_.end() || seq < info_.first_seq) {
      return Status::NotFound("event not loaded");
    }
    return it->second;
  }

  void Preload(Event event) {
    EventSeq seq = event.seq;
    events_[seq] = std::move(event);
  }

 private:
  EventStreamInfo info_;
  std::map<EventSeq, Event> events_;
};

// One key per process: a working set holds a request's few events, and
// drawing a key from std::random_device for each one (a system call per
// mutation) cost ~3% of the CPU of a postgres append (perf).
const engine::ClientIdKey& ProcessClientIdKey() {
  static const engine::ClientIdKey kKey = engine::ClientIdKey::Random();
  return kKey;
}

}  // namespace

WorkingSet::WorkingSet()
    : state_(
          [this](const Session& s) -> std::unique_ptr<engine::EventLog> {
            EventStreamInfo info;  // a session created by this request
            auto it = pending_info_.find(TenantKey(s.tenant_id, s.id));
            if (it != pending_info_.end()) info = it->second;
            return std::make_unique<PgEventLog>(info);
          },
          ProcessClientIdKey()) {}

Status WorkingSet::AddSession(const SessionRow& row,
                              std::vector<Event> known_events) {
  const Session& s = row.session;
  std::string key = TenantKey(s.tenant_id, s.id);
  pending_info_[key] = s.events;
  incarnations_[key] = row.incarnation;
  record::Mutation load;
  load.UpsertSession(s);
  ACPSTORE_RETURN_IF_ERROR(state_.Apply(std::move(load)));
  pending_info_.erase(key);
  if (known_events.empty()) return Status::OK();
  // The dedupe index over exactly the loaded events.
  auto log = std::make_unique<PgEventLog>(s.events);
  engine::ClientIdIndex ids;
  for (Event& e : known_events) {
    if (e.client_event_id) {
      ids.Insert(state_.ClientIdTagOf(*e.client_event_id), e.seq,
                 s.events.first_seq);
    }
    log->Preload(std::move(e));
  }
  return state_.RestoreEvents(s.tenant_id, s.id, std::move(log),
                              std::move(ids));
}

Status WorkingSet::AddAction(Action action) {
  actions_.insert(TenantKey(action.tenant_id, action.action_id));
  record::Mutation load;
  load.UpsertAction(std::move(action));
  return state_.Apply(std::move(load));
}

Status WorkingSet::AddPause(Pause pause) {
  record::Mutation load;
  load.UpsertPause(std::move(pause));
  return state_.Apply(std::move(load));
}

bool WorkingSet::HadSession(std::string_view tenant_id,
                            std::string_view id) const {
  return incarnations_.contains(TenantKey(tenant_id, id));
}

bool WorkingSet::HadAction(std::string_view tenant_id,
                           std::string_view id) const {
  return actions_.contains(TenantKey(tenant_id, id));
}

uint64_t WorkingSet::IncarnationOf(std::string_view tenant_id,
                                   std::string_view id) const {
  auto it = incarnations_.find(TenantKey(tenant_id, id));
  return it == incarnations_.end() ? 0 : it->second;
}

}  // namespace acpstore::postgres
