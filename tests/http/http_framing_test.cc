// End-to-end: how a request is framed and which headers it may repeat
// (SPEC §6 caps; RFC 9112 §3.2, §6; src/server/request_reader.h). Every
// refusal closes the connection, and the server keeps serving.

#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server_fixture.h"

namespace acpstore::testing {
namespace {

using std::chrono::milliseconds;

class HttpFramingTest : public HttpTest {
 protected:
  void Configure(server::ServerOptions* o) override {
    o->max_body_bytes = 64 << 10;
    o->max_header_bytes = 4 << 10;
    o->read_timeout_ms = 2000;
  }
  void SetUp() override {
    HttpTest::SetUp();
    CreateSession("writer-a", R"({"id":"s"})");
    AppendEvents("writer-a", "s", 2);
  }
  int64_t LastSeq() {
    HttpResponse r = Client("reader-a").Get("/v1/sessions/s/events");
    EXPECT_EQ(r.status, 200) << r.body;
    return r.Json().at("lastSeq").to_number<int64_t>();
  }
  void ExpectStillServing() {
    EXPECT_EQ(Client("").Get("/healthz").status, 200);
    EXPECT_EQ(LastSeq(), 2);
  }
  // Sends `request` on a fresh connection: the answer, after which the
  // server must have closed the connection (an HTTP/1.0 answer closes
  // without saying so).
  HttpResponse RefusedAndClosed(const std::string& request) {
    RawConnection c(port());
    EXPECT_TRUE(c.Send(request));
    HttpResponse r = c.ReadResponse(milliseconds(5000));
    if (request.find(" HTTP/1.0\r\n") == std::string::npos) {
      EXPECT_EQ(r.Header("connection"), "close") << request.substr(0, 200);
    }
    EXPECT_TRUE(c.WaitClosed(milliseconds(5000)));
    return r;
  }
};

TEST_F(HttpFramingTest, ALongTrailerFieldIsRefusedNotACrash) {
  // The probe's request: Beast's fields throw for a value over 65,535
  // bytes, which used to end the process.
  HttpResponse r = RefusedAndClosed(
      "GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "0\r\nX-Trailer: " +
      std::string(65600, 'a') + "\r\n\r\n");
  EXPECT_EQ(r.status, 431);
  EXPECT_EQ(r.ErrorCode(), "header_too_large");
  ExpectStillServing();
}

// With a header cap over what one field can hold, a long field reaches
// Beast's fields, which throw: the throw is caught.
class LargeHeaderCapTest : public HttpFramingTest {
 protected:
  void Configure(server::ServerOptions* o) override {
    HttpFramingTest::Configure(o);
    o->max_header_bytes = 256 << 10;
  }
};

TEST_F(LargeHeaderCapTest, AFieldOverWhatBeastHoldsIs431NotACrash) {
  HttpResponse r = RefusedAndClosed("GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: " +
                                    std::string(70000, 'a') + "\r\n\r\n");
  EXPECT_EQ(r.status, 431);
  EXPECT_EQ(r.ErrorCode(), "header_too_large");
  r = RefusedAndClosed(
      "GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "0\r\nX-Trailer: " +
      std::string(70000, 'a') + "\r\n\r\n");
  EXPECT_EQ(r.status, 431);
  // Under the cap, a long field is fine.
  RawConnection c(port());
  ASSERT_TRUE(c.Send("GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: " +
                     std::string(60000, 'a') + "\r\n\r\n"));
  EXPECT_EQ(c.ReadResponse(milliseconds(5000)).status, 200);
  ExpectStillServing();
}

}  // namespace
}  // namespace acpstore::testing
