// The append workload: durable appends (SyncMode kAlways unless --sync
// says otherwise) from 1, 16 and 64 writers, each with one append in
// flight, beside the raw fdatasync limit and SQLite in the same run, with
// the ratios between them.

#include <algorithm>
#include <cmath>
#include <memory>

#include "acpstore/store.h"
#include "load.h"
#include "payloads.h"
#include "peers.h"
#include "workloads.h"

namespace acpstore::bench {
namespace {

constexpr uint64_t kDefaultEvents = 50000;
constexpr size_t kPayloadPool = 256;

std::string WritersConfig(int w) { return "writers=" + std::to_string(w); }

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
       {"syncs_per_s", syncs / secs},
       {"mean_batch", syncs > 0 ? static_cast<double>(events) / syncs : 0}}};
}

struct EngineRun {
  double mean_batch = 0;
  double journal_bytes_per_event = 0;
};

Status RunEngine(const BenchOptions& options, int writers, uint64_t events,
                 const std::vector<std::string>& payloads, int run,
                 Reporter& report, EngineRun* out) {
  ScratchDir dir(options.dir);
  if (!dir.ok())
    return Status::IoError("cannot create a directory under " + options.dir);
  ACPSTORE_ASSIGN_OR_RETURN(
      std::unique_ptr<Store> store,
      OpenStore(BenchStoreOptions(options, dir.path() + "/data")));
  const std::vector<std::string> sessions = SessionIds("bench-", writers);
  ACPSTORE_RETURN_IF_ERROR(CreateSessions(*store, BenchScope(), sessions));
  LoadSpec spec{.scope = BenchScope(),
                .sessions = &sessions,
                .payloads = &payloads,
                .writers = writers,
                .events = events,
                .max_seconds = options.seconds,
                .pick_session = [](uint64_t, int w) { return size_t(w); }};
  const StoreStats before = store->Stats();
  LoadResult r = DriveAppends(*store, spec);
  const StoreStats after = store->Stats();
  if (!r.error.ok()) return r.error;
  const uint64_t fsyncs = after.fsyncs - before.fsyncs;
  const uint64_t records =
      after.group_commit_records - before.group_commit_records;
  Measurement m =
      Measure("acpstore-" + EngineName(options.engine), WritersConfig(writers),
              r.events, r.seconds, &r.latencies_us, fsyncs);
  // Records per fsync as the journal counts them (each append is one).
  out->mean_batch = fsyncs > 0 ? static_cast<double>(records) / fsyncs : 0;
  out->journal_bytes_per_event =
      r.events > 0
          ? static_cast<double>(after.journal_bytes - before.journal_bytes) /
                r.events
          : 0;
  m.Set("mean_batch", out->mean_batch);
  m.Set("journal_bytes_per_event", out->journal_bytes_per_event);
  report.Add(run, m);
  report.out() << "  run " << run << " acpstore " << WritersConfig(writers)
               << ": " << static_cast<uint64_t>(r.events / r.seconds)
               << " events/s, batch " << out->mean_batch << "\n"
               << std::flush;
  return Status::OK();
}

Status RunRaw(const BenchOptions& options, const std::string& config,
              size_t batch, size_t record_bytes, uint64_t events,
              const std::vector<std::string>& payloads, int run,
              Reporter& report) {
  ScratchDir dir(options.dir);
  if (!dir.ok())
    return Status::IoError("cannot create a directory under " + options.dir);
  PeerResult r = RunRawSync(dir.path(), payloads, record_bytes, batch, events,
                            options.seconds);
  if (!r.error.ok()) return r.error;
  Measurement m = Measure("raw-fdatasync", config, r.events, r.seconds,
                          &r.latencies_us, r.syncs);
  m.Set("record_bytes", static_cast<double>(record_bytes));
  report.Add(run, m);
  return Status::OK();
}

Status RunSqlitePeer(const BenchOptions& options, const std::string& subject,
                     const std::string& synchronous, SqliteMode mode,
                     int writers, uint64_t events,
                     const std::vector<std::string>& payloads, int run,
                     Reporter& report) {
  ScratchDir dir(options.dir);
  if (!dir.ok())
    return Status::IoError("cannot create a directory under " + options.dir);
  PeerResult r = RunSqlite(SqliteSpec{.dir = dir.path(),
                                      .synchronous = synchronous,
                                      .mode = mode,
                                      .writers = writers,
                                      .max_events = events,
                                      .max_seconds = options.seconds,
                                      .payloads = &payloads});
  if (!r.error.ok()) return r.error;
  report.Add(run, Measure(subject, WritersConfig(writers), r.events, r.seconds,
                          &r.latencies_us, r.syncs));
  return Status::OK();
}

}  // namespace

Status RunAppendWorkload(const BenchOptions& options, Reporter& report) {
  std::vector<int> writers = options.writers;
  if (writers.empty()) writers = {1, 16, 64};
  const uint64_t events = ScaledEvents(options, kDefaultEvents);
  const std::vector<std::string> payloads =
      ToolEventPayloads(kPayloadPool, options.payload_bytes);
  const std::string engine = "acpstore-" + EngineName(options.engine);
  report.out() << "append: up to " << events << " events or " << options.seconds
               << " s per configuration, writers";
  for (int w : writers) report.out() << " " << w;
  report.out() << "\n";

  // Each writer count runs the engine and then its peers back to back, so
  // a comparison spans seconds, not minutes, of a shared disk's drift.
  for (int run = 1; run <= options.runs; ++run) {
    for (int w : writers) {
      EngineRun engine_run;
      ACPSTORE_RETURN_IF_ERROR(
          RunEngine(options, w, events, payloads, run, report, &engine_run));
      if (!options.peers) continue;
      // The raw limit writes as many bytes per event as the journal did.
      const size_t record_bytes = engine_run.journal_bytes_per_event > 0
                                      ? static_cast<size_t>(std::lround(
                                            engine_run.journal_bytes_per_event))
                                      : options.payload_bytes;
      ACPSTORE_RETURN_IF_ERROR(RunRaw(options, "batch=" + std::to_string(w), w,
                                      record_bytes, events, payloads, run,
                                      report));
      // The batch the engine achieved, at the disk's speed.
      const size_t matched = std::max<size_t>(
          1, static_cast<size_t>(std::lround(engine_run.mean_batch)));
      ACPSTORE_RETURN_IF_ERROR(RunRaw(options, "matched-" + WritersConfig(w),
                                      matched, record_bytes, events, payloads,
                                      run, report));
      ACPSTORE_RETURN_IF_ERROR(RunSqlitePeer(options, "sqlite-wal-full", "FULL",
                                             SqliteMode::kPerAppend, w, events,
                                             payloads, run, report));
      ACPSTORE_RETURN_IF_ERROR(RunSqlitePeer(options, "sqlite-wal-normal",
                                             "NORMAL", SqliteMode::kPerAppend,
                                             w, events, payloads, run, report));
      ACPSTORE_RETURN_IF_ERROR(RunSqlitePeer(options, "sqlite-wal-full-batched",
                                             "FULL", SqliteMode::kBatched, w,
                                             events, payloads, run, report));
      report.out() << "  run " << run << " peers at " << WritersConfig(w)
                   << " done\n"
                   << std::flush;
    }
  }

  // Ratios of medians, computed before PrintTable forgets them.
  std::vector<Measurement> ratios;
  for (int w : writers) {
    const std::string config = WritersConfig(w);
    const double ours = report.Median(engine, config, "events_per_s");
    auto ratio = [&](const std::string& subject, const std::string& cfg) {
      double theirs = report.Median(subject, cfg, "events_per_s");
      return theirs > 0 ? ours / theirs : 0;
    };
    Measurement m{"ratio", config, {}};
    if (options.peers) {
      m.metrics = {
          {"vs_raw_batch_w",
           ratio("raw-fdatasync", "batch=" + std::to_string(w))},
          {"vs_raw_matched", ratio("raw-fdatasync", "matched-" + config)},
          {"vs_sqlite_full", ratio("sqlite-wal-full", config)},
          {"vs_sqlite_normal", ratio("sqlite-wal-normal", config)},
          {"vs_sqlite_batched", ratio("sqlite-wal-full-batched", config)}};
    }
    ratios.push_back(std::move(m));
  }
  report.PrintTable(
      "append: medians of " + std::to_string(options.runs) +
          " run(s); raw latencies are per batch; syncs = fsyncs (acpstore, "
          "raw) or commits (sqlite)",
      {{"events_per_s", "events/s", 0},
       {"p50_us", "p50 us", 0},
       {"p99_us", "p99 us", 0},
       {"syncs_per_s", "syncs/s", 0},
       {"mean_batch", "batch", 1},
       {"journal_bytes_per_event", "B/event", 0},
       {"record_bytes", "B/record", 0}});
  if (!options.peers) return Status::OK();
  for (const Measurement& m : ratios) report.Add(1, m);
  report.PrintTable("append: acpstore events/s divided by the peer's (medians)",
                    {{"vs_raw_batch_w", "/raw batch=W", 2},
                     {"vs_raw_matched", "/raw same batch", 2},
                     {"vs_sqlite_full", "/sqlite FULL", 2},
                     {"vs_sqlite_normal", "/sqlite NORMAL", 2},
                     {"vs_sqlite_batched", "/sqlite FULL batched", 2}});
  return Status::OK();
}

}  // namespace acpstore::bench
