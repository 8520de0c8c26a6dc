// The append workload: durable appends (SyncMode kAlways unless --sync
// says otherwise) from 1, 16 and 64 writers, each with one append in
// flight, beside the raw fdatasync limit and SQLite in the same run, with
// the ratios between them.
//
// Sweeps: `--payload-bytes 256,2500,65536` and `--sync always,interval,none`
// run every combination with every writer count; the config then names
// the payload size and the sync mode too ("writers=64 payload=2500
// sync=always"). The peers are durable, so they run beside kAlways only
// (once per payload size and writer count); kInterval and kNone are
// reported against the kAlways figure of the same run.
//
// `--mix acp`: instead of tool events, each writer appends an Aegis-shaped
// ACP session (acp_session.h), the realistic transcript workload of issue
// 16; the peers then write the same payloads.

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <optional>

#include "acp_session.h"
#include "acpstore/store.h"
#include "load.h"
#include "payloads.h"
#include "peers.h"
#include "postgres_peer.h"
#include "workloads.h"

namespace acpstore::bench {
namespace {

constexpr uint64_t kDefaultEvents = 50000;
constexpr size_t kPayloadPool = 256;

std::string WritersConfig(int w) { return "writers=" + std::to_string(w); }

std::string SyncName(SyncMode mode) {
  switch (mode) {
    case SyncMode::kAlways:
      return "always";
    case SyncMode::kInterval:
      return "interval";
    case SyncMode::kNone:
      return "none";
  }
  return "?";
}

// One point of the sweep: the options it runs with and its config label.
struct Point {
  BenchOptions options;  // payload_bytes and sync set for this point
  std::string suffix;    // "" or " payload=2500 sync=always"
};

// Latency and rate metrics every subject reports.
Measurement Measure(const std::string& subject, const std::string& config,
                    uint64_t events, double seconds,
                    std::vector<uint32_t>* latencies, uint64_t syncs) {
  double secs = seconds > 0 ? seconds : 1e-9;
  return Measurement{
      subject,
      config,
      {{"events", static_cast<double>(events)},
       {"events_per_s", events / secs},
       {"p50_us", Percentile(latencies, 50)},
       {"p99_us", Percentile(latencies, 99)},
       {"p999_us", Percentile(latencies, 99.9)},
       {"syncs_per_s", syncs / secs},
       {"mean_batch", syncs > 0 ? static_cast<double>(events) / syncs : 0}}};
}

struct EngineRun {
  double mean_batch = 0;
  double journal_bytes_per_event = 0;
};

// The scratch schema of the postgres engine's runs, dropped before and
// after each (the peers' tables live in the default schema).
constexpr char kPostgresSchema[] = "acpstore_bench";

Status RunEngine(const BenchOptions& options, const std::string& config,
                 int writers, uint64_t events,
                 const std::vector<std::string>& payloads,
                 const std::vector<NewEvent>* stream, int run,
                 Reporter& report, EngineRun* out) {
  ScratchDir dir(options.dir);
  if (!dir.ok())
    return Status::IoError("cannot create a directory under " + options.dir);
  StoreOptions store_options =
      BenchStoreOptions(options, dir.path() + "/data");
  const bool postgres = options.engine == Engine::kPostgres;
  std::optional<PgServerCpu> server;
  if (postgres) {
    store_options.postgres_schema = kPostgresSchema;
    ACPSTORE_RETURN_IF_ERROR(
        DropPostgresSchema(store_options.postgres_url, kPostgresSchema));
    Result<PgServerCpu> found = PgServerCpu::Find(store_options.postgres_url);
    if (found.ok()) server = *found;
  }
  LoadResult r;
  uint64_t fsyncs = 0, records = 0;
  StoreStats before, after;  // of the first store
  double cpu = 0, server_cpu = -1;
  {
    // Postgres: --stores servers' worth of stores on one database.
    const int count = postgres ? options.stores : 1;
    std::vector<std::unique_ptr<Store>> stores;
    std::vector<Store*> all;
    for (int i = 0; i < count; ++i) {
      ACPSTORE_ASSIGN_OR_RETURN(std::unique_ptr<Store> store,
                                OpenStore(store_options));
      all.push_back(store.get());
      stores.push_back(std::move(store));
    }
    const std::vector<std::string> sessions = SessionIds("bench-", writers);
    ACPSTORE_RETURN_IF_ERROR(CreateSessions(*all[0], BenchScope(), sessions));
    const bool alternate = options.routing == "alternate";
    LoadSpec spec{.scope = BenchScope(),
                  .sessions = &sessions,
                  .payloads = &payloads,
                  .events_stream = stream,
                  .writers = writers,
                  .events = events,
                  .max_seconds = options.seconds,
                  .pick_session = [](uint64_t, int w) { return size_t(w); },
                  .pick_store =
                      [count, alternate](uint64_t n, int w) {
                        return static_cast<size_t>(
                            alternate ? n % static_cast<uint64_t>(count)
                                      : static_cast<uint64_t>(w) %
                                            static_cast<uint64_t>(count));
                      },
                  .wait = postgres ? LoadSpec::Wait::kSleep
                                   : LoadSpec::Wait::kSpinThenSleep};
    std::vector<StoreStats> stats0;
    for (Store* s : all) stats0.push_back(s->Stats());
    const double cpu0 = ProcessCpuSeconds();
    const double server0 = server ? server->Seconds() : 0;
    r = DriveAppends(all, spec);
    for (size_t i = 0; i < all.size(); ++i) {
      const StoreStats s = all[i]->Stats();
      fsyncs += s.fsyncs - stats0[i].fsyncs;
      records += s.group_commit_records - stats0[i].group_commit_records;
      if (i == 0) after = s;
    }
    before = stats0[0];
    // Postgres: closing the stores runs the transcript checkpoints still
    // queued (pg_checkpointer.h), work the appends caused: counted.
    if (postgres) stores.clear();
    cpu = ProcessCpuSeconds() - cpu0;
    if (server) server_cpu = server->Seconds() - server0;
  }
  if (postgres) {
    ACPSTORE_RETURN_IF_ERROR(
        DropPostgresSchema(store_options.postgres_url, kPostgresSchema));
  }
  if (!r.error.ok()) return r.error;
  // The postgres engine counts its append transactions as fsyncs (summed
  // over its stores).
  Measurement m =
      Measure("acpstore-" + EngineName(options.engine), config,
              r.events, r.seconds, &r.latencies_us, fsyncs);
  // Records per fsync (or commit) as the engine counts them (each append
  // is one).
  out->mean_batch = fsyncs > 0 ? static_cast<double>(records) / fsyncs : 0;
  out->journal_bytes_per_event =
      r.events > 0 && !postgres
          ? static_cast<double>(after.journal_bytes - before.journal_bytes) /
                r.events
          : 0;
  m.Set("mean_batch", out->mean_batch);
  if (!postgres) m.Set("journal_bytes_per_event", out->journal_bytes_per_event);
  const double per = r.events > 0 ? 1e6 / static_cast<double>(r.events) : 0;
  m.Set("cpu_us_per_event", cpu * per);
  if (server_cpu >= 0) m.Set("pg_cpu_us_per_event", server_cpu * per);
  report.Add(run, m);
  report.out() << "  run " << run << " acpstore-"
               << EngineName(options.engine) << " " << config << ": "
               << static_cast<uint64_t>(r.events / r.seconds)
               << " events/s, batch " << out->mean_batch << "\n"
               << std::flush;
  return Status::OK();
}

// Runs one peer in a scratch directory of its own and reports it as
// `subject` at `config`: its bytes per record when `record_bytes` is not
// 0, its CPU per event when it measured one (PeerResult::cpu_seconds).
Status RunPeer(const BenchOptions& options, const std::string& subject,
               const std::string& config, size_t record_bytes, int run,
               Reporter& report,
               const std::function<PeerResult(const std::string& dir)>& peer) {
  ScratchDir dir(options.dir);
  if (!dir.ok())
    return Status::IoError("cannot create a directory under " + options.dir);
  PeerResult r = peer(dir.path());
  if (!r.error.ok()) return r.error;
  Measurement m =
      Measure(subject, config, r.events, r.seconds, &r.latencies_us, r.syncs);
  if (r.cpu_seconds >= 0 && r.events > 0) {
    m.Set("cpu_us_per_event",
          r.cpu_seconds * 1e6 / static_cast<double>(r.events));
  }
  if (record_bytes > 0) {
    m.Set("record_bytes", static_cast<double>(record_bytes));
  }
  report.Add(run, m);
  return Status::OK();
}

Status RunRaw(const BenchOptions& options, const std::string& config,
              size_t batch, size_t record_bytes, uint64_t events,
              const std::vector<std::string>& payloads, int run,
              Reporter& report) {
  return RunPeer(options, "raw-fdatasync", config, record_bytes, run, report,
                 [&](const std::string& dir) {
                   return RunRawSync(dir, payloads, record_bytes, batch,
                                     events, options.seconds);
                 });
}

// The engine's floor on this machine (peers.h, RunHandoffSync), with
// the benchmark process's CPU per event over the load, as the engine's.
Status RunHandoff(const BenchOptions& options, const std::string& config,
                  int writers, size_t record_bytes, uint64_t events,
                  const std::vector<std::string>& payloads, int run,
                  Reporter& report) {
  return RunPeer(options, "raw-handoff", config, record_bytes, run, report,
                 [&](const std::string& dir) {
                   return RunHandoffSync(
                       HandoffSpec{.dir = dir,
                                   .record_bytes = record_bytes,
                                   .writers = writers,
                                   .max_events = events,
                                   .max_seconds = options.seconds,
                                   .payloads = &payloads});
                 });
}

Status RunSqlitePeer(const BenchOptions& options, const std::string& subject,
                     const std::string& synchronous, SqliteMode mode,
                     const std::string& config, int writers, uint64_t events,
                     const std::vector<std::string>& payloads, int run,
                     Reporter& report) {
  return RunPeer(options, subject, config, /*record_bytes=*/0, run, report,
                 [&](const std::string& dir) {
                   return RunSqlite(SqliteSpec{.dir = dir,
                                               .synchronous = synchronous,
                                               .mode = mode,
                                               .writers = writers,
                                               .max_events = events,
                                               .max_seconds = options.seconds,
                                               .payloads = &payloads});
                 });
}

}  // namespace

Status RunAppendWorkload(const BenchOptions& options, Reporter& report) {
  std::vector<int> writers = options.writers;
  if (writers.empty()) writers = {1, 16, 64};
  std::vector<size_t> sizes = options.payload_sizes;
  if (sizes.empty()) sizes = {options.payload_bytes};
  std::vector<SyncMode> modes = options.sync_modes;
  if (modes.empty()) modes = {options.sync};
  const bool sweep = sizes.size() > 1 || modes.size() > 1;
  std::vector<Point> points;
  for (size_t bytes : sizes) {
    for (SyncMode mode : modes) {
      Point p{options, ""};
      p.options.payload_bytes = bytes;
      p.options.sync = mode;
      if (sweep) {
        p.suffix = " payload=" + std::to_string(bytes) + " sync=" +
                   SyncName(mode);
      }
      points.push_back(std::move(p));
    }
  }
  const uint64_t events = ScaledEvents(options, kDefaultEvents);
  const std::string engine = "acpstore-" + EngineName(options.engine);
  const bool acp = options.mix != "tool";
  std::vector<NewEvent> stream;
  std::vector<std::string> acp_payloads;
  if (acp) {
    stream = AcpWriterStream(options.mix == "acp-runs");
    for (const NewEvent& e : stream) acp_payloads.push_back(e.payload);
  }
  report.out() << "append: ";
  if (acp) {
    report.out() << (options.mix == "acp-runs" ? "ACP sessions in turns"
                                               : "ACP sessions")
                 << " (mean payload "
                 << static_cast<uint64_t>(MeanPayloadBytes(stream)) << " B)";
  } else {
    report.out() << "tool events";
  }
  report.out() << ", up to " << events << " events or " << options.seconds
               << " s per configuration, writers";
  for (int w : writers) report.out() << " " << w;
  if (options.engine == Engine::kPostgres && options.stores > 1) {
    report.out() << "; " << options.stores << " stores on the database, "
                 << options.routing << " routing";
  }
  report.out() << "\n";

  // Each writer count runs the engine and then its peers back to back, so
  // a comparison spans seconds, not minutes, of a shared disk's drift.
  for (int run = 1; run <= options.runs; ++run) {
    for (const Point& point : points) {
      const BenchOptions& o = point.options;
      const std::vector<std::string> payloads =
          acp ? acp_payloads : ToolEventPayloads(kPayloadPool, o.payload_bytes);
      const std::vector<NewEvent>* events_stream = acp ? &stream : nullptr;
      for (int w : writers) {
        const std::string config = WritersConfig(w) + point.suffix;
        EngineRun engine_run;
        ACPSTORE_RETURN_IF_ERROR(RunEngine(o, config, w, events, payloads,
                                           events_stream, run, report,
                                           &engine_run));
        if (options.peers && o.engine == Engine::kPostgres) {
          // The postgres engine's peers: the file engine (kAlways) and
          // PostgreSQL doing the appends itself, on the same server.
          BenchOptions file = o;
          file.engine = Engine::kFile;
          file.sync = SyncMode::kAlways;
          EngineRun file_run;
          ACPSTORE_RETURN_IF_ERROR(RunEngine(file, config, w, events, payloads,
                                             events_stream, run, report,
                                             &file_run));
          ACPSTORE_RETURN_IF_ERROR(RunPostgresPeers(o, config, w, events,
                                                    payloads, run, report));
          continue;
        }
        if (!options.peers || o.sync != SyncMode::kAlways) continue;
        // The raw limit writes as many bytes per event as the journal did.
        const size_t record_bytes =
            engine_run.journal_bytes_per_event > 0
                ? static_cast<size_t>(
                      std::lround(engine_run.journal_bytes_per_event))
                : o.payload_bytes;
        ACPSTORE_RETURN_IF_ERROR(
            RunRaw(o, "batch=" + std::to_string(w) + point.suffix, w,
                   record_bytes, events, payloads, run, report));
        // The batch the engine achieved, at the disk's speed.
        const size_t matched = std::max<size_t>(
            1, static_cast<size_t>(std::lround(engine_run.mean_batch)));
        ACPSTORE_RETURN_IF_ERROR(RunRaw(o, "matched-" + config, matched,
                                        record_bytes, events, payloads, run,
                                        report));
        ACPSTORE_RETURN_IF_ERROR(RunHandoff(o, config, w, record_bytes, events,
                                            payloads, run, report));
        ACPSTORE_RETURN_IF_ERROR(RunSqlitePeer(
            o, "sqlite-wal-full", "FULL", SqliteMode::kPerAppend, config, w,
            events, payloads, run, report));
        ACPSTORE_RETURN_IF_ERROR(RunSqlitePeer(
            o, "sqlite-wal-normal", "NORMAL", SqliteMode::kPerAppend, config,
            w, events, payloads, run, report));
        ACPSTORE_RETURN_IF_ERROR(RunSqlitePeer(
            o, "sqlite-wal-full-batched", "FULL", SqliteMode::kBatched, config,
            w, events, payloads, run, report));
        ACPSTORE_RETURN_IF_ERROR(RunPostgresPeers(o, config, w, events,
                                                  payloads, run, report));
        report.out() << "  run " << run << " peers at " << config << " done\n"
                     << std::flush;
      }
    }
  }

  // Ratios of medians, computed before PrintTable forgets them.
  std::vector<Measurement> ratios;
  for (const Point& point : points) {
    for (int w : writers) {
      const std::string config = WritersConfig(w) + point.suffix;
      const double ours = report.Median(engine, config, "events_per_s");
      auto ratio = [&](const std::string& subject, const std::string& cfg) {
        double theirs = report.Median(subject, cfg, "events_per_s");
        return theirs > 0 ? ours / theirs : 0;
      };
      Measurement m{"ratio", config, {}};
      if (options.peers && options.engine == Engine::kPostgres) {
        for (const auto& [metric, subject] :
             std::vector<std::pair<std::string, std::string>>{
                 {"vs_file", "acpstore-file"},
                 {"vs_postgres_insert", PgPeerSubject(PgPeer::kInsert)},
                 {"vs_postgres", PgPeerSubject(PgPeer::kMaxPlusOne)},
                 {"vs_aegis", PgPeerSubject(PgPeer::kAegis)}}) {
          const double r = ratio(subject, config);
          if (r > 0) m.metrics.emplace_back(metric, r);
        }
      } else if (options.peers && point.options.sync == SyncMode::kAlways) {
        m.metrics = {
            {"vs_raw_batch_w",
             ratio("raw-fdatasync", "batch=" + std::to_string(w) +
                                        point.suffix)},
            {"vs_raw_matched", ratio("raw-fdatasync", "matched-" + config)},
            {"vs_raw_handoff", ratio("raw-handoff", config)},
            {"vs_sqlite_full", ratio("sqlite-wal-full", config)},
            {"vs_sqlite_normal", ratio("sqlite-wal-normal", config)},
            {"vs_sqlite_batched", ratio("sqlite-wal-full-batched", config)}};
        for (const auto& [metric, peer] :
             std::vector<std::pair<std::string, PgPeer>>{
                 {"vs_postgres_insert", PgPeer::kInsert},
                 {"vs_postgres", PgPeer::kMaxPlusOne},
                 {"vs_aegis", PgPeer::kAegis}}) {
          const double pg = ratio(PgPeerSubject(peer), config);
          if (pg > 0) m.metrics.emplace_back(metric, pg);
        }
      } else if (point.options.sync != SyncMode::kAlways) {
        // The same payload and writers with kAlways, if swept.
        std::string always = WritersConfig(w) + " payload=" +
                             std::to_string(point.options.payload_bytes) +
                             " sync=always";
        double durable = report.Median(engine, always, "events_per_s");
        if (durable > 0) m.metrics = {{"vs_always", ours / durable}};
      }
      if (!m.metrics.empty()) ratios.push_back(std::move(m));
    }
  }
  report.PrintTable(
      "append: medians of " + std::to_string(options.runs) +
          " run(s); raw latencies are per batch; syncs = fsyncs (acpstore, "
          "raw) or commits (sqlite, postgres)",
      {{"events_per_s", "events/s", 0},
       {"p50_us", "p50 us", 0},
       {"p99_us", "p99 us", 0},
       {"p999_us", "p999 us", 0},
       {"syncs_per_s", "syncs/s", 0},
       {"mean_batch", "batch", 1},
       {"journal_bytes_per_event", "B/event", 0},
       {"cpu_us_per_event", "cpu us/ev", 1},
       {"pg_cpu_us_per_event", "pg cpu us/ev", 1},
       {"record_bytes", "B/record", 0}});
  if (ratios.empty()) return Status::OK();
  for (const Measurement& m : ratios) report.Add(1, m);
  report.PrintTable("append: acpstore events/s divided by the peer's (medians)",
                    {{"vs_raw_batch_w", "/raw batch=W", 2},
                     {"vs_raw_matched", "/raw same batch", 2},
                     {"vs_raw_handoff", "/raw handoff", 2},
                     {"vs_sqlite_full", "/sqlite FULL", 2},
                     {"vs_sqlite_normal", "/sqlite NORMAL", 2},
                     {"vs_sqlite_batched", "/sqlite FULL batched", 2},
                     {"vs_file", "/file always", 2},
                     {"vs_postgres_insert", "/pg INSERT", 2},
                     {"vs_postgres", "/pg max+1", 2},
                     {"vs_aegis", "/pg aegis", 2},
                     {"vs_always", "/same with sync=always", 2}});
  return Status::OK();
}

}  // namespace acpstore::bench
