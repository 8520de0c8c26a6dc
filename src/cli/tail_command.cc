// `acpstore tail SESSION`: follows a session's events over SSE (SPEC §5.2,
// §7) and prints one line per event:
//
//   <eventSeq> <occurredAt> <eventType> <payload as compact JSON>
//
// with control characters escaped (terminal_text.h),
// or, with --json, each event's JSON exactly as the server sent it. A
// dropped connection (server restart, network) is retried with backoff
// and resumed with Last-Event-ID = the last seq printed, so every event is
// printed once, in order, even across restarts. Ctrl-C (SIGINT) or SIGTERM
// stops it with exit 0. The token comes from --token-file or
// $ACPSTORE_TOKEN and is never printed.
//
// Exit codes: 0 stopped by a signal; 1 the server refused for good (401,
// 403, 404, the session was deleted); 2 bad command line.
//
// Thread-safety: main thread only; the signal handler sets a flag.

#include <signal.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "cli/command.h"
#include "cli/option_parsing.h"
#include "cli/server_access.h"
#include "cli/terminal_text.h"
#include "net/sse.h"
#include "net/url.h"

namespace acpstore::cli {
namespace {

using net::SseFrame;
using net::Url;

volatile std::sig_atomic_t g_stop = 0;
void OnStopSignal(int) { g_stop = 1; }

struct TailFlags : ServerAccess {
  std::string session;
  std::string after = "0";  // checked by RunTail
  bool json = false;
};

// The highest seq the server takes (docs/http_api.md): a larger --after
// would come back as its 400 about a Last-Event-ID the user never gave.
constexpr uint64_t kMaxAfter = uint64_t{1} << 63;

// Sleeps up to `ms`, waking early on a stop signal.
void SleepInterruptibly(int64_t ms) {
  const auto until =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (!g_stop && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// What a `truncated` frame ({"firstSeq": n}) says, in words: its data
// printed as it came read "events before {"firstSeq":4} were dropped"
// (found by a probe).
std::string TruncatedNotice(const std::string& data) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(data, ec);
  std::optional<uint64_t> first;
  if (!ec && v.is_object()) {
    if (const auto* f = v.as_object().if_contains("firstSeq"); f != nullptr) {
      if (f->is_int64() && f->as_int64() >= 0) {
        first = static_cast<uint64_t>(f->as_int64());
      } else if (f->is_uint64()) {
        first = f->as_uint64();
      }
    }
  }
  if (!first) return "events were dropped by retention before the next one";
  const std::string seq = std::to_string(*first);
  return "events before seq " + seq +
         " were dropped by retention; continuing from seq " + seq;
}

// The message of an {"error":{"code","message"}} body, or the raw text.
std::pair<std::string, std::string> ErrorOf(const std::string& body) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(body, ec);
  if (!ec && v.is_object()) {
    if (const auto* e = v.as_object().if_contains("error");
        e != nullptr && e->is_object()) {
      std::string code, message;
      if (const auto* c = e->as_object().if_contains("code");
          c && c->is_string()) {
        code = c->as_string().c_str();
      }
      if (const auto* m = e->as_object().if_contains("message");
          m && m->is_string()) {
        message = m->as_string().c_str();
      }
      return {code, message};
    }
  }
  return {"", body.substr(0, 200)};
}

class Tailer {
 public:
  Tailer(const TailFlags& f, uint64_t after, Url url, std::string token)
      : f_(f), url_(std::move(url)), token_(std::move(token)), last_(after) {}

  int Run() {
    int64_t backoff_ms = kMinBackoffMs;
    bool connected_before = false;
    bool reported_outage = false;
    while (!g_stop) {
      net::SseStream stream;
      const std::string target =
          url_.base_path + "/v1/sessions/" +
          net::EncodePathSegment(f_.session) +
          "/events/stream?after=" + std::to_string(last_);
      Status s = stream.Open({.host = url_.host,
                              .port = url_.port,
                              .target = target,
                              .token = token_,
                              .last_event_id = std::to_string(last_),
                              .connect = {.timeout = std::chrono::seconds(10)}});
      if (s.ok() && stream.status() != 200) {
        auto [code, message] = ErrorOf(stream.head().body);
        const int status = stream.status();
        if (status == 400 || status == 401 || status == 403 || status == 404) {
          std::string line = "tail: " + std::to_string(status);
          line.append(" ").append(code).append(": ").append(message);
          PrintError(line);
          return kExitFailure;
        }
        s = Status::Unavailable("the server answered " +
                                std::to_string(status) +
                                (message.empty() ? "" : " (" + message + ")"));
      }
      if (!s.ok()) {
        if (!reported_outage) {
          std::cerr << "acpstore: tail: " << s.message() << "; retrying"
                    << std::endl;
          reported_outage = true;
        }
        SleepInterruptibly(backoff_ms);
        backoff_ms = std::min<int64_t>(
            backoff_ms * 2, std::max<int64_t>(retry_ms_, kMinBackoffMs));
        continue;
      }
      if (connected_before && reported_outage) {
        std::cerr << "acpstore: tail: reconnected after seq " << last_
                  << std::endl;
      }
      connected_before = true;
      reported_outage = false;
      backoff_ms = kMinBackoffMs;
      const int result = Stream(&stream);
      if (result >= 0) return result;
      if (!g_stop && !reported_outage) {
        std::cerr << "acpstore: tail: connection lost; resuming after seq "
                  << last_ << std::endl;
        reported_outage = true;
      }
    }
    return kExitOk;
  }

 private:
  static constexpr int64_t kMinBackoffMs = 100;
  // Three missed heartbeats (15 s each): the connection is dead.
  static constexpr int64_t kIdleLimitMs = 45000;

  // Reads frames until the connection ends (-1: reconnect) or the tail
  // must stop (an exit code).
  int Stream(net::SseStream* stream) {
    int exit_code = -1;
    auto idle_since = std::chrono::steady_clock::now();
    while (!g_stop && exit_code < 0) {
      bool heard = false;
      Status s = stream->Poll(
          net::After(std::chrono::milliseconds(200)), [&](SseFrame&& frame) {
            heard = true;  // heartbeats count: the connection is alive
            if (exit_code < 0) exit_code = Frame(frame);
          });
      if (!s.ok()) return exit_code;
      const auto now = std::chrono::steady_clock::now();
      if (heard) {
        idle_since = now;
      } else if (now - idle_since > std::chrono::milliseconds(kIdleLimitMs)) {
        return -1;
      }
    }
    return g_stop ? kExitOk : exit_code;
  }

  int Frame(const SseFrame& frame) {
    if (frame.retry_ms) {
      retry_ms_ = std::clamp<int64_t>(*frame.retry_ms, 100, 30000);
    }
    if (frame.event == "truncated") {
      std::cerr << "acpstore: tail: " << TruncatedNotice(frame.data)
                << std::endl;
      return -1;
    }
    if (frame.event == "error") {
      auto [code, message] = ErrorOf(frame.data);
      PrintError("tail: the server ended the stream: " + code + ": " + message);
      return code == "not_found" ? kExitFailure : -1;
    }
    if (!frame.event.empty() || frame.data.empty()) return -1;
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(frame.data, ec);
    if (ec || !v.is_object()) return -1;
    const boost::json::object& o = v.as_object();
    const auto* seq_value = o.if_contains("eventSeq");
    if (seq_value == nullptr || !seq_value->is_number()) return -1;
    const uint64_t seq = seq_value->to_number<uint64_t>(ec);
    if (ec || seq <= last_) return -1;  // already printed (a replay)
    last_ = seq;
    if (f_.json) {
      std::fwrite(frame.data.data(), 1, frame.data.size(), stdout);
    } else {
      auto str = [&](const char* key) -> std::string {
        const auto* s = o.if_contains(key);
        return s != nullptr && s->is_string() ? std::string(s->as_string())
                                              : std::string("-");
      };
      // The payload is the event's last field, written raw by the server:
      // print its canonical bytes, not a re-serialisation.
      std::string payload = "null";
      const size_t at = frame.data.find(",\"payload\":");
      if (at != std::string::npos && frame.data.back() == '}') {
        const size_t begin = at + 11;
        payload = frame.data.substr(begin, frame.data.size() - 1 - begin);
      }
      // The JSON payload holds no raw C0 control; TerminalSafe also
      // escapes DEL and C1 inside its strings (still the same JSON value),
      // as `acpstore transcript` does in the text it prints.
      std::string line =
          TerminalSafe(std::to_string(seq) + " " + str("occurredAt") + " " +
                           str("eventType") + " " + payload,
                       false);
      std::fwrite(line.data(), 1, line.size(), stdout);
    }
    std::fputc('\n', stdout);
    std::fflush(stdout);
    return -1;
  }

  const TailFlags& f_;
  const Url url_;
  const std::string token_;
  uint64_t last_ = 0;
  int64_t retry_ms_ = 2000;
};

int RunTail(const TailFlags& f) {
  // CLI11 read "-5" into an unsigned seq as a huge one, which the server
  // then refused naming Last-Event-ID (found by an outside tester).
  Result<uint64_t> after = ParseCount(f.after, 0, kMaxAfter);
  if (!after) {
    PrintError("--after: " + std::string(after.error().message()));
    return kExitUsage;
  }
  Result<ServerTarget> server = ResolveServer(f);
  if (!server) {
    PrintError(std::string(server.error().message()));
    return kExitUsage;
  }
  struct sigaction sa {};
  sa.sa_handler = OnStopSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a blocking call returns EINTR
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  Tailer tailer(f, *after, std::move(server->url), std::move(server->token));
  return tailer.Run();
}

}  // namespace

void AddTailCommand(CLI::App& root, Runner* run) {
  auto flags = std::make_shared<TailFlags>();
  CLI::App* cmd = root.add_subcommand(
      "tail",
      "Follow a session's events over SSE, one line per event; reconnects "
      "and resumes on its own; Ctrl-C stops");
  cmd->add_option("SESSION", flags->session, "Session id")->required();
  cmd->add_option("--after", flags->after,
                  "Start after this event seq [default 0: every retained "
                  "event]")
      ->type_name("N");
  AddServerAccessOptions(*cmd, *flags);
  cmd->add_flag("--json", flags->json,
                "Print each event's JSON as the server sent it");
  cmd->callback([run, flags] { *run = [flags] { return RunTail(*flags); }; });
}

}  // namespace acpstore::cli
