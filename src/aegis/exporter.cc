// ExportAegis: see exporter.h.
//
// Thread-safety: see exporter.h.

#include "aegis/exporter.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>
#include <vector>

#include "aegis/writer.h"

namespace acpstore::aegis {
namespace {

class OutFile {
 public:
  ~OutFile() {
    if (file_ != nullptr) std::fclose(file_);
    if (!tmp_.empty()) ::unlink(tmp_.c_str());
  }

  Status Open(const std::string& path) {
    path_ = path;
    std::string templ = path + ".tmp-XXXXXX";
    const int fd = ::mkstemp(templ.data());
    if (fd < 0) return Errno("cannot create a file next to " + path);
    tmp_ = templ;
    ::fchmod(fd, 0600);
    file_ = ::fdopen(fd, "w");
    if (file_ == nullptr) {
      ::close(fd);
      return Errno("cannot open " + tmp_);
    }
    return Status::OK();
  }
  void Write(std::string_view s) {
    if (!ok_) return;
    ok_ = std::fwrite(s.data(), 1, s.size(), file_) == s.size();
    bytes_ += s.size();
  }
  // Flushes, fsyncs and renames into place.
  Status Commit() {
    if (!ok_ || std::fflush(file_) != 0) return Errno("cannot write " + tmp_);
    if (::fsync(::fileno(file_)) != 0) return Errno("cannot fsync " + tmp_);
    if (std::fclose(file_) != 0) {
      file_ = nullptr;
      return Errno("cannot close " + tmp_);
    }
    file_ = nullptr;
    if (::rename(tmp_.c_str(), path_.c_str()) != 0) {
      return Errno("cannot rename " + tmp_ + " to " + path_);
    }
    tmp_.clear();
    return Status::OK();
  }
  uint64_t bytes() const { return bytes_; }

 private:
  static Status Errno(const std::string& what) {
    return Status::IoError(what + ": " + std::strerror(errno));
  }

  std::string path_;
  std::string tmp_;
  std::FILE* file_ = nullptr;
  bool ok_ = true;
  uint64_t bytes_ = 0;
};

// Writes `"key":[` then one record a line.
class ArrayWriter {
 public:
  ArrayWriter(OutFile* out, std::string_view key, bool first) : out_(out) {
    out_->Write(first ? "\n\"" : ",\n\"");
    out_->Write(key);
    out_->Write("\":[");
  }
  ~ArrayWriter() { out_->Write(empty_ ? "]" : "\n]"); }
  void Item(const std::string& json) {
    out_->Write(empty_ ? "\n" : ",\n");
    out_->Write(json);
    empty_ = false;
  }

 private:
  OutFile* const out_;
  bool empty_ = true;
};

// What rollback cannot carry for this session (SPEC §8).
void Warn(const Session& s, ExportReport* report) {
  const EventStreamInfo& ev = s.events;
  const EventSeq newest_kept = ev.retained > 0 ? ev.first_seq + ev.retained - 1
                                               : 0;
  const std::string who =
      "session " + s.id + " (tenant " + s.tenant_id + ")";
  if (ev.last_seq > newest_kept) {
    report->warnings.push_back(
        who + ": its stream's high-water mark is " +
        std::to_string(ev.last_seq) + " but the newest kept event is " +
        (newest_kept > 0 ? std::to_string(newest_kept) : std::string("none")) +
        "; Aegis numbers new events from the newest kept one, so " +
        (newest_kept + 1 == ev.last_seq
             ? "seq " + std::to_string(ev.last_seq) + " and its event id"
             : "seqs " + std::to_string(newest_kept + 1) + ".." +
                   std::to_string(ev.last_seq) + " and their event ids") +
        " would be reused after rollback");
  }
  if (ev.retained > kAegisMaxEvents) {
    report->warnings.push_back(
        who + ": " + std::to_string(ev.retained) +
        " events; Aegis keeps at most " + std::to_string(kAegisMaxEvents) +
        " per session and prunes the oldest on its next start");
  }
}

}  // namespace

Result<ExportReport> ExportAegis(engine::MigrationTarget* target,
                                 const std::string& path,
                                 const ExportOptions& options) {
  if (target == nullptr) return Status::InvalidArgument("no store to export");
  ACPSTORE_ASSIGN_OR_RETURN(engine::StoredRecords state,
                            target->ReadRecords());
  ExportReport report;
  uint64_t total_events = 0;
  for (const auto& s : state.sessions) {
    total_events += s.session.events.retained;
  }

  OutFile out;
  ACPSTORE_RETURN_IF_ERROR(out.Open(path));
  out.Write("{\"version\":1,");
  std::string line;
  {
    ArrayWriter sessions(&out, "sessions", true);
    for (const auto& s : state.sessions) {
      line.clear();
      WriteSession(s.session, &line);
      sessions.Item(line);
      ++report.sessions;
      Warn(s.session, &report);
    }
  }
  {
    ArrayWriter events(&out, "events", false);
    for (const auto& s : state.sessions) {
      EventSeq after = 0;
      for (;;) {
        ACPSTORE_ASSIGN_OR_RETURN(
            std::vector<Event> page,
            target->ReadEvents(s.session.tenant_id, s.session.id, after,
                               1000));
        if (page.empty()) break;
        for (const Event& e : page) {
          if (e.client_event_id) ++report.dropped_client_event_ids;
          line.clear();
          WriteEvent(e, &line);
          events.Item(line);
          after = e.seq;
          ++report.events;
        }
        if (options.progress) {
          options.progress("events", report.events, total_events);
        }
      }
    }
  }
  {
    ArrayWriter actions(&out, "actions", false);
    for (const Action& a : state.actions) {
      if (a.status == ActionStatus::kLeased) ++report.leased_actions;
      line.clear();
      WriteAction(a, &line);
      actions.Item(line);
      ++report.actions;
    }
  }
  {
    ArrayWriter pauses(&out, "pauseInterventions", false);
    for (const auto& s : state.sessions) {
      for (const Pause& p : s.pauses) {
        if (p.resume_id || p.resume_metadata) ++report.dropped_resume_fields;
        line.clear();
        WritePause(p, &line);
        pauses.Item(line);
        ++report.pauses;
      }
    }
  }
  out.Write("\n}");
  ACPSTORE_RETURN_IF_ERROR(out.Commit());
  report.bytes = out.bytes();
  return report;
}

}  // namespace acpstore::aegis
