// Unit tests: the router without sockets -- route table, matching, the
// shared checks and the error map, over the memory engine.

#include "server/router.h"

#include <gtest/gtest.h>

#include <cctype>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "server/error_map.h"
#include "server/router_fixture.h"

namespace acpstore::server {
namespace {

class RouterTest : public RouterFixture {
 protected:
  Response Run(std::string method, std::string target, std::string body = "",
               std::string token = "w",
               std::string content_type = "application/json") {
    Request req;
    req.method = std::move(method);
    req.target = std::move(target);
    req.body = std::move(body);
    req.content_type = std::move(content_type);
    if (!token.empty()) {
      req.authorization = "Bearer " + token;
      req.has_authorization = true;
    }
    return Handle(std::move(req));
  }
};

TEST(RouteTable, SegmentsRejoinToThePattern) {
  for (const RouteSpec& r : Router::Routes()) {
    std::string joined;
    for (std::string_view seg : r.segments) {
      joined += '/';
      joined += seg;
    }
    EXPECT_EQ(joined, r.pattern);
  }
}

TEST(RouteTable, EveryOperationIdIsUniqueAndMatchesTheSpecList) {
  std::set<std::string_view> ids;
  for (const RouteSpec& r : Router::Routes()) {
    EXPECT_TRUE(ids.insert(r.operation_id).second) << r.operation_id;
  }
  const std::set<std::string_view> want = {
      "createSession",     "listSessions",
      "getSession",        "updateSession",
      "transitionSession", "deleteSession",
      "appendEvents",      "listEvents",
      "streamEvents",      "getTranscript",
      "streamTranscript",
      "enqueueAction",
      "getAction",         "listActions",
      "leaseAction",       "heartbeatAction",
      "completeAction",    "failAction",
      "cancelAction",      "pauseSession",
      "startIntervention", "completeIntervention",
      "resumeSession",     "getPause",
      "createKey",         "revokeKey",
      "healthz",           "readyz",
      "metrics",           "getStats",
      "createBrowserSession", "deleteBrowserSession",
      "consoleRedirect",   "consoleIndex",
      "consoleFile"};
  EXPECT_EQ(ids, want);
}

TEST_F(RouterTest, ResponsesCarryTheirRouteTemplate) {
  Response r = Run("POST", "/v1/sessions", R"({"id":"x"})");
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.route, "/v1/sessions");
  EXPECT_EQ(r.operation, "createSession");
  r = Run("GET", "/v1/sessions/x");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.route, "/v1/sessions/{id}");
}

// A 405's path is a known route: it carries that route's template (the most
// specific one the path matches), not the "-" of an unknown path.
TEST_F(RouterTest, MethodNotAllowedCarriesTheMatchedRouteTemplate) {
  Response r = Run("PUT", "/v1/sessions/x");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.route, "/v1/sessions/{id}");
  EXPECT_EQ(r.operation, "");  // no operation ran
  r = Run("DELETE", "/v1/actions/lease");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.route, "/v1/actions/lease");
  EXPECT_EQ(Run("GET", "/v1/nope").route, "-");
}

TEST_F(RouterTest, ChecksRunInOrder) {
  // Unknown route before credentials.
  EXPECT_EQ(Run("GET", "/v1/nope", "", "").status, 404);
  // Wrong method before credentials, with Allow.
  Response r = Run("PUT", "/v1/sessions", "", "");
  EXPECT_EQ(r.status, 405);
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].first, "Allow");
  // Credentials before role, role before body checks.
  EXPECT_EQ(Run("POST", "/v1/sessions", "{", "").status, 401);
  EXPECT_EQ(Run("POST", "/v1/sessions", "{", "r").status, 403);
  EXPECT_EQ(Run("POST", "/v1/sessions", "{", "w", "text/plain").status, 415);
  EXPECT_EQ(Run("POST", "/v1/sessions", "{", "w").status, 400);
  // Unknown query parameter.
  EXPECT_EQ(Run("GET", "/v1/sessions?x=1").status, 400);
  // No credentials needed for operations routes.
  EXPECT_EQ(Run("GET", "/healthz", "", "").status, 200);
  // Admin-only routes.
  EXPECT_EQ(Run("GET", "/v1/stats", "", "w").status, 403);
  // Key routes without a key manager.
  EXPECT_EQ(Run("DELETE", "/v1/keys/k", "", "w").status, 403);
}

TEST(ErrorMap, EveryStatusCodeMapsToTheSpecTable) {
  struct Row {
    StatusCode code;
    int http;
    const char* name;
  } rows[] = {
      {StatusCode::kInvalidArgument, 400, "invalid_argument"},
      {StatusCode::kUnauthenticated, 401, "unauthenticated"},
      {StatusCode::kForbidden, 403, "forbidden"},
      {StatusCode::kNotFound, 404, "not_found"},
      {StatusCode::kConflict, 409, "conflict"},
      {StatusCode::kInvalidTransition, 409, "invalid_transition"},
      {StatusCode::kSeqConflict, 409, "seq_conflict"},
      {StatusCode::kIdempotencyConflict, 409, "idempotency_conflict"},
      {StatusCode::kStaleLease, 409, "stale_lease"},
      {StatusCode::kAlreadyPaused, 409, "already_paused"},
      {StatusCode::kNotPaused, 409, "not_paused"},
      {StatusCode::kPayloadTooLarge, 413, "payload_too_large"},
      {StatusCode::kResourceExhausted, 429, "too_many_requests"},
      {StatusCode::kUnavailable, 503, "unavailable"},
      {StatusCode::kNotImplemented, 501, "not_implemented"},
      {StatusCode::kInsufficientStorage, 507, "insufficient_storage"},
      {StatusCode::kDataLoss, 500, "data_loss"},
      {StatusCode::kCorruption, 500, "internal"},
      {StatusCode::kIoError, 500, "internal"},
      {StatusCode::kInternal, 500, "internal"},
  };
  for (const Row& row : rows) {
    HttpErrorInfo info = MapStatus(row.code);
    EXPECT_EQ(info.http_status, row.http) << row.name;
    EXPECT_EQ(info.code, row.name);
  }
  EXPECT_EQ(MapHttpError(HttpError::kMethodNotAllowed).http_status, 405);
  EXPECT_EQ(MapHttpError(HttpError::kRequestTimeout).http_status, 408);
  EXPECT_EQ(MapHttpError(HttpError::kUnsupportedMediaType).http_status, 415);
  EXPECT_EQ(MapHttpError(HttpError::kHeaderTooLarge).http_status, 431);
  EXPECT_EQ(MapHttpError(HttpError::kNotImplemented).http_status, 501);
  EXPECT_EQ(MapHttpError(HttpError::kNotImplemented).code, "not_implemented");
}

TEST(ErrorMap, InvalidUtf8InMessagesNeverBreaksTheJson) {
  Response r =
      ErrorResponse(Status::NotFound("no \xC9 here").With("id", "a\xFF"));
  EXPECT_EQ(
      r.body,
      "{\"error\":{\"code\":\"not_found\",\"message\":\"no \xEF\xBF\xBD here\","
      "\"id\":\"a\xEF\xBF\xBD\"}}");
}

bool HasRetryAfter(const Response& r) {
  for (const auto& [key, value] : r.headers) {
    if (key == "Retry-After") return value == "1";
  }
  return false;
}

TEST(ErrorMap, DetailsBecomeErrorFieldsButInternalsDoNot) {
  Response r =
      ErrorResponse(Status::SeqConflict("no").With("lastSeq", int64_t{41}));
  EXPECT_EQ(r.body,
            R"({"error":{"code":"seq_conflict","message":"no","lastSeq":41}})");
  r = ErrorResponse(
      Status::IoError("pread /data/x: EIO").With("path", "/data/x"));
  EXPECT_EQ(r.body.find("/data"), std::string::npos);
  EXPECT_NE(r.internal_error.find("/data/x"), std::string::npos);
}

// L1 of the review: a 503 from the postgres engine carried libpq's text
// (socket path, host, port, FATAL lines) to any authenticated client. Its
// client message stands in for it; the server's log keeps both.
TEST(ErrorMap, AClientMessageReplacesTheMessageInTheBodyOnly) {
  Response r = ErrorResponse(
      Status::Unavailable("the database is unreachable: connection to server "
                          "on socket \"/tmp/pg/.s.PGSQL.5432\" failed: FATAL")
          .With(kClientMessageDetail, "the database is unreachable"));
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(
      r.body,
      R"({"error":{"code":"unavailable","message":"the database is unreachable"}})");
  EXPECT_TRUE(HasRetryAfter(r));
  EXPECT_NE(r.internal_error.find("/tmp/pg/.s.PGSQL.5432"), std::string::npos);
  EXPECT_NE(r.internal_error.find("FATAL"), std::string::npos);
}

bool HasHeader(const Response& r, std::string_view name) {
  for (const auto& [key, value] : r.headers) {
    if (key == name) return true;
  }
  return false;
}

// A 503 says "try later"; a 501 (transcripts off, decision 0036) says
// "not here", with its details and no Retry-After.
TEST(ErrorMap, NotImplementedKeepsItsDetailsAndSaysNoRetryAfter) {
  Response r = ErrorResponse(
      Status::NotImplemented("off").With("reason", "transcripts_off"));
  EXPECT_EQ(r.status, 501);
  EXPECT_EQ(r.body,
            R"({"error":{"code":"not_implemented","message":"off",)"
            R"("reason":"transcripts_off"}})");
  EXPECT_FALSE(HasHeader(r, "Retry-After"));
  EXPECT_TRUE(HasHeader(ErrorResponse(Status::Unavailable("x")), "Retry-After"));
}

}  // namespace
}  // namespace acpstore::server

namespace acpstore::server {
namespace {

// docs/openapi.yaml and the route table describe the same API: every
// (method, path) has the same operationId in both.
TEST(RouteTable, MatchesTheOpenApiDocument) {
  std::ifstream in(ACPSTORE_OPENAPI_PATH);
  ASSERT_TRUE(in.good()) << ACPSTORE_OPENAPI_PATH;
  std::set<std::string> documented;  // "GET /v1/sessions createSession"
  std::string line, path, method;
  bool in_paths = false;
  while (std::getline(in, line)) {
    if (line == "paths:") in_paths = true;
    if (line == "components:") in_paths = false;
    if (!in_paths) continue;
    if (line.size() > 3 && line.rfind("  /", 0) == 0 && line.back() == ':') {
      path = line.substr(2, line.size() - 3);
    } else if (line.size() > 5 && line.rfind("    ", 0) == 0 &&
               line[4] != ' ' && line.back() == ':') {
      method = line.substr(4, line.size() - 5);
      for (char& c : method) c = static_cast<char>(std::toupper(c));
    } else if (const size_t at = line.find("operationId: ");
               at != std::string::npos) {
      documented.insert(method + " " + path + " " + line.substr(at + 13));
    }
  }
  std::set<std::string> routed;
  for (const RouteSpec& r : Router::Routes()) {
    // The console's files (/ui/) are pages, not API: documented in
    // docs/http_api.md, not in the API's schema.
    if (r.pattern.starts_with("/ui")) continue;
    routed.insert(std::string(r.method) + " " + std::string(r.pattern) + " " +
                  std::string(r.operation_id));
  }
  EXPECT_EQ(documented, routed);
}

// docs/http_api.md documents every API route on one line that names it
// as `METHOD /path` together with its operationId (a heading, a table row
// or a list item).
TEST(RouteTable, EveryApiRouteIsInTheHttpGuide) {
  std::ifstream in(ACPSTORE_HTTP_API_PATH);
  ASSERT_TRUE(in) << ACPSTORE_HTTP_API_PATH;
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  for (const RouteSpec& r : Router::Routes()) {
    // The console's pages have their own section, not one line each.
    if (r.pattern.starts_with("/ui")) continue;
    const std::string route =
        "`" + std::string(r.method) + " " + std::string(r.pattern) + "`";
    const std::string id(r.operation_id);
    bool found = false;
    for (const std::string& line : lines) {
      auto word_char = [&line](size_t i) {
        return i < line.size() &&
               std::isalnum(static_cast<unsigned char>(line[i])) != 0;
      };
      const size_t at = line.find(id);
      const bool whole_word = at != std::string::npos &&
                              (at == 0 || !word_char(at - 1)) &&
                              !word_char(at + id.size());
      if (whole_word && line.find(route) != std::string::npos) found = true;
    }
    EXPECT_TRUE(found) << route << " " << id
                       << " is not documented in docs/http_api.md";
  }
}

// docs/http_api.md, "Connections and limits": each row's default is
// ServerOptions' own ("8 MiB", "30 s", "5 ms", "2048 / 64" for two fields).
TEST(ServerOptionsDoc, TheHttpGuidesLimitTableIsServerOptionsDefaults) {
  const ServerOptions o;
  const std::map<std::string, int64_t> fields = {
      {"max_body_bytes", static_cast<int64_t>(o.max_body_bytes)},
      {"max_header_bytes", static_cast<int64_t>(o.max_header_bytes)},
      {"max_body_depth", o.max_body_depth},
      {"max_inflight_body_bytes",
       static_cast<int64_t>(o.max_inflight_body_bytes)},
      {"max_connections", static_cast<int64_t>(o.max_connections)},
      {"read_timeout_ms", o.read_timeout_ms},
      {"write_timeout_ms", o.write_timeout_ms},
      {"max_sse_subscribers_total",
       static_cast<int64_t>(o.max_sse_subscribers_total)},
      {"max_sse_per_key", static_cast<int64_t>(o.max_sse_per_key)},
      {"sse_heartbeat_ms", o.sse_heartbeat_ms},
      {"sse_buffer_bytes", static_cast<int64_t>(o.sse_buffer_bytes)},
      {"sse_coalesce_ms", o.sse_coalesce_ms},
      {"shutdown_timeout_ms", o.shutdown_timeout_ms},
  };
  // "8 MiB" -> 8388608, "30 s" -> 30000 (fields in ms), "128" -> 128.
  auto value = [](const std::string& text) -> int64_t {
    const size_t space = text.find(' ');
    const int64_t n = std::stoll(text.substr(0, space));
    if (space == std::string::npos) return n;
    const std::string unit = text.substr(space + 1);
    if (unit == "KiB") return n << 10;
    if (unit == "MiB") return n << 20;
    if (unit == "s") return n * 1000;
    if (unit == "ms") return n;
    ADD_FAILURE() << "unit " << unit;
    return -1;
  };
  std::ifstream in(ACPSTORE_HTTP_API_PATH);
  ASSERT_TRUE(in) << ACPSTORE_HTTP_API_PATH;
  std::set<std::string> documented;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("| `", 0) != 0 || line.find("_") == std::string::npos) {
      continue;
    }
    // | `a` / `b` | flags | defaults | effect |
    std::vector<std::string> cells;
    for (size_t at = 1; at < line.size();) {
      const size_t end = line.find(" |", at);
      if (end == std::string::npos) break;
      cells.push_back(line.substr(at + 1, end - at - 1));
      at = end + 2;
    }
    if (cells.size() < 3) continue;
    std::vector<std::string> names;
    for (size_t at = 0; (at = cells[0].find('`', at)) != std::string::npos;) {
      const size_t end = cells[0].find('`', at + 1);
      names.push_back(cells[0].substr(at + 1, end - at - 1));
      at = end + 1;
    }
    if (names.empty() || fields.count(names[0]) == 0) continue;
    const std::string& defaults = cells[2];
    for (size_t i = 0, at = 0; i < names.size(); ++i) {
      const size_t slash = defaults.find(" / ", at);
      const std::string one = defaults.substr(at, slash - at);
      at = slash == std::string::npos ? slash : slash + 3;
      ASSERT_EQ(fields.count(names[i]), 1u) << names[i];
      EXPECT_EQ(value(one), fields.at(names[i])) << names[i] << ": " << one;
      documented.insert(names[i]);
    }
  }
  EXPECT_EQ(documented.size(), fields.size());
}

}  // namespace
}  // namespace acpstore::server
