// BrowserSessions and the cookie/CORS helpers of browser_access.h, without
// sockets. Time is a ManualClock: expiry is tested by moving it.

#include "server/browser_sessions.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "server/browser_access.h"

namespace acpstore::server {
namespace {

auth::Principal Writer(const std::string& key = "key-w") {
  return {"tenant-a", key, auth::Role::kWriter, {}};
}

TEST(BrowserSessions, SecretsAreRandom256BitHexAndFindTheirPrincipal) {
  ManualClock clock(1000);
  BrowserSessions s({60000, 100, 16, &clock});
  std::set<std::string> seen;
  for (int i = 0; i < 50; ++i) {
    Result<IssuedBrowserSession> a = s.Create(Writer("k" + std::to_string(i)));
    ASSERT_TRUE(a.ok());
    EXPECT_TRUE(IsBrowserSessionSecret(a->secret));
    EXPECT_TRUE(IsBrowserSessionSecret(a->csrf));
    EXPECT_NE(a->secret, a->csrf);
    EXPECT_TRUE(seen.insert(a->secret).second);
    EXPECT_EQ(a->expires_at, 61000);
    Result<FoundBrowserSession> f = s.Find(a->secret);
    ASSERT_TRUE(f.ok());
    EXPECT_EQ(f->principal.key_id, "k" + std::to_string(i));
    EXPECT_TRUE(BrowserSessions::CsrfMatches(*f, a->csrf));
    EXPECT_FALSE(BrowserSessions::CsrfMatches(*f, a->secret));
    EXPECT_FALSE(BrowserSessions::CsrfMatches(*f, ""));
  }
}

TEST(BrowserSessions, ExpiresAtItsTtl) {
  ManualClock clock(1000);
  BrowserSessions s({60000, 100, 16, &clock});
  Result<IssuedBrowserSession> a = s.Create(Writer());
  ASSERT_TRUE(a.ok());
  clock.Advance(59999);
  EXPECT_TRUE(s.Find(a->secret).ok());
  clock.Advance(1);
  Result<FoundBrowserSession> f = s.Find(a->secret);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(s.size(), 0u);  // dropped on sight
}

TEST(BrowserSessions, UnknownAndMalformedSecretsAreUnauthenticated) {
  BrowserSessions s({60000, 100, 16, nullptr});
  for (const std::string& bad :
       {std::string(), std::string(64, 'a'), std::string(63, 'a'),
        std::string(64, 'A'), std::string(65, 'a'), std::string(10000, 'f')}) {
    Result<FoundBrowserSession> f = s.Find(bad);
    ASSERT_FALSE(f.ok());
    EXPECT_EQ(f.error().code(), StatusCode::kUnauthenticated);
    EXPECT_EQ(f.error().message().find(bad.empty() ? "\x01" : bad),
              std::string::npos);
  }
}

TEST(BrowserSessions, RemoveAndRemoveKey) {
  BrowserSessions s({60000, 100, 16, nullptr});
  auto a = s.Create(Writer("k1"));
  auto b = s.Create(Writer("k1"));
  auto c = s.Create(Writer("k2"));
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_TRUE(s.Remove(a->secret));
  EXPECT_FALSE(s.Remove(a->secret));
  EXPECT_FALSE(s.Find(a->secret).ok());
  EXPECT_EQ(s.RemoveKey("k1"), 1u);
  EXPECT_FALSE(s.Find(b->secret).ok());
  EXPECT_TRUE(s.Find(c->secret).ok());
}

TEST(BrowserSessions, CapsLiveSessionsAndPerKey) {
  ManualClock clock(0);
  BrowserSessions s({1000, 3, 2, &clock});
  auto a = s.Create(Writer("k1"));
  auto b = s.Create(Writer("k1"));
  clock.Advance(1);
  auto c = s.Create(Writer("k1"));  // ends a (k1's oldest)
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_FALSE(s.Find(a->secret).ok());
  EXPECT_TRUE(s.Find(c->secret).ok());
  auto d = s.Create(Writer("k2"));
  ASSERT_TRUE(d.ok());
  Result<IssuedBrowserSession> full = s.Create(Writer("k3"));
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.error().code(), StatusCode::kResourceExhausted);
  clock.Advance(1000);  // all expired: room again
  EXPECT_TRUE(s.Create(Writer("k3")).ok());
  EXPECT_EQ(s.size(), 1u);
}

TEST(BrowserAccess, CookieAttributes) {
  ServerOptions o;
  EXPECT_EQ(SessionSetCookie(o, "ab", 43200),
            "__Host-acpstore_session=ab; Path=/; HttpOnly; SameSite=Strict; "
            "Secure; Max-Age=43200");
  EXPECT_EQ(SessionClearCookie(o),
            "__Host-acpstore_session=; Path=/; HttpOnly; SameSite=Strict; "
            "Secure; Max-Age=0");
  o.ui_secure_cookie = false;
  EXPECT_EQ(SessionSetCookie(o, "ab", 5),
            "acpstore_session=ab; Path=/; HttpOnly; SameSite=Strict; "
            "Max-Age=5");
}

TEST(BrowserAccess, FindSessionCookie) {
  auto find = [](std::string_view h) {
    return FindSessionCookie(h, "acpstore_session");
  };
  EXPECT_FALSE(find("").value().has_value());
  EXPECT_FALSE(find("a=b; c=d").value().has_value());
  EXPECT_EQ(*find("a=b; acpstore_session=xyz ;c=d").value(), "xyz");
  EXPECT_EQ(*find("acpstore_session=\"xyz\"").value(), "xyz");
  EXPECT_FALSE(find("acpstore_session=1; acpstore_session=2").ok());
  EXPECT_FALSE(find("novalue").ok());
  EXPECT_FALSE(find("=x").ok());
  EXPECT_FALSE(find("a b=c").ok());
  std::string many;
  for (size_t i = 0; i <= kMaxCookies; ++i) {
    many += "c" + std::to_string(i) + "=v; ";
  }
  Result<std::optional<std::string_view>> r = find(many);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument);
}

TEST(BrowserAccess, Cors) {
  ServerOptions o;
  EXPECT_FALSE(CorsOriginAllowed(o, "https://a.example"));
  Response none;
  AddCorsHeaders(o, "", &none);
  EXPECT_TRUE(none.headers.empty());  // nothing configured: nothing added
  o.cors_origins = {"https://a.example"};
  EXPECT_TRUE(CorsOriginAllowed(o, "https://a.example"));
  EXPECT_FALSE(CorsOriginAllowed(o, "https://a.example.evil"));
  EXPECT_FALSE(CorsOriginAllowed(o, "null"));
  Request pre;
  pre.method = "OPTIONS";
  pre.origin = "https://b.example";
  pre.cors_request_method = "POST";
  EXPECT_EQ(PreflightResponse(o, pre).status, 403);
  pre.origin = "https://a.example";
  Response ok = PreflightResponse(o, pre);
  EXPECT_EQ(ok.status, 204);
  bool allow_origin = false;
  for (const auto& [n, v] : ok.headers) {
    if (n == "Access-Control-Allow-Origin") {
      allow_origin = true;
      EXPECT_EQ(v, "https://a.example");
    }
    EXPECT_NE(n, "Access-Control-Allow-Credentials");
  }
  EXPECT_TRUE(allow_origin);
}

}  // namespace
}  // namespace acpstore::server
