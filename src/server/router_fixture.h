// RouterFixture: the test fixture of the router's unit tests -- a Router
// over a fresh memory store and the services a ServerContext borrows, fed
// Requests without sockets. Tokens: "w" is a writer and "r" a reader of
// tenant "t"; any other token is refused.
//
// Thread-safety: none; one test thread. Lifetime: one test. Tests may
// change options_ before Handle(): each call builds its Router anew.

#ifndef ACPSTORE_SERVER_ROUTER_FIXTURE_H_
#define ACPSTORE_SERVER_ROUTER_FIXTURE_H_

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "server/metrics.h"
#include "server/router.h"
#include "server/subscriber_caps.h"

namespace acpstore::server {

class TwoTokens : public auth::Authenticator {
 public:
  Result<auth::Principal> Authenticate(std::string_view token) override {
    if (token == "w") return auth::Principal{"t", "k", auth::Role::kWriter};
    if (token == "r") return auth::Principal{"t", "kr", auth::Role::kReader};
    return Status::Unauthenticated("unknown key");
  }
};

class RouterFixture : public ::testing::Test {
 protected:
  RouterFixture() : caps_(10, 10) {
    StoreOptions o;
    o.engine = Engine::kMemory;
    o.maintenance_interval_ms = 0;
    store_ = std::move(*OpenStore(o));
    ctx_ = ServerContext{store_.get(), &authn_,   nullptr,   &metrics_,
                         &caps_,       &options_, &stopping_};
  }

  // The memory engine completes inline, so the response is ready on
  // return; status 0 means the router never responded.
  Response Handle(Request request) {
    Response out;
    out.status = 0;
    Router(ctx_).Handle(std::move(request),
                        [&out](Response r) { out = std::move(r); });
    return out;
  }

  // The value of the response's extra header `name`, or "".
  static std::string Header(const Response& r, std::string_view name) {
    for (const auto& [n, v] : r.headers) {
      if (n == name) return v;
    }
    return "";
  }

  std::unique_ptr<Store> store_;
  TwoTokens authn_;
  Metrics metrics_;
  SubscriberCaps caps_;
  ServerOptions options_;
  std::atomic<bool> stopping_{false};
  ServerContext ctx_;
};

}  // namespace acpstore::server

#endif  // ACPSTORE_SERVER_ROUTER_FIXTURE_H_
