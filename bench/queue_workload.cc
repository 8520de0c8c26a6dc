// The queue workload (W4): workers each running enqueue -> lease ->
// complete cycles on their own session's queue, as agent runtimes polling
// for their session's next action would; cycles/s and cycle latency with
// 1, 4, 16 and 64 workers, on the file engine (--sync, default always),
// the memory engine and SQLite doing the same three steps.
//
// Every step is its own durable write: with kAlways a cycle is three
// fdatasyncs' worth of waiting (shared with the other workers by the group
// commit). The SQLite peer does one transaction per step on one shared
// connection behind a mutex (as the append peer, peers.h), with the lease
// as `UPDATE ... WHERE id = (SELECT ... LIMIT 1) RETURNING`.
//
// Thread-safety: RunQueueWorkload runs on one thread and starts its
// workers. Lifetime: stores and scratch directories end with each
// configuration.

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "acpstore/blocking_store.h"
#include "acpstore/store.h"
#include "load.h"
#include "sqlite_db.h"
#include "workloads.h"

namespace acpstore::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr uint64_t kDefaultCycles = 50000;
// What an agent runtime is asked to do: a prompt of a few hundred bytes.
constexpr char kActionMetadata[] =
    "{\"prompt\":\"Run the failing test suite again with verbose output, "
    "then summarise which assertions failed and propose a minimal fix for "
    "each one. Keep the patch small and explain the root cause in two "
    "sentences.\",\"source\":\"bench\",\"priority\":1}";
constexpr char kResultMetadata[] = "{\"outcome\":\"ok\",\"turns\":3}";

struct CycleResult {
  uint64_t cycles = 0;
  double seconds = 0;
  std::vector<uint32_t> latencies_us;  // one per completed cycle
  Status error;
};

// Runs `cycle(worker)` on `workers` threads until `max_cycles` cycles were
// claimed or `max_seconds` passed; the first failure stops everyone.
template <typename Cycle>
CycleResult DriveCycles(int workers, uint64_t max_cycles, double max_seconds,
                        Cycle&& cycle) {
  std::atomic<uint64_t> claimed{0};
  std::atomic<bool> stop{false};
  std::mutex error_mu;
  CycleResult result;
  std::vector<std::vector<uint32_t>> latencies(workers);
  const SteadyClock::time_point start = SteadyClock::now();
  auto worker = [&](int w) {
    while (!stop.load(std::memory_order_relaxed)) {
      if (claimed.fetch_add(1) >= max_cycles) break;
      SteadyClock::time_point t0 = SteadyClock::now();
      Status s = cycle(w);
      SteadyClock::time_point t1 = SteadyClock::now();
      if (!s.ok()) {
        std::lock_guard<std::mutex> lock(error_mu);
        if (result.error.ok()) result.error = std::move(s);
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
  for (int w = 0; w < workers; ++w) threads.emplace_back(worker, w);
  for (std::thread& t : threads) t.join();
  result.seconds =
      std::chrono::duration<double>(SteadyClock::now() - start).count();
  for (auto& v : latencies) {
    result.cycles += v.size();
    result.latencies_us.insert(result.latencies_us.end(), v.begin(), v.end());
  }
  return result;
}

std::string WorkersConfig(int w) { return "workers=" + std::to_string(w); }

Measurement CycleMeasurement(const std::string& subject, int workers,
                             CycleResult* r, uint64_t syncs) {
  double secs = r->seconds > 0 ? r->seconds : 1e-9;
  return Measurement{subject,
                     WorkersConfig(workers),
                     {{"cycles", static_cast<double>(r->cycles)},
                      {"cycles_per_s", r->cycles / secs},
                      {"steps_per_s", 3 * r->cycles / secs},
                      {"p50_us", Percentile(&r->latencies_us, 50)},
                      {"p99_us", Percentile(&r->latencies_us, 99)},
                      {"p999_us", Percentile(&r->latencies_us, 99.9)},
                      {"syncs_per_s", syncs / secs}}};
}

// One enqueue -> lease -> complete cycle on `session`.
Status EngineCycle(BlockingStore& db, const Scope& scope,
                   const std::string& session) {
  Result<EnqueueResult> e = db.EnqueueAction(
      scope, NewAction{.session_id = session,
                       .type = ActionType::kPrompt,
                       .metadata = std::string(kActionMetadata)});
  if (!e.ok()) return e.error();
  Result<std::optional<Action>> l = db.LeaseAction(
      scope, LeaseRequest{.lease_ms = 30000, .session_id = session});
  if (!l.ok()) return l.error();
  if (!l->has_value()) {
    return Status::Internal("lease on " + session + " found nothing queued");
  }
  const Action& a = **l;
  Result<Action> c = db.CompleteAction(scope, a.action_id, a.lease_token,
                                       std::string(kResultMetadata));
  return c.ok() ? Status::OK() : c.error();
}

Status RunEngine(const BenchOptions& options, Engine engine, int workers,
                 uint64_t cycles, int run, Reporter& report) {
  ScratchDir dir(options.dir);
  if (!dir.ok())
    return Status::IoError("cannot create a directory under " + options.dir);
  BenchOptions engine_options = options;
  engine_options.engine = engine;
  ACPSTORE_ASSIGN_OR_RETURN(
      std::unique_ptr<Store> store,
      OpenStore(BenchStoreOptions(engine_options, dir.path() + "/data")));
  const std::vector<std::string> sessions = SessionIds("queue-", workers);
  ACPSTORE_RETURN_IF_ERROR(CreateSessions(*store, BenchScope(), sessions));
  BlockingStore db(*store);
  const Scope scope = BenchScope();
  const StoreStats before = store->Stats();
  CycleResult r = DriveCycles(workers, cycles, options.seconds, [&](int w) {
    return EngineCycle(db, scope, sessions[w]);
  });
  const StoreStats after = store->Stats();
  if (!r.error.ok()) return r.error;
  const uint64_t fsyncs = after.fsyncs - before.fsyncs;
  const uint64_t records =
      after.group_commit_records - before.group_commit_records;
  Measurement m =
      CycleMeasurement("acpstore-" + EngineName(engine), workers, &r, fsyncs);
  m.Set("mean_batch", fsyncs > 0 ? static_cast<double>(records) / fsyncs : 0);
  report.Add(run, m);
  report.out() << "  run " << run << " acpstore-" << EngineName(engine) << " "
               << WorkersConfig(workers) << ": "
               << static_cast<uint64_t>(r.cycles / r.seconds) << " cycles/s\n"
               << std::flush;
  return Status::OK();
}

// The same queue in SQLite: one row per action, leased by a conditional
// UPDATE that picks the oldest queued row of the session.
class SqliteQueue {
 public:
  Status Open(const std::string& path, const std::string& synchronous) {
    ACPSTORE_RETURN_IF_ERROR(db_.Open(path, synchronous));
    ACPSTORE_RETURN_IF_ERROR(db_.Exec(
        "CREATE TABLE actions(id INTEGER PRIMARY KEY, session TEXT NOT NULL, "
        "type TEXT NOT NULL, status TEXT NOT NULL, created_at INTEGER, "
        "available_at INTEGER, updated_at INTEGER, leased_until INTEGER, "
        "lease_token TEXT, attempt_count INTEGER NOT NULL DEFAULT 0, "
        "metadata BLOB, result_metadata BLOB, completed_at INTEGER)"));
    ACPSTORE_RETURN_IF_ERROR(
        db_.Exec("CREATE INDEX actions_queue ON actions(session, status, "
                 "available_at, id)"));
    ACPSTORE_RETURN_IF_ERROR(
        db_.Prepare("INSERT INTO actions(session, type, status, created_at, "
                    "available_at, updated_at, metadata) "
                    "VALUES (?1, 'prompt', 'queued', ?2, ?2, ?2, ?3)",
                    &enqueue_));
    ACPSTORE_RETURN_IF_ERROR(db_.Prepare(
        "UPDATE actions SET status = 'leased', lease_token = ?3, "
        "leased_until = ?2 + 30000, attempt_count = attempt_count + 1, "
        "updated_at = ?2 WHERE id = (SELECT id FROM actions WHERE "
        "session = ?1 AND status = 'queued' AND available_at <= ?2 "
        "ORDER BY available_at, id LIMIT 1) RETURNING id, lease_token",
        &lease_));
    return db_.Prepare(
        "UPDATE actions SET status = 'completed', result_metadata = ?3, "
        "completed_at = ?4, updated_at = ?4, lease_token = NULL, "
        "leased_until = NULL WHERE id = ?1 AND lease_token = ?2 AND "
        "status = 'leased'",
        &complete_);
  }

  // Each step is one autocommit transaction under the connection's mutex,
  // taken per step so workers interleave as they would on a server.
  Status Cycle(const std::string& session, int worker, uint64_t* commits) {
    const int64_t now = NowMs();
    {
      std::lock_guard<std::mutex> lock(mu_);
      enqueue_.BindText(1, session);
      enqueue_.BindInt(2, now);
      enqueue_.BindBlob(3, kActionMetadata);
      Status s = enqueue_.Run();
      enqueue_.Reset();
      ++*commits;
      ACPSTORE_RETURN_IF_ERROR(s);
    }
    int64_t id = 0;
    const std::string token =
        std::to_string(worker) + "-" + std::to_string(++tokens_);
    {
      std::lock_guard<std::mutex> lock(mu_);
      lease_.BindText(1, session);
      lease_.BindInt(2, NowMs());
      lease_.BindText(3, token);
      bool row = false;
      Status s = lease_.Step(&row);
      if (s.ok() && row) id = lease_.ColumnInt(0);
      if (s.ok() && row) s = lease_.Run();  // finish the statement: commit
      lease_.Reset();
      ++*commits;
      ACPSTORE_RETURN_IF_ERROR(s);
      if (id == 0) {
        return Status::Internal("sqlite lease on " + session +
                                " found nothing queued");
      }
    }
    std::lock_guard<std::mutex> lock(mu_);
    complete_.BindInt(1, id);
    complete_.BindText(2, token);
    complete_.BindBlob(3, kResultMetadata);
    complete_.BindInt(4, NowMs());
    Status s = complete_.Run();
    complete_.Reset();
    ++*commits;
    ACPSTORE_RETURN_IF_ERROR(s);
    if (db_.Changes() != 1) return Status::Internal("sqlite stale lease");
    return Status::OK();
  }

 private:
  static int64_t NowMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  std::mutex mu_;
  SqliteDb db_;
  SqliteStmt enqueue_;
  SqliteStmt lease_;
  SqliteStmt complete_;
  std::atomic<uint64_t> tokens_{0};
};

Status RunSqlite(const BenchOptions& options, const std::string& subject,
                 const std::string& synchronous, int workers, uint64_t cycles,
                 int run, Reporter& report) {
  ScratchDir dir(options.dir);
  if (!dir.ok())
    return Status::IoError("cannot create a directory under " + options.dir);
  SqliteQueue queue;
  ACPSTORE_RETURN_IF_ERROR(
      queue.Open(dir.path() + "/actions.sqlite", synchronous));
  const std::vector<std::string> sessions = SessionIds("queue-", workers);
  std::vector<uint64_t> commits(workers, 0);
  CycleResult r = DriveCycles(workers, cycles, options.seconds, [&](int w) {
    return queue.Cycle(sessions[w], w, &commits[w]);
  });
  if (!r.error.ok()) return r.error;
  uint64_t total = 0;
  for (uint64_t c : commits) total += c;
  Measurement m = CycleMeasurement(subject, workers, &r, total);
  m.Set("mean_batch", 1);
  report.Add(run, m);
  return Status::OK();
}

}  // namespace

Status RunQueueWorkload(const BenchOptions& options, Reporter& report) {
  std::vector<int> workers = options.writers;
  if (workers.empty()) workers = {1, 4, 16, 64};
  const uint64_t cycles = ScaledEvents(options, kDefaultCycles);
  const std::string file = "acpstore-file";
  report.out() << "queue: enqueue -> lease -> complete, up to " << cycles
               << " cycles or " << options.seconds
               << " s per configuration; file engine with --sync "
               << (options.sync == SyncMode::kAlways     ? "always"
                   : options.sync == SyncMode::kInterval ? "interval"
                                                         : "none")
               << "\n";
  // Each worker count runs every subject back to back (see append).
  for (int run = 1; run <= options.runs; ++run) {
    for (int w : workers) {
      ACPSTORE_RETURN_IF_ERROR(
          RunEngine(options, Engine::kFile, w, cycles, run, report));
      ACPSTORE_RETURN_IF_ERROR(
          RunEngine(options, Engine::kMemory, w, cycles, run, report));
      if (!options.peers) continue;
      ACPSTORE_RETURN_IF_ERROR(RunSqlite(options, "sqlite-wal-full", "FULL", w,
                                         cycles, run, report));
      ACPSTORE_RETURN_IF_ERROR(RunSqlite(options, "sqlite-wal-normal", "NORMAL",
                                         w, cycles, run, report));
      report.out() << "  run " << run << " sqlite " << WorkersConfig(w)
                   << " done\n"
                   << std::flush;
    }
  }
  std::vector<Measurement> ratios;
  for (int w : workers) {
    const std::string config = WorkersConfig(w);
    const double ours = report.Median(file, config, "cycles_per_s");
    auto ratio = [&](const std::string& subject) {
      double theirs = report.Median(subject, config, "cycles_per_s");
      return theirs > 0 ? ours / theirs : 0;
    };
    ratios.push_back(
        Measurement{"ratio",
                    config,
                    {{"vs_memory", ratio("acpstore-memory")},
                     {"vs_sqlite_full", ratio("sqlite-wal-full")},
                     {"vs_sqlite_normal", ratio("sqlite-wal-normal")}}});
  }
  report.PrintTable(
      "queue: medians of " + std::to_string(options.runs) +
          " run(s); a cycle = enqueue + lease + complete, each durable; "
          "syncs = fsyncs (acpstore) or commits (sqlite)",
      {{"cycles_per_s", "cycles/s", 0},
       {"steps_per_s", "steps/s", 0},
       {"p50_us", "p50 us", 0},
       {"p99_us", "p99 us", 0},
       {"p999_us", "p999 us", 0},
       {"syncs_per_s", "syncs/s", 0},
       {"mean_batch", "batch", 1}});
  for (const Measurement& m : ratios) report.Add(1, m);
  report.PrintTable(
      "queue: acpstore-file cycles/s divided by the other's (medians)",
      {{"vs_memory", "/memory engine", 2},
       {"vs_sqlite_full", "/sqlite FULL", 2},
       {"vs_sqlite_normal", "/sqlite NORMAL", 2}});
  return Status::OK();
}

}  // namespace acpstore::bench
