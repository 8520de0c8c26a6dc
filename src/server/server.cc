// Server lifecycle and the accept loop. See server.h.

#include "server/server.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#if defined(__linux__)
#include <sched.h>
#endif
#include <utility>
#include <vector>

#include "base/thread_name.h"
#include "server/browser_access.h"
#include "server/browser_sessions.h"
#include "server/error_map.h"
#include "server/http_connection.h"
#include "server/response_head.h"

namespace acpstore::server {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

namespace {

// The CPUs this process may run on: its affinity mask (taskset, cgroup
// cpusets), not the machine's hardware threads. An I/O thread per CPU it
// cannot use only adds hand-offs: pinned to one core, two I/O threads cost
// ~15% more CPU per single append than one (issue 14, docs/benchmarks.md).
unsigned UsableCpus() {
#if defined(__linux__)
  cpu_set_t set{};
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return static_cast<unsigned>(n);
  }
#endif
  return std::max(1u, std::thread::hardware_concurrency());
}

// The lingering close of a connection refused over the cap (Refuse). The
// client may already be writing its request; closing with that input
// unread makes the kernel answer with a reset, and a client still writing
// then fails with EPIPE or ECONNRESET instead of reading the 429 and its
// Retry-After. So, as Connection::CloseSocket does after a refusal, what
// it sends is read and discarded until it closes, for at most kLingerMs
// and kLingerMinBytes (http_connection.h), into one small buffer. The
// server is over its cap when this runs: at most kRefusedLingers linger at
// once, and a refusal beyond them closes at once.
constexpr int kRefusedLingers = 64;

class RefusedLinger : public std::enable_shared_from_this<RefusedLinger> {
 public:
  // `lingering` counts the live ones; it outlives the server's io_context
  // (whose destruction destroys a pending linger without running it).
  RefusedLinger(tcp::socket socket, std::shared_ptr<std::atomic<int>> lingering)
      : strand_(asio::make_strand(socket.get_executor())),
        socket_(std::move(socket)),
        timer_(strand_),
        lingering_(std::move(lingering)) {}
  ~RefusedLinger() { lingering_->fetch_sub(1); }
  RefusedLinger(const RefusedLinger&) = delete;
  RefusedLinger& operator=(const RefusedLinger&) = delete;

  void Start(int64_t max_ms) {
    timer_.expires_after(std::chrono::milliseconds(max_ms));
    timer_.async_wait(asio::bind_executor(
        strand_, [self = shared_from_this()](error_code ec) {
          if (!ec) self->Close();  // the time is up
        }));
    asio::dispatch(strand_, [self = shared_from_this()] { self->Read(); });
  }

 private:
  void Read() {
    socket_.async_read_some(
        asio::buffer(buffer_),
        asio::bind_executor(strand_, [self = shared_from_this()](
                                         error_code ec, size_t n) {
          self->drained_ += n;
          if (ec || self->drained_ >= kLingerMinBytes) {
            self->Close();  // the client closed, or the cap
            return;
          }
          self->Read();
        }));
  }
  void Close() {
    error_code ignored;
    timer_.cancel();
    socket_.close(ignored);
  }

  asio::strand<tcp::socket::executor_type> strand_;
  tcp::socket socket_;
  asio::steady_timer timer_;
  std::array<char, 4096> buffer_{};
  uint64_t drained_ = 0;
  std::shared_ptr<std::atomic<int>> lingering_;
};

// "127.0.0.1:7700", "[::1]:7700".
std::string FormatEndpoint(const asio::ip::address& address, uint16_t port) {
  const std::string host = address.to_string();
  return (address.is_v6() ? "[" + host + "]" : host) + ":" +
         std::to_string(port);
}

// With port 0 and several addresses the first picks the port and the rest
// must take the same one, which another program may hold on one of them:
// so many fresh picks are tried before giving up.
constexpr int kPortPicks = 8;

}  // namespace

struct Server::Impl {
  Impl(ServerOptions options, Store& store, auth::Authenticator& authn,
       auth::KeyManager* keys)
      : core(std::move(options), store, authn, keys) {}

  asio::awaitable<void> Accept(tcp::acceptor* acceptor);
  // One listening acceptor per address in `addresses`, all on one port
  // (into acceptors, port, endpoints, passed_over).
  Status Listen(const std::vector<asio::ip::address>& addresses);
  // One try of Listen on `want` (0: the first bound address picks). Sets
  // *port_taken when the port the first picked is busy on a later one.
  Status ListenOnce(const std::vector<asio::ip::address>& addresses,
                    uint16_t want, bool* port_taken);
  // Every 250 ms: the keys' revision to sse_auth, which wakes the streams
  // to re-check their key when it moved (sse_auth_watch.h).
  asio::awaitable<void> WatchKeys();
  void Refuse(tcp::socket socket);
  // Refused connections lingering now (RefusedLinger).
  std::shared_ptr<std::atomic<int>> refused_lingering =
      std::make_shared<std::atomic<int>>(0);
  std::vector<std::shared_ptr<Connection>> LiveConnections();
  // Waits until no connection is left and no reply is pending, or until
  // `deadline`. True when drained.
  bool WaitDrained(std::chrono::steady_clock::time_point deadline);

  ServerCore core;
  // Owned through a pointer so that Stop() can leak it on purpose if a
  // store completion is still outstanding after the shutdown timeout:
  // destroying the context under a pending completion would be worse.
  std::unique_ptr<asio::io_context> ioc;
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  // The accept loops and Stop()'s close of the acceptors all run on this
  // strand: an acceptor is not safe to close on one thread while another
  // starts an accept on it (TSan found exactly that with io_threads > 1).
  std::optional<asio::strand<asio::io_context::executor_type>> accept_strand;
  std::vector<std::thread> threads;
  uint16_t port = 0;
  std::vector<std::string> endpoints;
  std::vector<std::string> passed_over;
  bool running = false;
};

asio::awaitable<void> Server::Impl::Accept(tcp::acceptor* acceptor) {
  for (;;) {
    // Each connection gets its own strand: its coroutines never run
    // concurrently, without any lock.
    tcp::socket socket(asio::make_strand(*ioc));
    error_code ec;
    co_await acceptor->async_accept(
        socket, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (core.stopping.load() || ec == asio::error::operation_aborted) {
        co_return;
      }
      // EMFILE and friends: back off briefly instead of spinning.
      asio::steady_timer pause(co_await asio::this_coro::executor,
                               std::chrono::milliseconds(50));
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    if (static_cast<size_t>(core.metrics.connections_open()) >=
        core.options.max_connections) {
      Refuse(std::move(socket));
      continue;
    }
    error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    Connection::Start(std::make_shared<Connection>(std::move(socket), core));
  }
}

asio::awaitable<void> Server::Impl::WatchKeys() {
  const ServerContext& ctx = core.router.context();
  asio::steady_timer timer(co_await asio::this_coro::executor);
  while (!core.stopping.load()) {
    uint64_t revision = ctx.authenticator->revision();
    if (ctx.browser_sessions != nullptr) {
      revision += ctx.browser_sessions->revision();
    }
    core.sse_auth.Poll(revision);
    timer.expires_after(std::chrono::milliseconds(250));
    error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

// Over the connection cap: a canned 429, written without waiting (it fits
// any socket buffer), then a lingering close (RefusedLinger): no coroutine
// and one 4 KiB buffer for at most 2 s.
void Server::Impl::Refuse(tcp::socket socket) {
  core.metrics.ConnectionRejected();
  Response r = ErrorResponse(
      Status::ResourceExhausted("too many open connections; retry later"));
  // Nothing of the request is read, so no Origin is known; Vary: Origin
  // still goes on it, as on every response once an origin is configured.
  AddCorsHeaders(core.options, "", &r);
  std::string response;
  AppendResponseHead(r, 11, /*keep_alive=*/false, &response);
  response += r.body;
  error_code ignored;
  socket.non_blocking(true, ignored);
  socket.write_some(asio::buffer(response), ignored);
  socket.shutdown(tcp::socket::shutdown_send, ignored);
  if (core.stopping.load()) {
    socket.close(ignored);
    return;
  }
  if (refused_lingering->fetch_add(1) >= kRefusedLingers) {
    refused_lingering->fetch_sub(1);
    socket.close(ignored);
    return;
  }
  std::make_shared<RefusedLinger>(std::move(socket), refused_lingering)
      ->Start(std::min(kLingerMs, core.options.read_timeout_ms));
}

std::vector<std::shared_ptr<Connection>> Server::Impl::LiveConnections() {
  std::vector<std::shared_ptr<Connection>> out;
  std::lock_guard<std::mutex> lock(core.mu);
  for (auto& [ptr, weak] : core.live) {
    if (auto c = weak.lock()) out.push_back(std::move(c));
  }
  return out;
}

bool Server::Impl::WaitDrained(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock<std::mutex> lock(core.mu);
  while (!core.live.empty() || !core.owed.empty()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    core.changed.wait_for(lock, std::chrono::milliseconds(20));
  }
  return true;
}

Server::Server(ServerOptions options, Store& store,
               auth::Authenticator& authenticator,
               auth::KeyManager* key_manager)
    : impl_(std::make_unique<Impl>(std::move(options), store, authenticator,
                                   key_manager)) {}

// Stop() throws only what a failed thread join or mutex throws, which ends
// the process either way.
Server::~Server() { Stop(); }  // NOLINT(bugprone-exception-escape)

Status Server::Impl::ListenOnce(const std::vector<asio::ip::address>& addresses,
                                uint16_t want, bool* port_taken) {
  acceptors.clear();
  endpoints.clear();
  passed_over.clear();
  // Said with the port, known only once an address is bound.
  std::vector<std::pair<asio::ip::address, std::string>> skipped;
  uint16_t chosen = want;
  for (const asio::ip::address& address : addresses) {
    const tcp::endpoint endpoint(address, chosen);
    auto acceptor = std::make_unique<tcp::acceptor>(*ioc);
    error_code ec;
    acceptor->open(endpoint.protocol(), ec);
    // Beside other addresses, [::] must not take the IPv4 port too (Linux
    // makes it dual-stack by default), or 0.0.0.0 could not bind after it.
    if (!ec && addresses.size() > 1 && address.is_v6()) {
      acceptor->set_option(asio::ip::v6_only(true), ec);
    }
    if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor->bind(endpoint, ec);
    if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      const std::string where = FormatEndpoint(address, chosen);
      if (addresses.size() > 1 &&
          (ec == boost::system::errc::address_not_available ||
           ec == asio::error::address_family_not_supported)) {
        skipped.emplace_back(address, ec.message());
        continue;
      }
      *port_taken = want == 0 && chosen != 0 &&
                    ec == asio::error::address_in_use;
      return Status::Unavailable("cannot listen on " + where + ": " +
                                 ec.message());
    }
    if (chosen == 0) chosen = acceptor->local_endpoint().port();
    endpoints.push_back(FormatEndpoint(address, chosen));
    acceptors.push_back(std::move(acceptor));
  }
  for (const auto& [address, why] : skipped) {
    passed_over.push_back(FormatEndpoint(address, chosen) + ": " + why);
  }
  if (acceptors.empty()) {
    std::string all;
    for (const std::string& p : passed_over) {
      all += (all.empty() ? "" : "; ") + p;
    }
    return Status::Unavailable("cannot listen on any address: " + all);
  }
  port = chosen;
  return Status::OK();
}

Status Server::Impl::Listen(const std::vector<asio::ip::address>& addresses) {
  const uint16_t want = core.options.port;
  const int tries = want == 0 && addresses.size() > 1 ? kPortPicks : 1;
  Status last;
  for (int i = 0; i < tries; ++i) {
    bool port_taken = false;
    last = ListenOnce(addresses, want, &port_taken);
    if (last.ok() || !port_taken) break;
  }
  if (!last.ok()) acceptors.clear();
  return last;
}

Status Server::Start() {
  if (impl_->running) return Status::OK();
  const ServerOptions& opt = impl_->core.options;
  if (opt.listen_addresses.empty()) {
    return Status::InvalidArgument("no listen address");
  }
  std::vector<asio::ip::address> addresses;
  for (const std::string& text : opt.listen_addresses) {
    error_code ec;
    const asio::ip::address address = asio::ip::make_address(text, ec);
    if (ec) {
      return Status::InvalidArgument("listen address " + text + ":" +
                                     std::to_string(opt.port) + ": " +
                                     ec.message());
    }
    addresses.push_back(address);
  }
  unsigned n = opt.io_threads;
  if (n == 0) n = UsableCpus();
  // The hint lets a lone I/O thread queue what it posts to itself without
  // the scheduler's lock (asio's one_thread_ path).
  impl_->ioc = std::make_unique<asio::io_context>(static_cast<int>(n));
  ACPSTORE_RETURN_IF_ERROR(impl_->Listen(addresses));

  impl_->accept_strand.emplace(asio::make_strand(*impl_->ioc));
  for (const auto& acceptor : impl_->acceptors) {
    asio::co_spawn(*impl_->accept_strand, impl_->Accept(acceptor.get()),
                   asio::detached);
  }
  asio::co_spawn(*impl_->accept_strand, impl_->WatchKeys(), asio::detached);
  for (unsigned i = 0; i < n; ++i) {
    impl_->threads.emplace_back([ioc = impl_->ioc.get()] {
      base::NameThisThread("acp-http");
      ioc->run();
    });
  }
  impl_->running = true;
  return Status::OK();
}

uint16_t Server::port() const { return impl_->port; }

const std::vector<std::string>& Server::endpoints() const {
  return impl_->endpoints;
}

const std::vector<std::string>& Server::passed_over() const {
  return impl_->passed_over;
}

const Metrics& Server::metrics() const { return impl_->core.metrics; }

void Server::Stop() {
  Impl& d = *impl_;
  if (!d.running) return;
  d.running = false;
  d.core.stopping.store(true);
  asio::post(*d.accept_strand, [&d] {
    error_code ignored;
    for (const auto& acceptor : d.acceptors) acceptor->close(ignored);
  });
  for (auto& c : d.LiveConnections()) c->Shutdown();

  const auto deadline =
      std::chrono::steady_clock::now() +
      std::chrono::milliseconds(d.core.options.shutdown_timeout_ms);
  if (!d.WaitDrained(deadline)) {
    for (auto& c : d.LiveConnections()) c->ForceClose();
    // Closing a socket ends its connection promptly; a reply the store
    // still owes is waited for a little longer.
    d.WaitDrained(std::chrono::steady_clock::now() +
                  std::chrono::milliseconds(500));
  }
  d.ioc->stop();
  for (std::thread& t : d.threads) t.join();
  d.threads.clear();
  d.acceptors.clear();
  d.accept_strand.reset();
  // A reply still owed now is dropped; its coroutine goes with the context.
  d.core.DetachOwedReplies();
  d.ioc.reset();
}

}  // namespace acpstore::server
