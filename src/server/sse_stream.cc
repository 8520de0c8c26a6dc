// Server-sent events for one subscription. See sse_stream.h.

#include "server/sse_stream.h"

#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/buffer.hpp>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <optional>
#include <string_view>
#include <utility>

#include <sys/socket.h>
#include <sys/uio.h>

#include "server/sse_frames.h"

namespace acpstore::server {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

// Events per Next(): large enough to fill a write, small enough that one
// slow page read does not delay the strand for long. A page also stops at
// the room left in the write's buffer (sse_buffer_bytes): 256 events of
// up to 1 MiB each would otherwise be read and held at once for a client
// that may never read them.
constexpr size_t kEventsPerPull = 256;

}  // namespace

// Shared with the on_ready waker and the peer watcher, which may outlive
// the stream by a posted handler.
struct SseStream::Wake {
  explicit Wake(const asio::any_io_executor& ex) : timer(ex) {}
  asio::steady_timer timer;
  bool woken = false;    // on_ready since the last drain
  bool stopped = false;  // end the stream
  bool peer_gone = false;
  // In the coalescing window (Hold): a wake-up only marks `woken`; the
  // window's timer ends the wait, not the wake-up.
  bool holding = false;
  void Poke() {
    woken = true;
    if (!holding) timer.cancel();
  }
};

SseStream::SseStream(asio::ip::tcp::socket& socket, IoDeadline& deadline,
                     std::shared_ptr<SseStart> start,
                     const ServerOptions& options, Metrics& metrics,
                     SseFrameCache& frames, SseAuthWatch& auth_watch)
    : socket_(socket),
      deadline_(deadline),
      start_(std::move(start)),
      options_(options),
      metrics_(metrics),
      frames_(frames),
      auth_watch_(auth_watch),
      wake_(std::make_shared<Wake>(socket.get_executor())) {}

SseStream::~SseStream() {
  // Tells the peer watcher the socket is about to go (see WatchPeer).
  wake_->stopped = true;
  // Stop wake-ups first; destroying the subscription then waits for any
  // on_ready still running and unsubscribes; the slot goes last.
  if (start_ && start_->ready) start_->ready->SetWaker(nullptr);
  if (start_) {
    start_->subscription.reset();
    start_->slot.reset();
  }
}

void SseStream::Stop() {
  wake_->stopped = true;
  wake_->timer.cancel();
}

namespace {

// sendmsg takes at most IOV_MAX (1024 on Linux) buffers a call.
constexpr size_t kMaxIov = 1024;

iovec IovecOf(std::string_view bytes) {
  // sendmsg only reads through iov_base; the cast is the POSIX signature's.
  return iovec{const_cast<char*>(bytes.data()), bytes.size()};
}

}  // namespace

asio::awaitable<bool> SseStream::Write(const std::string& bytes) {
  iov_.clear();
  iov_.push_back(IovecOf(bytes));
  co_return co_await WriteIov();
}

asio::awaitable<bool> SseStream::Write(const SseBatch& batch) {
  iov_.clear();
  for (size_t i = 0; i < batch.pieces(); ++i) {
    const std::string_view piece = batch.piece(i);
    if (!piece.empty()) iov_.push_back(IovecOf(piece));
  }
  co_return co_await WriteIov();
}

asio::awaitable<bool> SseStream::WriteIov() {
  metrics_.SseWrite();
  deadline_.Arm(options_.write_timeout_ms);
  const bool sent = co_await SendAll();
  const bool expired = deadline_.expired();
  deadline_.Disarm();
  if (!sent) {
    if (expired) metrics_.SseSlowClientDropped();
    co_return false;
  }
  co_return true;
}

// Why not asio::async_write over the buffers: it passes at most 64 buffers
// per sendmsg and resumes after each through the scheduler's queue, so a
// batch of a few hundred frames left in several sends, each behind every
// other stream's turn: more sends per frame and a later last frame (the
// fan-out bench: ~15 frames per send instead of 20-40, lag p50 1.5-3x).
// Here the whole batch goes in one sendmsg as long as the socket takes
// it; the stream waits for the socket only when its buffer is full. The
// write timeout cancels that wait (IoDeadline cancels the socket's
// operations).
asio::awaitable<bool> SseStream::SendAll() {
  size_t first = 0;  // the first buffer not sent whole
  while (first < iov_.size()) {
    msghdr msg{};
    msg.msg_iov = &iov_[first];
    msg.msg_iovlen = std::min(kMaxIov, iov_.size() - first);
    const ssize_t sent = ::sendmsg(socket_.native_handle(), &msg,
                                   MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) co_return false;
      error_code ec;
      co_await socket_.async_wait(
          asio::socket_base::wait_write,
          asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return false;
      continue;
    }
    auto left = static_cast<size_t>(sent);
    while (left > 0) {
      iovec& v = iov_[first];
      if (left < v.iov_len) {
        v.iov_base = static_cast<char*>(v.iov_base) + left;
        v.iov_len -= left;
        break;
      }
      left -= v.iov_len;
      ++first;
    }
  }
  co_return true;
}

// Waits until `until` (or Stop, or the peer leaving). Wake-ups meanwhile
// are kept in wake_->woken for the drain that follows.
asio::awaitable<void> SseStream::Hold(
    std::chrono::steady_clock::time_point until) {
  wake_->holding = true;
  while (!wake_->stopped && std::chrono::steady_clock::now() < until) {
    wake_->timer.expires_at(until);
    error_code ec;
    co_await wake_->timer.async_wait(
        asio::redirect_error(asio::use_awaitable, ec));
  }
  wake_->holding = false;
}

// Reads (and discards) whatever the client sends, to learn at once when
// it goes away instead of at the next heartbeat. Touches only `wake` after
// the read completes: the stream and the socket may be gone by then.
asio::awaitable<void> SseStream::WatchPeer(std::shared_ptr<Wake> wake) {
  std::array<char, 512> sink;
  asio::ip::tcp::socket& socket = socket_;
  for (;;) {
    error_code ec;
    co_await socket.async_read_some(
        asio::buffer(sink), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (ec != asio::error::operation_aborted) {
        wake->peer_gone = true;
        wake->stopped = true;
        wake->timer.cancel();
      }
      co_return;
    }
    if (wake->stopped) co_return;
  }
}

asio::awaitable<void> SseStream::Run() {
  metrics_.SseOpened();
  struct Closed {
    Metrics& m;
    ~Closed() { m.SseClosed(); }
  } closed{metrics_};

  if (options_.sse_socket_send_buffer > 0) {
    error_code ignored;
    socket_.set_option(
        asio::socket_base::send_buffer_size(options_.sse_socket_send_buffer),
        ignored);
  }
  if (!co_await Write(SseFrames::ResponseHead(start_->extra_head) +
                    SseFrames::Retry(2000)))
    co_return;

  // on_ready (a store thread) -> post to this strand -> poke the timer.
  const asio::any_io_executor ex = socket_.get_executor();
  std::weak_ptr<Wake> weak = wake_;
  start_->ready->SetWaker([ex, weak] {
    asio::post(ex, [weak] {
      if (auto w = weak.lock()) w->Poke();
    });
  });
  asio::co_spawn(ex, WatchPeer(wake_), asio::detached);

  Subscription& sub = *start_->subscription;
  // Shared frames are referenced, not copied, until their write ends.
  SseBatch batch;
  // Decision 0025: after a write of events the stream takes no page until
  // sse_coalesce_ms after that write began, so what a busy session appends
  // meanwhile leaves in one write. `last_events_write` starts far enough
  // back that the first wake-up is never held.
  const std::chrono::milliseconds coalesce(options_.sse_coalesce_ms);
  std::chrono::steady_clock::time_point last_events_write =
      std::chrono::steady_clock::now() - coalesce;
  // The key behind the stream is looked up at most this often (the key
  // store itself reloads every 500 ms), and at the first wake-up; and at
  // once when the keys changed (a revocation wakes an idle stream, which
  // would otherwise sleep through the heartbeat: found by a probe).
  constexpr std::chrono::milliseconds kAuthorizedEvery(500);
  std::chrono::steady_clock::time_point next_authorized_check =
      std::chrono::steady_clock::now();
  std::optional<SseAuthWatch::Registration> watched;
  if (start_->authorized) watched.emplace(auth_watch_.Add(start_->ready));
  while (!wake_->stopped) {
    if (coalesce.count() > 0) {
      const auto until = last_events_write + coalesce;
      if (std::chrono::steady_clock::now() < until) {
        co_await Hold(until);
        if (wake_->stopped) break;
      }
    }
    wake_->woken = false;
    const bool keys_changed = watched && watched->TakeRecheck();
    if (start_->authorized &&
        (keys_changed ||
         std::chrono::steady_clock::now() >= next_authorized_check)) {
      next_authorized_check = std::chrono::steady_clock::now() + kAuthorizedEvery;
      Status s = start_->authorized();
      if (!s.ok()) {
        SseFrames::AppendError(s, batch.Owned());
        co_await Write(batch);
        co_return;
      }
    }
    // Drain: pull pages until the subscription is caught up, writing
    // whenever the buffer reaches its cap. A batch is written once it
    // reaches the cap and a page takes at most the room left (the first
    // event always), so a stream holds at most about sse_buffer_bytes plus
    // one event, whatever the events' sizes.
    for (;;) {
      const size_t room = options_.sse_buffer_bytes > batch.size()
                              ? options_.sse_buffer_bytes - batch.size()
                              : 1;
      Result<SharedEventPage> page = sub.NextShared(kEventsPerPull, room);
      if (!page.ok()) {
        SseFrames::AppendError(page.error(), batch.Owned());
        co_await Write(batch);
        co_return;
      }
      bool caught_up = page->events.empty();
      if (start_->transcript) {
        // A transcript stream: the events only say that something changed.
        if (caught_up) {
          bool more = false;
          Status s = start_->transcript(&start_->transcript_seq, room,
                                        batch.Owned(), &more);
          if (!s.ok()) {
            SseFrames::AppendError(s, batch.Owned());
            co_await Write(batch);
            co_return;
          }
          // Entries left for the next call once this batch is written.
          if (more) caught_up = false;
        }
      } else {
        if (page->truncated) {
          SseFrames::AppendTruncated(page->first_seq, batch.Owned());
        }
        uint64_t shared = 0;
        for (const std::shared_ptr<const Event>& e : page->events) {
          bool from_cache = false;
          batch.AddShared(frames_.Frame(e, &from_cache));
          if (from_cache) ++shared;
        }
        metrics_.SseEventsSent(page->events.size());
        metrics_.SseFramesShared(shared);
      }
      if (!batch.empty() &&
          (caught_up || batch.size() >= options_.sse_buffer_bytes)) {
        last_events_write = std::chrono::steady_clock::now();
        if (!co_await Write(batch)) co_return;
        batch.Clear();
        // A send the socket took whole completes without a turn of the
        // scheduler; a stream with more to drain (a replay) lets the
        // connection's other work and the other streams run first, as
        // asio::async_write's posted completion did.
        if (!caught_up) {
          co_await asio::post(socket_.get_executor(), asio::use_awaitable);
        }
      }
      if (caught_up || wake_->stopped) break;
    }
    if (wake_->stopped) break;
    if (wake_->woken) continue;
    wake_->timer.expires_after(
        std::chrono::milliseconds(options_.sse_heartbeat_ms));
    error_code ec;
    co_await wake_->timer.async_wait(
        asio::redirect_error(asio::use_awaitable, ec));
    if (!ec && !wake_->stopped) {
      if (!co_await Write(std::string(SseFrames::Ping()))) co_return;
    }
  }
}

}  // namespace acpstore::server
