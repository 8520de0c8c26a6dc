// `acpstore inspect`: what a file-engine data directory holds — counts,
// bytes, segments, snapshots, oldest/newest times — read-only, on a
// directory no server holds (SPEC §7). Exit 1 when the state does not
// recover (the report says why) or the directory is in use. A repair that
// stopped before its swap is named, and the report describes the store
// that swap moves in (what the next open recovers).
//
// With --postgres-url, what a postgres-engine schema holds (servers may
// run): rows per table, the schema version, sessions per status, and the
// sessions whose counters disagree with their event rows
// (postgres/pg_tools.h; `verify` fails on those). Exit 1 when the database
// cannot be reached or holds no such schema.
//
// Thread-safety: main thread only.

#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <iostream>
#include <string>
#include <vector>

#include "acpstore/records.h"
#include "base/time_format.h"
#include "cli/command.h"
#include "cli/store_location.h"
#include "cli/tool_output.h"
#include "engine/file_tools.h"
#ifdef ACPSTORE_WITH_POSTGRES
#include "postgres/pg_tools.h"
#endif

namespace acpstore::cli {
namespace {

void Line(std::string_view label, const std::string& value) {
  // Values in one column; at least one space after a long label.
  std::cout << label
            << std::string(label.size() < 20 ? 20 - label.size() : 1, ' ')
            << value << "\n";
}

// One line per file (journal segments, parts files): its path and size.
void FileLines(const std::vector<engine::SegmentSummary>& files) {
  for (const engine::SegmentSummary& f : files) {
    Line("", f.path + "  " + FormatBytes(f.bytes));
  }
}

// The same files as JSON: number, path, bytes.
boost::json::array FilesJson(const std::vector<engine::SegmentSummary>& files) {
  boost::json::array out;
  for (const engine::SegmentSummary& f : files) {
    out.push_back(boost::json::object{
        {"number", f.number}, {"path", f.path}, {"bytes", f.bytes}});
  }
  return out;
}

boost::json::value Time(std::optional<TimestampMs> ms) {
  if (!ms) return nullptr;
  return boost::json::value(base::FormatIso8601(*ms));
}

// What the next open moves where before it recovers, for the summary.
std::string DescribeMove(const engine::InterruptedRepair::Move& m) {
  using Live = engine::InterruptedRepair::Move::Live;
  std::string out = m.from + " -> " + m.to;
  if (m.live == Live::kKept) out += " (the current one kept as " + m.kept_as + ")";
  if (m.live == Live::kEmptyRemoved) out += " (the current one, empty, removed)";
  return out;
}

// The same report as one JSON object (camelCase; sizes in bytes, times
// ISO-8601 or null).
void PrintJson(const engine::InspectReport& r) {
  namespace json = boost::json;
  json::object o;
  o["dataDir"] = r.data_dir;
  if (r.repair_intent.empty()) {
    o["repairPending"] = nullptr;
  } else {
    json::array moves;
    using Live = engine::InterruptedRepair::Move::Live;
    for (const engine::InterruptedRepair::Move& m : r.repair_moves) {
      json::value kept_as = nullptr;
      if (m.live == Live::kKept) kept_as = json::value(m.kept_as);
      moves.push_back(json::object{{"from", m.from},
                                   {"to", m.to},
                                   {"keptAs", std::move(kept_as)},
                                   {"removedEmpty", m.live == Live::kEmptyRemoved}});
    }
    o["repairPending"] = json::object{{"intentFile", r.repair_intent},
                                      {"moves", std::move(moves)}};
  }
  o["recovered"] = r.recovery.ok();
  if (r.recovery.ok()) {
    o["recoveryError"] = nullptr;
  } else {
    o["recoveryError"] = r.recovery.ToString();
  }
  json::object by_status;
  for (size_t i = 0; i < std::size(r.sessions_by_status); ++i) {
    by_status[ToString(static_cast<SessionStatus>(i))] = r.sessions_by_status[i];
  }
  o["sessions"] = r.sessions;
  o["sessionsByStatus"] = std::move(by_status);
  o["eventsRetained"] = r.events_retained;
  o["eventPayloadBytes"] = r.event_payload_bytes;
  o["actions"] = r.actions;
  o["pauses"] = r.pauses;
  o["oldestSessionCreatedAt"] = Time(r.oldest_session_created_at);
  o["newestSessionUpdatedAt"] = Time(r.newest_session_updated_at);
  o["oldestEventIngestedAt"] = Time(r.oldest_event_ingested_at);
  o["newestEventIngestedAt"] = Time(r.newest_event_ingested_at);
  o["journalBytes"] = r.journal_bytes;
  o["segments"] = FilesJson(r.segments);
  o["snapshotBytes"] = r.snapshot_bytes;
  json::array snapshots;
  for (const engine::SnapshotSummary& s : r.snapshots) {
    json::array refers_to;
    for (uint64_t n : s.refers_to) refers_to.push_back(json::value(n));
    snapshots.push_back(json::object{{"number", s.number},
                                     {"path", s.path},
                                     {"bytes", s.bytes},
                                     {"coveredSegment", s.covered_segment},
                                     {"coveredOffset", s.covered_offset},
                                     {"createdAt", Time(s.created_at)},
                                     {"loaded", s.loaded},
                                     {"referredBytes", s.referred_bytes},
                                     {"refersTo", std::move(refers_to)}});
  }
  o["snapshots"] = std::move(snapshots);
  o["partsBytes"] = r.parts_bytes;
  o["partsFiles"] = FilesJson(r.parts_files);
  json::array skipped;
  for (const std::string& s : r.snapshots_skipped) skipped.push_back(json::value(s));
  o["snapshotsSkipped"] = std::move(skipped);
  json::array set_aside;
  for (const engine::SegmentSummary& f : r.set_aside) {
    set_aside.push_back(json::object{{"path", f.path}, {"bytes", f.bytes}});
  }
  o["setAside"] = std::move(set_aside);
  o["recordsReplayed"] = r.records_replayed;
  o["tornTailBytes"] = r.torn_tail_bytes;
  o["unreadableEvents"] = r.unreadable_events;
  json::array unreadable;
  for (const engine::InspectReport::UnreadableEvent& u : r.unreadable) {
    unreadable.push_back(json::object{{"tenantId", u.tenant_id},
                                      {"sessionId", u.session_id},
                                      {"seq", u.seq},
                                      {"error", u.error}});
  }
  o["unreadable"] = std::move(unreadable);
  std::cout << json::serialize(o) << std::endl;
}

int RunInspect(const std::string& data_dir, bool as_json) {
  // The progress line is cleared before the report is printed.
  Result<engine::InspectReport> report = [&] {
    ProgressLine progress("inspect");
    return engine::Inspect(data_dir, progress.Callback());
  }();
  if (!report) {
    PrintError(report.error().message());
    return kExitFailure;
  }
  const engine::InspectReport& r = *report;
  if (as_json) {
    PrintJson(r);
    return r.recovery.ok() ? kExitOk : kExitFailure;
  }
  Line("data dir", r.data_dir);
  if (!r.repair_intent.empty()) {
    Line("repair pending",
         "a compact --repair stopped before it swapped its directories in (" +
             r.repair_intent +
             "); the next open (serve, compact) finishes "
             "the swap first" +
             (r.repair_moves.empty() ? "" : ":"));
    for (const engine::InterruptedRepair::Move& m : r.repair_moves) {
      Line("", "  " + DescribeMove(m));
    }
    // Where the swap itself cannot be finished there is no such store: the
    // recovery line says why.
    if (r.recovery.ok() || !r.repair_moves.empty()) {
      Line("", "what follows describes the store after that swap");
    }
  }
  if (!r.recovery.ok()) Line("recovery", "FAILED: " + r.recovery.ToString());
  std::string by_status;
  for (size_t i = 0; i < std::size(r.sessions_by_status); ++i) {
    if (r.sessions_by_status[i] == 0) continue;
    by_status += by_status.empty() ? " (" : ", ";
    by_status += std::string(ToString(static_cast<SessionStatus>(i))) + " " +
                 std::to_string(r.sessions_by_status[i]);
  }
  if (!by_status.empty()) by_status += ")";
  Line("sessions", std::to_string(r.sessions) + by_status);
  Line("events", std::to_string(r.events_retained) + " retained, " +
                     FormatBytes(r.event_payload_bytes) + " of payload");
  Line("actions", std::to_string(r.actions));
  Line("pauses", std::to_string(r.pauses));
  Line("oldest session", FormatTime(r.oldest_session_created_at) + " (created)");
  Line("newest session", FormatTime(r.newest_session_updated_at) + " (updated)");
  Line("oldest event", FormatTime(r.oldest_event_ingested_at));
  Line("newest event", FormatTime(r.newest_event_ingested_at));
  Line("journal", Plural(r.segments.size(), "segment") + ", " +
                      FormatBytes(r.journal_bytes));
  FileLines(r.segments);
  Line("snapshots", Plural(r.snapshots.size(), "snapshot") + ", " +
                        FormatBytes(r.snapshot_bytes));
  for (const engine::SnapshotSummary& s : r.snapshots) {
    Line("", s.path + "  " + FormatBytes(s.bytes) + "  covers segment " +
                 std::to_string(s.covered_segment) + " offset " +
                 std::to_string(s.covered_offset) + "  " +
                 FormatTime(s.created_at) + (s.loaded ? "  (loaded)" : ""));
    if (!s.refers_to.empty()) {
      std::string to;
      for (uint64_t n : s.refers_to) {
        to += (to.empty() ? "" : ", ") + std::to_string(n);
      }
      Line("", "  refers to " + FormatBytes(s.referred_bytes) +
                   " of sealed transcript parts in file " + to);
    }
  }
  if (!r.parts_files.empty()) {
    Line("parts files", Plural(r.parts_files.size(), "parts file") + ", " +
                            FormatBytes(r.parts_bytes));
    FileLines(r.parts_files);
  }
  for (const std::string& skipped : r.snapshots_skipped) {
    Line("", "skipped: " + skipped);
  }
  if (!r.set_aside.empty()) {
    Line("set aside", Plural(r.set_aside.size(), "damaged snapshot") +
                          " an open skipped, kept for inspection (not read; "
                          "delete once inspected)");
    FileLines(r.set_aside);
  }
  Line("records replayed", std::to_string(r.records_replayed));
  Line("torn tail", FormatBytes(r.torn_tail_bytes) +
                        (r.torn_tail_bytes > 0 ? " (cut at the next open)" : ""));
  Line("unreadable events", std::to_string(r.unreadable_events) + " (of " +
                                std::to_string(r.events_retained) +
                                " retained, every one read)");
  for (const engine::InspectReport::UnreadableEvent& u : r.unreadable) {
    Line("", "session " + u.session_id + " (tenant " + u.tenant_id + ") seq " +
                 std::to_string(u.seq) + ": " + u.error);
  }
  if (r.unreadable_events > r.unreadable.size()) {
    Line("", "(the first " + std::to_string(r.unreadable.size()) +
                 " listed; `acpstore verify` names every damaged range)");
  }
  std::cout.flush();
  return r.recovery.ok() ? kExitOk : kExitFailure;
}

#ifdef ACPSTORE_WITH_POSTGRES
int RunInspectPostgres(const std::string& url, const std::string& schema,
                       bool as_json) {
  Result<postgres::PgCheckReport> report =
      postgres::CheckPostgres(url, schema, /*decode_records=*/false);
  if (!report) {
    PrintError(report.error().message());
    return kExitFailure;
  }
  const postgres::PgCheckReport& r = *report;
  if (as_json) {
    namespace json = boost::json;
    json::object o;
    o["postgresSchema"] = r.schema;
    o["schemaVersion"] = r.schema_version;
    o["knownSchemaVersion"] = r.known_schema_version;
    json::object tables;
    for (const auto& [name, rows] : r.tables) tables[name] = rows;
    o["tables"] = std::move(tables);
    json::object by_status;
    for (size_t i = 0; i < std::size(r.sessions_by_status); ++i) {
      by_status[ToString(static_cast<SessionStatus>(i))] =
          r.sessions_by_status[i];
    }
    o["sessionsByStatus"] = std::move(by_status);
    o["eventPayloadBytes"] = r.event_payload_bytes;
    o["mismatchedSessions"] = r.mismatched_sessions;
    json::array mismatches;
    for (const postgres::PgCounterMismatch& m : r.mismatches) {
      json::array problems;
      for (const std::string& p : m.problems) problems.push_back(json::value(p));
      mismatches.push_back(json::object{{"tenantId", m.tenant_id},
                                        {"sessionId", m.session_id},
                                        {"problems", std::move(problems)}});
    }
    o["counterMismatches"] = std::move(mismatches);
    std::cout << json::serialize(o) << std::endl;
    return kExitOk;
  }
  Line("postgres schema", "\"" + r.schema + "\", version " +
                              std::to_string(r.schema_version) +
                              " (this acpstore knows " +
                              std::to_string(r.known_schema_version) + ")");
  for (const auto& [name, rows] : r.tables) {
    Line("table " + name, Plural(rows, "row"));
  }
  std::string by_status;
  for (size_t i = 0; i < std::size(r.sessions_by_status); ++i) {
    if (r.sessions_by_status[i] == 0) continue;
    by_status += by_status.empty() ? "" : ", ";
    by_status += std::string(ToString(static_cast<SessionStatus>(i))) + " " +
                 std::to_string(r.sessions_by_status[i]);
  }
  Line("sessions by status", by_status.empty() ? "-" : by_status);
  Line("event payload", FormatBytes(r.event_payload_bytes));
  Line("counters", r.mismatched_sessions == 0
                       ? std::string("every session agrees with its rows")
                       : Plural(r.mismatched_sessions, "session") +
                             " disagree with their rows (see `acpstore "
                             "verify`)");
  for (const postgres::PgCounterMismatch& m : r.mismatches) {
    std::string what;
    for (const std::string& p : m.problems) what += (what.empty() ? "" : "; ") + p;
    Line("", "session " + m.session_id + " (tenant " + m.tenant_id + "): " +
                 what);
  }
  std::cout.flush();
  return kExitOk;
}
constexpr StoreReport::OnPostgres kRunInspectPostgres = &RunInspectPostgres;
#else
constexpr StoreReport::OnPostgres kRunInspectPostgres = nullptr;
#endif

}  // namespace

void AddInspectCommand(CLI::App& root, Runner* run) {
  AddStoreReportCommand(
      root, run,
      StoreReport{
          "inspect",
          "Show what a file-engine data directory (no server may hold it) or a "
          "postgres-engine schema holds",
          "Inspect this postgres-engine database instead of --data-dir",
          &RunInspect, kRunInspectPostgres});
}

}  // namespace acpstore::cli
