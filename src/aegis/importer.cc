// ImportAegis: the check, open and write passes over the file. See
// importer.h.
//
// Thread-safety: see importer.h.

#include "aegis/importer.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>

#include "aegis/import_check.h"
#include "aegis/import_pipeline.h"
#include "aegis/reader.h"

namespace acpstore::aegis {
namespace {

// "<record path>.<field>: <rule>" or "<record path>: <reason>".
std::string SkipLine(const RawRecord& r, const Status& s) {
  if (s.Detail("field") != nullptr) {
    return r.path + "." + std::string(s.message()) + "; skipped";
  }
  return r.path + ": " + std::string(s.message()) + "; skipped";
}

// "1 report", "2 reports": every count the report prints agrees with its
// noun (found by a probe: "1 record ... were skipped").
std::string Counted(uint64_t n, std::string_view noun) {
  return std::to_string(n) + " " + std::string(noun) + (n == 1 ? "" : "s");
}

std::string RepairLine(const std::string& path, const Repair& repair) {
  return (repair.field.empty() ? path : path + "." + repair.field) + ": " +
         repair.what;
}

// "$.events[3]" -> "$.events[*]": records of one collection, for the
// unknown-field lines.
std::string CollectionPath(Collection c) {
  return "$." + std::string(CollectionKey(c)) + "[*]";
}

// Ids per collision query (--merge).
constexpr size_t kExistBatch = 500;

class Importer {
 public:
  Importer(const std::string& path, const StoreOpener& open,
           const ImportOptions& options)
      : path_(path), open_(open), options_(options), checker_(options.map) {}

  Result<ImportReport> Run() {
    ACPSTORE_RETURN_IF_ERROR(CheckPasses());
    checker_.FinishPauses();
    checker_.FinishEvents();
    DrainFound();
    ReportUnknown();
    Summarise();
    if (options_.strict && report_.problems > 0) {
      report_.aborted = "--strict and " + Counted(report_.problems, "report");
      return std::move(report_);
    }
    if (options_.dry_run) return std::move(report_);

    ACPSTORE_ASSIGN_OR_RETURN(target_, open_());
    if (target_ == nullptr) {
      return Status::InvalidArgument("an import needs a store");
    }
    ACPSTORE_ASSIGN_OR_RETURN(const engine::MigrationTarget::Held held,
                              target_->CountHeld());
    if (held.sessions > 0 || held.actions > 0) {
      if (!options_.merge) {
        return Status::Conflict(target_->Describe() + " already holds " +
                                Counted(held.sessions, "session") + " and " +
                                Counted(held.actions, "action") +
                                "; pass --merge to import into it anyway");
      }
      ACPSTORE_RETURN_IF_ERROR(FindCollisions());
      if (!report_.collisions.empty()) {
        const size_t n = report_.collisions.size();
        report_.aborted =
            Counted(n, "id") +
            (n == 1 ? " already exists in " : " already exist in ") +
            target_->Describe();
        return std::move(report_);
      }
    }
    ACPSTORE_RETURN_IF_ERROR(WritePasses());
    report_.written = true;
    return std::move(report_);
  }

 private:
  // ------------------------------------------------------------- passes

  // Reads the file once; records of collections not in `want` are parsed
  // but not rebuilt.
  Result<FileLayout> Read(std::string_view stage, const bool want[],
                          const std::function<Status(RawRecord&)>& handle) {
    ReadOptions ro;
    ro.chunk_bytes = options_.chunk_bytes;
    // A payload up to what an import stores, plus the record around it;
    // a larger member is elided and becomes a placeholder.
    ro.max_record_bytes = size_t{options_.map.max_stored_payload_bytes} +
                          (1 << 20);
    // A payload one level over what an import stores, plus the levels of
    // the file and the record around it, still measures as too deep.
    ro.max_depth = size_t{options_.map.max_stored_json_depth} + 16;
    for (size_t i = 0; i < kCollectionCount; ++i) ro.want[i] = want[i];
    sessions_begun_ = false;
    sessions_complete_ = false;
    ro.on_collection = [this](Collection c) {
      if (c == Collection::kSessions) {
        sessions_begun_ = true;
      } else if (sessions_begun_) {
        sessions_complete_ = true;
      }
    };
    if (options_.progress) {
      ro.progress = [this, stage](uint64_t done, uint64_t total) {
        options_.progress(stage, done, total);
      };
    }
    ++report_.reads;
    return ReadAegisFile(path_, ro, handle);
  }

  Status CheckPasses() {
    bool want[kCollectionCount] = {true, true, true, true};
    bool deferred[kCollectionCount] = {};
    ACPSTORE_ASSIGN_OR_RETURN(
        FileLayout layout, Read("checking", want, [&](RawRecord& r) -> Status {
          if (r.collection != Collection::kSessions && !sessions_complete_) {
            deferred[static_cast<size_t>(r.collection)] = true;
            return Status::OK();
          }
          Check(r);
          return Status::OK();
        }));
    if (!layout.version_present || layout.version != 1) {
      return Status::InvalidArgument(
          !layout.version_present
              ? "$.version: missing; not an Aegis version-1 state file"
              : "$.version: not 1; only version-1 state files can be "
                "imported");
    }
    // Aegis's file store refuses to start without these three arrays
    // (AEGIS-V1.md); `pauseInterventions` is optional.
    for (Collection c :
         {Collection::kSessions, Collection::kEvents, Collection::kActions}) {
      const auto has = [c](const std::vector<Collection>& v) {
        return std::find(v.begin(), v.end(), c) != v.end();
      };
      if (!has(layout.order) || has(layout.null_collections)) {
        return Status::InvalidArgument(
            "$." + std::string(CollectionKey(c)) + ": " +
            (has(layout.order) ? "null" : "missing") +
            "; an Aegis state file has it as an array (Aegis does not start "
            "without it)");
      }
    }
    layout_ = layout;
    bool again = false;
    for (size_t i = 0; i < kCollectionCount; ++i) {
      again = again || deferred[i];
      deferred_[i] = deferred[i];
    }
    if (again) {
      ACPSTORE_RETURN_IF_ERROR(Read("checking", deferred, [&](RawRecord& r) {
                                 Check(r);
                                 return Status::OK();
                               }).status());
    }
    return Status::OK();
  }

  void Check(const RawRecord& r) {
    Repairs repairs;
    std::vector<std::string> unknown;
    Status s;
    switch (r.collection) {
      case Collection::kSessions: {
        Result<MappedSession> m = checker_.CheckSession(r, &repairs, &unknown);
        s = m.status();
        if (s.ok()) {
          report_.owners[m->session.tenant_id].insert(m->session.owner_key_id);
        }
        break;
      }
      case Collection::kEvents:
        s = checker_.CheckEvent(r, &repairs, &unknown).status();
        break;
      case Collection::kActions:
        s = checker_.CheckAction(r, &repairs, &unknown).status();
        break;
      case Collection::kPauses:
        s = checker_.CheckPause(r, &repairs, &unknown).status();
        break;
    }
    for (const std::string& name : unknown) {
      ++unknown_[static_cast<size_t>(r.collection)][name];
    }
    if (!s.ok()) {
      Problem(SkipLine(r, s));
      return;
    }
    for (const Repair& repair : repairs) {
      ++report_.repairs[static_cast<size_t>(repair.kind)];
      Problem(RepairLine(r.path, repair));
    }
    DrainFound();
  }

  // With --merge: ids of the file that the store already holds, asked
  // for a few hundred at a time (one round trip each on postgres), listed
  // in file order.
  Status FindCollisions() {
    std::vector<engine::RecordId> pending;
    auto ask = [&]() -> Status {
      if (pending.empty()) return Status::OK();
      ACPSTORE_ASSIGN_OR_RETURN(std::vector<bool> exist,
                                target_->Exist(pending));
      for (size_t i = 0; i < pending.size() && i < exist.size(); ++i) {
        if (!exist[i]) continue;
        const engine::RecordId& r = pending[i];
        report_.collisions.push_back(
            (r.kind == engine::RecordId::Kind::kSession ? "session "
                                                         : "action ") +
            r.id + " (tenant " + r.tenant_id + ")");
      }
      pending.clear();
      return Status::OK();
    };
    bool want[kCollectionCount] = {true, false, true, false};
    ACPSTORE_RETURN_IF_ERROR(
        Read("checking", want, [&](RawRecord& r) -> Status {
          if (checker_.Skipped(r.collection, r.ordinal)) return Status::OK();
          Repairs ignored;
          if (r.collection == Collection::kSessions) {
            Result<MappedSession> m =
                MapSession(r, options_.map, &ignored, nullptr);
            if (!m.ok()) return Status::OK();
            pending.push_back({engine::RecordId::Kind::kSession,
                               m->session.tenant_id, m->session.id});
          } else {
            Result<MappedAction> m =
                MapAction(r, options_.map, &ignored, nullptr);
            if (!m.ok()) return Status::OK();
            Action& a = m->action;
            bool moved = false;
            if (!checker_
                     .ResolveScope(a.session_id, &a.tenant_id, &a.owner_key_id,
                                   &moved)
                     .ok()) {
              return Status::OK();
            }
            pending.push_back(
                {engine::RecordId::Kind::kAction, a.tenant_id, a.action_id});
          }
          return pending.size() >= kExistBatch ? ask() : Status::OK();
        }).status());
    return ask();
  }

  Status WritePasses() {
    ImportPipeline pipeline(target_, options_.batch_events,
                            options_.batch_bytes, options_.max_in_flight);
    bool want[kCollectionCount] = {true, true, true, true};
    for (size_t i = 0; i < kCollectionCount; ++i) {
      if (deferred_[i]) want[i] = false;
    }
    Status s = Read("importing", want, [&](RawRecord& r) {
                 return Write(r, &pipeline);
               }).status();
    bool again = false;
    for (bool d : deferred_) again = again || d;
    if (s.ok() && again) {
      s = Read("importing", deferred_, [&](RawRecord& r) {
            return Write(r, &pipeline);
          }).status();
    }
    Status finished = pipeline.Finish();
    return s.ok() ? finished : s;
  }

  Status Write(const RawRecord& r, ImportPipeline* pipeline) {
    if (checker_.Skipped(r.collection, r.ordinal)) return Status::OK();
    auto mapped_again = [&](const Status& s) {
      return Status::Internal("import: " + r.path +
                              " mapped differently on the second read: " +
                              std::string(s.message()));
    };
    // Repairs and unknown fields were reported by the check pass.
    Repairs ignored;
    bool moved = false;
    switch (r.collection) {
      case Collection::kSessions: {
        Result<MappedSession> m = MapSession(r, options_.map, &ignored, nullptr);
        if (!m.ok()) return mapped_again(m.error());
        const SessionPlan* plan =
            checker_.Plan(m->session.tenant_id, m->session.id);
        if (plan == nullptr) return mapped_again(Status::NotFound("session"));
        if (plan->reconciled) m->session.status = *plan->reconciled;
        m->session.conversation_id = plan->conversation_id;
        m->session.transcript_id = plan->transcript_id;
        return pipeline->AddSession(std::move(m->session),
                                    plan->AdvanceBeforeEvents());
      }
      case Collection::kEvents: {
        Result<MappedEvent> m = MapEvent(r, options_.map, &ignored, nullptr);
        if (!m.ok()) return mapped_again(m.error());
        Event& e = m->event;
        Status s = checker_.ResolveScope(e.session_id, &e.tenant_id,
                                         &e.owner_key_id, &moved);
        if (!s.ok()) return mapped_again(s);
        SessionPlan* plan = checker_.MutablePlan(e.tenant_id, e.session_id);
        // Before the stream's first seq: a gap too wide to fill dropped it.
        if (plan->kept == 0 || e.seq < plan->first_kept) return Status::OK();
        if (!m->times_known) {
          e.occurred_at = e.ingested_at =
              plan->written > 0 ? plan->last_time : plan->created_at;
        }
        // Seqs the file lacks (or whose records were skipped) become
        // placeholders, timed like the event after them.
        if (plan->written > 0) {
          for (EventSeq seq = plan->written + 1; seq < e.seq; ++seq) {
            ACPSTORE_RETURN_IF_ERROR(pipeline->AddEvent(Filler(e, seq)));
          }
        }
        plan->written = e.seq;
        plan->last_time = e.ingested_at;
        return pipeline->AddEvent(std::move(e));
      }
      case Collection::kActions: {
        Result<MappedAction> m = MapAction(r, options_.map, &ignored, nullptr);
        if (!m.ok()) return mapped_again(m.error());
        Action& a = m->action;
        Status s = checker_.ResolveScope(a.session_id, &a.tenant_id,
                                         &a.owner_key_id, &moved);
        if (!s.ok()) return mapped_again(s);
        if (checker_.ClearActionKey(r.ordinal)) a.idempotency_key.reset();
        return pipeline->AddAction(std::move(a));
      }
      case Collection::kPauses: {
        Result<MappedPause> m = MapPause(r, options_.map, &ignored, nullptr);
        if (!m.ok()) return mapped_again(m.error());
        Pause& p = m->pause;
        Status s = checker_.ResolveScope(p.session_id, &p.tenant_id,
                                         &p.owner_key_id, &moved);
        if (!s.ok()) return mapped_again(s);
        if (const PauseFix* fix = checker_.PauseFixFor(r.ordinal)) {
          if (fix->clear_idempotency_key) p.idempotency_key.reset();
          if (fix->new_pause_id) p.pause_id = *fix->new_pause_id;
          if (fix->intervention_id) p.intervention_id = fix->intervention_id;
          if (fix->resume) {
            p.status = PauseStatus::kResumed;
            if (!p.resumed_at) p.resumed_at = p.updated_at;
          }
        }
        return pipeline->AddPause(std::move(p));
      }
    }
    return Status::OK();
  }

  static Event Filler(const Event& next, EventSeq seq) {
    Event f;
    f.session_id = next.session_id;
    f.tenant_id = next.tenant_id;
    f.owner_key_id = next.owner_key_id;
    f.seq = seq;
    f.event_type = std::string(kPlaceholderEventType);
    f.occurred_at = next.occurred_at;
    f.ingested_at = next.ingested_at;
    f.payload = PlaceholderPayload(
        "seq " + std::to_string(seq) +
        " was missing from the Aegis file, or its record could not be read");
    return f;
  }

  // ------------------------------------------------------------ report

  void Problem(const std::string& line) {
    ++report_.problems;
    if (options_.on_problem) options_.on_problem(line);
  }
  void DrainFound() {
    for (const Found& f : checker_.found()) {
      // Fills are counted once the check pass is over (Summarise): a gap
      // too wide to fill, found later, drops the fills before it, and its
      // own line fills nothing.
      if (f.repair.kind != RepairKind::kHoleFilled) {
        ++report_.repairs[static_cast<size_t>(f.repair.kind)];
      }
      Problem(RepairLine(f.path, f.repair));
    }
    checker_.found().clear();
  }
  void ReportUnknown() {
    for (size_t c = 0; c < kCollectionCount; ++c) {
      for (const auto& [name, count] : unknown_[c]) {
        const auto coll = static_cast<Collection>(c);
        report_.unknown_fields[std::string(CollectionKey(coll)) + "." + name] =
            count;
        std::string path = CollectionPath(coll);
        AppendJsonPathKey(name, &path);
        Problem(path + ": unknown field in " + Counted(count, "record") +
                "; not imported");
      }
    }
    for (const std::string& key : layout_.unknown_keys) {
      Problem("$." + key + ": unknown top-level key; not imported");
    }
    if (layout_.surrogates_outside_records > 0) {
      ++report_.repairs[static_cast<size_t>(RepairKind::kLoneSurrogate)];
      Problem(
          "$: " +
          Counted(layout_.surrogates_outside_records, "lone surrogate escape") +
          " outside any record (in keys that are not imported)");
    }
  }

  void Summarise() {
    report_.bytes = layout_.bytes;
    report_.unknown_keys = layout_.unknown_keys;
    report_.events_filled = checker_.events_filled();
    report_.repairs[static_cast<size_t>(RepairKind::kHoleFilled)] =
        checker_.gaps_filled();
    // Repairs of events a gap too wide to fill dropped were counted as
    // found; they never took effect.
    for (size_t k = 0; k < kRepairKindCount; ++k) {
      const auto kind = static_cast<RepairKind>(k);
      if (kind == RepairKind::kHoleFilled) continue;  // set just above
      report_.repairs[k] -= checker_.dropped_repairs(kind);
    }
    auto fill = [&](KindCounts* k, Collection c, uint64_t imported) {
      const size_t i = static_cast<size_t>(c);
      k->read = layout_.records[i];
      k->imported = imported;
      // Records with a repair of their own or one decided between records
      // (a record only moved into its session's scope was not counted).
      k->repaired = checker_.repaired(c);
      k->skipped = k->read > imported ? k->read - imported : 0;
    };
    fill(&report_.sessions, Collection::kSessions,
         checker_.sessions_accepted());
    fill(&report_.events, Collection::kEvents,
         checker_.events_kept() - checker_.events_filled());
    fill(&report_.actions, Collection::kActions, checker_.actions_accepted());
    fill(&report_.pauses, Collection::kPauses, checker_.pauses_accepted());
    report_.advanced_sessions = checker_.advanced_sessions();
  }

  const std::string path_;
  const StoreOpener& open_;
  const ImportOptions& options_;
  engine::MigrationTarget* target_ = nullptr;
  ImportChecker checker_;
  ImportReport report_;
  FileLayout layout_;
  std::map<std::string, uint64_t> unknown_[kCollectionCount];
  bool deferred_[kCollectionCount] = {};
  bool sessions_begun_ = false;
  bool sessions_complete_ = false;
};

}  // namespace

Result<ImportReport> ImportAegis(const std::string& path,
                                 const StoreOpener& open_store,
                                 const ImportOptions& options) {
  Importer importer(path, open_store, options);
  return importer.Run();
}

Result<ImportReport> ImportAegis(const std::string& path,
                                 engine::MigrationTarget* target,
                                 const ImportOptions& options) {
  const StoreOpener open = [target]() -> Result<engine::MigrationTarget*> {
    if (target == nullptr) {
      return Status::InvalidArgument("an import needs a store");
    }
    return target;
  };
  return ImportAegis(path, open, options);
}

}  // namespace acpstore::aegis
