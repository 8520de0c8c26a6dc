// SseAuthWatch ends the streams of a revoked credential within the key
// reload interval (SPEC §6: "the open SSE streams of a revoked key end
// with event: error unauthenticated" within 2 s). A stream re-checks its
// key only when it wakes (an event, a heartbeat), and an idle one sleeps
// for the whole heartbeat (15 s by default): so each stream opened with a
// key registers here, and when the keys' revision moves (a reload found a
// change, a revoke, a sign-out: Authenticator::revision,
// BrowserSessions::revision) every registered stream is marked to re-check
// and woken. Revocations are rare; nothing runs per stream in between.
//
// Thread-safety: thread-safe. Lifetime: a Registration must not outlive
// the watch (streams end before the server's core is destroyed).

#ifndef ACPSTORE_SERVER_SSE_AUTH_WATCH_H_
#define ACPSTORE_SERVER_SSE_AUTH_WATCH_H_

#include <atomic>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>

#include "server/http_message.h"

namespace acpstore::server {

class SseAuthWatch {
 public:
  struct Stream {
    std::shared_ptr<ReadySignal> ready;  // wakes the stream
    std::atomic<bool> recheck{false};    // set before the wake-up
  };

  // Deregisters on destruction.
  class Registration {
   public:
    Registration() = default;
    Registration(SseAuthWatch* watch, std::list<Stream>::iterator it)
        : watch_(watch), it_(it) {}
    Registration(Registration&& other) noexcept;
    Registration& operator=(Registration&&) = delete;
    Registration(const Registration&) = delete;
    ~Registration();
    // True once (and then false) after a change the stream must check.
    bool TakeRecheck();

   private:
    SseAuthWatch* watch_ = nullptr;
    std::list<Stream>::iterator it_;
  };

  Registration Add(std::shared_ptr<ReadySignal> ready);
  // Called periodically with the current revision (any monotonic sum of
  // the credentials' revisions): when it moved since the last call, marks
  // and wakes every registered stream. The first call only records it.
  void Poll(uint64_t revision);
  size_t size();

 private:
  std::mutex mu_;
  std::list<Stream> streams_;  // mu_
  bool polled_ = false;        // mu_
  uint64_t revision_ = 0;      // mu_
};

}  // namespace acpstore::server

#endif  // ACPSTORE_SERVER_SSE_AUTH_WATCH_H_
