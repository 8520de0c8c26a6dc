// libFuzzer target for what an HTTP client controls before any store call:
// the request head and body as raw bytes, parsed by Beast with the
// server's limits, then routed (target parsing, route matching, bearer
// parsing, role checks, Content-Type, JSON body scanning and request
// codecs) against a fresh memory store.
//
// Input: byte 0 selects the mode.
//   even: the rest is a raw HTTP/1.1 request (the server's RequestReader:
//         Beast's parser under the caps, then the router); bit 1 set: a
//         header cap of 256 KiB instead of the default 16 KiB;
//   odd:  the rest is "METHOD\nTARGET\nCONTENT-TYPE\nTOKEN\nBODY", routed
//         directly, so the fuzzer reaches the router without first having
//         to learn HTTP framing.
//
// Invariants beyond "no crash": the router answers exactly once; every
// answer has a status the SPEC lists; every error body is
// {"error":{"code","message",...}} in valid JSON whose code matches the
// status; a 405 carries Allow; a 5xx never echoes the request.

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "acpstore/store.h"
#include "auth/principal.h"
#include "fuzz_check.h"
#include "server/error_map.h"
#include "server/metrics.h"
#include "server/request_reader.h"
#include "server/router.h"
#include "server/subscriber_caps.h"

namespace {

namespace http = boost::beast::http;
using acpstore::Result;
using acpstore::Status;
using acpstore::auth::Principal;
using acpstore::auth::Role;
using acpstore::server::Request;
using acpstore::server::Response;

class Keys : public acpstore::auth::Authenticator {
 public:
  Result<Principal> Authenticate(std::string_view token) override {
    if (token == "w") return Principal{"t", "kw", Role::kWriter};
    if (token == "r") return Principal{"t", "kr", Role::kReader};
    if (token == "a") return Principal{"t", "ka", Role::kAdmin};
    return Status::Unauthenticated("unknown key");
  }
};

void CheckResponse(const Response& r, int calls) {
  FUZZ_CHECK(calls == 1);
  static const std::set<int> kStatuses = {200, 201, 204, 400, 401, 403,
                                          404, 405, 409, 413, 415, 429,
                                          431, 500, 501, 503, 507};
  FUZZ_CHECK(kStatuses.count(r.status) == 1);
  if (r.status == 405) {
    bool allow = false;
    for (const auto& [n, v] : r.headers) {
      allow = allow || (n == "Allow" && !v.empty());
    }
    FUZZ_CHECK(allow);
  }
  if (r.sse) return;
  if (r.status == 204) {
    FUZZ_CHECK(r.body.empty());
    return;
  }
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(r.body, ec);
  if (r.content_type.rfind("application/json", 0) == 0) FUZZ_CHECK(!ec);
  if (r.status < 400) return;
  FUZZ_CHECK(!ec && v.is_object());
  const auto* err = v.as_object().if_contains("error");
  FUZZ_CHECK(err != nullptr && err->is_object());
  const auto* code = err->as_object().if_contains("code");
  const auto* message = err->as_object().if_contains("message");
  FUZZ_CHECK(code != nullptr && code->is_string());
  FUZZ_CHECK(message != nullptr && message->is_string());
}

void Route(Request req) {
  acpstore::StoreOptions options;
  options.engine = acpstore::Engine::kMemory;
  options.maintenance_interval_ms = 0;
  auto store = acpstore::OpenStore(options);
  FUZZ_CHECK(store.ok());
  // A session to find, so routes get past "not found" into their bodies.
  (*store)->CreateSession({"t", "kw", acpstore::Scope::Access::kOwner},
                          {.id = "s"}, nullptr);
  Keys keys;
  acpstore::server::Metrics metrics;
  acpstore::server::SubscriberCaps caps(4, 2);
  acpstore::server::ServerOptions server_options;
  server_options.max_body_depth = 32;
  std::atomic<bool> stopping{false};
  acpstore::server::Router router(
      acpstore::server::ServerContext{store->get(), &keys, nullptr, &metrics,
                                      &caps, &server_options, &stopping});
  int calls = 0;
  Response out;
  // The memory engine completes inline: the answer is here on return.
  router.Handle(std::move(req), [&](Response r) {
    ++calls;
    out = std::move(r);
  });
  CheckResponse(out, calls);
}

// Parsed as the server parses (request_reader.h: its caps, checks and
// the parser's exceptions caught), under `max_header_bytes`: a refusal
// must be a well-formed error answer, and an exception that escaped the
// reader would end the process (as it once ended the server's).
void FromRawHttp(std::string_view bytes, size_t max_header_bytes) {
  acpstore::server::RequestReader reader(max_header_bytes, 1 << 20);
  boost::system::error_code ec;
  // Fed in reads of up to 4 KiB, as the server reads an idle connection,
  // so the caps on input still incomplete (a chunk line, a trailer) run.
  std::string pending;
  size_t fed = 0;
  while (!reader.parser().is_done()) {
    const size_t take = std::min<size_t>(4096, bytes.size() - fed);
    pending.append(bytes.substr(fed, take));
    fed += take;
    const size_t n = reader.Put(pending, ec);
    pending.erase(0, n);
    if (ec == http::error::need_more) {
      if (fed == bytes.size()) break;
      ec = {};
      continue;
    }
    if (ec) break;
    if (reader.parser().is_header_done()) reader.parser().eager(true);
    if (n == 0 && fed == bytes.size()) break;
  }
  if (reader.refusal()) {
    FUZZ_CHECK(ec);
    CheckResponse(*reader.refusal(), 1);
    return;
  }
  if (ec || !reader.parser().is_done()) return;
  auto msg = reader.parser().release();
  Route(acpstore::server::ToRequest(msg));
}

void FromLines(std::string_view bytes) {
  std::string_view parts[4];
  for (auto& p : parts) {
    const size_t nl = bytes.find('\n');
    p = bytes.substr(0, nl);
    bytes = nl == std::string_view::npos ? std::string_view()
                                         : bytes.substr(nl + 1);
  }
  Request req;
  req.method = std::string(parts[0]);
  req.target = std::string(parts[1]);
  req.content_type = std::string(parts[2]);
  req.authorization = "Bearer " + std::string(parts[3]);
  req.has_authorization = true;
  req.body = std::string(bytes);
  Route(std::move(req));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] % 2 == 0) {
    // Bit 1: the default header cap, or one over the 65,535 bytes a
    // single field can hold (--max-header-bytes 256KiB).
    const acpstore::server::ServerOptions defaults;
    FromRawHttp(input, (data[0] & 2) != 0 ? size_t{256} << 10
                                          : defaults.max_header_bytes);
  } else {
    FromLines(input);
  }
  return 0;
}
