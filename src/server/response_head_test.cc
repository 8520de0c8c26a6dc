// Unit tests: the bytes of a response head (response_head.h), which must
// be the ones Beast's serializer wrote before.

#include "server/response_head.h"

#include <gtest/gtest.h>

#include <string>

namespace acpstore::server {
namespace {

std::string Head(const Response& r, unsigned version, bool keep_alive) {
  std::string out = "kept:";  // appends, never replaces
  AppendResponseHead(r, version, keep_alive, &out);
  return out;
}

TEST(ResponseHead, KeepAliveHttp11HasNoConnectionHeader) {
  Response r;
  r.status = 201;
  r.body = "{\"seq\":1}";
  r.headers.emplace_back("Preference-Applied", "return=minimal");
  EXPECT_EQ(Head(r, 11, true),
            "kept:HTTP/1.1 201 Created\r\n"
            "Content-Type: application/json\r\n"
            "Preference-Applied: return=minimal\r\n"
            "Content-Length: 9\r\n\r\n");
}

TEST(ResponseHead, ClosingHttp11SaysClose) {
  Response r;
  r.status = 431;
  EXPECT_EQ(Head(r, 11, false),
            "kept:HTTP/1.1 431 Request Header Fields Too Large\r\n"
            "Content-Type: application/json\r\n"
            "Connection: close\r\n"
            "Content-Length: 0\r\n\r\n");
}

// (A 204 carries no Content-Length: RFC 9110 §8.6.)
TEST(ResponseHead, Http10SaysKeepAliveOnlyWhenKept) {
  Response r;
  r.content_type.clear();
  r.status = 204;
  EXPECT_EQ(Head(r, 10, true),
            "kept:HTTP/1.0 204 No Content\r\n"
            "Connection: keep-alive\r\n\r\n");
  EXPECT_EQ(Head(r, 10, false), "kept:HTTP/1.0 204 No Content\r\n\r\n");
  EXPECT_EQ(Head(r, 11, true), "kept:HTTP/1.1 204 No Content\r\n\r\n");
}

TEST(ResponseHead, NotModifiedHasNoContentLength) {
  Response r;
  r.status = 304;
  r.content_type.clear();
  r.headers.emplace_back("ETag", "\"abc\"");
  EXPECT_EQ(Head(r, 11, true),
            "kept:HTTP/1.1 304 Not Modified\r\n"
            "ETag: \"abc\"\r\n\r\n");
}

TEST(ResponseHead, ARepeatedNameKeepsItsLastValueInItsLastPlace) {
  Response r;
  r.status = 429;
  r.headers.emplace_back("Retry-After", "1");
  r.headers.emplace_back("Vary", "Origin");
  r.headers.emplace_back("retry-after", " 2 ");
  EXPECT_EQ(Head(r, 11, true),
            "kept:HTTP/1.1 429 Too Many Requests\r\n"
            "Content-Type: application/json\r\n"
            "Vary: Origin\r\n"
            "retry-after: 2\r\n"
            "Content-Length: 0\r\n\r\n");
}

TEST(ResponseHead, ALineBreakInAValueNeverEndsTheHead) {
  Response r;
  r.status = 200;
  r.headers.emplace_back("Access-Control-Allow-Origin",
                         std::string("https://a.example\r\nSet-Cookie: x=1\0", 35));
  EXPECT_EQ(Head(r, 11, true),
            "kept:HTTP/1.1 200 OK\r\n"
            "Content-Type: application/json\r\n"
            "Access-Control-Allow-Origin: https://a.example  Set-Cookie: x=1 \r\n"
            "Content-Length: 0\r\n\r\n");
}

TEST(ResponseHead, EveryStatusTheServerSendsHasItsReason) {
  for (int s : {200, 201, 204, 304, 308, 400, 401, 403, 404, 405, 408, 409,
                413, 415, 429, 431, 500, 503, 507}) {
    EXPECT_NE(ReasonPhrase(s), "Unknown") << s;
  }
  EXPECT_EQ(ReasonPhrase(299), "Unknown");
}

}  // namespace
}  // namespace acpstore::server
