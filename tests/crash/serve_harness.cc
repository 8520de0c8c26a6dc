// ServeProcess, AppendLoad and AckLedger. See serve_harness.h.

#include "serve_harness.h"

#include <signal.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <fstream>
#include <random>

namespace acpstore::crash {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;

std::vector<std::string> ServeArgs(const std::string& data_dir,
                                   const std::vector<std::string>& extra) {
  // Small segments and snapshot thresholds put kills into segment rolls
  // and background snapshots too; retention off keeps every ack checkable.
  std::vector<std::string> args = {
      ServerBinary(), "serve",
      "--data-dir", data_dir,
      "--engine", "file",
      "--listen", "127.0.0.1:0",
      "--sync", "always",
      "--max-events-per-session", "0",
      "--terminal-event-retention", "0",
      "--session-retention", "0",
      "--segment-bytes", "256KiB",
      "--snapshot-every-bytes", "1MiB",
      "--memory-budget", "64MiB"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

// `{"s":"<session>","t":T,"r":R,"c":C,"k":K,"text":"..."}`: canonical
// compact JSON (keys as the store keeps them, ASCII only), so the payload
// a reply or a read returns must be byte-identical.
std::string Payload(const std::string& session, int thread, uint64_t run,
                    uint64_t counter, int k, std::mt19937_64& rng) {
  std::string text(20 + rng() % 600, 'x');
  for (char& c : text) c = static_cast<char>('a' + rng() % 26);
  return "{\"s\":\"" + session + "\",\"t\":" + std::to_string(thread) +
         ",\"r\":" + std::to_string(run) + ",\"c\":" + std::to_string(counter) +
         ",\"k\":" + std::to_string(k) + ",\"text\":\"" + text + "\"}";
}

std::string EventJson(const std::string& client_id, const std::string& payload) {
  return "{\"eventType\":\"crash.append\",\"clientEventId\":\"" + client_id +
         "\",\"payload\":" + payload + "}";
}

const json::object* AsObject(const json::value* v) {
  return v != nullptr && v->is_object() ? &v->as_object() : nullptr;
}

std::string StringField(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : "";
}

uint64_t SeqField(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return 0;
  if (v->is_uint64()) return v->as_uint64();
  if (v->is_int64() && v->as_int64() >= 0) return v->as_int64();
  return 0;
}

std::string PayloadOf(const json::object& event) {
  const json::value* p = event.if_contains("payload");
  return p == nullptr ? "" : json::serialize(*p);
}

}  // namespace

uint64_t EnvNumber(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 10) : fallback;
}

ServeProcess::ServeProcess(const std::string& data_dir,
                           const std::string& log_dir,
                           const std::vector<std::string>& extra_args)
    : process_(ServeArgs(data_dir, extra_args), {}, log_dir) {}

ServeProcess::ServeProcess(Args args, const std::string& log_dir)
    : process_(
          [&] {
            args.args.insert(args.args.begin(), ServerBinary());
            return args.args;
          }(),
          {}, log_dir) {}

bool ServeProcess::WaitListening(milliseconds timeout) {
  static const std::string kMarker = "listening on 127.0.0.1:";
  if (!process_.WaitForText(proc::Stream::kStderr, kMarker, timeout)) {
    return false;
  }
  port_ = proc::PortAfter(process_.Text(proc::Stream::kStderr), kMarker);
  return port_ != 0;
}

int ServeProcess::KillNine() {
  process_.Signal(SIGKILL);
  return process_.Wait(std::chrono::seconds(30)).value_or(-1);
}

std::string ReadBootstrapToken(const std::string& data_dir) {
  std::ifstream in(data_dir + "/bootstrap-admin.token");
  std::string token;
  std::getline(in, token);
  return token;
}

AppendLoad::AppendLoad(uint16_t port, const std::string& token,
                       const std::vector<std::string>& sessions, int threads,
                       uint64_t run, uint64_t seed)
    : port_(port), token_(token), sessions_(sessions), run_(run) {
  outcomes_.resize(static_cast<size_t>(threads));
  for (int t = 0; t < threads; ++t) {
    workers_.emplace_back(&AppendLoad::Work, this, t, seed * 1000003 + t,
                          &outcomes_[static_cast<size_t>(t)]);
  }
}

AppendLoad::~AppendLoad() { Stop(); }

LoadOutcome AppendLoad::Stop() {
  LoadOutcome all;
  if (stopped_) return all;
  stopped_ = true;
  stop_.store(true);
  for (std::thread& w : workers_) w.join();
  for (LoadOutcome& o : outcomes_) {
    all.acked.insert(all.acked.end(), o.acked.begin(), o.acked.end());
    all.attempted.insert(o.attempted.begin(), o.attempted.end());
    all.refused.insert(all.refused.end(), o.refused.begin(), o.refused.end());
    for (auto [status, n] : o.statuses) all.statuses[status] += n;
    all.connection_errors += o.connection_errors;
    all.requests += o.requests;
    if (all.bad_reply.empty()) all.bad_reply = o.bad_reply;
  }
  return all;
}

void AppendLoad::Work(int thread, uint64_t seed, LoadOutcome* out) {
  std::mt19937_64 rng(seed);
  net::HttpClient http(port_, token_);
  for (uint64_t counter = 0; !stop_.load(); ++counter) {
    const std::string& session = sessions_[rng() % sessions_.size()];
    // Three requests in five are single events, the rest batches of 2-8.
    const int count = rng() % 5 < 3 ? 1 : 2 + static_cast<int>(rng() % 7);
    std::vector<std::pair<std::string, std::string>> sent;  // id, payload
    for (int k = 0; k < count; ++k) {
      std::string id = "t" + std::to_string(thread) + "-r" +
                       std::to_string(run_) + "-c" + std::to_string(counter) +
                       "-" + std::to_string(k);
      std::string payload = Payload(session, thread, run_, counter, k, rng);
      out->attempted.emplace(id, payload);
      sent.emplace_back(std::move(id), std::move(payload));
    }
    std::string body;
    if (count == 1) {
      body = EventJson(sent[0].first, sent[0].second);
    } else {
      body = "{\"events\":[";
      for (size_t i = 0; i < sent.size(); ++i) {
        if (i > 0) body += ',';
        body += EventJson(sent[i].first, sent[i].second);
      }
      body += "]}";
    }
    Result<net::Response> reply =
        http.Post("/v1/sessions/" + session + "/events", body);
    ++out->requests;
    requests_.fetch_add(1);
    if (!reply) {
      ++out->connection_errors;
      // The server is gone or going: back off briefly, then reconnect
      // (SIGTERM test) or notice stop_ (both tests).
      std::this_thread::sleep_for(milliseconds(2));
      continue;
    }
    ++out->statuses[reply->status];
    if (reply->status < 200 || reply->status > 299) {
      for (const auto& [id, payload] : sent) out->refused.push_back(id);
      continue;
    }
    boost::system::error_code ec;
    json::value v = json::parse(reply->body, ec);
    std::vector<const json::object*> events;
    if (!ec && count == 1) {
      events.push_back(AsObject(&v));
    } else if (!ec) {
      const json::object* o = AsObject(&v);
      const json::value* arr = o ? o->if_contains("events") : nullptr;
      if (arr != nullptr && arr->is_array()) {
        for (const json::value& e : arr->as_array()) events.push_back(AsObject(&e));
      }
    }
    if (events.size() != sent.size()) {
      if (out->bad_reply.empty()) out->bad_reply = reply->body;
      continue;
    }
    for (size_t i = 0; i < sent.size(); ++i) {
      const json::object* e = events[i];
      AckedEvent ack;
      if (e != nullptr) {
        ack = AckedEvent{StringField(*e, "sessionId"), SeqField(*e, "eventSeq"),
                         StringField(*e, "clientEventId"), PayloadOf(*e)};
      }
      if (e == nullptr || ack.session != session || ack.seq == 0 ||
          ack.client_id != sent[i].first || ack.payload != sent[i].second) {
        if (out->bad_reply.empty()) out->bad_reply = reply->body;
        continue;
      }
      out->acked.push_back(std::move(ack));
    }
  }
}

::testing::AssertionResult AckLedger::Add(const LoadOutcome& outcome) {
  attempted_.insert(outcome.attempted.begin(), outcome.attempted.end());
  refused_.insert(outcome.refused.begin(), outcome.refused.end());
  for (const AckedEvent& a : outcome.acked) {
    auto [it, inserted] = acks_.emplace(std::make_pair(a.session, a.seq), a);
    if (!inserted && (it->second.payload != a.payload ||
                      it->second.client_id != a.client_id)) {
      return ::testing::AssertionFailure()
             << a.session << " seq " << a.seq << " acknowledged twice: "
             << it->second.client_id << " and " << a.client_id;
    }
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult AckLedger::Verify(
    net::HttpClient& http, const std::vector<std::string>& sessions,
    bool full,
    uint64_t iteration) {
  // Boost.JSON throws on a malformed body or a missing field: a failure
  // like any other here, reported with what was being read.
  try {
    return VerifyOrThrow(http, sessions, full, iteration);
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure()
           << "unexpected reply while verifying: " << e.what();
  }
}

::testing::AssertionResult AckLedger::VerifyOrThrow(
    net::HttpClient& http, const std::vector<std::string>& sessions,
    bool full,
    uint64_t iteration) {
  for (const std::string& id : sessions) {
    Result<net::Response> info = http.Get("/v1/sessions/" + id);
    if (!info || info->status != 200) {
      return ::testing::AssertionFailure()
             << "GET session " << id << ": "
             << (info ? std::to_string(info->status) + " " + info->body
                      : "connection error");
    }
    json::value sv = json::parse(info->body);
    const json::object& stream = sv.at("events").as_object();
    const uint64_t first_seq = SeqField(stream, "firstSeq");
    const uint64_t last_seq = SeqField(stream, "lastSeq");
    if (first_seq != 1) {
      return ::testing::AssertionFailure()
             << id << ": firstSeq " << first_seq << " with retention off";
    }
    uint64_t start = 0;
    if (!full) start = std::min(checked_[id], last_seq);
    uint64_t expect = start + 1;
    size_t acked_seen = 0;
    for (uint64_t after = start; after < last_seq;) {
      Result<net::Response> page = http.Get(
          "/v1/sessions/" + id + "/events?after=" + std::to_string(after) +
          "&limit=1000");
      if (!page || page->status != 200) {
        return ::testing::AssertionFailure()
               << id << " events after " << after << ": "
               << (page ? std::to_string(page->status) + " " + page->body
                        : "connection error");
      }
      json::value pv = json::parse(page->body);
      const json::array& events = pv.at("events").as_array();
      if (events.empty()) {
        return ::testing::AssertionFailure()
               << id << " ends at " << after << ", lastSeq " << last_seq;
      }
      for (const json::value& ev : events) {
        const json::object& e = ev.as_object();
        const uint64_t seq = SeqField(e, "eventSeq");
        if (seq != expect) {
          return ::testing::AssertionFailure()
                 << id << ": gap in the stream, seq " << seq << " where "
                 << expect << " belongs";
        }
        ++expect;
        const std::string payload = PayloadOf(e);
        const std::string client_id = StringField(e, "clientEventId");
        if (auto ack = acks_.find({id, seq}); ack != acks_.end()) {
          ++acked_seen;
          if (ack->second.payload != payload ||
              ack->second.client_id != client_id) {
            return ::testing::AssertionFailure()
                   << id << " seq " << seq << " differs from its ack: "
                   << client_id << " " << payload << " vs "
                   << ack->second.client_id << " " << ack->second.payload;
          }
        }
        if (auto sent = attempted_.find(client_id);
            sent != attempted_.end() && sent->second != payload) {
          return ::testing::AssertionFailure()
                 << id << " seq " << seq << " (" << client_id
                 << ") holds a payload nobody sent: " << payload;
        }
        if (refused_.erase(client_id) != 0) ++stored_after_refusal_;
        if (payload.find("{\"s\":\"" + id + "\"") != 0) {
          return ::testing::AssertionFailure()
                 << id << " seq " << seq << " holds " << payload;
        }
      }
      after = SeqField(events.back().as_object(), "eventSeq");
    }
    uint64_t acked_total = 0, max_acked = 0;
    for (auto it = acks_.lower_bound({id, 0});
         it != acks_.end() && it->first.first == id; ++it) {
      if (it->first.second > start) ++acked_total;
      max_acked = it->first.second;
    }
    if (acked_seen != acked_total) {
      return ::testing::AssertionFailure()
             << id << ": " << (acked_total - acked_seen)
             << " acknowledged events missing (max acknowledged seq "
             << max_acked << ", lastSeq " << last_seq << ")";
    }

    // Never reused: the next append lands right after the stream's end,
    // above every seq ever acknowledged.
    const std::string client_id =
        "verify-" + std::to_string(iteration) + "-" + id;
    const std::string payload =
        "{\"s\":\"" + id + "\",\"verify\":" + std::to_string(iteration) + "}";
    Result<net::Response> next =
        http.Post("/v1/sessions/" + id + "/events", EventJson(client_id, payload));
    if (!next || next->status != 201) {
      return ::testing::AssertionFailure()
             << "verification append to " << id << ": "
             << (next ? std::to_string(next->status) + " " + next->body
                      : "connection error");
    }
    json::value nv = json::parse(next->body);
    const uint64_t seq = SeqField(nv.as_object(), "eventSeq");
    if (seq != last_seq + 1 || seq <= max_acked) {
      return ::testing::AssertionFailure()
             << id << ": next append got seq " << seq << ", lastSeq "
             << last_seq << ", max acknowledged " << max_acked;
    }
    acks_[{id, seq}] = AckedEvent{id, seq, client_id, payload};
    attempted_[client_id] = payload;
    checked_[id] = last_seq;
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult CreateSessions(
    net::HttpClient& http, const std::vector<std::string>& sessions) {
  for (const std::string& id : sessions) {
    Result<net::Response> r =
        http.Post("/v1/sessions", "{\"id\":\"" + id + "\"}");
    if (!r || (r->status != 201 && r->status != 409)) {
      return ::testing::AssertionFailure()
             << "create " << id << ": "
             << (r ? std::to_string(r->status) + " " + r->body
                   : "connection error");
    }
  }
  return ::testing::AssertionSuccess();
}

}  // namespace acpstore::crash
