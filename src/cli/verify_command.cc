// `acpstore verify`: checks every checksum of a file-engine data directory
// (journal records, event sub-records, snapshots) and lists all damage
// (SPEC §3, §7). Exit 0 when clean, 1 on corruption or when it cannot run
// (e.g. a server holds the directory).
//
// With --postgres-url, checks a postgres-engine schema (servers may run):
// every session row's counters against its event rows, every session,
// action and pause row's record against its columns, and every event's
// payload (valid JSON) (postgres/pg_tools.h).
// Exit 1 when any disagree (each is named), or the database cannot be
// reached.
//
// Thread-safety: main thread only.

#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <iostream>
#include <string>

#include "cli/command.h"
#include "cli/store_location.h"
#include "cli/tool_output.h"
#include "engine/file_tools.h"
#ifdef ACPSTORE_WITH_POSTGRES
#include "postgres/pg_tools.h"
#endif

namespace acpstore::cli {
namespace {

boost::json::object ProblemJson(const engine::Problem& p) {
  return boost::json::object{{"file", p.file},
                             {"offset", p.offset},
                             {"length", p.length},
                             {"what", p.what}};
}

// The same report as one JSON object.
void PrintJson(const engine::VerifyReport& r) {
  namespace json = boost::json;
  json::object o;
  o["ok"] = r.ok();
  o["segments"] = r.segments;
  o["records"] = r.records;
  o["events"] = r.events;
  o["snapshots"] = r.snapshots;
  o["bytes"] = r.bytes;
  if (r.torn_tail) {
    o["tornTail"] = ProblemJson(*r.torn_tail);
  } else {
    o["tornTail"] = nullptr;
  }
  json::array problems;
  for (const engine::Problem& p : r.problems) problems.push_back(ProblemJson(p));
  o["problems"] = std::move(problems);
  json::array set_aside;
  for (const std::string& path : r.set_aside) set_aside.push_back(json::value(path));
  o["setAside"] = std::move(set_aside);
  std::cout << json::serialize(o) << std::endl;
}

int RunVerify(const std::string& data_dir, bool as_json) {
  // The progress line is cleared before the report is printed.
  Result<engine::VerifyReport> report = [&] {
    ProgressLine progress("verify");
    return engine::Verify(data_dir, progress.Callback());
  }();
  if (!report) {
    PrintError(report.error().message());
    return kExitFailure;
  }
  const engine::VerifyReport& r = *report;
  if (as_json) {
    PrintJson(r);
    return r.ok() ? kExitOk : kExitFailure;
  }
  for (const engine::Problem& p : r.problems) {
    std::cout << "damaged: " << DescribeProblem(p) << "\n";
  }
  if (r.torn_tail) {
    std::cout << "torn tail (not damage; cut at the next open): "
              << DescribeProblem(*r.torn_tail) << "\n";
  }
  for (const std::string& path : r.set_aside) {
    std::cout << "set aside (a damaged snapshot an open skipped and kept for "
                 "inspection; not checked, no open reads it): "
              << path << "\n";
  }
  std::cout << "checked " << Plural(r.segments, "segment") << ", "
            << Plural(r.records, "record") << ", " << Plural(r.events, "event")
            << ", " << Plural(r.snapshots, "snapshot") << ", "
            << FormatBytes(r.bytes) << ": "
            << (r.ok() ? "OK"
                       : Plural(r.problems.size(), "damaged range") +
                             " (see `acpstore compact --repair`)")
            << std::endl;
  return r.ok() ? kExitOk : kExitFailure;
}

#ifdef ACPSTORE_WITH_POSTGRES
int RunVerifyPostgres(const std::string& url, const std::string& schema,
                      bool as_json) {
  Result<postgres::PgCheckReport> report =
      postgres::CheckPostgres(url, schema, /*decode_records=*/true);
  if (!report) {
    PrintError(report.error().message());
    return kExitFailure;
  }
  const postgres::PgCheckReport& r = *report;
  uint64_t rows = 0;
  for (const auto& table : r.tables) rows += table.second;
  if (as_json) {
    namespace json = boost::json;
    json::object o;
    o["ok"] = r.ok();
    o["postgresSchema"] = r.schema;
    o["schemaVersion"] = r.schema_version;
    json::object tables;
    for (const auto& [name, n] : r.tables) tables[name] = n;
    o["tables"] = std::move(tables);
    o["recordsDecoded"] = r.rows_decoded;
    o["eventPayloadsChecked"] = r.event_payloads_checked;
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
    o["damaged"] = r.damaged;
    json::array damaged;
    for (const std::string& d : r.damaged_rows) damaged.push_back(json::value(d));
    o["damagedRows"] = std::move(damaged);
    std::cout << json::serialize(o) << std::endl;
    return r.ok() ? kExitOk : kExitFailure;
  }
  for (const postgres::PgCounterMismatch& m : r.mismatches) {
    std::string what;
    for (const std::string& p : m.problems) what += (what.empty() ? "" : "; ") + p;
    std::cout << "counters disagree: session " << m.session_id << " (tenant "
              << m.tenant_id << "): " << what << "\n";
  }
  for (const std::string& d : r.damaged_rows) {
    std::cout << "damaged: " << d << "\n";
  }
  std::string verdict = "OK";
  if (!r.ok()) {
    verdict.clear();
    if (r.mismatched_sessions > 0) {
      verdict = Plural(r.mismatched_sessions, "session") +
                " whose counters disagree with their rows";
    }
    if (r.damaged > 0) {
      verdict += (verdict.empty() ? "" : ", ") + Plural(r.damaged, "damaged row");
    }
  }
  std::cout << "checked postgres schema \"" << r.schema << "\" (version "
            << r.schema_version << "): " << Plural(rows, "row") << ", "
            << Plural(r.rows_decoded, "record") << " decoded, "
            << Plural(r.event_payloads_checked, "event payload")
            << " checked: " << verdict
            << std::endl;
  return r.ok() ? kExitOk : kExitFailure;
}
constexpr StoreReport::OnPostgres kRunVerifyPostgres = &RunVerifyPostgres;
#else
constexpr StoreReport::OnPostgres kRunVerifyPostgres = nullptr;
#endif

}  // namespace

void AddVerifyCommand(CLI::App& root, Runner* run) {
  AddStoreReportCommand(
      root, run,
      StoreReport{"verify",
                  "Check every checksum in a file-engine data directory, or "
                  "the counters "
                  "and records of a postgres-engine schema; exit 1 on damage",
                  "Verify this postgres-engine database instead of --data-dir",
                  &RunVerify, kRunVerifyPostgres});
}

}  // namespace acpstore::cli
