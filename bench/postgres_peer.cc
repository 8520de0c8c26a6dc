// RunPostgresPeers (postgres_peer.h). Without libpq at build time
// (ACPSTORE_BENCH_HAVE_LIBPQ undefined) only the skip message is compiled.

#include "postgres_peer.h"

#include <cstdlib>

#include "acpstore/result.h"

#ifdef ACPSTORE_BENCH_HAVE_LIBPQ
#include <libpq-fe.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>
#endif

namespace acpstore::bench {
namespace {

#ifdef ACPSTORE_BENCH_HAVE_LIBPQ
std::string PostgresUrl(const BenchOptions& options) {
  if (!options.postgres_url.empty()) return options.postgres_url;
  const char* env = std::getenv("ACPSTORE_BENCH_POSTGRES_URL");
  return env != nullptr ? env : "";
}
#endif

// Says once per process why the peer is missing from the tables.
void SkipOnce(Reporter& report, const std::string& why) {
  static bool said = false;
  if (said) return;
  said = true;
  report.out() << "  postgres peer skipped: " << why << "\n" << std::flush;
}

#ifdef ACPSTORE_BENCH_HAVE_LIBPQ

using SteadyClock = std::chrono::steady_clock;

constexpr char kTable[] = "acpstore_bench_events";

struct ConnCloser {
  void operator()(PGconn* c) const { PQfinish(c); }
};
using Conn = std::unique_ptr<PGconn, ConnCloser>;

Result<Conn> Connect(const std::string& url) {
  Conn conn(PQconnectdb(url.c_str()));
  if (conn == nullptr || PQstatus(conn.get()) != CONNECTION_OK) {
    return Status::Unavailable(
        std::string("postgres connect: ") +
        (conn ? PQerrorMessage(conn.get()) : "no memory"));
  }
  return conn;
}

Status Exec(PGconn* conn, const std::string& sql) {
  PGresult* r = PQexec(conn, sql.c_str());
  ExecStatusType st = PQresultStatus(r);
  Status s =
      st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK
          ? Status::OK()
          : Status::IoError("postgres " + sql + ": " + PQresultErrorMessage(r));
  PQclear(r);
  return s;
}

Status Prepare(PGconn* conn) {
  ACPSTORE_RETURN_IF_ERROR(Exec(conn, "SET synchronous_commit = on"));
  const std::string sql = std::string("INSERT INTO ") + kTable +
                          "(session, seq, payload) SELECT $1, "
                          "coalesce(max(seq), 0) + 1, $2 FROM " +
                          kTable + " WHERE session = $1";
  PGresult* r = PQprepare(conn, "append", sql.c_str(), 2, nullptr);
  Status s = PQresultStatus(r) == PGRES_COMMAND_OK
                 ? Status::OK()
                 : Status::IoError(std::string("postgres prepare: ") +
                                   PQresultErrorMessage(r));
  PQclear(r);
  return s;
}

// One autocommit INSERT: one transaction, durable when it returns.
Status Append(PGconn* conn, const std::string& session,
              const std::string& payload) {
  const char* values[2] = {session.c_str(), payload.data()};
  const int lengths[2] = {static_cast<int>(session.size()),
                          static_cast<int>(payload.size())};
  const int formats[2] = {0, 1};  // the payload as binary bytea
  PGresult* r = PQexecPrepared(conn, "append", 2, values, lengths, formats, 0);
  Status s = PQresultStatus(r) == PGRES_COMMAND_OK
                 ? Status::OK()
                 : Status::IoError(std::string("postgres append: ") +
                                   PQresultErrorMessage(r));
  PQclear(r);
  return s;
}

#endif  // ACPSTORE_BENCH_HAVE_LIBPQ

}  // namespace

Status RunPostgresPeers(const BenchOptions& options, const std::string& config,
                        int writers, uint64_t events,
                        const std::vector<std::string>& payloads, int run,
                        Reporter& report) {
#ifndef ACPSTORE_BENCH_HAVE_LIBPQ
  (void)options, (void)config, (void)writers, (void)events, (void)payloads,
      (void)run;
  SkipOnce(report, "built without libpq (install libpq-dev, re-run cmake)");
  return Status::OK();
#else
  const std::string url = PostgresUrl(options);
  if (url.empty()) {
    SkipOnce(report,
             "no server (--postgres-url or ACPSTORE_BENCH_POSTGRES_URL)");
    return Status::OK();
  }
  ACPSTORE_ASSIGN_OR_RETURN(Conn admin, Connect(url));
  // One connection per writer, plus this one, within the server's limit
  // (100 by default, some reserved for superusers).
  PGresult* limit = PQexec(admin.get(), "SHOW max_connections");
  const int max_connections =
      PQresultStatus(limit) == PGRES_TUPLES_OK && PQntuples(limit) == 1
          ? std::atoi(PQgetvalue(limit, 0, 0))
          : 0;
  PQclear(limit);
  if (max_connections > 0 && writers + 4 > max_connections) {
    report.out() << "  postgres peer skipped at " << config << ": " << writers
                 << " connections exceed max_connections " << max_connections
                 << "\n";
    return Status::OK();
  }
  ACPSTORE_RETURN_IF_ERROR(
      Exec(admin.get(), std::string("DROP TABLE IF EXISTS ") + kTable));
  ACPSTORE_RETURN_IF_ERROR(
      Exec(admin.get(), std::string("CREATE TABLE ") + kTable +
                            "(session TEXT NOT NULL, seq BIGINT NOT NULL, "
                            "payload BYTEA, PRIMARY KEY(session, seq))"));
  std::vector<Conn> conns;
  for (int w = 0; w < writers; ++w) {
    ACPSTORE_ASSIGN_OR_RETURN(Conn c, Connect(url));
    ACPSTORE_RETURN_IF_ERROR(Prepare(c.get()));
    conns.push_back(std::move(c));
  }

  std::atomic<uint64_t> claimed{0};
  std::atomic<bool> stop{false};
  std::mutex error_mu;
  Status first_error;
  std::vector<std::vector<uint32_t>> latencies(writers);
  const SteadyClock::time_point start = SteadyClock::now();
  auto writer = [&](int w) {
    const std::string session = "bench-" + std::to_string(w);
    while (!stop.load(std::memory_order_relaxed)) {
      uint64_t n = claimed.fetch_add(1);
      if (n >= events) break;
      SteadyClock::time_point t0 = SteadyClock::now();
      Status s = Append(conns[w].get(), session, payloads[n % payloads.size()]);
      SteadyClock::time_point t1 = SteadyClock::now();
      if (!s.ok()) {
        std::lock_guard<std::mutex> lock(error_mu);
        if (first_error.ok()) first_error = std::move(s);
        stop = true;
        break;
      }
      latencies[w].push_back(static_cast<uint32_t>(
          std::chrono::duration_cast<std::chrono::microseconds>(t1 - t0)
              .count()));
      if (options.seconds > 0 &&
          std::chrono::duration<double>(t1 - start).count() >=
              options.seconds) {
        stop = true;
      }
    }
  };
  std::vector<std::thread> threads;
  for (int w = 0; w < writers; ++w) threads.emplace_back(writer, w);
  for (std::thread& t : threads) t.join();
  const double seconds =
      std::chrono::duration<double>(SteadyClock::now() - start).count();
  conns.clear();
  Status dropped =
      Exec(admin.get(), std::string("DROP TABLE IF EXISTS ") + kTable);
  if (!first_error.ok()) return first_error;
  ACPSTORE_RETURN_IF_ERROR(dropped);

  std::vector<uint32_t> all;
  for (auto& v : latencies) all.insert(all.end(), v.begin(), v.end());
  const double n = static_cast<double>(all.size());
  const double secs = seconds > 0 ? seconds : 1e-9;
  report.Add(run, Measurement{"postgres-sync-on",
                              config,
                              {{"events", n},
                               {"events_per_s", n / secs},
                               {"p50_us", Percentile(&all, 50)},
                               {"p99_us", Percentile(&all, 99)},
                               {"p999_us", Percentile(&all, 99.9)},
                               {"syncs_per_s", n / secs}}});
  return Status::OK();
#endif
}

}  // namespace acpstore::bench
