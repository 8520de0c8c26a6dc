// ImportAegis: the check and write passes over the file. See importer.h.
//
// Thread-safety: see importer.h.

#include "aegis/importer.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <utility>

#include "aegis/import_check.h"
#include "aegis/import_pipeline.h"
#include "aegis/reader.h"
#include "engine/import_target.h"

namespace acpstore::aegis {
namespace {

constexpr size_t kSessions = static_cast<size_t>(Collection::kSessions);

// "<record path>.<field>: <rule>" or "<record path>: <reason>".
std::string ProblemLine(const RawRecord& r, const Status& s) {
  if (s.Detail("field") != nullptr) {
    return r.path + "." + std::string(s.message());
  }
  return r.path + ": " + std::string(s.message());
}

Scope AdminOf(const std::string& tenant_id) {
  return Scope{tenant_id, "", Scope::Access::kTenantWrite};
}

class Importer {
 public:
  Importer(const std::string& path, Store* store, const ImportOptions& options)
      : path_(path),
        store_(store),
        options_(options),
        checker_(options.limits) {}

  Result<ImportReport> Run() {
    if (store_ != nullptr) {
      target_ = dynamic_cast<engine::ImportTarget*>(store_);
      if (target_ == nullptr) {
        return Status::InvalidArgument("this engine cannot take an import");
      }
      const StoreStats stats = store_->Stats();
      if (!options_.merge && (stats.sessions > 0 || stats.actions > 0)) {
        return Status::Conflict(
            "the data directory already holds " +
            std::to_string(stats.sessions) + " sessions and " +
            std::to_string(stats.actions) +
            " actions; pass --merge to import into it anyway");
      }
    } else if (!options_.dry_run) {
      return Status::InvalidArgument("an import needs a store");
    }

    ACPSTORE_RETURN_IF_ERROR(CheckPasses());
    checker_.FinishEvents();
    DrainNotes();
    Summarise();
    if (!report_.collisions.empty()) {
      report_.aborted = std::to_string(report_.collisions.size()) +
                        " ids already exist in the data directory";
      return std::move(report_);
    }
    if (options_.strict && report_.problems > 0) {
      report_.aborted =
          "--strict and " + std::to_string(report_.problems) + " problems";
      return std::move(report_);
    }
    if (options_.dry_run) return std::move(report_);
    ACPSTORE_RETURN_IF_ERROR(WritePasses());
    report_.written = true;
    return std::move(report_);
  }

 private:
  // ------------------------------------------------------------- passes

  // Reads the file once; records of collections not in `want` are parsed
  // but not rebuilt. `deferred` collects the dependents that came before
  // the sessions were complete (handled in the next read).
  Result<FileLayout> Read(std::string_view stage, const bool want[],
                          const std::function<Status(RawRecord&)>& handle) {
    ReadOptions ro;
    ro.chunk_bytes = options_.chunk_bytes;
    // Room for the largest payload the limits allow, written loosely.
    ro.max_record_bytes = std::max<size_t>(
        ro.max_record_bytes,
        2 * size_t{options_.limits.max_payload_bytes} + (1 << 20));
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
          return Check(r);
        }));
    if (!layout.version_present || layout.version != 1) {
      return Status::InvalidArgument(
          !layout.version_present
              ? "$.version: missing; not an Aegis version-1 state file"
              : "$.version: not 1; only version-1 state files can be "
                "imported");
    }
    layout_ = layout;
    bool again = false;
    for (size_t i = 0; i < kCollectionCount; ++i) {
      again = again || deferred[i];
      deferred_[i] = deferred[i];
    }
    if (again) {
      ACPSTORE_RETURN_IF_ERROR(Read("checking", deferred, [&](RawRecord& r) {
                                 return Check(r);
                               }).status());
    }
    return Status::OK();
  }

  Status Check(const RawRecord& r) {
    Status s;
    switch (r.collection) {
      case Collection::kSessions: {
        Result<MappedSession> m = checker_.CheckSession(r);
        s = m.status();
        if (s.ok()) {
          report_.owners[m->session.tenant_id].insert(m->session.owner_key_id);
          if (store_ != nullptr &&
              store_->GetSession(AdminOf(m->session.tenant_id), m->session.id)
                  .ok()) {
            report_.collisions.push_back("session " + m->session.id +
                                         " (tenant " + m->session.tenant_id +
                                         ")");
          }
        }
        break;
      }
      case Collection::kEvents:
        s = checker_.CheckEvent(r).status();
        break;
      case Collection::kActions: {
        Result<MappedAction> m = checker_.CheckAction(r);
        s = m.status();
        if (s.ok() && store_ != nullptr &&
            store_->GetAction(AdminOf(m->action.tenant_id), m->action.action_id)
                .ok()) {
          report_.collisions.push_back("action " + m->action.action_id +
                                       " (tenant " + m->action.tenant_id + ")");
        }
        break;
      }
      case Collection::kPauses:
        s = checker_.CheckPause(r).status();
        break;
    }
    if (!s.ok()) Problem(ProblemLine(r, s));
    DrainNotes();
    return Status::OK();
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
    switch (r.collection) {
      case Collection::kSessions: {
        Result<MappedSession> m = MapSession(r, options_.limits);
        if (!m.ok()) return mapped_again(m.error());
        const SessionPlan* plan =
            checker_.Plan(m->session.tenant_id, m->session.id);
        if (plan == nullptr) return mapped_again(Status::NotFound("session"));
        return pipeline->AddSession(std::move(m->session),
                                    plan->AdvanceBeforeEvents());
      }
      case Collection::kEvents: {
        Result<MappedEvent> m = MapEvent(r, options_.limits);
        if (!m.ok()) return mapped_again(m.error());
        Event& e = m->event;
        Status s =
            checker_.ResolveScope(e.session_id, &e.tenant_id, &e.owner_key_id);
        if (!s.ok()) return mapped_again(s);
        const SessionPlan* plan = checker_.Plan(e.tenant_id, e.session_id);
        // Before the kept run: dropped at a hole (reported when checked).
        if (plan->kept == 0 || e.seq < plan->first_kept) return Status::OK();
        return pipeline->AddEvent(std::move(e));
      }
      case Collection::kActions: {
        Result<MappedAction> m = MapAction(r, options_.limits);
        if (!m.ok()) return mapped_again(m.error());
        Action& a = m->action;
        Status s =
            checker_.ResolveScope(a.session_id, &a.tenant_id, &a.owner_key_id);
        if (!s.ok()) return mapped_again(s);
        return pipeline->AddAction(std::move(a));
      }
      case Collection::kPauses: {
        Result<MappedPause> m = MapPause(r, options_.limits);
        if (!m.ok()) return mapped_again(m.error());
        Pause& p = m->pause;
        Status s =
            checker_.ResolveScope(p.session_id, &p.tenant_id, &p.owner_key_id);
        if (!s.ok()) return mapped_again(s);
        return pipeline->AddPause(std::move(p));
      }
    }
    return Status::OK();
  }

  // ------------------------------------------------------------ report

  void Problem(const std::string& line) {
    ++report_.problems;
    if (options_.on_problem) options_.on_problem(line);
  }
  void DrainNotes() {
    for (const std::string& note : checker_.notes()) Problem(note);
    checker_.notes().clear();
  }

  void Summarise() {
    report_.bytes = layout_.bytes;
    report_.unknown_keys = layout_.unknown_keys;
    auto fill = [&](KindCounts* k, Collection c, uint64_t imported) {
      k->read = layout_.records[static_cast<size_t>(c)];
      k->imported = imported;
      k->skipped = k->read - imported;
    };
    fill(&report_.sessions, Collection::kSessions,
         checker_.sessions_accepted());
    fill(&report_.events, Collection::kEvents, checker_.events_kept());
    fill(&report_.actions, Collection::kActions, checker_.actions_accepted());
    fill(&report_.pauses, Collection::kPauses, checker_.pauses_accepted());
    report_.advanced_sessions = checker_.advanced_sessions();
  }

  const std::string path_;
  Store* const store_;
  const ImportOptions& options_;
  engine::ImportTarget* target_ = nullptr;
  ImportChecker checker_;
  ImportReport report_;
  FileLayout layout_;
  bool deferred_[kCollectionCount] = {};
  bool sessions_begun_ = false;
  bool sessions_complete_ = false;
};

}  // namespace

Result<ImportReport> ImportAegis(const std::string& path, Store* store,
                                 const ImportOptions& options) {
  Importer importer(path, store, options);
  return importer.Run();
}

}  // namespace acpstore::aegis
