// One HTTP/1.1 connection: read a request under the limits, run it
// through the router, write the response; repeat while keep-alive; or hand
// the socket to an SseStream. See http_connection.h.
//
// Hostile input is answered here, before any route runs: a header over
// max_header_bytes -> 431, a declared or chunked body over max_body_bytes
// -> 413 without reading it, a request not complete within
// read_timeout_ms -> 408, and what RequestReader refuses (framing,
// repeated or missing headers, chunk lines and trailers over their caps,
// a field the parser cannot hold: 400/431/501); each of them closes the
// connection, after a bounded lingering close (CloseSocket).

#include "server/http_connection.h"

#include <algorithm>
#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <utility>

#include "server/browser_access.h"
#include "server/error_map.h"
#include "server/request_reader.h"
#include "server/response_head.h"
#include "server/sse_stream.h"

namespace acpstore::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using boost::system::error_code;

namespace {

// Lingering close after a refusal (CloseSocket; kLingerMs and
// kLingerMinBytes in http_connection.h): it ends after max(kLingerMinBytes,
// 2 x max_body_bytes) bytes, so a client that sends a body somewhat over
// the cap (the probe's 9 MB against 8 MiB) gets to send all of it and read
// the answer. The connection stays open, and counted under
// max_connections, meanwhile; the body's reservation is already returned;
// Shutdown() ends the linger at once.

// Beast reads at most max(512, free space in the buffer) bytes per recv(),
// and a flat_buffer only grows by what is asked of it: left alone, every
// request arrived 512 bytes per syscall (6 recv() for a 2.8 KB append, ~530
// for a 270 KB batch of 100: a third of the server's syscalls, issue 14).
// So the buffer holds kIdleReadBytes while waiting for a header (one recv()
// for a typical request) and grows to min(body left, kBodyReadBytes) for a
// body; a buffer grown past kIdleReadBytes shrinks back before the next
// request, so an idle keep-alive connection keeps 4 KiB.
constexpr size_t kIdleReadBytes = 4096;
constexpr size_t kBodyReadBytes = size_t{64} * 1024;

// Room for `want` more bytes in `buffer` without losing what it holds.
void EnsureReadRoom(beast::flat_buffer& buffer, size_t want) {
  if (buffer.capacity() - buffer.size() < want) {
    buffer.reserve(buffer.size() + want);
  }
}

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Holds bytes of ServerCore::body_bytes until destroyed.
class BodyReservation {
 public:
  explicit BodyReservation(std::atomic<size_t>& total) : total_(total) {}
  BodyReservation(const BodyReservation&) = delete;
  BodyReservation& operator=(const BodyReservation&) = delete;
  ~BodyReservation() { total_.fetch_sub(held_); }

  bool Reserve(size_t bytes, size_t budget) {
    size_t cur = total_.load();
    do {
      if (cur + bytes > budget) return false;
    } while (!total_.compare_exchange_weak(cur, cur + bytes));
    held_ += bytes;
    return true;
  }

 private:
  std::atomic<size_t>& total_;
  size_t held_ = 0;
};

// Runs the router and resumes the awaiting coroutine on its own executor
// (the connection's strand) when the response is ready, whichever thread
// produced it. The store sees only an OwedReply slot (see ServerCore).
template <typename Token>
auto AsyncDispatch(ServerCore& core, Request request, Token&& token) {
  return asio::async_initiate<Token, void(Response)>(
      // req is moved into Handle(); clang-tidy 14 misreads the generic
      // lambda.
      // NOLINTNEXTLINE(performance-unnecessary-value-param)
      [&core](auto handler, Request req) {
        auto slot = std::make_shared<ServerCore::OwedReply>();
        slot->core = &core;
        slot->deliver = [h = std::make_shared<decltype(handler)>(
                             std::move(handler))](Response r) mutable {
          auto ex = asio::get_associated_executor(*h);
          asio::post(ex, [h = std::move(h), r = std::move(r)]() mutable {
            (*h)(std::move(r));
          });
        };
        {
          std::lock_guard<std::mutex> lock(core.mu);
          core.owed.emplace(slot.get(), slot);
        }
        core.router.Handle(std::move(req), [slot](Response r) {
          ServerCore::Deliver(slot, std::move(r));
        });
      },
      token, std::move(request));
}

}  // namespace

void ServerCore::Deliver(const std::shared_ptr<OwedReply>& slot, Response r) {
  // slot->mu is held until every asio object is gone: DetachOwedReplies
  // takes it too, so the io_context cannot be freed under our feet.
  std::lock_guard<std::mutex> slot_lock(slot->mu);
  ServerCore* core = slot->core;
  if (core == nullptr) return;  // the server stopped; nobody waits
  std::function<void(Response)> deliver = std::move(slot->deliver);
  slot->deliver = nullptr;
  slot->core = nullptr;
  deliver(std::move(r));
  deliver = nullptr;
  std::lock_guard<std::mutex> lock(core->mu);
  core->owed.erase(slot.get());
  core->changed.notify_all();
}

void ServerCore::DetachOwedReplies() {
  std::unordered_map<OwedReply*, std::shared_ptr<OwedReply>> slots;
  {
    std::lock_guard<std::mutex> lock(mu);
    slots.swap(owed);
  }
  // Not under `mu`: Deliver holds a slot lock while it takes `mu`.
  for (auto& [ptr, slot] : slots) {
    std::lock_guard<std::mutex> slot_lock(slot->mu);
    slot->deliver = nullptr;
    slot->core = nullptr;
  }
}

Connection::Connection(asio::ip::tcp::socket socket, ServerCore& core)
    : socket_(std::move(socket)), core_(core), deadline_(socket_) {
  core_.metrics.ConnectionOpened();
}

Connection::~Connection() {
  core_.metrics.ConnectionClosed();
  {
    std::lock_guard<std::mutex> lock(core_.mu);
    core_.live.erase(this);
  }
  core_.changed.notify_all();
}

void Connection::Start(const std::shared_ptr<Connection>& c) {
  {
    std::lock_guard<std::mutex> lock(c->core_.mu);
    c->core_.live.emplace(c.get(), c);
  }
  const auto ex = c->socket_.get_executor();
  asio::co_spawn(
      ex, [c]() -> asio::awaitable<void> { co_await c->deadline_.Watch(); },
      asio::detached);
  asio::co_spawn(
      ex, [c]() -> asio::awaitable<void> { co_await c->Run(); },
      asio::detached);
}

void Connection::Shutdown() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    if (self->state_ == State::kIdle || self->state_ == State::kLingering) {
      error_code ignored;
      self->socket_.cancel(ignored);
    } else if (self->state_ == State::kStreaming && self->sse_ != nullptr) {
      self->sse_->Stop();
    }
    // kBusy: the request finishes and the response says Connection: close.
  });
}

void Connection::ForceClose() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    if (self->sse_ != nullptr) self->sse_->Stop();
    error_code ignored;
    self->socket_.close(ignored);
  });
}

// One request as ReadRequest reads it. The reservation is held until the
// request is answered (the Incoming lives for one turn of the loop).
struct Connection::Incoming {
  explicit Incoming(ServerCore& core)
      : reader(core.options.max_header_bytes, core.options.max_body_bytes),
        parser(reader.parser()),
        reservation(core.body_bytes) {}

  // The method for metrics and the log; "-" before the header is parsed
  // (or Beast refused its Content-Length, which it judges after the last
  // field: the request line is known then).
  std::string_view method() const {
    return reader.fields_read()
               ? static_cast<std::string_view>(parser.get().method_string())
               : std::string_view("-");
  }
  // The route label of a request refused here (a 413 for its length, a 408
  // in its body): the one the router would give it once its header is
  // known, so an alert on a route sees its refusals too; "-" before.
  std::string_view route(const Router& router) const {
    if (!reader.fields_read()) return "-";
    return router.RouteOf(parser.get().method_string(), parser.get().target());
  }
  // The Origin header, for the answer's CORS headers: "" before every
  // field is read (those read so far may lack the Origin that follows),
  // and with two Origin headers (refused; neither is the one).
  std::string_view origin() const {
    if (!reader.fields_read()) return {};
    const auto range = parser.get().equal_range(http::field::origin);
    if (range.first == range.second ||
        std::next(range.first) != range.second) {
      return {};
    }
    return range.first->value();
  }

  RequestReader reader;  // the parser, its caps and the header checks
  http::request_parser<http::string_body>& parser;
  BodyReservation reservation;
  int64_t start_us = 0;  // once the header is read: latency counts from here
  unsigned version = 11;
  bool timed_out = false;    // the read deadline passed
  bool over_budget = false;  // max_inflight_body_bytes refused the body
};

// GCC 12 inlines asio's frame allocator (aligned_alloc) into this
// coroutine's ramp and then flags the frame's sized operator delete as a
// mismatch: a false positive of its coroutine lowering, which appeared
// when SendResponse stopped building a Beast message. The pair is asio's
// own (awaitable_frame_base::operator new / delete).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
asio::awaitable<void> Connection::Run() {
  {
    error_code ec;
    auto ep = socket_.remote_endpoint(ec);
    if (!ec) {
      remote_ = ep.address().to_string() + ":" + std::to_string(ep.port());
    }
  }
  bool linger = false;  // closing after refusing a request: drain first
  while (!core_.stopping.load()) {
    state_ = State::kIdle;
    Incoming in(core_);
    const error_code ec = co_await ReadRequest(in);
    if (ec) {
      std::optional<Response> refusal = RefusalFor(ec, in);
      if (refusal) {
        if (refusal->route == "-") refusal->route = in.route(core_.router);
        co_await SendResponse(std::move(*refusal), in.version,
                              /*keep_alive=*/false, in.method(), in.start_us,
                              in.origin());
        linger = true;
      }
      break;
    }

    const std::string origin(in.origin());
    http::request<http::string_body> req = in.parser.release();
    const bool keep_alive = req.keep_alive();
    Response response =
        co_await AsyncDispatch(core_, ToRequest(req), asio::use_awaitable);
    if (response.sse) {
      co_await StreamEvents(std::move(response), req.method_string(),
                            in.start_us, origin);
      break;
    }
    // Keep-alive unless the client or a stopping server says otherwise.
    const bool again = keep_alive && !core_.stopping.load();
    if (!co_await SendResponse(std::move(response), in.version, again,
                               req.method_string(), in.start_us, origin) ||
        !again) {
      break;
    }
  }
  co_await CloseSocket(linger);
}
#pragma GCC diagnostic pop

asio::awaitable<error_code> Connection::ReadRequest(Incoming& in) {
  const ServerOptions& opt = core_.options;
  http::request_parser<http::string_body>& parser = in.parser;
  deadline_.Arm(opt.read_timeout_ms);
  if (buffer_.capacity() > kIdleReadBytes &&
      buffer_.size() <= kIdleReadBytes) {
    buffer_.shrink_to_fit();
  }
  if (buffer_.capacity() < kIdleReadBytes) buffer_.reserve(kIdleReadBytes);
  error_code ec = co_await Parse(in, /*whole=*/false);
  state_ = State::kBusy;
  in.start_us = NowMicros();
  in.version = parser.get().version() == 10 ? 10 : 11;
  if (!ec) {
    // A declared body over the cap is refused before a byte of it is read.
    if (parser.content_length() &&
        *parser.content_length() > opt.max_body_bytes) {
      ec = http::error::body_limit;
    } else if (!parser.is_done() &&
               !in.reservation.Reserve(
                   parser.content_length().value_or(opt.max_body_bytes),
                   opt.max_inflight_body_bytes)) {
      in.over_budget = true;
      ec = http::error::body_limit;
    } else if (beast::iequals(parser.get()[http::field::expect],
                              "100-continue")) {
      static constexpr std::string_view kContinue =
          "HTTP/1.1 100 Continue\r\n\r\n";
      co_await asio::async_write(socket_, asio::buffer(kContinue),
                                 asio::redirect_error(asio::use_awaitable, ec));
    }
  }
  if (!ec && !parser.is_done()) {
    // The parser has already taken the body bytes read with the header.
    const uint64_t left = parser.content_length_remaining().value_or(
        kBodyReadBytes);
    EnsureReadRoom(buffer_, static_cast<size_t>(std::min<uint64_t>(
                                left, kBodyReadBytes)));
    parser.eager(true);  // as http::async_read: the whole body per read
    ec = co_await Parse(in, /*whole=*/true);
  }
  in.timed_out = deadline_.expired();
  deadline_.Disarm();
  co_return ec;
}

asio::awaitable<error_code> Connection::Parse(Incoming& in, bool whole) {
  const http::request_parser<http::string_body>& parser = in.parser;
  const auto done = [&] {
    return whole ? parser.is_done() : parser.is_header_done();
  };
  // Beast's http::async_read_some, with the parsing done here rather than
  // in its completion handler.
  for (;;) {
    error_code ec;
    if (buffer_.size() > 0) {
      const auto data = buffer_.data();
      const size_t used = in.reader.Put(
          std::string_view(static_cast<const char*>(data.data()),
                           data.size()),
          ec);
      buffer_.consume(used);
      if (ec == http::error::need_more) {
        ec = {};
      } else if (ec || done()) {
        co_return ec;
      } else if (used > 0 && buffer_.size() > 0) {
        continue;  // a step of a parser that is not eager
      }
    }
    const size_t size = beast::read_size(buffer_, kBodyReadBytes);
    const size_t n = co_await socket_.async_read_some(
        buffer_.prepare(size), asio::redirect_error(asio::use_awaitable, ec));
    buffer_.commit(n);
    if (ec == asio::error::eof) {
      if (!parser.got_some()) co_return http::error::end_of_stream;
      // A message that ends with the connection (or is cut short by it).
      ec = {};
      in.parser.put_eof(ec);
      co_return ec;
    }
    if (ec) co_return ec;
  }
}

std::optional<Response> Connection::RefusalFor(const error_code& ec,
                                               const Incoming& in) {
  const ServerOptions& opt = core_.options;
  // A cap or check of the reader's, or a parser exception it caught.
  if (in.reader.refusal()) return *in.reader.refusal();
  const bool begun = in.parser.got_some() || buffer_.size() > 0;
  if (in.timed_out) {
    if (!begun) return std::nullopt;  // an idle keep-alive connection
    core_.metrics.RequestTimedOut();
    return ErrorResponse(HttpError::kRequestTimeout,
                         "the request did not arrive in time");
  }
  if (ec == http::error::header_limit) {
    return ErrorResponse(HttpError::kHeaderTooLarge,
                         "request header larger than " +
                             std::to_string(opt.max_header_bytes) + " bytes");
  }
  if (in.over_budget) {
    return ErrorResponse(Status::ResourceExhausted(
        "too many request bodies in flight; retry later"));
  }
  if (ec == http::error::body_limit) {
    return ErrorResponse(
        Status::PayloadTooLarge("request body larger than " +
                                std::to_string(opt.max_body_bytes) + " bytes")
            .With("limit", static_cast<int64_t>(opt.max_body_bytes)));
  }
  if (ec == http::error::end_of_stream || ec == asio::error::eof ||
      ec == asio::error::operation_aborted ||
      ec == asio::error::connection_reset || !begun) {
    return std::nullopt;  // the client left (or Shutdown() cancelled a read)
  }
  return ErrorResponse(
      Status::InvalidArgument("malformed HTTP request: " + ec.message()));
}

void Connection::CountRequest(std::string_view method, const Response& r,
                              int status, std::string_view internal_error,
                              int64_t start_us) {
  const ServerOptions& opt = core_.options;
  const int64_t latency = NowMicros() - start_us;
  core_.metrics.RecordRequest(method, r.route, status, latency);
  if (!r.service_tenant.empty()) {
    core_.metrics.RecordServiceRequest(r.service_tenant);
  }
  if (opt.request_log) {
    opt.request_log(RequestLogEntry{method, r.route, r.operation, status,
                                    latency, remote_, internal_error});
  }
}

void Connection::AddCors(Response& r, std::string_view origin) const {
  if (!r.preflight) AddCorsHeaders(core_.options, origin, &r);
}

asio::awaitable<bool> Connection::SendResponse(Response r, unsigned version,
                                               bool keep_alive,
                                               std::string_view method,
                                               int64_t start_us,
                                               std::string_view origin) {
  AddCors(r, origin);
  // Counting first means that once a client has its answer, /metrics
  // already includes it; latency is the time to produce the response.
  CountRequest(method, r, r.status, r.internal_error, start_us);
  // The head is formatted into a buffer the connection keeps, and head and
  // body go out in one gathered write: no Beast message per reply (issue
  // 14; response_head.h).
  head_.clear();
  AppendResponseHead(r, version, keep_alive, &head_);
  // A response to a HEAD has no body (RFC 9110 §9.3.2), though its head
  // says how long the body would be: bytes after it would be read as the
  // start of the next response on this connection.
  const bool head_only = method == "HEAD";
  const std::array<asio::const_buffer, 2> bytes = {
      asio::buffer(head_),
      asio::buffer(r.body.data(), head_only ? 0 : r.body.size())};
  deadline_.Arm(core_.options.write_timeout_ms);
  error_code ec;
  co_await asio::async_write(socket_, bytes,
                             asio::redirect_error(asio::use_awaitable, ec));
  deadline_.Disarm();
  co_return !ec;
}

asio::awaitable<void> Connection::StreamEvents(Response response,
                                               std::string_view method,
                                               int64_t start_us,
                                               std::string_view origin) {
  AddCors(response, origin);
  // The request is answered once the stream starts.
  CountRequest(method, response, 200, "", start_us);
  std::string& head = response.sse->extra_head;
  for (const auto& [name, value] : response.headers) {
    head.append(name).append(": ").append(value).append("\r\n");
  }
  SseStream stream(socket_, deadline_, std::move(response.sse), core_.options,
                   core_.metrics, core_.sse_frames, core_.sse_auth);
  state_ = State::kStreaming;
  sse_ = &stream;
  if (!core_.stopping.load()) {
    co_await stream.Run();
  }
  sse_ = nullptr;
}

asio::awaitable<void> Connection::CloseSocket(bool linger) {
  error_code ignored;
  // The FIN follows the response: a client reads the answer, then the end.
  socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  if (linger && !core_.stopping.load()) {
    // Lingering close: the client may still be sending the request we
    // refused. Closing with unread input makes the kernel answer with a
    // reset, and a client still writing then fails with ECONNRESET/EPIPE
    // (Node's fetch does) instead of reading our answer; so read and
    // discard until the client closes or a cap is reached (kLingerMs).
    // Into the connection's own buffer: no memory beyond a body read's.
    const ServerOptions& opt = core_.options;
    const uint64_t cap =
        std::max<uint64_t>(kLingerMinBytes, uint64_t{2} * opt.max_body_bytes);
    state_ = State::kLingering;
    buffer_.clear();
    uint64_t drained = 0;
    deadline_.Arm(std::min(kLingerMs, opt.read_timeout_ms));
    // Stop() may come between two reads, when Shutdown() has none to
    // cancel.
    while (drained < cap && !core_.stopping.load()) {
      error_code ec;
      drained += co_await socket_.async_read_some(
          buffer_.prepare(kBodyReadBytes),
          asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;  // the client closed, the time is up, or Shutdown()
    }
    deadline_.Disarm();
    buffer_.clear();
  }
  deadline_.Close();
  socket_.close(ignored);
}

}  // namespace acpstore::server
