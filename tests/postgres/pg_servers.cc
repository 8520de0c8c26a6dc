// PgServersTest, PgExec and RetryingWriter. See pg_servers.h.

#include "pg_servers.h"

#include <libpq-fe.h>
#include <stdlib.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "pg_test_env.h"

namespace acpstore::pgtest {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;

std::string ReadToken(const std::string& data_dir) {
  std::ifstream in(data_dir + "/bootstrap-admin.token");
  std::string token;
  std::getline(in, token);
  return token;
}

}  // namespace

bool WaitFor(const std::function<bool()>& done, milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(milliseconds(5));
  }
  return true;
}

std::optional<std::string> PgExec(const std::string& url,
                                  const std::string& sql, std::string* error) {
  PGconn* c = PQconnectdb(url.c_str());
  std::optional<std::string> out;
  if (PQstatus(c) != CONNECTION_OK) {
    if (error != nullptr) *error = PQerrorMessage(c);
    PQfinish(c);
    return std::nullopt;
  }
  // DROP SCHEMA ... CASCADE lists what it drops as NOTICEs: not news.
  PQsetNoticeProcessor(c, [](void*, const char*) {}, nullptr);
  PGresult* r = PQexec(c, sql.c_str());
  const ExecStatusType st = PQresultStatus(r);
  if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
    out = st == PGRES_TUPLES_OK && PQntuples(r) > 0 && PQnfields(r) > 0
              ? std::string(PQgetvalue(r, 0, 0))
              : std::string();
  } else if (error != nullptr) {
    *error = PQresultErrorMessage(r);
  }
  PQclear(r);
  PQfinish(c);
  return out;
}

std::vector<std::string> PgServeArgs(const std::string& url,
                                     const std::string& schema,
                                     const std::string& data_dir,
                                     const std::vector<std::string>& extra) {
  std::vector<std::string> args = {
      "serve",
      "--engine", "postgres",
      "--postgres-url", url,
      "--postgres-schema", schema,
      // Two servers and their listeners per test, beside other tests on
      // the shared database: a small pool each.
      "--postgres-pool", "4",
      "--data-dir", data_dir,
      "--listen", "127.0.0.1:0",
      "--threads", "2",
      "--max-events-per-session", "0",
      "--terminal-event-retention", "0",
      "--session-retention", "0",
      "--shutdown-timeout", "5s"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

void PgServersTest::SetUp() {
  Result<std::string> url = TestPostgresUrl();
  ASSERT_TRUE(url.ok()) << url.status();
  url_ = *url;
  const ::testing::TestInfo* info =
      ::testing::UnitTest::GetInstance()->current_test_info();
  schema_ = SchemaFor(std::string("servers.") + info->test_suite_name() +
                      "." + info->name() + "." + std::to_string(::getpid()));
  std::string templ = std::filesystem::temp_directory_path().string() +
                      "/acpstore-pgservers.XXXXXX";
  ASSERT_NE(::mkdtemp(templ.data()), nullptr);
  dir_ = templ;
}

void PgServersTest::TearDown() {
  if (HasFailure()) {
    // The servers' warnings and errors (5xx reasons among them) explain
    // most failures; the logs go with the scratch directory.
    for (size_t i = 0; i < servers_.size(); ++i) {
      const std::string text = servers_[i]->Stderr();
      std::istringstream log(text);
      int shown = 0;
      for (std::string line; std::getline(log, line) && shown < 20;) {
        // Every line but the info ones and the 503s (expected while the
        // database is away; they would drown the rest).
        if (line.find(" info ") == std::string::npos &&
            line.find("-> 503") == std::string::npos) {
          std::printf("server %zu: %s\n", i, line.c_str());
          ++shown;
        }
      }
    }
  }
  servers_.clear();  // SIGKILLs whatever still runs
  if (!drop_url_.empty()) {
    PgExec(drop_url_, "DROP SCHEMA IF EXISTS \"" + schema_ + "\" CASCADE");
  }
  std::error_code ec;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
}

net::HttpClient PgServersTest::Client(uint16_t port) const {
  net::ClientOptions options;
  options.port = port;
  options.token = token_;
  options.retry_stale = true;
  return net::HttpClient(options);
}

std::optional<std::string> PgServersTest::Sql(const std::string& sql) {
  return PgExec(url_, sql);
}

crash::ServeProcess* PgServersTest::StartServer(
    std::optional<std::string> url, const std::vector<std::string>& extra) {
  const std::string where = url.value_or(url_);
  drop_url_ = where;
  const std::string n = std::to_string(servers_.size());
  const std::string data_dir = dir_ + "/data" + n;
  const std::string log_dir = dir_ + "/log" + n;
  std::filesystem::create_directories(data_dir);
  std::filesystem::create_directories(log_dir);
  auto server = std::make_unique<crash::ServeProcess>(
      crash::ServeProcess::Args{PgServeArgs(where, schema_, data_dir, extra)},
      log_dir);
  if (!server->WaitListening(std::chrono::seconds(30))) {
    ADD_FAILURE() << "server " << n << " did not start:\n" << server->Stderr();
    return nullptr;
  }
  if (token_.empty()) token_ = ReadToken(data_dir);
  if (token_.empty()) {
    ADD_FAILURE() << "server " << n << " wrote no bootstrap token";
  }
  servers_.push_back(std::move(server));
  return servers_.back().get();
}

RetryingWriter::RetryingWriter(std::vector<uint16_t> ports,
                               const std::string& token,
                               const std::vector<std::string>& sessions,
                               int threads, int run)
    : ports_(std::move(ports)), token_(token), sessions_(sessions), run_(run) {
  outcomes_.resize(static_cast<size_t>(threads));
  for (int t = 0; t < threads; ++t) {
    workers_.emplace_back(&RetryingWriter::Work, this, t,
                          &outcomes_[static_cast<size_t>(t)]);
  }
}

RetryingWriter::~RetryingWriter() { Stop(); }

crash::LoadOutcome RetryingWriter::Stop() {
  crash::LoadOutcome all;
  if (stopped_) return all;
  stopped_ = true;
  stop_.store(true);
  for (std::thread& w : workers_) w.join();
  for (crash::LoadOutcome& o : outcomes_) {
    all.acked.insert(all.acked.end(), o.acked.begin(), o.acked.end());
    all.attempted.insert(o.attempted.begin(), o.attempted.end());
    all.refused.insert(all.refused.end(), o.refused.begin(), o.refused.end());
    for (auto [status, count] : o.statuses) all.statuses[status] += count;
    all.connection_errors += o.connection_errors;
    all.requests += o.requests;
    if (all.bad_reply.empty()) all.bad_reply = o.bad_reply;
  }
  return all;
}

void RetryingWriter::Work(int thread, crash::LoadOutcome* out) {
  size_t server = static_cast<size_t>(thread) % ports_.size();
  std::vector<std::unique_ptr<net::HttpClient>> http;
  for (uint16_t port : ports_) {
    http.push_back(std::make_unique<net::HttpClient>(
        port, token_, std::chrono::seconds(5)));
  }
  for (uint64_t counter = 0; !stop_.load(); ++counter) {
    const std::string& session =
        sessions_[(static_cast<size_t>(thread) + counter) % sessions_.size()];
    const std::string id = "w" + std::to_string(run_) + "-t" +
                           std::to_string(thread) + "-c" +
                           std::to_string(counter);
    const std::string payload = "{\"s\":\"" + session + "\",\"w\":" +
                                std::to_string(thread) + ",\"c\":" +
                                std::to_string(counter) + "}";
    const std::string body =
        "{\"eventType\":\"pg.append\",\"clientEventId\":\"" + id +
        "\",\"payload\":" + payload + "}";
    out->attempted.emplace(id, payload);
    // The same body until a 2xx: a retry after an unknown outcome is
    // deduplicated by its clientEventId (SPEC §2.2), on any server.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    bool done = false;
    while (!done && std::chrono::steady_clock::now() < deadline) {
      Result<net::Response> reply =
          http[server]->Post("/v1/sessions/" + session + "/events", body);
      ++out->requests;
      if (!reply) {
        // This server is gone (or going): the next one.
        ++out->connection_errors;
        server = (server + 1) % ports_.size();
        std::this_thread::sleep_for(milliseconds(2));
        continue;
      }
      ++out->statuses[reply->status];
      if (reply->status == 503 || reply->status == 429) {
        // The database is away (Retry-After): try again shortly.
        std::this_thread::sleep_for(milliseconds(20));
        continue;
      }
      if (reply->status < 200 || reply->status > 299) {
        if (out->bad_reply.empty()) out->bad_reply = reply->body;
        break;
      }
      done = true;
      boost::system::error_code ec;
      json::value v = json::parse(reply->body, ec);
      const json::object* e = !ec && v.is_object() ? &v.as_object() : nullptr;
      const json::value* seq = e ? e->if_contains("eventSeq") : nullptr;
      const json::value* cid = e ? e->if_contains("clientEventId") : nullptr;
      const json::value* p = e ? e->if_contains("payload") : nullptr;
      if (seq == nullptr || !seq->is_number() || cid == nullptr ||
          !cid->is_string() || cid->as_string() != id || p == nullptr ||
          json::serialize(*p) != payload) {
        if (out->bad_reply.empty()) out->bad_reply = reply->body;
        break;
      }
      out->acked.push_back(crash::AckedEvent{
          session, seq->to_number<uint64_t>(), id, payload});
      acked_.fetch_add(1);
    }
    if (!done) out->refused.push_back(id);
  }
}

}  // namespace acpstore::pgtest
