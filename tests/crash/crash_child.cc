// crash_child: the process KillNineLoop kills. It opens the file engine on
// a data directory (SyncMode kAlways), makes sure its sessions exist, then
// appends from many threads until it is killed, printing one ack line per
// acknowledged append (crash_protocol.h).
//
//   crash_child DATA_DIR SESSIONS THREADS RUN
//
// Acks go out with write(2) on fd 1 - one call per line, each shorter than
// PIPE_BUF so lines never interleave - and only after the append's
// completion fired: whatever the parent reads was durable first, and
// nothing acknowledged can be lost in a stdio buffer when SIGKILL lands.
//
// Exit codes (it never exits on its own while healthy): 2 usage, 3 the
// store did not open, 4 a session could not be created, 5 an append
// failed. The reason goes to stderr.

#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "acpstore/blocking_store.h"
#include "acpstore/store.h"
#include "crash_protocol.h"

namespace acpstore::crash {
namespace {

void WriteLine(const std::string& line) {
  // A short write to a pipe is all-or-nothing below PIPE_BUF; EINTR cannot
  // happen without handlers. A closed pipe means the parent is gone.
  ssize_t n = ::write(STDOUT_FILENO, line.data(), line.size());
  if (n != static_cast<ssize_t>(line.size())) std::_Exit(6);
}

[[noreturn]] void Fail(int code, const std::string& what, const Status& s) {
  std::cerr << "crash_child: " << what << ": " << s << std::endl;
  std::_Exit(code);
}

void AppendForever(Store* store, int thread, int sessions, uint64_t run) {
  BlockingStore db(*store);
  const Scope scope = CrashScope();
  for (uint64_t counter = 0;; ++counter) {
    const std::string session =
        SessionId(static_cast<int>((thread + counter) % sessions));
    uint64_t seq_intent = 1;
    if (auto s = db.GetSession(scope, session); s.ok()) {
      seq_intent = s->events.last_seq + 1;
    }
    size_t filler = 40 + (counter * 7919 + thread * 104729) % 1500;
    Result<Event> ev =
        db.Append(scope, session,
                  NewEvent{.event_type = "crash.append",
                           .payload = CrashPayload(session, seq_intent, thread,
                                                   counter, run, filler)});
    if (!ev.ok()) Fail(5, "append to " + session, ev.error());
    WriteLine(std::string(kAckWord) + " " + session + " " +
              std::to_string(ev->seq) + " " + HashHex(ev->payload) + "\n");
  }
}

int Main(int argc, char** argv) {
  if (argc != 5) {
    std::cerr << "usage: crash_child DATA_DIR SESSIONS THREADS RUN\n";
    return 2;
  }
  const int sessions = std::atoi(argv[2]);
  const int threads = std::atoi(argv[3]);
  const uint64_t run = std::strtoull(argv[4], nullptr, 10);
  if (sessions < 1 || threads < 1) return 2;

  Result<std::unique_ptr<Store>> opened = OpenStore(CrashStoreOptions(argv[1]));
  if (!opened.ok()) Fail(3, "open", opened.error());
  Store* store = opened->get();
  BlockingStore db(*store);
  for (int i = 0; i < sessions; ++i) {
    Result<Session> s =
        db.CreateSession(CrashScope(), NewSession{.id = SessionId(i)});
    // kConflict: an earlier run created it (maybe acknowledged just before
    // it was killed).
    if (!s.ok() && s.error().code() != StatusCode::kConflict) {
      Fail(4, "create " + SessionId(i), s.error());
    }
  }
  WriteLine(std::string(kReadyLine) + "\n");

  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back(AppendForever, store, t, sessions, run);
  }
  // Runs until SIGKILL; the workers never return.
  for (std::thread& w : workers) w.join();
  return 0;
}

}  // namespace
}  // namespace acpstore::crash

int main(int argc, char** argv) { return acpstore::crash::Main(argc, argv); }
