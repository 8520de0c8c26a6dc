// The HTTP workload's load generator and server process (http_workload.cc):
//
//  * ServerProcess: runs the real `acpstore serve` binary on 127.0.0.1:0
//    with a scratch data directory (a proc::Process, testing/process.h),
//    parses the port it logs, reads the bootstrap admin token, and reads
//    its VmRSS/VmHWM and CPU time from /proc/PID.
//  * EpollLoop: many non-blocking keep-alive connections on one epoll set,
//    driven by the caller's thread. The bytes are src/net's (the project's
//    one HTTP client): requests written by a net::RequestWriter, responses
//    framed by net::FrameLengthResponse (status, Content-Length) just
//    enough to count and time them; SSE streams are handed over as raw
//    bytes. Only the multiplexing is here: a blocking client cannot keep
//    thousands of connections busy from one thread.
//
// A single client thread on purpose: the machine has two cores that the
// server needs too, and one epoll thread is the cheapest generator.
//
// Thread-safety: none; one thread each. Lifetime: ServerProcess SIGTERMs
// (then SIGKILLs) its child on destruction; EpollLoop closes its sockets.

#ifndef ACPSTORE_BENCH_HTTP_LOADGEN_H_
#define ACPSTORE_BENCH_HTTP_LOADGEN_H_

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "acpstore/status.h"
#include "net/http_wire.h"

namespace acpstore::proc {
class Process;
}  // namespace acpstore::proc

namespace acpstore::bench {

int64_t MonoNanos();

class ServerProcess {
 public:
  ServerProcess();
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // Spawns `binary serve --data-dir <dir>/data --listen 127.0.0.1:0
  // <args>` with stderr in <dir>/server.log; waits for the port and the
  // bootstrap token - or takes `token` (a second server on a database
  // whose first server made the key).
  Status Start(const std::string& binary, const std::string& dir,
               const std::vector<std::string>& args,
               const std::string& token = "");
  // SIGTERM and wait (up to 30 s); the exit code.
  int Stop();

  pid_t pid() const;
  uint16_t port() const { return port_; }
  const std::string& token() const { return token_; }
  // Requests to this server with its token (valid after Start).
  const net::RequestWriter& writer() const { return *writer_; }

  struct Usage {
    uint64_t rss = 0;      // VmRSS, bytes
    uint64_t hwm = 0;      // VmHWM, bytes
    double cpu_seconds = 0;  // user + system since start
  };
  Usage ReadUsage() const;

 private:
  std::unique_ptr<proc::Process> process_;
  std::unique_ptr<net::RequestWriter> writer_;
  uint16_t port_ = 0;
  std::string token_;
};

struct HttpConn {
  int fd = -1;
  std::string out;  // bytes not yet written
  size_t out_off = 0;
  std::string in;  // bytes read, not yet consumed
  int64_t sent_ns = 0;  // when the request in flight was sent
  bool busy = false;    // a request is in flight
  bool closed = false;  // EOF or error seen
  size_t user = 0;      // the caller's tag (session index, ...)
};

class EpollLoop {
 public:
  EpollLoop();
  ~EpollLoop();
  EpollLoop(const EpollLoop&) = delete;
  EpollLoop& operator=(const EpollLoop&) = delete;

  // A connection to 127.0.0.1:port (blocking connect, then non-blocking,
  // TCP_NODELAY); its index, or -1.
  int Connect(uint16_t port);
  HttpConn& conn(size_t i) { return conns_[i]; }
  size_t size() const { return conns_.size(); }

  // Queues `bytes` on connection i and writes what the socket takes.
  void Send(size_t i, std::string_view bytes);

  // Waits up to timeout_ms for I/O; calls on_data(index) for each
  // connection that read bytes (appended to conn.in) or closed.
  void Poll(int timeout_ms, const std::function<void(size_t)>& on_data);

 private:
  void Flush(size_t i);
  int epfd_ = -1;
  std::vector<HttpConn> conns_;
};

// Takes one complete response off the front of `in`: true with its
// status, false if `in` does not hold a whole one yet. Needs
// Content-Length (or a 204).
inline bool TakeResponse(std::string& in, int* status) {
  const std::optional<net::FramedResponse> r = net::FrameLengthResponse(in);
  if (!r) return false;
  *status = r->status;
  in.erase(0, r->size);
  return true;
}

// "POST <path> HTTP/1.1" with the writer's host and token and a JSON body.
inline std::string PostRequest(const net::RequestWriter& writer,
                               std::string_view path, std::string_view body) {
  std::string r;
  writer.Append(&r, "POST", path, body);
  return r;
}
// "GET <path> HTTP/1.1" with the writer's host and token.
inline std::string GetRequest(const net::RequestWriter& writer,
                              std::string_view path) {
  std::string r;
  writer.Append(&r, "GET", path, {});
  return r;
}

}  // namespace acpstore::bench

#endif  // ACPSTORE_BENCH_HTTP_LOADGEN_H_
