// RunPostgresPeers, PgServerCpu, DropPostgresSchema (postgres_peer.h).
// Without libpq at build time (ACPSTORE_BENCH_HAVE_LIBPQ undefined) only
// the skip messages are compiled.

#include "postgres_peer.h"

#include <dirent.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

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

// Says once per process why the peer is missing from the tables.
void SkipOnce(Reporter& report, const std::string& why) {
  static bool said = false;
  if (said) return;
  said = true;
  report.out() << "  postgres peer skipped: " << why << "\n" << std::flush;
}

// /proc/<pid>/stat after the ")" of comm: field 3 (state) onwards.
struct ProcStat {
  pid_t ppid = 0;
  unsigned long long utime = 0, stime = 0, cutime = 0, cstime = 0;
};

bool ReadProcStat(pid_t pid, ProcStat* out) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::stringstream text;
  text << in.rdbuf();
  const std::string stat = text.str();
  const size_t paren = stat.rfind(')');
  if (paren == std::string::npos || paren + 2 > stat.size()) return false;
  std::istringstream fields(stat.substr(paren + 2));
  std::string state;
  long long ppid = 0;
  std::string skip;
  fields >> state >> ppid;
  for (int i = 5; i < 14; ++i) fields >> skip;  // pgrp .. majflt... cmajflt
  fields >> out->utime >> out->stime;
  long long cutime = 0, cstime = 0;
  fields >> cutime >> cstime;
  if (!fields) return false;
  out->ppid = static_cast<pid_t>(ppid);
  out->cutime = static_cast<unsigned long long>(cutime);
  out->cstime = static_cast<unsigned long long>(cstime);
  return true;
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

Status PrepareOne(PGconn* conn, const char* name, const std::string& sql) {
  PGresult* r = PQprepare(conn, name, sql.c_str(), 0, nullptr);
  Status s = PQresultStatus(r) == PGRES_COMMAND_OK
                 ? Status::OK()
                 : Status::IoError(std::string("postgres prepare: ") +
                                   PQresultErrorMessage(r));
  PQclear(r);
  return s;
}

// The same INSERT ... SELECT max(seq) + 1 for kMaxPlusOne and kAegis.
std::string MaxPlusOneSql() {
  return std::string("INSERT INTO ") + kTable +
         "(session, seq, payload) SELECT $1, coalesce(max(seq), 0) + 1, $2 "
         "FROM " +
         kTable + " WHERE session = $1";
}

Status Prepare(PGconn* conn, PgPeer peer) {
  ACPSTORE_RETURN_IF_ERROR(Exec(conn, "SET synchronous_commit = on"));
  switch (peer) {
    case PgPeer::kMaxPlusOne:
      return PrepareOne(conn, "append", MaxPlusOneSql());
    case PgPeer::kInsert:
      return PrepareOne(conn, "append",
                        std::string("INSERT INTO ") + kTable +
                            "(session, seq, payload) VALUES ($1, $2, $3)");
    case PgPeer::kAegis:
      // hash(session): a 64-bit hash of the id, one lock per session.
      ACPSTORE_RETURN_IF_ERROR(PrepareOne(
          conn, "lock", "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))"));
      return PrepareOne(conn, "append", MaxPlusOneSql());
  }
  return Status::InvalidArgument("unknown peer");
}

Status Check(PGresult* r, const char* what) {
  ExecStatusType st = PQresultStatus(r);
  Status s = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK
                 ? Status::OK()
                 : Status::IoError(std::string("postgres ") + what + ": " +
                                   PQresultErrorMessage(r));
  PQclear(r);
  return s;
}

// One append, durable when it returns. `seq` is the writer's own count
// (used by kInsert only).
Status Append(PGconn* conn, PgPeer peer, const std::string& session,
              uint64_t seq, const std::string& payload) {
  const std::string seq_text = std::to_string(seq);
  if (peer == PgPeer::kInsert) {
    const char* values[3] = {session.c_str(), seq_text.c_str(), payload.data()};
    const int lengths[3] = {static_cast<int>(session.size()),
                            static_cast<int>(seq_text.size()),
                            static_cast<int>(payload.size())};
    const int formats[3] = {0, 0, 1};  // the payload as binary bytea
    return Check(
        PQexecPrepared(conn, "append", 3, values, lengths, formats, 0),
        "append");
  }
  const char* values[2] = {session.c_str(), payload.data()};
  const int lengths[2] = {static_cast<int>(session.size()),
                          static_cast<int>(payload.size())};
  const int formats[2] = {0, 1};
  if (peer == PgPeer::kMaxPlusOne) {
    return Check(
        PQexecPrepared(conn, "append", 2, values, lengths, formats, 0),
        "append");
  }
  // kAegis: a transaction of its own, serialized per session by the lock.
  ACPSTORE_RETURN_IF_ERROR(Check(PQexec(conn, "BEGIN"), "begin"));
  Status s = Check(PQexecPrepared(conn, "lock", 1, values, lengths, formats, 0),
                   "lock");
  if (s.ok()) {
    s = Check(PQexecPrepared(conn, "append", 2, values, lengths, formats, 0),
              "append");
  }
  if (!s.ok()) {
    (void)Check(PQexec(conn, "ROLLBACK"), "rollback");
    return s;
  }
  return Check(PQexec(conn, "COMMIT"), "commit");
}

double SelfCpuSeconds() { return ProcessCpuSeconds(); }

Status RunPeer(PgPeer peer, const std::string& url, const std::string& config,
               int writers, uint64_t events, double max_seconds,
               const std::vector<std::string>& payloads, int run,
               Reporter& report) {
  ACPSTORE_ASSIGN_OR_RETURN(Conn admin, Connect(url));
  // "table does not exist, skipping" is not worth a line on stderr.
  ACPSTORE_RETURN_IF_ERROR(Exec(admin.get(), "SET client_min_messages = warning"));
  ACPSTORE_RETURN_IF_ERROR(
      Exec(admin.get(), std::string("DROP TABLE IF EXISTS ") + kTable));
  ACPSTORE_RETURN_IF_ERROR(
      Exec(admin.get(), std::string("CREATE TABLE ") + kTable +
                            "(session TEXT NOT NULL, seq BIGINT NOT NULL, "
                            "payload BYTEA, PRIMARY KEY(session, seq))"));
  std::vector<Conn> conns;
  for (int w = 0; w < writers; ++w) {
    ACPSTORE_ASSIGN_OR_RETURN(Conn c, Connect(url));
    ACPSTORE_RETURN_IF_ERROR(Prepare(c.get(), peer));
    conns.push_back(std::move(c));
  }
  Result<PgServerCpu> server = PgServerCpu::Find(url);

  std::atomic<uint64_t> claimed{0};
  std::atomic<bool> stop{false};
  std::mutex error_mu;
  Status first_error;
  std::vector<std::vector<uint32_t>> latencies(writers);
  const double cpu0 = SelfCpuSeconds();
  const double server0 = server.ok() ? server->Seconds() : 0;
  const SteadyClock::time_point start = SteadyClock::now();
  auto writer = [&](int w) {
    const std::string session = "bench-" + std::to_string(w);
    uint64_t seq = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      uint64_t n = claimed.fetch_add(1);
      if (n >= events) break;
      SteadyClock::time_point t0 = SteadyClock::now();
      Status s = Append(conns[w].get(), peer, session, ++seq,
                        payloads[n % payloads.size()]);
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
      if (max_seconds > 0 &&
          std::chrono::duration<double>(t1 - start).count() >= max_seconds) {
        stop = true;
      }
    }
  };
  std::vector<std::thread> threads;
  for (int w = 0; w < writers; ++w) threads.emplace_back(writer, w);
  for (std::thread& t : threads) t.join();
  const double seconds =
      std::chrono::duration<double>(SteadyClock::now() - start).count();
  const double cpu = SelfCpuSeconds() - cpu0;
  const double server_cpu = server.ok() ? server->Seconds() - server0 : -1;
  conns.clear();
  Status dropped =
      Exec(admin.get(), std::string("DROP TABLE IF EXISTS ") + kTable);
  if (!first_error.ok()) return first_error;
  ACPSTORE_RETURN_IF_ERROR(dropped);

  std::vector<uint32_t> all;
  for (auto& v : latencies) all.insert(all.end(), v.begin(), v.end());
  const double n = static_cast<double>(all.size());
  const double secs = seconds > 0 ? seconds : 1e-9;
  const double per = n > 0 ? 1e6 / n : 0;
  Measurement m{PgPeerSubject(peer),
                config,
                {{"events", n},
                 {"events_per_s", n / secs},
                 {"p50_us", Percentile(&all, 50)},
                 {"p99_us", Percentile(&all, 99)},
                 {"p999_us", Percentile(&all, 99.9)},
                 {"syncs_per_s", n / secs},
                 {"cpu_us_per_event", cpu * per}}};
  if (server_cpu >= 0) m.Set("pg_cpu_us_per_event", server_cpu * per);
  report.Add(run, m);
  report.out() << "  run " << run << " " << PgPeerSubject(peer) << " "
               << config << ": " << static_cast<uint64_t>(n / secs)
               << " events/s\n"
               << std::flush;
  return Status::OK();
}

#endif  // ACPSTORE_BENCH_HAVE_LIBPQ

}  // namespace

const char* PgPeerSubject(PgPeer peer) {
  switch (peer) {
    case PgPeer::kMaxPlusOne:
      return "postgres-sync-on";
    case PgPeer::kInsert:
      return "postgres-insert";
    case PgPeer::kAegis:
      return "postgres-aegis";
  }
  return "postgres-?";
}

std::string BenchPostgresUrl(const BenchOptions& options) {
  if (!options.postgres_url.empty()) return options.postgres_url;
  const char* env = std::getenv("ACPSTORE_BENCH_POSTGRES_URL");
  return env != nullptr ? env : "";
}

double PgServerCpu::Seconds() const {
  unsigned long long ticks = 0;
  ProcStat self;
  if (ReadProcStat(postmaster_, &self)) {
    ticks += self.utime + self.stime + self.cutime + self.cstime;
  }
  if (DIR* proc = ::opendir("/proc")) {
    while (dirent* e = ::readdir(proc)) {
      char* end = nullptr;
      const long pid = std::strtol(e->d_name, &end, 10);
      if (end == e->d_name || *end != '\0') continue;
      ProcStat child;
      if (ReadProcStat(static_cast<pid_t>(pid), &child) &&
          child.ppid == postmaster_) {
        ticks += child.utime + child.stime;
      }
    }
    ::closedir(proc);
  }
  return static_cast<double>(ticks) /
         static_cast<double>(::sysconf(_SC_CLK_TCK));
}

Result<PgServerCpu> PgServerCpu::Find(const std::string& url) {
#ifndef ACPSTORE_BENCH_HAVE_LIBPQ
  (void)url;
  return Status::Unavailable("built without libpq");
#else
  ACPSTORE_ASSIGN_OR_RETURN(Conn c, Connect(url));
  PGresult* r = PQexec(c.get(), "SELECT pg_backend_pid()");
  const pid_t backend = PQresultStatus(r) == PGRES_TUPLES_OK &&
                                PQntuples(r) == 1
                            ? static_cast<pid_t>(std::atoi(PQgetvalue(r, 0, 0)))
                            : 0;
  PQclear(r);
  ProcStat stat;
  if (backend <= 0 || !ReadProcStat(backend, &stat) || stat.ppid <= 1) {
    return Status::Unavailable(
        "the PostgreSQL server is not a process on this machine");
  }
  return PgServerCpu(stat.ppid);
#endif
}

Status DropPostgresSchema(const std::string& url, const std::string& schema) {
#ifndef ACPSTORE_BENCH_HAVE_LIBPQ
  (void)url, (void)schema;
  return Status::OK();
#else
  ACPSTORE_ASSIGN_OR_RETURN(Conn c, Connect(url));
  char* quoted = PQescapeIdentifier(c.get(), schema.data(), schema.size());
  if (quoted == nullptr) return Status::InvalidArgument("bad schema name");
  const std::string sql =
      std::string("SET client_min_messages = warning; DROP SCHEMA IF EXISTS ") +
      quoted + " CASCADE";
  PQfreemem(quoted);
  return Exec(c.get(), sql);
#endif
}

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
  const std::string url = BenchPostgresUrl(options);
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
  admin.reset();
  for (PgPeer peer : {PgPeer::kInsert, PgPeer::kMaxPlusOne, PgPeer::kAegis}) {
    ACPSTORE_RETURN_IF_ERROR(RunPeer(peer, url, config, writers, events,
                                     options.seconds, payloads, run, report));
  }
  return Status::OK();
#endif
}

}  // namespace acpstore::bench
