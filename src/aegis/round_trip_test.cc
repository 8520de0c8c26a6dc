// Rollback: import, export, and then
//   - a checker that applies Aegis's load rules (docs/aegis_format.md,
//     "What Aegis refuses") to the exported file finds nothing Aegis would
//     refuse and no field Aegis does not know;
//   - importing the export again gives the same state (compared through a
//     second export and the Store API).
// The checker is written here from the format's field tables, so it
// cannot drift with the writer.

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <set>

#include "acpstore/blocking_store.h"
#include "aegis/aegis_test_util.h"
#include "base/time_format.h"

namespace acpstore::aegis {
namespace {

namespace json = boost::json;

// The fields Aegis's version-1 file has, per collection.
const std::set<std::string> kSessionFields = {
    "id", "tenantId", "ownerKeyId", "conversationId", "transcriptId",
    "status", "createdAt", "updatedAt", "closedAt", "failedAt",
    "parentSessionId", "rootSessionId", "correlationId", "resumeFromSessionId",
    "acpAgentSessionId", "claudeSessionId", "currentBackendRunId",
    "backendMetadata", "validationWarnings", "permissionMode"};
const std::set<std::string> kEventFields = {
    "eventId", "sessionId", "tenantId", "ownerKeyId", "eventSeq", "eventType",
    "occurredAt", "ingestedAt", "payload", "backendRunId", "payloadRef"};
const std::set<std::string> kActionFields = {
    "actionId", "sessionId", "tenantId", "ownerKeyId", "actionType",
    "status", "createdAt", "availableAt", "leasedUntil", "attemptCount",
    "metadata", "idempotencyKey", "approvalId", "controlRequestId",
    "resultMetadata", "errorMetadata", "completedAt", "failedAt",
    "cancelledAt"};
const std::set<std::string> kPauseFields = {
    "pauseId", "sessionId", "tenantId", "ownerKeyId", "status", "reason",
    "requestedBy", "requestedAt", "updatedAt", "idempotencyKey", "metadata",
    "interventionId", "interventionBy", "interventionStartedAt",
    "interventionCompletedBy", "interventionCompletedAt", "guidance",
    "resumedBy", "resumedAt", "resumeMetadata"};

// Aegis refuses to boot on these; a syntax error makes it start empty.
std::vector<std::string> AegisWouldRefuse(const std::string& text) {
  std::vector<std::string> out;
  json::error_code ec;
  json::value doc = json::parse(text, ec);
  if (ec || !doc.is_object()) return {"not a JSON object: " + ec.message()};
  const json::object& top = doc.as_object();
  if (!top.contains("version") || !top.at("version").is_int64() ||
      top.at("version").as_int64() != 1) {
    out.push_back("$.version is not 1");
  }
  auto array = [&](const char* key, bool required) -> const json::array* {
    if (!top.contains(key)) {
      if (required) out.push_back(std::string("$.") + key + " missing");
      return nullptr;
    }
    if (!top.at(key).is_array()) {
      out.push_back(std::string("$.") + key + " not an array");
      return nullptr;
    }
    return &top.at(key).as_array();
  };
  auto iso = [](const json::object& o, const char* key) {
    return o.contains(key) && o.at(key).is_string() &&
           base::ParseIso8601(std::string(o.at(key).as_string())).has_value();
  };
  auto check = [&](const json::array* items, const char* name,
                   const std::set<std::string>& known,
                   std::initializer_list<const char*> dates,
                   const char* must) {
    if (items == nullptr) return;
    for (size_t i = 0; i < items->size(); ++i) {
      const std::string path =
          std::string("$.") + name + "[" + std::to_string(i) + "]";
      if (!(*items)[i].is_object()) {
        out.push_back(path + " not an object");
        continue;
      }
      const json::object& o = (*items)[i].as_object();
      for (const auto& [k, v] : o) {
        if (known.count(std::string(k)) == 0) {
          out.push_back(path + "." + std::string(k) + ": unknown to Aegis");
        }
        if (v.is_null() && std::string(k).find("etadata") == std::string::npos) {
          out.push_back(path + "." + std::string(k) + ": null");
        }
      }
      for (const char* d : dates) {
        if (!iso(o, d)) out.push_back(path + "." + d + ": not an ISO date");
      }
      if (must != nullptr && !o.contains(must)) {
        out.push_back(path + "." + must + ": missing");
      }
    }
  };
  check(array("sessions", true), "sessions", kSessionFields, {}, nullptr);
  check(array("events", true), "events", kEventFields,
        {"occurredAt", "ingestedAt"}, "payload");
  check(array("actions", true), "actions", kActionFields,
        {"createdAt", "availableAt"}, "actionType");
  check(array("pauseInterventions", false), "pauseInterventions",
        kPauseFields, {"requestedAt", "updatedAt"}, nullptr);
  // Session times are epoch milliseconds.
  if (const json::array* s = array("sessions", true)) {
    for (const json::value& v : *s) {
      if (!v.is_object()) continue;
      for (const char* k : {"createdAt", "updatedAt"}) {
        if (!v.as_object().contains(k) || !v.as_object().at(k).is_int64()) {
          out.push_back(std::string("a session's ") + k + " is not epoch ms");
        }
      }
    }
  }
  return out;
}

TEST(RoundTripTest, AegisLoadsTheExportAndReimportGivesTheSameState) {
  io::TempDir dir;
  ImportOptions options;
  options.map.limits.max_payload_bytes = 4096;
  auto first = MemoryStoreForTest();
  ASSERT_TRUE(
      RunImport(TestData("aegis_v1.pretty.json"), first.target(), options)
          .report.ok());
  const std::string exported = ExportToString(first.target(), dir, "1.json");
  const std::vector<std::string> refused = AegisWouldRefuse(exported);
  EXPECT_TRUE(refused.empty()) << refused[0];
  EXPECT_NE(exported.find(R"("actionType":"approve")"), std::string::npos);
  EXPECT_NE(exported.find(R"("permissionMode":"acceptEdits")"),
            std::string::npos);
  EXPECT_EQ(exported.find("lastEventSeq"), std::string::npos);

  // The second import goes into the file engine, through a reopen; it has
  // nothing left to repair.
  const std::string data = dir.Join("data");
  {
    auto second = OpenForTest(FileOptionsForTest(data));
    ImportRun run = RunImport(dir.Join("1.json"), second.target(), options);
    ASSERT_TRUE(run.report.ok()) << run.report.error();
    // What is reported every time: a payload over the (lowered) live
    // limit, and permissionMode moving into backendMetadata.
    for (const std::string& p : run.problems) {
      EXPECT_TRUE(p.find("over --max-payload-bytes") != std::string::npos ||
                  p.find("kept as backendMetadata.permissionMode") !=
                      std::string::npos)
          << p;
    }
    EXPECT_EQ(run.problems.size(), 2u);
  }
  auto second = OpenForTest(FileOptionsForTest(data));
  EXPECT_EQ(ExportToString(second.target(), dir, "2.json"), exported);
  StoreStats a = first->Stats(), b = second->Stats();
  EXPECT_EQ(a.sessions, b.sessions);
  EXPECT_EQ(a.events_retained, b.events_retained);
  EXPECT_EQ(a.event_payload_bytes, b.event_payload_bytes);
  EXPECT_EQ(a.actions, b.actions);
  EXPECT_EQ(a.pauses, b.pauses);
  BlockingStore da(*first), db(*second);
  const Scope alice{"acme", "key_alice", Scope::Access::kOwner};
  EXPECT_EQ(da.GetSession(alice, "sess-main")->status,
            db.GetSession(alice, "sess-main")->status);
  EXPECT_EQ(da.GetPause(alice, "sess-main")->reason,
            db.GetPause(alice, "sess-main")->reason);
}

TEST(RoundTripTest, ExportWarnsWhatRollbackCannotCarry) {
  io::TempDir dir;
  // A session whose events were all dropped keeps its high-water mark
  // (written by acpstore's earlier exports as lastEventSeq).
  const std::string file = dir.Join("in.json");
  std::ofstream(file) << R"({"version":1,"sessions":[{"id":"gone",)"
                         R"("tenantId":"acme","ownerKeyId":"key_alice",)"
                         R"("conversationId":"c","transcriptId":"t",)"
                         R"("status":"closed","createdAt":1,"updatedAt":2,)"
                         R"("lastEventSeq":5},{"id":"one",)"
                         R"("tenantId":"acme","ownerKeyId":"key_alice",)"
                         R"("conversationId":"c","transcriptId":"t",)"
                         R"("status":"closed","createdAt":1,"updatedAt":2,)"
                         R"("lastEventSeq":1}],"events":[],"actions":[]})";
  auto store = MemoryStoreForTest();
  ASSERT_TRUE(RunImport(file, store.target()).report.ok());
  BlockingStore db(*store);
  const Scope alice{"acme", "key_alice", Scope::Access::kOwner};
  ASSERT_TRUE(db.CreateSession(alice, {.id = "many"}).ok());
  for (int i = 0; i < 1001; ++i) {
    ASSERT_TRUE(
        db.Append(alice, "many", {.event_type = "x", .payload = "1"}).ok());
  }
  Result<ExportReport> r = ExportAegis(store.target(), dir.Join("x.json"));
  ASSERT_TRUE(r.ok()) << r.error();
  ASSERT_EQ(r->warnings.size(), 3u);
  EXPECT_NE(r->warnings[0].find("session gone"), std::string::npos);
  EXPECT_NE(r->warnings[0].find("seqs 1..5 and their event ids would be "
                                "reused after rollback"),
            std::string::npos)
      << r->warnings[0];
  EXPECT_NE(r->warnings[1].find("1001 events; Aegis keeps at most 1000"),
            std::string::npos)
      << r->warnings[1];
  // One seq is one seq (it said "seqs 1..1 and their event ids").
  EXPECT_NE(r->warnings[2].find("session one (tenant acme): its stream's "
                                "high-water mark is 1 but the newest kept "
                                "event is none; Aegis numbers new events "
                                "from the newest kept one, so seq 1 and its "
                                "event id would be reused after rollback"),
            std::string::npos)
      << r->warnings[2];
}

}  // namespace
}  // namespace acpstore::aegis
