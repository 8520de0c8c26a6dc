// The web console's routes and files (SPEC §12, decision 0015) through the
// router: what is embedded, content types, CSP, ETag/304, --ui false.

#include "server/console_assets.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <utility>

#include "server/router_fixture.h"

namespace acpstore::server {
namespace {

// Console requests carry no credentials: its routes are public.
class ConsoleRoutesTest : public RouterFixture {
 protected:
  Response Get(std::string target, std::string if_none_match = "") {
    Request req;
    req.method = "GET";
    req.target = std::move(target);
    req.if_none_match = std::move(if_none_match);
    return Handle(std::move(req));
  }
};

TEST(ConsoleAssets, EveryFileIsEmbeddedWithItsHash) {
  ASSERT_GT(kEmbeddedFileCount, 2u);
  const EmbeddedFile* index = FindConsoleFile("");
  ASSERT_NE(index, nullptr);
  EXPECT_EQ(index->name, "index.html");
  EXPECT_NE(index->bytes.find("<!doctype html>"), std::string_view::npos);
  for (size_t i = 0; i < kEmbeddedFileCount; ++i) {
    const EmbeddedFile& f = kEmbeddedFiles[i];
    EXPECT_EQ(f.sha256.size(), 64u) << f.name;
    EXPECT_FALSE(f.bytes.empty()) << f.name;
    EXPECT_EQ(FindConsoleFile(f.name), &f);
    // Every file has a real type: nothing is served as a download.
    EXPECT_NE(ConsoleContentType(f.name), "application/octet-stream")
        << f.name;
  }
  EXPECT_EQ(FindConsoleFile("nope.js"), nullptr);
  EXPECT_EQ(FindConsoleFile("../index.html"), nullptr);
}

TEST(ConsoleAssets, ContentTypes) {
  EXPECT_EQ(ConsoleContentType("index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(ConsoleContentType("app.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(ConsoleContentType("app.css"), "text/css; charset=utf-8");
  EXPECT_EQ(ConsoleContentType("x.bin"), "application/octet-stream");
}

TEST(ConsoleAssets, IfNoneMatch) {
  EXPECT_TRUE(IfNoneMatchHits("\"abc\"", "abc"));
  EXPECT_TRUE(IfNoneMatchHits(" W/\"abc\" ", "abc"));
  EXPECT_TRUE(IfNoneMatchHits("\"x\", \"abc\"", "abc"));
  EXPECT_TRUE(IfNoneMatchHits("*", "abc"));
  EXPECT_FALSE(IfNoneMatchHits("", "abc"));
  EXPECT_FALSE(IfNoneMatchHits("abc", "abc"));  // unquoted
  EXPECT_FALSE(IfNoneMatchHits("\"abcd\"", "abc"));
  EXPECT_FALSE(IfNoneMatchHits("\"ab\", ", "abc"));
}

TEST_F(ConsoleRoutesTest, ServesIndexWithStrictHeaders) {
  const Response r = Get("/ui/");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(r.body, std::string(FindConsoleFile("")->bytes));
  EXPECT_EQ(Header(r, "Content-Security-Policy"), kConsoleCsp);
  EXPECT_NE(Header(r, "Content-Security-Policy").find("script-src 'self'"),
            std::string::npos);
  EXPECT_EQ(Header(r, "X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(Header(r, "Cache-Control"), "no-cache");
  EXPECT_EQ(Header(r, "ETag"),
            "\"" + std::string(ConsoleEtagOf(*FindConsoleFile(""))) + "\"");
  EXPECT_EQ(r.operation, "consoleIndex");
  // No credentials needed, and none asked for.
  EXPECT_EQ(Header(r, "WWW-Authenticate"), "");
}

TEST_F(ConsoleRoutesTest, EveryFileAndA304) {
  for (size_t i = 0; i < kEmbeddedFileCount; ++i) {
    const EmbeddedFile& f = kEmbeddedFiles[i];
    const Response r = Get("/ui/" + std::string(f.name));
    ASSERT_EQ(r.status, 200) << f.name;
    EXPECT_EQ(r.content_type, ConsoleContentType(f.name));
    EXPECT_EQ(r.body, f.bytes);
    const Response again = Get("/ui/" + std::string(f.name), Header(r, "ETag"));
    EXPECT_EQ(again.status, 304) << f.name;
    EXPECT_TRUE(again.body.empty());
    EXPECT_EQ(Header(again, "ETag"), Header(r, "ETag"));
    EXPECT_EQ(Header(again, "Content-Security-Policy"), kConsoleCsp);
    EXPECT_EQ(Get("/ui/" + std::string(f.name), "\"other\"").status, 200);
  }
}

TEST_F(ConsoleRoutesTest, UnknownFilesAndTheRedirect) {
  EXPECT_EQ(Get("/ui/missing.js").status, 404);
  EXPECT_EQ(Get("/ui/%2e%2e%2fCMakeLists.txt").status, 404);
  EXPECT_EQ(Get("/ui/a/b.js").status, 404);
  const Response r = Get("/ui");
  EXPECT_EQ(r.status, 308);
  EXPECT_EQ(Header(r, "Location"), "/ui/");
}

TEST_F(ConsoleRoutesTest, UiFalseAnswersLikeAnUnknownRoute) {
  options_.ui = false;
  for (const char* target : {"/ui", "/ui/", "/ui/index.html"}) {
    const Response r = Get(target);
    EXPECT_EQ(r.status, 404) << target;
    EXPECT_EQ(r.route, "-") << target;
    EXPECT_EQ(Header(r, "Content-Security-Policy"), "") << target;
    EXPECT_NE(r.body.find("not_found"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find(std::string("\"path\":\"") + target + "\""),
              std::string::npos)
        << r.body;
    Request post;
    post.method = "POST";
    post.target = target;
    const Response p = Handle(std::move(post));
    EXPECT_EQ(p.status, 404) << target;  // not 405: no route knows the path
    EXPECT_EQ(Header(p, "Allow"), "") << target;
  }
}

// docs/http_api.md, "The web console", shows the headers every console
// answer carries in one code block: the page is served with each of them.
TEST_F(ConsoleRoutesTest, TheHeadersTheHttpGuideShowsAreSent) {
  std::ifstream in(ACPSTORE_HTTP_API_PATH);
  ASSERT_TRUE(in) << ACPSTORE_HTTP_API_PATH;
  std::string line;
  while (std::getline(in, line) && line != "## The web console (SPEC §12)") {
  }
  while (std::getline(in, line) && line != "```") {
  }
  const Response r = Get("/ui/");
  ASSERT_EQ(r.status, 200);
  size_t shown = 0;
  while (std::getline(in, line) && line != "```") {
    const size_t colon = line.find(": ");
    ASSERT_NE(colon, std::string::npos) << line;
    EXPECT_EQ(Header(r, line.substr(0, colon)), line.substr(colon + 2)) << line;
    ++shown;
  }
  EXPECT_EQ(shown, 5u);  // CSP, nosniff, referrer, frames, opener
}

}  // namespace
}  // namespace acpstore::server
