// docs/openapi.yaml against the server: every status the requests below
// get from an operation is one the document lists under that operation.
// The document had left out answers http_api.md documents and the server
// gives (a lease or listing naming a session out of scope: 404; complete
// and fail by attemptCount from a key that is not a service key: 403, with
// both fields: 400; found by review), and, checking every operation, the
// 403 of a reader and the 400/404 of the action and pause routes. The
// server decides here, not http_api.md: a status the document lacks fails.

#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "server_fixture.h"

namespace acpstore::testing {
namespace {

// operationId -> the status codes its `responses:` lists. The document's
// layout (router_test.cc reads it the same way): a method at four spaces,
// its keys at six, each response at eight as `'NNN': ...`.
std::map<std::string, std::set<int>> DocumentedStatuses() {
  std::ifstream in(ACPSTORE_OPENAPI_PATH);
  EXPECT_TRUE(in.good()) << ACPSTORE_OPENAPI_PATH;
  std::map<std::string, std::set<int>> out;
  std::string line;
  std::string op;
  bool in_paths = false;
  bool in_responses = false;
  while (std::getline(in, line)) {
    if (line == "paths:") in_paths = true;
    if (line == "components:") in_paths = false;
    if (!in_paths) continue;
    const size_t indent = line.find_first_not_of(' ');
    if (indent == std::string::npos) continue;
    if (indent <= 4) {
      op.clear();
      in_responses = false;
    } else if (indent == 6) {
      in_responses = line == "      responses:";
      if (line.rfind("      operationId: ", 0) == 0) op = line.substr(19);
    } else if (indent == 8 && in_responses && line[8] == '\'' &&
               line.size() > 12) {
      out[op].insert(std::stoi(line.substr(9, 3)));
    }
  }
  return out;
}

class OpenApiHttpTest : public HttpTest {
 protected:
  void Configure(server::ServerOptions* o) override {
    o->request_log = [this](const server::RequestLogEntry& e) {
      std::lock_guard<std::mutex> lock(mu_);
      answered_.emplace_back(std::string(e.operation), e.status);
    };
  }
  // `method path` with `body` as `token` must answer `status`.
  HttpResponse Expect(int status, const std::string& token,
                      const std::string& method, const std::string& path,
                      const std::string& body = "",
                      net::HeaderList headers = {}) {
    ++sent_;
    HttpResponse r = Client(token).Do(method, path, body, std::move(headers));
    EXPECT_EQ(r.status, status) << method << " " << path << " " << body
                                << " as " << token << ": " << r.body;
    return r;
  }
  std::vector<std::pair<std::string, int>> Answered() {
    std::lock_guard<std::mutex> lock(mu_);
    return answered_;
  }

  size_t sent_ = 0;  // by Expect
  std::mutex mu_;
  std::vector<std::pair<std::string, int>> answered_;  // (operationId, status)
};

TEST_F(OpenApiHttpTest, EveryStatusTheServerGivesIsDocumented) {
  CreateSession("writer-a", R"({"id":"s"})");
  Expect(201, "writer-a", "POST", "/v1/actions",
         R"({"actionId":"a1","sessionId":"s","type":"prompt"})");
  const net::HeaderList as_writer_a = {{"X-Acpstore-Scope", "tenant-a/key-writer-a"}};

  // The findings: a session out of scope, attemptCount by the wrong key or
  // beside leaseToken.
  Expect(404, "writer-a", "POST", "/v1/actions/lease", R"({"sessionId":"nope"})");
  Expect(404, "writer-a2", "GET", "/v1/actions?sessionId=s");
  HttpResponse lease = Expect(200, "writer-a", "POST", "/v1/actions/lease",
                              R"({"sessionId":"s"})");
  ASSERT_EQ(lease.status, 200);
  const std::string token(lease.Json().at("leaseToken").as_string());
  for (const char* verb : {"complete", "fail"}) {
    const std::string path = "/v1/actions/a1/" + std::string(verb);
    Expect(403, "writer-a", "POST", path, R"({"attemptCount":1})");
    Expect(400, "service", "POST", path,
           R"({"leaseToken":")" + token + R"(","attemptCount":1})", as_writer_a);
    Expect(400, "service", "POST", path, "{}", as_writer_a);
    Expect(403, "reader-a", "POST", path, R"({"leaseToken":"x"})");
    Expect(404, "writer-a", "POST", "/v1/actions/zz/" + std::string(verb),
           R"({"leaseToken":"x"})");
  }
  Expect(400, "writer-a", "POST", "/v1/actions/a1/heartbeat",
         R"({"leaseToken":")" + token + R"("})");
  Expect(403, "reader-a", "POST", "/v1/actions/a1/heartbeat",
         R"({"leaseToken":"x","leaseMs":1000})");
  Expect(404, "writer-a", "POST", "/v1/actions/zz/heartbeat",
         R"({"leaseToken":"x","leaseMs":1000})");
  Expect(400, "writer-a", "POST", "/v1/actions/a1/cancel", R"({"x":1})");
  Expect(403, "reader-a", "POST", "/v1/actions/a1/cancel", "");
  Expect(404, "writer-a", "POST", "/v1/actions/zz/cancel", "");
  Expect(403, "reader-a", "POST", "/v1/actions",
         R"({"sessionId":"s","type":"prompt"})");

  // A reader may not change a session.
  Expect(403, "reader-a", "POST", "/v1/sessions/s/transitions",
         R"({"event":"agent_ready"})");
  Expect(403, "reader-a", "POST", "/v1/sessions/s/events",
         R"({"eventType":"a","payload":1})");
  Expect(403, "reader-a", "DELETE", "/v1/sessions/s");

  // The pause routes: a bad body, a reader, a session out of scope.
  const std::vector<std::pair<std::string, std::string>> pauses = {
      {"pause", R"({"reason":"r","requestedBy":"p"})"},
      {"intervention/start", R"({"interventionBy":"p"})"},
      {"intervention/complete", R"({"interventionId":"i","completedBy":"p"})"},
      {"resume", R"({"resumedBy":"p"})"}};
  for (const auto& [route, body] : pauses) {
    Expect(400, "writer-a", "POST", "/v1/sessions/s/" + route, R"({"x":1})");
    Expect(403, "reader-a", "POST", "/v1/sessions/s/" + route, body);
    Expect(404, "writer-a", "POST", "/v1/sessions/nope/" + route, body);
  }

  // Keys: the service role is refused.
  Expect(400, "admin-a", "POST", "/v1/keys", R"({"role":"service"})");

  const std::map<std::string, std::set<int>> documented = DocumentedStatuses();
  const std::vector<std::pair<std::string, int>> answered = Answered();
  EXPECT_EQ(answered.size(), sent_ + 1);  // and CreateSession's
  for (const auto& [op, status] : answered) {
    ASSERT_FALSE(op.empty()) << "a request matched no route";
    const auto it = documented.find(op);
    ASSERT_NE(it, documented.end()) << op << " is not in docs/openapi.yaml";
    EXPECT_EQ(it->second.count(status), 1u)
        << op << " answered " << status
        << ", which docs/openapi.yaml does not list for it";
  }
}

}  // namespace
}  // namespace acpstore::testing
