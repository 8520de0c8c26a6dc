// A stored row of the postgres engine whose record does not decode (a
// hand edit, a bad restore, a bug) is damage, answered as the file engine
// answers a record failing its checksum (SPEC §3, §5, §10): `500
// data_loss`, never the generic `internal`, naming the table and the key
// of the row, while every other row keeps being served; /readyz reports
// it. Found by a probe: a truncated record answered `500 internal`.
//
//   - GET of a damaged action, session (its events too) and pause, and a
//     write that must read the damaged action (cancel): data_loss naming
//     the row; its neighbours read fine; /readyz counts the reads;
//   - a record of a newer format version is not damage (SPEC §3): still
//     refused, but not as data_loss;
//   - listings: a page that holds a damaged row answers data_loss naming
//     it rather than leaving it out (hiding it would be silent data loss);
//     a page, or a filter, that does not hold it is served;
//   - a lease passes over a damaged queued action to the next one, counts
//     it and logs it once;
//   - an event whose payload is not valid JSON fails the events page, and
//     SSE, naming (tenant, session, seq); the pages after it are served;
//     so does one nested a million levels deep, without a crash;
//   - a session, action or pause row whose columns disagree with its
//     record, or whose record holds a string that is not UTF-8 or a
//     metadata map that is not a JSON object, is damage as verify reports
//     it.
//
// Over HTTP against a real `acpstore serve --engine postgres`. Needs the
// test PostgreSQL (ACPSTORE_TEST_POSTGRES_URL); without it every test
// fails.

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "../crash/serve_harness.h"
#include "net/http_client.h"
#include "pg_servers.h"

namespace acpstore::pgtest {
namespace {

namespace json = boost::json;

class DamagedRowsTest : public PgServersTest {
 protected:
  void SetUp() override {
    PgServersTest::SetUp();
    server_ = StartServer();
    ASSERT_TRUE(server_);
    http_.emplace(Client(server_->port()));
  }

  net::HttpClient& http() { return *http_; }

  // Sends a request as `c`; its response (status 0 when it was not
  // answered).
  static net::Response SendAs(net::HttpClient& c, const std::string& method,
                              const std::string& target,
                              const std::string& body = "") {
    Result<net::Response> r = c.Request(method, target, body);
    EXPECT_TRUE(r.ok()) << method << " " << target << ": " << r.error();
    return r.ok() ? *r : net::Response{};
  }
  // The same as the admin.
  net::Response Send(const std::string& method, const std::string& target,
                     const std::string& body = "") {
    return SendAs(http(), method, target, body);
  }

  // A new writer key made by the admin: its id and token.
  std::pair<std::string, std::string> NewWriterKey() {
    net::Response r = Send("POST", "/v1/keys", R"({"role":"writer"})");
    EXPECT_EQ(r.status, 201) << r.body;
    if (r.status != 201) return {};
    json::value v = r.Json();
    return {std::string(v.at("key").at("id").as_string()),
            std::string(v.at("token").as_string())};
  }

  void Created(const std::string& target, const std::string& body) {
    net::Response r = Send("POST", target, body);
    ASSERT_EQ(r.status, 201) << target << " " << body << ": " << r.body;
  }

  // Cuts the last bytes off the record of `table`'s rows matching `where`:
  // what a hand edit or a torn restore leaves.
  void Damage(const std::string& table, const std::string& where) {
    ASSERT_TRUE(Sql("UPDATE \"" + schema() + "\"." + table +
                    " SET record = substring(record from 1 for "
                    "length(record) - 3) WHERE " + where)
                    .has_value());
  }

  // A `500 data_loss` whose message names `row` ("<table> (<key>)").
  static void ExpectDataLoss(const net::Response& r, const std::string& row) {
    EXPECT_EQ(r.status, 500) << r.body;
    EXPECT_EQ(r.ErrorCode(), "data_loss") << r.body;
    EXPECT_NE(r.body.find(" in " + row + " is damaged: "), std::string::npos)
        << r.body;
  }

  // A field of the error body's "error" object; "" when there is none.
  static std::string ErrorField(const net::Response& r, const char* key) {
    json::value v = r.Json();
    const json::value* error = v.is_object() ? v.as_object().if_contains("error")
                                             : nullptr;
    const json::value* field =
        error != nullptr && error->is_object() ? error->as_object().if_contains(key)
                                               : nullptr;
    return field != nullptr && field->is_string() ? std::string(field->as_string())
                                                  : "";
  }

  std::vector<std::string> Ids(const net::Response& r, const char* list,
                               const char* id) {
    std::vector<std::string> out;
    json::value v = r.Json();
    if (!v.is_object()) return out;
    for (const json::value& item : v.at(list).as_array()) {
      out.emplace_back(item.at(id).as_string());
    }
    return out;
  }

  uint64_t DataLossReads() {
    net::Response r = Send("GET", "/readyz");
    EXPECT_EQ(r.status, 200) << r.body;  // damage does not fail readiness
    json::value v = r.Json();
    if (!v.is_object() || !v.as_object().contains("damage")) return 0;
    return static_cast<uint64_t>(v.at("damage").at("dataLossReads").as_int64());
  }

  crash::ServeProcess* server_ = nullptr;
  std::optional<net::HttpClient> http_;
};

TEST_F(DamagedRowsTest, AnUndecodableRowIsDataLossNamingItsTableAndKey) {
  for (const char* id : {"s-1", "s-2"}) {
    Created("/v1/sessions", std::string(R"({"id":")") + id + R"("})");
  }
  for (const char* id : {"a-1", "a-2"}) {
    Created("/v1/actions", std::string(R"({"actionId":")") + id +
                               R"(","sessionId":"s-1","type":"prompt"})");
  }
  ASSERT_EQ(Send("POST", "/v1/sessions/s-1/transitions",
                 R"({"event":"run_started"})")
                .status,
            200);
  Created("/v1/sessions/s-1/pause",
          R"({"reason":"look","requestedBy":"ops","pauseId":"p-1"})");
  EXPECT_EQ(DataLossReads(), 0u);

  // An action.
  Damage("actions", "action_id = 'a-2'");
  net::Response got = Send("GET", "/v1/actions/a-2");
  ExpectDataLoss(got, "actions (default, a-2)");
  EXPECT_NE(got.body.find("stored action in actions (default, a-2)"),
            std::string::npos)
      << got.body;
  EXPECT_EQ(ErrorField(got, "table"), "actions");
  EXPECT_EQ(ErrorField(got, "tenantId"), "default");
  EXPECT_EQ(ErrorField(got, "actionId"), "a-2");
  // A write that reads it fails the same way and writes nothing.
  ExpectDataLoss(Send("POST", "/v1/actions/a-2/cancel", "{}"),
                 "actions (default, a-2)");
  EXPECT_EQ(Send("GET", "/v1/actions/a-1").status, 200);

  // A session: its record, and its events (read with the session's row).
  Damage("sessions", "session_id = 's-2'");
  ExpectDataLoss(Send("GET", "/v1/sessions/s-2"), "sessions (default, s-2)");
  ExpectDataLoss(Send("GET", "/v1/sessions/s-2/events"),
                 "sessions (default, s-2)");
  EXPECT_EQ(Send("GET", "/v1/sessions/s-1").status, 200);

  // A pause.
  Damage("pauses", "pause_id = 'p-1'");
  net::Response pause = Send("GET", "/v1/sessions/s-1/pause");
  ExpectDataLoss(pause, "pauses (default, s-1, p-1)");
  EXPECT_EQ(ErrorField(pause, "sessionId"), "s-1");
  EXPECT_EQ(ErrorField(pause, "pauseId"), "p-1");

  // The reads that met damage, reported where the operator looks (the
  // cancel is a write, not counted).
  EXPECT_EQ(DataLossReads(), 4u);
}

// SPEC §10 "Damage": a listing never leaves a damaged row out (the
// client would take it for gone), and never fails for a row it does not
// show. As the file engine's event pages fail with data_loss when they
// hold a damaged event, and are served after it.
TEST_F(DamagedRowsTest, AListingThatHoldsADamagedRowAnswersDataLossNamingIt) {
  for (const char* id : {"s-1", "s-2", "s-3"}) {
    Created("/v1/sessions", std::string(R"({"id":")") + id + R"("})");
  }
  for (const char* id : {"a-1", "a-2", "a-3"}) {
    Created("/v1/actions", std::string(R"({"actionId":")") + id +
                               R"(","sessionId":"s-1","type":"prompt"})");
  }
  ASSERT_EQ(Send("POST", "/v1/actions/a-1/cancel", "{}").status, 200);
  Damage("actions", "action_id = 'a-2'");

  // Newest first: a-3, a-2, a-1.
  ExpectDataLoss(Send("GET", "/v1/actions"), "actions (default, a-2)");
  net::Response first = Send("GET", "/v1/actions?limit=1");
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(Ids(first, "actions", "actionId"),
            (std::vector<std::string>{"a-3"}));
  const json::value next = first.Json().at("nextCursor");
  ASSERT_TRUE(next.is_string()) << first.body;
  ExpectDataLoss(Send("GET", "/v1/actions?limit=1&cursor=" +
                                 std::string(next.as_string())),
                 "actions (default, a-2)");
  // A filter that leaves it out is served.
  net::Response cancelled = Send("GET", "/v1/actions?status=cancelled");
  ASSERT_EQ(cancelled.status, 200) << cancelled.body;
  EXPECT_EQ(Ids(cancelled, "actions", "actionId"),
            (std::vector<std::string>{"a-1"}));

  // Sessions alike (newest updatedAt first: s-3, s-2, s-1).
  Damage("sessions", "session_id = 's-2'");
  ExpectDataLoss(Send("GET", "/v1/sessions"), "sessions (default, s-2)");
  net::Response newest = Send("GET", "/v1/sessions?limit=1");
  ASSERT_EQ(newest.status, 200) << newest.body;
  EXPECT_EQ(Ids(newest, "sessions", "id"), (std::vector<std::string>{"s-3"}));
}

// A row the engine picks itself costs no more than itself (SPEC §10
// "Damage"): found by review, one damaged queued action answered every
// lease of its tenant with data_loss, for ever. The lease passes over it;
// each lease that met it counts (/readyz, /metrics) and the server logs
// the row once. (The sweeps and the bound: damaged_rows_store_test.cc.)
TEST_F(DamagedRowsTest, ALeasePassesOverADamagedActionAndReportsIt) {
  Created("/v1/sessions", R"({"id":"s-1"})");
  for (const char* id : {"a-1", "a-2"}) {
    Created("/v1/actions", std::string(R"({"actionId":")") + id +
                               R"(","sessionId":"s-1","type":"prompt"})");
  }
  Damage("actions", "action_id = 'a-1'");

  net::Response leased = Send("POST", "/v1/actions/lease", "{}");
  ASSERT_EQ(leased.status, 200) << leased.body;
  EXPECT_EQ(leased.Json().at("actionId").as_string(), "a-2");
  EXPECT_EQ(Send("POST", "/v1/actions/lease", "{}").status, 204);

  EXPECT_EQ(DataLossReads(), 2u);
  net::Response metrics = Send("GET", "/metrics");
  EXPECT_NE(metrics.body.find("\nacpstore_data_loss_reads_total 2\n"),
            std::string::npos)
      << metrics.body;
  const std::string log = server_->Stderr();
  const std::string named = "stored action in actions (default, a-1) is damaged";
  const size_t first = log.find(named);
  EXPECT_NE(first, std::string::npos) << log;
  EXPECT_EQ(log.find(named, first + 1), std::string::npos) << log;
  // Still there, still damage on a direct read.
  ExpectDataLoss(Send("GET", "/v1/actions/a-1"), "actions (default, a-1)");
}

// An event's payload is checked on read too: found by review, a payload
// damaged in the database (not valid JSON) was returned as it was, by the
// listing, the replay and SSE, so clients got invalid JSON. As a damaged
// record: data_loss naming the row (tenant, session, seq), counted; the
// pages that do not hold it are served.
TEST_F(DamagedRowsTest, AnEventWhosePayloadIsNotJsonIsDataLossNamingIt) {
  Created("/v1/sessions", R"({"id":"s-1"})");
  for (int i = 1; i <= 3; ++i) {
    Created("/v1/sessions/s-1/events",
            R"({"eventType":"note","payload":{"i":)" + std::to_string(i) +
                "}}");
  }
  ASSERT_TRUE(Sql("UPDATE \"" + schema() + "\".events SET payload = "
                  "'{\"i\":' WHERE seq = 2")
                  .has_value());

  net::Response listed = Send("GET", "/v1/sessions/s-1/events");
  EXPECT_EQ(listed.status, 500) << listed.body;
  EXPECT_EQ(listed.ErrorCode(), "data_loss") << listed.body;
  EXPECT_NE(listed.body.find("stored event in events (default, s-1, 2) is "
                             "damaged: its payload is not valid JSON"),
            std::string::npos)
      << listed.body;
  EXPECT_EQ(ErrorField(listed, "table"), "events");
  EXPECT_EQ(ErrorField(listed, "sessionId"), "s-1");
  EXPECT_NE(listed.body.find("\"seq\":2"), std::string::npos) << listed.body;
  // The payload's bytes are never echoed.
  EXPECT_EQ(listed.body.find("{\\\"i\\\":"), std::string::npos) << listed.body;

  net::Response after = Send("GET", "/v1/sessions/s-1/events?after=2");
  ASSERT_EQ(after.status, 200) << after.body;
  EXPECT_NE(after.body.find("\"eventSeq\":3"), std::string::npos) << after.body;
  net::Response first = Send("GET", "/v1/sessions/s-1/events?limit=1");
  ASSERT_EQ(first.status, 200) << first.body;

  // SSE replays from the start: the stream ends with the error frame.
  net::Response stream = Send("GET", "/v1/sessions/s-1/events/stream");
  EXPECT_NE(stream.body.find("event: error"), std::string::npos) << stream.body;
  EXPECT_NE(stream.body.find("events (default, s-1, 2) is damaged"),
            std::string::npos)
      << stream.body;
  EXPECT_GE(DataLossReads(), 2u);
}

// A stored payload is untrusted input (a hand edit, an older release): one
// nesting 1,000,000 deep (inserted by SQL; 100,000 fit in 8 MiB of stack,
// barely) is checked without exhausting the stack (found by review: the
// check ran Boost.JSON's parser, which recurses once per level, with a cap
// of 2^20, and the server died with SIGSEGV). It is damage as any invalid payload: the events page, the
// replay and an append deduplicating against it (its clientEventId) answer
// data_loss naming it; the transcript still answers, without folding the
// damaged payloads and saying it is incomplete (found by review: it folded
// them as they were and called itself complete); the server lives on.
TEST_F(DamagedRowsTest, ADeeplyNestedStoredPayloadIsDataLossNotACrash) {
  Created("/v1/sessions", R"({"id":"s-1"})");
  for (int i = 1; i <= 3; ++i) {
    Created("/v1/sessions/s-1/events",
            R"({"eventType":"message.delta","clientEventId":"c-)" +
                std::to_string(i) + R"(","payload":{"text":"t)" +
                std::to_string(i) + R"("}})");
  }
  ASSERT_TRUE(Sql("UPDATE \"" + schema() + "\".events SET payload = "
                  "repeat('[', 1000000) WHERE seq = 2")
                  .has_value());
  ASSERT_TRUE(Sql("UPDATE \"" + schema() + "\".events SET payload = "
                  "'{\"text\":' || repeat('[', 1000000) WHERE seq = 3")
                  .has_value());
  const std::string named =
      "stored event in events (default, s-1, 2) is damaged: its payload is "
      "not valid JSON";

  net::Response listed = Send("GET", "/v1/sessions/s-1/events");
  EXPECT_EQ(listed.ErrorCode(), "data_loss") << listed.body;
  EXPECT_NE(listed.body.find(named), std::string::npos) << listed.body;
  net::Response third = Send("GET", "/v1/sessions/s-1/events?after=2");
  EXPECT_EQ(third.ErrorCode(), "data_loss") << third.body;
  EXPECT_NE(third.body.find("events (default, s-1, 3) is damaged"),
            std::string::npos)
      << third.body;
  net::Response stream = Send("GET", "/v1/sessions/s-1/events/stream");
  EXPECT_NE(stream.body.find(named), std::string::npos) << stream.body;
  net::Response again = Send(
      "POST", "/v1/sessions/s-1/events",
      R"({"eventType":"message.delta","clientEventId":"c-2","payload":{}})");
  EXPECT_EQ(again.ErrorCode(), "data_loss") << again.body;
  EXPECT_NE(again.body.find(named), std::string::npos) << again.body;
  net::Response transcript = Send("GET", "/v1/sessions/s-1/transcript");
  ASSERT_EQ(transcript.status, 200) << transcript.body;
  const json::value page = transcript.Json();
  EXPECT_EQ(page.at("complete"), false) << transcript.body;
  ASSERT_EQ(page.at("entries").as_array().size(), 1u) << transcript.body;
  EXPECT_EQ(page.at("entries").at(0).at("text"), "t1") << transcript.body;

  // Still serving, and the damage counted.
  EXPECT_EQ(server_->Wait(std::chrono::milliseconds(0)), std::nullopt)
      << server_->Stderr();
  EXPECT_EQ(Send("GET", "/v1/sessions/s-1").status, 200);
  EXPECT_GE(DataLossReads(), 3u);
}

// A session row whose columns disagree with its record (verify: "session
// owner_key_id column ..., but its record says ...") was served as data
// (found by an outside tester): listed to the owner its column names with
// the record's other owner, 404 to that owner, 200 to the record's. Every
// read of it is now data_loss naming it, as verify names it; and so is a
// record string that is not UTF-8 (it reached a response raw).
TEST_F(DamagedRowsTest, ASessionWhoseColumnsDisagreeWithItsRecordIsDataLoss) {
  const auto [o1, o1_token] = NewWriterKey();
  const auto [x1, x1_token] = NewWriterKey();
  net::HttpClient owner(server_->port(), o1_token);
  net::HttpClient writer(server_->port(), x1_token);
  auto send = [](net::HttpClient& c, const std::string& target) {
    return SendAs(c, "GET", target);
  };
  ASSERT_EQ(writer.Request("POST", "/v1/sessions", R"({"id":"p2"})")->status,
            201);
  ASSERT_EQ(owner.Request("POST", "/v1/sessions", R"({"id":"p1"})")->status,
            201);
  ASSERT_EQ(owner.Request("POST", "/v1/sessions", R"({"id":"p3","correlationId":"corr-x"})")
                ->status,
            201);
  ASSERT_TRUE(Sql("UPDATE \"" + schema() + "\".sessions SET owner_key_id = '" +
                  o1 + "' WHERE session_id = 'p2'")
                  .has_value());
  const std::string row = "sessions (default, p2)";
  // As verify says it, in the JSON body's escapes.
  const std::string why = R"(session owner_key_id column \")" + o1 +
                          R"(\", but its record says \")" + x1 + R"(\")";
  for (net::HttpClient* c : {&owner, &writer, &*http_}) {
    net::Response got = send(*c, "/v1/sessions/p2");
    ExpectDataLoss(got, row);
    EXPECT_NE(got.body.find(why), std::string::npos) << got.body;
    ExpectDataLoss(send(*c, "/v1/sessions/p2/events"), row);
  }
  ExpectDataLoss(send(owner, "/v1/sessions"), row);
  ExpectDataLoss(send(http(), "/v1/sessions"), row);
  EXPECT_EQ(send(owner, "/v1/sessions/p1").status, 200);

  // A record string no column holds, made invalid UTF-8 (0xff).
  ASSERT_TRUE(Sql("UPDATE \"" + schema() + "\".sessions SET record = "
                  "set_byte(record, position('\\x636f72722d78'::bytea in "
                  "record) - 1, 255) WHERE session_id = 'p3'")
                  .has_value());
  net::Response bad = send(owner, "/v1/sessions/p3");
  ExpectDataLoss(bad, "sessions (default, p3)");
  EXPECT_NE(bad.body.find(R"(correlation_id \"\\xffo)"), std::string::npos)
      << bad.body;
  EXPECT_GE(DataLossReads(), 9u);
}

// Action and pause rows alike (found by review, after the session rows
// above): the engine lists and leases actions by their columns (owner,
// session, status, type, times) and answers with the record. An action
// whose owner_key_id column named another key was listed to that key with
// the record's ownerKeyId and cancelled by the record's; that key's lease
// met it first, found nothing it could lease in it and answered 204 with
// an action of its own waiting; a 0xff byte in an action's or a pause's
// record string reached a response raw. Every read of such a row is now
// data_loss naming it as verify names it, a write that loads it too, and
// a lease passes over it to the next action.
TEST_F(DamagedRowsTest, AnActionOrPauseWhoseColumnsDisagreeWithItsRecordIsDataLoss) {
  const auto [o1, o1_token] = NewWriterKey();
  const auto [x1, x1_token] = NewWriterKey();
  net::HttpClient owner(server_->port(), o1_token);
  net::HttpClient writer(server_->port(), x1_token);
  auto created = [&](net::HttpClient& c, const std::string& target,
                     const std::string& body) {
    net::Response r = SendAs(c, "POST", target, body);
    EXPECT_EQ(r.status, 201) << target << " " << body << ": " << r.body;
  };
  created(writer, "/v1/sessions", R"({"id":"sx"})");
  created(owner, "/v1/sessions", R"({"id":"so"})");
  // ax first in the lease order, then o1's own ao.
  created(writer, "/v1/actions",
          R"({"actionId":"ax","sessionId":"sx","type":"prompt"})");
  created(owner, "/v1/actions",
          R"({"actionId":"ao","sessionId":"so","type":"prompt"})");
  created(writer, "/v1/actions",
          R"({"actionId":"ay","sessionId":"sx","type":"approve",)"
          R"("approvalId":"appr-y"})");
  ASSERT_TRUE(Sql("UPDATE \"" + schema() + "\".actions SET owner_key_id = '" +
                  o1 + "' WHERE action_id = 'ax'")
                  .has_value());
  const std::string row = "actions (default, ax)";
  const std::string why = R"(action owner_key_id column \")" + o1 +
                          R"(\", but its record says \")" + x1 + R"(\")";
  for (net::HttpClient* c : {&owner, &writer, &*http_}) {
    net::Response got = SendAs(*c, "GET", "/v1/actions/ax");
    ExpectDataLoss(got, row);
    EXPECT_NE(got.body.find(why), std::string::npos) << got.body;
  }
  ExpectDataLoss(SendAs(owner, "GET", "/v1/actions"), row);
  ExpectDataLoss(SendAs(http(), "GET", "/v1/actions?sessionId=sx"), row);
  EXPECT_EQ(SendAs(owner, "GET", "/v1/actions/ao").status, 200);
  // Its column's owner leases past it; its record's cannot cancel it.
  net::Response leased = SendAs(owner, "POST", "/v1/actions/lease", "{}");
  ASSERT_EQ(leased.status, 200) << leased.body;
  EXPECT_EQ(leased.Json().at("actionId").as_string(), "ao");
  ExpectDataLoss(SendAs(writer, "POST", "/v1/actions/ax/cancel", "{}"), row);

  // A record string no column holds, made invalid UTF-8 (0xff).
  ASSERT_TRUE(Sql("UPDATE \"" + schema() + "\".actions SET record = "
                  "set_byte(record, position('\\x617070722d79'::bytea in "
                  "record) - 1, 255) WHERE action_id = 'ay'")
                  .has_value());
  net::Response bad = SendAs(writer, "GET", "/v1/actions/ay");
  ExpectDataLoss(bad, "actions (default, ay)");
  EXPECT_NE(bad.body.find(R"(approval_id \"\\xffppr-y\")"), std::string::npos)
      << bad.body;

  // Pauses: a status column that disagrees, and a reason made invalid.
  for (net::HttpClient* c : {&writer, &owner}) {
    const std::string id = c == &writer ? "sx" : "so";
    ASSERT_EQ(SendAs(*c, "POST", "/v1/sessions/" + id + "/transitions",
                   R"({"event":"run_started"})")
                  .status,
              200);
    created(*c, "/v1/sessions/" + id + "/pause",
            R"({"reason":"why-)" + id + R"(","requestedBy":"ops","pauseId":"p-)" +
                id + R"("})");
  }
  ASSERT_TRUE(Sql("UPDATE \"" + schema() + "\".pauses SET status = 2 "
                  "WHERE pause_id = 'p-sx'")
                  .has_value());
  net::Response pause = SendAs(writer, "GET", "/v1/sessions/sx/pause");
  ExpectDataLoss(pause, "pauses (default, sx, p-sx)");
  EXPECT_NE(pause.body.find("pause status column 2, but its record says 0"),
            std::string::npos)
      << pause.body;
  ExpectDataLoss(SendAs(writer, "POST", "/v1/sessions/sx/resume",
                      R"({"resumedBy":"ops"})"),
                 "pauses (default, sx, p-sx)");
  ASSERT_TRUE(Sql("UPDATE \"" + schema() + "\".pauses SET record = "
                  "set_byte(record, position('\\x7768792d736f'::bytea in "
                  "record) - 1, 255) WHERE pause_id = 'p-so'")
                  .has_value());
  net::Response reason = SendAs(owner, "GET", "/v1/sessions/so/pause");
  ExpectDataLoss(reason, "pauses (default, so, p-so)");
  EXPECT_NE(reason.body.find(R"(reason \"\\xffhy-so\")"), std::string::npos)
      << reason.body;
  // 3 GETs of ax, 2 listings, 1 of ay, 2 of the pauses, and the lease.
  EXPECT_EQ(DataLossReads(), 9u);
}

// A metadata map is JSON that responses embed as it is (found by review:
// only its UTF-8 was checked). One whose stored text is not a JSON object
// answered 200 with a body no client could parse; it is now data_loss
// naming the row and the field, for sessions, actions and pauses alike.
TEST_F(DamagedRowsTest, AMetadataMapThatIsNotJsonIsDataLoss) {
  Created("/v1/sessions", R"({"id":"m1","backendMetadata":{"zz":"mq"}})");
  Created("/v1/sessions", R"({"id":"m2"})");
  Created("/v1/actions", R"({"actionId":"am","sessionId":"m2","type":"prompt",)"
                         R"("metadata":{"zz":"mq"}})");
  ASSERT_EQ(Send("POST", "/v1/sessions/m2/transitions",
                 R"({"event":"run_started"})")
                .status,
            200);
  Created("/v1/sessions/m2/pause",
          R"({"reason":"r","requestedBy":"ops","pauseId":"pm",)"
          R"("metadata":{"zz":"mq"}})");
  EXPECT_EQ(Send("GET", "/v1/sessions/m1").status, 200);
  // {"zz":"mq"} becomes {"zz":"mqx} (the closing quote made an x): still
  // UTF-8, no longer JSON.
  for (const auto& [table, where] :
       {std::pair{std::string("sessions"), std::string("session_id = 'm1'")},
        {std::string("actions"), std::string("action_id = 'am'")},
        {std::string("pauses"), std::string("pause_id = 'pm'")}}) {
    ASSERT_TRUE(Sql("UPDATE \"" + schema() + "\"." + table +
                    " SET record = set_byte(record, position('\\x6d71227d'::"
                    "bytea in record) + 1, 120) WHERE " + where)
                    .has_value());
  }
  net::Response session = Send("GET", "/v1/sessions/m1");
  ExpectDataLoss(session, "sessions (default, m1)");
  EXPECT_NE(session.body.find(R"(backend_metadata \"{\"zz\":\"mqx}\" is not a JSON object)"),
            std::string::npos)
      << session.body;
  ExpectDataLoss(Send("GET", "/v1/sessions"), "sessions (default, m1)");
  net::Response action = Send("GET", "/v1/actions/am");
  ExpectDataLoss(action, "actions (default, am)");
  EXPECT_NE(action.body.find("action metadata "), std::string::npos)
      << action.body;
  net::Response pause = Send("GET", "/v1/sessions/m2/pause");
  ExpectDataLoss(pause, "pauses (default, m2, pm)");
  EXPECT_NE(pause.body.find("is not a JSON object"), std::string::npos)
      << pause.body;
  // Its neighbours are served.
  EXPECT_EQ(Send("GET", "/v1/sessions/m2").status, 200);
}

// SPEC §3: a newer release's record is not damage. The engine still cannot
// read it, but says so rather than data_loss (and /readyz counts nothing).
TEST_F(DamagedRowsTest, ARecordOfANewerFormatIsNotDataLoss) {
  Created("/v1/sessions", R"({"id":"s-1"})");
  Created("/v1/actions",
          R"({"actionId":"a-1","sessionId":"s-1","type":"prompt"})");
  // The version byte leads the encoding.
  ASSERT_TRUE(Sql("UPDATE \"" + schema() + "\".actions SET record = "
                  "set_byte(record, 0, get_byte(record, 0) + 1)")
                  .has_value());
  net::Response got = Send("GET", "/v1/actions/a-1");
  EXPECT_EQ(got.status, 500) << got.body;
  EXPECT_EQ(got.ErrorCode(), "internal") << got.body;
  EXPECT_EQ(DataLossReads(), 0u);
}

}  // namespace
}  // namespace acpstore::pgtest
