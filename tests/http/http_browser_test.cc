// Browser access (SPEC §12): sign-in with a bearer token for a session
// cookie and CSRF token, the cookie on every GET and on SSE, CSRF on every
// state-changing request, expiry (a ManualClock, no sleeping), revocation,
// sign-out, the caps on hostile Cookie headers and on live sessions, CORS,
// and that no token, cookie or CSRF value reaches the request log.

#include <gtest/gtest.h>

#include <memory>
#include <mutex>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "server_fixture.h"

namespace acpstore::testing {
namespace {

using std::chrono::milliseconds;

constexpr char kOrigin[] = "https://console.example";
constexpr int64_t kTtlMs = 3600 * 1000;

struct SignIn {
  std::string secret;  // the cookie's value
  std::string csrf;
  std::string set_cookie;
};

class BrowserHttpTest : public HttpTest {
 protected:
  void Configure(server::ServerOptions* o) override {
    o->clock = &clock_;
    o->ui_session_ttl_ms = kTtlMs;
    o->ui_max_sessions = 8;
    o->cors_origins = {kOrigin};
    o->request_log = [this](const server::RequestLogEntry& e) {
      std::lock_guard<std::mutex> lock(log_mu_);
      log_.push_back(std::string(e.method) + " " + std::string(e.route) +
                     " " + std::string(e.operation) + " " +
                     std::to_string(e.status) + " " + std::string(e.remote) +
                     " " + std::string(e.internal_error));
    };
  }

  SignIn SignInAs(const std::string& token) {
    HttpResponse r = Client(token).Post("/v1/auth/session", "");
    EXPECT_EQ(r.status, 201) << r.body;
    SignIn s;
    s.set_cookie = r.Header("set-cookie");
    std::smatch m;
    static const std::regex kCookie("^__Host-acpstore_session=([0-9a-f]{64});");
    if (std::regex_search(s.set_cookie, m, kCookie)) s.secret = m[1];
    EXPECT_EQ(s.secret.size(), 64u) << s.set_cookie;
    if (r.status == 201) {
      s.csrf = std::string(r.Json().at("csrfToken").as_string());
    }
    return s;
  }

  // A request with the cookie and no Authorization header.
  HttpResponse WithCookie(const std::string& method, const std::string& path,
                          const std::string& cookie_header,
                          const std::string& body = "",
                          net::HeaderList extra = {}) {
    extra.emplace_back("Cookie", cookie_header);
    return Client("").Do(method, path, body, std::move(extra));
  }
  static std::string CookieOf(const SignIn& s) {
    return "other=1; __Host-acpstore_session=" + s.secret + "; theme=dark";
  }

  std::vector<std::string> LogLines() {
    std::lock_guard<std::mutex> lock(log_mu_);
    return log_;
  }

  ManualClock clock_{1700000000000};
  std::mutex log_mu_;
  std::vector<std::string> log_;
};

TEST_F(BrowserHttpTest, SignInSetsAStrictHttpOnlySecureCookieAndACsrfToken) {
  HttpResponse r = Client("writer-a").Post("/v1/auth/session", "");
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string c = r.Header("set-cookie");
  EXPECT_TRUE(std::regex_match(
      c, std::regex("__Host-acpstore_session=[0-9a-f]{64}; Path=/; HttpOnly; "
                    "SameSite=Strict; Secure; Max-Age=3600")))
      << c;
  EXPECT_EQ(r.Header("cache-control"), "no-store");
  const boost::json::value jv = r.Json();
  const boost::json::object& j = jv.as_object();
  EXPECT_TRUE(std::regex_match(std::string(j.at("csrfToken").as_string()),
                               std::regex("[0-9a-f]{64}")));
  EXPECT_EQ(j.at("key").at("id").as_string(), "key-writer-a");
  EXPECT_EQ(j.at("key").at("tenantId").as_string(), "tenant-a");
  EXPECT_EQ(j.at("key").at("role").as_string(), "writer");
  EXPECT_EQ(j.at("expiresAt").as_string(), "2023-11-14T23:13:20.000Z");
  // The cookie value is not in the body.
  EXPECT_EQ(r.body.find(c.substr(24, 64)), std::string::npos);
}

TEST_F(BrowserHttpTest, SignInNeedsABearerTokenOfAPersonsKey) {
  EXPECT_EQ(Client("").Post("/v1/auth/session", "").status, 401);
  EXPECT_EQ(Client("nope").Post("/v1/auth/session", "").status, 401);
  const SignIn s = SignInAs("writer-a");
  // Not from a cookie (with or without its CSRF token).
  HttpResponse r = WithCookie("POST", "/v1/auth/session", CookieOf(s), "",
                              {{"X-CSRF-Token", s.csrf}});
  EXPECT_EQ(r.status, 401) << r.body;
  // Not for a service key.
  r = Client("service").Do("POST", "/v1/auth/session", "",
                           {{"X-Acpstore-Scope", "tenant-a/u1"}});
  EXPECT_EQ(r.status, 403) << r.body;
}

TEST_F(BrowserHttpTest, CookieAuthenticatesGetsAndSse) {
  const std::string id = CreateSession("writer-a");
  AppendEvents("writer-a", id, 3);
  const SignIn s = SignInAs("writer-a");
  HttpResponse r = WithCookie("GET", "/v1/sessions/" + id, CookieOf(s));
  EXPECT_EQ(r.status, 200) << r.body;
  r = WithCookie("GET", "/v1/sessions/" + id + "/events", CookieOf(s));
  EXPECT_EQ(r.status, 200) << r.body;

  // EventSource sends cookies, never an Authorization header.
  RawConnection c(port());
  ASSERT_TRUE(c.Send("GET /v1/sessions/" + id +
                     "/events/stream HTTP/1.1\r\nHost: x\r\nCookie: " +
                     CookieOf(s) + "\r\nAccept: text/event-stream\r\n\r\n"));
  const std::string got = c.ReadUntil(
      [](std::string_view b) { return b.find("id: 3\n") != b.npos; },
      milliseconds(10000));
  EXPECT_EQ(got.rfind("HTTP/1.1 200", 0), 0u) << got.substr(0, 200);
  EXPECT_NE(got.find("id: 3\n"), std::string::npos);
}

TEST_F(BrowserHttpTest, StateChangingRequestsNeedTheSessionsCsrfToken) {
  const SignIn s = SignInAs("writer-a");
  const SignIn other = SignInAs("writer-a2");
  HttpResponse r = WithCookie("POST", "/v1/sessions", CookieOf(s), "{}");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.ErrorCode(), "csrf_rejected");
  r = WithCookie("POST", "/v1/sessions", CookieOf(s), "{}",
                 {{"X-CSRF-Token", std::string(64, 'a')}});
  EXPECT_EQ(r.ErrorCode(), "csrf_rejected");
  r = WithCookie("POST", "/v1/sessions", CookieOf(s), "{}",
                 {{"X-CSRF-Token", "short"}});
  EXPECT_EQ(r.ErrorCode(), "csrf_rejected");
  r = WithCookie("POST", "/v1/sessions", CookieOf(s), "{}",
                 {{"X-CSRF-Token", other.csrf}});  // another session's
  EXPECT_EQ(r.ErrorCode(), "csrf_rejected");
  r = WithCookie("POST", "/v1/sessions", CookieOf(s), "{}",
                 {{"X-CSRF-Token", s.csrf}});
  ASSERT_EQ(r.status, 201) << r.body;
  // The session has exactly the key's principal: the record is its own.
  EXPECT_EQ(r.Json().at("ownerKeyId").as_string(), "key-writer-a");
  const std::string id(r.Json().at("id").as_string());
  r = WithCookie("PATCH", "/v1/sessions/" + id, CookieOf(s),
                 R"({"metadata":{"k":"v"}})");
  EXPECT_EQ(r.ErrorCode(), "csrf_rejected");
  r = WithCookie("DELETE", "/v1/sessions/" + id, CookieOf(s));
  EXPECT_EQ(r.ErrorCode(), "csrf_rejected");
  // The bearer path never needs it.
  EXPECT_EQ(Client("writer-a").Post("/v1/sessions", "{}").status, 201);
}

TEST_F(BrowserHttpTest, AReadersCookieCannotWriteAndTenantsStayApart) {
  const std::string a_session = CreateSession("writer-a");
  const SignIn reader = SignInAs("reader-a");
  EXPECT_EQ(WithCookie("GET", "/v1/sessions/" + a_session, CookieOf(reader))
                .status,
            200);
  HttpResponse r = WithCookie("POST", "/v1/sessions", CookieOf(reader), "{}",
                              {{"X-CSRF-Token", reader.csrf}});
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.ErrorCode(), "forbidden");
  const SignIn b = SignInAs("writer-b");
  EXPECT_EQ(
      WithCookie("GET", "/v1/sessions/" + a_session, CookieOf(b)).status, 404);
  r = WithCookie("GET", "/v1/sessions", CookieOf(b));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body.find(a_session), std::string::npos);
  // Admin routes stay admin-only.
  EXPECT_EQ(WithCookie("GET", "/v1/stats", CookieOf(b)).status, 403);
}

TEST_F(BrowserHttpTest, SessionsExpireAtTheirTtl) {
  const SignIn s = SignInAs("writer-a");
  clock_.Advance(kTtlMs - 1);
  EXPECT_EQ(WithCookie("GET", "/v1/sessions", CookieOf(s)).status, 200);
  clock_.Advance(1);
  HttpResponse r = WithCookie("GET", "/v1/sessions", CookieOf(s));
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.ErrorCode(), "unauthenticated");
  EXPECT_NE(r.Header("set-cookie").find("Max-Age=0"), std::string::npos);
}

TEST_F(BrowserHttpTest, RevokingTheKeyEndsItsBrowserSessions) {
  HttpResponse k = Client("admin-a").Post("/v1/keys", R"({"role":"writer"})");
  ASSERT_EQ(k.status, 201) << k.body;
  const std::string token(k.Json().at("token").as_string());
  const std::string key_id(k.Json().at("key").at("id").as_string());
  const SignIn s1 = SignInAs(token);
  const SignIn s2 = SignInAs(token);
  EXPECT_EQ(WithCookie("GET", "/v1/sessions", CookieOf(s1)).status, 200);
  ASSERT_EQ(Client("admin-a").Delete("/v1/keys/" + key_id).status, 204);
  HttpResponse r = WithCookie("GET", "/v1/sessions", CookieOf(s1));
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(r.body.find("revoked"), std::string::npos) << r.body;
  // Noticing the revocation ended every session of the key.
  r = WithCookie("POST", "/v1/sessions", CookieOf(s2), "{}",
                 {{"X-CSRF-Token", s2.csrf}});
  EXPECT_EQ(r.status, 401) << r.body;
  // Revoked where keys are kept by someone else (another server or
  // `acpstore keys revoke`): the authenticator stops vouching for the key.
  const SignIn w = SignInAs("writer-a2");
  authn_.Remove("key-writer-a2");
  EXPECT_EQ(WithCookie("GET", "/v1/sessions", CookieOf(w)).status, 401);
}

// A browser session's open stream ends with the session: sign-out here,
// like a revoked key (SseHttpTest.ARevokedKeysOpenStreamsEnd). It went on
// delivering for as long as the connection stayed open.
TEST_F(BrowserHttpTest, SigningOutEndsTheSessionsOpenStreams) {
  CreateSession("writer-a", R"({"id":"s"})");
  AppendEvents("writer-a", "s", 1);
  const SignIn s = SignInAs("writer-a");
  SseClient sse(port(), "", "/v1/sessions/s/events/stream", std::nullopt, 0,
                CookieOf(s));
  ASSERT_EQ(sse.status(), 200) << sse.head().body;
  sse.WaitFrames(2);  // retry, then event 1
  ASSERT_EQ(sse.Events().size(), 1u);
  ASSERT_EQ(WithCookie("DELETE", "/v1/auth/session", CookieOf(s), "",
                       {{"X-CSRF-Token", s.csrf}})
                .status,
            204);
  std::this_thread::sleep_for(milliseconds(600));  // looked up every 500 ms
  AppendEvents("writer-a", "s", 2);
  bool ended = false;
  for (int i = 0; i < 50 && !ended; ++i) {
    for (const SseFrame& f : sse.WaitFrames(100, milliseconds(100))) {
      ended = ended || (f.event == "error" &&
                        f.data.find("unauthenticated") != std::string::npos);
    }
  }
  EXPECT_TRUE(ended);
  EXPECT_EQ(sse.Events().size(), 1u);
  EXPECT_TRUE(sse.connection().WaitClosed(std::chrono::seconds(3)));
}

TEST_F(BrowserHttpTest, SignOutEndsTheSessionAndClearsTheCookie) {
  const SignIn s = SignInAs("reader-a");  // even a reader may sign out
  HttpResponse r = WithCookie("DELETE", "/v1/auth/session", CookieOf(s));
  EXPECT_EQ(r.ErrorCode(), "csrf_rejected");
  r = Client("reader-a").Delete("/v1/auth/session");
  EXPECT_EQ(r.status, 400);
  r = WithCookie("DELETE", "/v1/auth/session", CookieOf(s), "",
                 {{"X-CSRF-Token", s.csrf}});
  EXPECT_EQ(r.status, 204) << r.body;
  EXPECT_EQ(r.Header("set-cookie"),
            "__Host-acpstore_session=; Path=/; HttpOnly; SameSite=Strict; "
            "Secure; Max-Age=0");
  EXPECT_EQ(WithCookie("GET", "/v1/sessions", CookieOf(s)).status, 401);
}

TEST_F(BrowserHttpTest, HostileCookieHeadersAreRefusedWithClearErrors) {
  const SignIn s = SignInAs("writer-a");
  // Over 8 KiB of cookies (under the 16 KiB header cap).
  HttpResponse r = WithCookie(
      "GET", "/v1/sessions", "big=" + std::string(9000, 'x') + "; " +
                                 "__Host-acpstore_session=" + s.secret);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("Cookie header larger than 8192"), std::string::npos);
  std::string many;
  for (int i = 0; i < 65; ++i) many += "c" + std::to_string(i) + "=v; ";
  r = WithCookie("GET", "/v1/sessions", many + "__Host-acpstore_session=" +
                                            s.secret);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("more than 64 cookies"), std::string::npos);
  r = WithCookie("GET", "/v1/sessions", "a b c");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.Json().at("error").at("field").as_string(), "Cookie");
  r = WithCookie("GET", "/v1/sessions",
                 CookieOf(s) + "; __Host-acpstore_session=" + s.secret);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("twice"), std::string::npos);
  // Unknown and malformed session ids: 401, the cookie cleared, the value
  // never echoed.
  for (const std::string& v :
       {std::string(64, '0'), std::string("zz"), std::string(200, 'f')}) {
    r = WithCookie("GET", "/v1/sessions", "__Host-acpstore_session=" + v);
    EXPECT_EQ(r.status, 401) << v;
    EXPECT_NE(r.Header("set-cookie").find("Max-Age=0"), std::string::npos);
    EXPECT_EQ(r.body.find(v), std::string::npos);
  }
  // Only other sites' cookies: as if nothing was sent.
  r = WithCookie("GET", "/v1/sessions", "a=1; b=2");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.Header("set-cookie"), "");
  // Two Cookie lines are one header.
  r = Client("").Do("GET", "/v1/sessions", "",
                    {{"Cookie", "a=1"}, {"Cookie", CookieOf(s)}});
  EXPECT_EQ(r.status, 200) << r.body;
  // The cookie never overrides a bearer token, even a bad one.
  r = Client("nope").Do("GET", "/v1/sessions", "", {{"Cookie", CookieOf(s)}});
  EXPECT_EQ(r.status, 401);
}

// The cookie counts only when a request has no Authorization header at
// all: an empty or malformed one is a bad bearer token (401, found by a
// probe: an empty one fell back to the cookie), on a read, a write with
// its CSRF token and SSE alike. The cookie was not judged, so it is not
// cleared.
TEST_F(BrowserHttpTest, AnEmptyOrMalformedAuthorizationHeaderIsNotTheCookie) {
  const std::string id = CreateSession("writer-a");
  const SignIn s = SignInAs("writer-a");
  ASSERT_EQ(WithCookie("GET", "/v1/sessions/" + id, CookieOf(s)).status, 200);
  const std::string cookie = "Cookie: " + CookieOf(s) + "\r\n";
  const std::string write_body = R"({"eventType":"a","payload":1})";
  for (const std::string& auth :
       {std::string("Authorization:\r\n"), std::string("Authorization: \r\n"),
        std::string("Authorization: \t \r\n"),
        std::string("Authorization: Bearer\r\n"),
        std::string("Authorization: Bearer \r\n"),
        std::string("Authorization: Basic d3JpdGVyLWE6\r\n"),
        std::string("Authorization: Bearerwriter-a\r\n"),
        // Two lines, the first empty: still not the cookie (refused as a
        // repeated header, before any credential is looked at).
        std::string("Authorization:\r\nAuthorization: Bearer writer-a\r\n")}) {
    SCOPED_TRACE(auth);
    const bool twice = auth.find("\r\nAuthorization") != std::string::npos;
    const int refused = twice ? 400 : 401;
    RawConnection c(port());
    ASSERT_TRUE(c.Send("GET /v1/sessions/" + id + " HTTP/1.1\r\nHost: x\r\n" +
                       auth + cookie + "\r\n"));
    HttpResponse r = c.ReadResponse(milliseconds(10000));
    EXPECT_EQ(r.status, refused) << r.body;
    EXPECT_EQ(r.ErrorCode(), twice ? "invalid_argument" : "unauthenticated");
    EXPECT_EQ(r.Header("set-cookie"), "");

    RawConnection w(port());
    ASSERT_TRUE(
        w.Send("POST /v1/sessions/" + id + "/events HTTP/1.1\r\nHost: x\r\n" +
               auth + cookie + "X-CSRF-Token: " + s.csrf +
               "\r\nContent-Type: application/json\r\n"
               "Content-Length: " +
               std::to_string(write_body.size()) + "\r\n\r\n" + write_body));
    EXPECT_EQ(w.ReadResponse(milliseconds(10000)).status, refused);

    RawConnection e(port());
    ASSERT_TRUE(e.Send("GET /v1/sessions/" + id +
                       "/events/stream HTTP/1.1\r\nHost: x\r\n" + auth +
                       cookie + "Accept: text/event-stream\r\n\r\n"));
    EXPECT_EQ(e.ReadResponse(milliseconds(10000)).status, refused);
  }
  // Nothing was appended, and the session still works.
  HttpResponse r = WithCookie("GET", "/v1/sessions/" + id, CookieOf(s));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json().at("events").at("lastSeq"), 0);
}

TEST_F(BrowserHttpTest, LiveSessionsAreCapped) {
  // ui_max_sessions = 8; each key keeps at most 16, so eight keys.
  std::vector<std::string> tokens;
  for (int i = 0; i < 9; ++i) {
    HttpResponse k = Client("admin-a").Post("/v1/keys", R"({"role":"reader"})");
    ASSERT_EQ(k.status, 201);
    tokens.emplace_back(k.Json().at("token").as_string());
  }
  for (int i = 0; i < 8; ++i) SignInAs(tokens[i]);
  HttpResponse r = Client(tokens[8]).Post("/v1/auth/session", "");
  EXPECT_EQ(r.status, 429) << r.body;
  EXPECT_NE(r.body.find("too many browser sessions"), std::string::npos);
  clock_.Advance(kTtlMs);  // expired ones make room
  EXPECT_EQ(Client(tokens[8]).Post("/v1/auth/session", "").status, 201);
}

TEST_F(BrowserHttpTest, CorsAllowsNamedOriginsOnly) {
  HttpResponse r = Client("").Do(
      "OPTIONS", "/v1/sessions", "",
      {{"Origin", kOrigin},
       {"Access-Control-Request-Method", "POST"},
       {"Access-Control-Request-Headers", "authorization, content-type"}});
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(r.Header("access-control-allow-origin"), kOrigin);
  EXPECT_EQ(r.Header("vary"), "Origin");
  EXPECT_EQ(r.Header("access-control-allow-methods"),
            "GET, POST, PATCH, DELETE");
  EXPECT_EQ(r.Header("access-control-allow-headers"),
            "Authorization, Content-Type, Last-Event-ID, X-CSRF-Token, "
            "Prefer, X-Acpstore-Scope");
  EXPECT_EQ(r.Header("access-control-max-age"), "600");
  EXPECT_EQ(r.Header("access-control-allow-credentials"), "");

  r = Client("").Do("OPTIONS", "/v1/sessions", "",
                    {{"Origin", "https://evil.example"},
                     {"Access-Control-Request-Method", "POST"}});
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.ErrorCode(), "origin_not_allowed");
  EXPECT_EQ(r.Header("access-control-allow-origin"), "");

  // Actual requests: the allowed origin is echoed, with Vary: Origin.
  r = Client("writer-a").Do("GET", "/v1/sessions", "", {{"Origin", kOrigin}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("access-control-allow-origin"), kOrigin);
  EXPECT_EQ(r.Header("vary"), "Origin");
  EXPECT_EQ(r.Header("access-control-allow-credentials"), "");
  r = Client("writer-a").Do("GET", "/v1/sessions", "",
                            {{"Origin", "https://evil.example"}});
  EXPECT_EQ(r.status, 200);  // the browser, not the server, withholds it
  EXPECT_EQ(r.Header("access-control-allow-origin"), "");
  EXPECT_EQ(r.Header("vary"), "Origin");
  // Errors carry it too, so a page can read why.
  r = Client("nope").Do("GET", "/v1/sessions", "", {{"Origin", kOrigin}});
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.Header("access-control-allow-origin"), kOrigin);

  // Appends too (their replies are built off the request thread).
  const std::string id = CreateSession("writer-a");
  r = Client("writer-a").Do("POST", "/v1/sessions/" + id + "/events",
                            R"({"events":[{"eventType":"t","payload":{}}]})",
                            {{"Origin", kOrigin}});
  EXPECT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.Header("access-control-allow-origin"), kOrigin);
  EXPECT_EQ(r.Header("vary"), "Origin");

  // And the SSE response head.
  RawConnection c(port());
  ASSERT_TRUE(c.Send("GET /v1/sessions/" + id +
                     "/events/stream HTTP/1.1\r\nHost: x\r\nAuthorization: "
                     "Bearer writer-a\r\nOrigin: " +
                     std::string(kOrigin) + "\r\n\r\n"));
  const std::string head = c.ReadUntil(
      [](std::string_view b) { return b.find("\r\n\r\n") != b.npos; },
      milliseconds(10000));
  EXPECT_NE(head.find("Access-Control-Allow-Origin: " + std::string(kOrigin) +
                      "\r\n"),
            std::string::npos)
      << head;
  EXPECT_NE(head.find("Vary: Origin\r\n"), std::string::npos);
}

TEST_F(BrowserHttpTest, NoTokenCookieOrCsrfValueReachesTheLog) {
  HttpResponse k = Client("admin-a").Post("/v1/keys", R"({"role":"writer"})");
  ASSERT_EQ(k.status, 201);
  const std::string token(k.Json().at("token").as_string());
  const SignIn s = SignInAs(token);
  const std::string id = CreateSession(token);
  WithCookie("GET", "/v1/sessions/" + id, CookieOf(s));
  WithCookie("POST", "/v1/sessions", CookieOf(s), "{}",
             {{"X-CSRF-Token", s.csrf}});
  WithCookie("POST", "/v1/sessions", CookieOf(s), "{}",
             {{"X-CSRF-Token", s.csrf + "x"}});
  WithCookie("GET", "/v1/sessions", "__Host-acpstore_session=" + s.secret +
                                        "; __Host-acpstore_session=x");
  WithCookie("DELETE", "/v1/auth/session", CookieOf(s), "",
             {{"X-CSRF-Token", s.csrf}});
  WithCookie("GET", "/v1/sessions", CookieOf(s));  // 401 after sign-out
  ASSERT_TRUE(WaitUntil([&] { return LogLines().size() >= 9; }));
  for (const std::string& line : LogLines()) {
    EXPECT_EQ(line.find(token), std::string::npos) << line;
    EXPECT_EQ(line.find(s.secret), std::string::npos) << line;
    EXPECT_EQ(line.find(s.csrf), std::string::npos) << line;
  }
}

// The answers the connection gives before any route runs (413, 431, 400,
// 408, 429) carried no CORS headers, while the router's errors did: a page
// could not read why it was refused, and a cache could serve one origin's
// answer to another (found by review). http_api.md, "CORS": every response
// to a request from an allowed origin carries them, errors included, and
// every response carries Vary: Origin once an origin is configured.
class CorsRefusalTest : public HttpTest {
 protected:
  void Configure(server::ServerOptions* o) override {
    o->cors_origins = {kOrigin};
    o->max_body_bytes = 64 << 10;
    o->max_header_bytes = 4 << 10;
    o->max_inflight_body_bytes = 100 << 10;
    o->read_timeout_ms = 500;
  }
  // `request` on a fresh connection: its answer.
  HttpResponse Answer(const std::string& request) {
    RawConnection c(port());
    EXPECT_TRUE(c.Send(request));
    return c.ReadResponse(milliseconds(5000));
  }
  static std::string Post(size_t content_length, const std::string& extra) {
    return "POST /v1/sessions/s/events HTTP/1.1\r\nHost: x\r\n"
           "Authorization: Bearer writer-a\r\n"
           "Content-Type: application/json\r\nContent-Length: " +
           std::to_string(content_length) + "\r\n" + extra + "\r\n";
  }
  static void ExpectCors(const HttpResponse& r, int status) {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_EQ(r.Header("access-control-allow-origin"), kOrigin) << status;
    EXPECT_EQ(r.Header("access-control-expose-headers"), "Retry-After")
        << status;
    EXPECT_EQ(r.Header("vary"), "Origin") << status;
  }
  static void ExpectVaryOnly(const HttpResponse& r, int status) {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_EQ(r.Header("access-control-allow-origin"), "") << status;
    EXPECT_EQ(r.Header("vary"), "Origin") << status;
  }
  const std::string origin_ = "Origin: " + std::string(kOrigin) + "\r\n";
};

TEST_F(CorsRefusalTest, RefusalsOfTheConnectionCarryTheCorsHeaders) {
  CreateSession("writer-a", R"({"id":"s"})");
  // 413: a declared body over --max-body-bytes.
  ExpectCors(Answer(Post(100u << 20, origin_)), 413);
  // 400: a transfer coding the server does not read; a repeated singleton.
  const std::string get = "GET /v1/sessions HTTP/1.1\r\nHost: x\r\n";
  HttpResponse r = Answer(get + origin_ +
                          "Authorization: Bearer writer-a\r\n"
                          "Transfer-Encoding: gzip\r\n\r\n");
  ExpectCors(r, 400);
  EXPECT_NE(r.body.find("Transfer-Encoding"), std::string::npos) << r.body;
  r = Answer(get + origin_ +
             "Authorization: Bearer writer-a\r\n"
             "Authorization: Bearer writer-a\r\n\r\n");
  ExpectCors(r, 400);
  EXPECT_NE(r.body.find("Authorization"), std::string::npos) << r.body;
  // 408: a body not finished within --read-timeout.
  ExpectCors(Answer(Post(100, origin_) + "{\"eventType\":"), 408);
  // 429 over the bodies in flight, with its Retry-After readable.
  RawConnection slow(port());
  ASSERT_TRUE(slow.Send(Post(60000, "Expect: 100-continue\r\n")));
  ASSERT_EQ(slow.ReadResponse(milliseconds(2000)).status, 100);
  r = Answer(Post(60000, origin_));
  ExpectCors(r, 429);
  EXPECT_EQ(r.Header("retry-after"), "1");
  EXPECT_EQ(slow.ReadResponse(milliseconds(5000)).status, 408);
  // Another origin: Vary alone, as on the router's answers.
  ExpectVaryOnly(Answer(Post(100u << 20, "Origin: https://evil.example\r\n")),
                 413);
  // A head too large to read has no Origin the server can know: Vary alone.
  ExpectVaryOnly(Answer("GET /healthz HTTP/1.1\r\nHost: x\r\n" + origin_ +
                        "X-Junk: " + std::string(8 << 10, 'j') + "\r\n\r\n"),
                 431);
}

// The canned 429 of a connection over --max-connections is written before
// anything is read: no Origin is known, but Vary: Origin holds.
class CorsConnectionCapTest : public HttpTest {
 protected:
  void Configure(server::ServerOptions* o) override {
    o->cors_origins = {kOrigin};
    o->max_connections = 1;
  }
};

TEST_F(CorsConnectionCapTest, TheConnectionCap429VariesByOrigin) {
  // The fixture's own connections may still count until the server has
  // seen them close: a 429 here means "not yet".
  std::unique_ptr<RawConnection> held;
  ASSERT_TRUE(WaitUntil([&] {
    held = std::make_unique<RawConnection>(port());
    return held->Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n") &&
           held->ReadResponse(milliseconds(2000)).status == 200;
  }));
  RawConnection extra(port());
  const HttpResponse r = extra.ReadResponse(milliseconds(2000));
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.Header("retry-after"), "1");
  EXPECT_EQ(r.Header("vary"), "Origin");
  EXPECT_EQ(r.ErrorCode(), "too_many_requests");
}

class NoCorsBrowserHttpTest : public HttpTest {};

TEST_F(NoCorsBrowserHttpTest, NothingIsAllowedByDefault) {
  HttpResponse r = Client("").Do("OPTIONS", "/v1/sessions", "",
                                 {{"Origin", kOrigin},
                                  {"Access-Control-Request-Method", "GET"}});
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.ErrorCode(), "origin_not_allowed");
  r = Client("writer-a").Do("GET", "/v1/sessions", "", {{"Origin", kOrigin}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("access-control-allow-origin"), "");
  EXPECT_EQ(r.Header("vary"), "");
}

}  // namespace
}  // namespace acpstore::testing
