// The incident workload: the shape of the day that motivated acpstore -
// 359 sessions, hooks appending tool events to 220 of them (a few busy,
// most quiet: Zipf-like, s = 0.8), 8,614 events - then the same shape ×10
// and ×100 (86,140 and 861,400 events). Each size runs on a fresh store;
// reported are throughput, latency, peak RSS and what retention kept (the
// default cap of 10,000 events per session drops the busiest sessions'
// oldest events at ×100).

#include <algorithm>
#include <cmath>
#include <random>

#include "acpstore/store.h"
#include "load.h"
#include "payloads.h"
#include "workloads.h"

namespace acpstore::bench {
namespace {

constexpr size_t kSessions = 359;
constexpr size_t kActiveSessions = 220;
constexpr uint64_t kIncidentEvents = 8614;
constexpr int kDefaultWriters = 16;

// Which active session each event goes to, in order.
std::vector<uint32_t> Schedule(uint64_t events, uint64_t seed) {
  std::vector<double> weights(kActiveSessions);
  for (size_t i = 0; i < kActiveSessions; ++i) {
    weights[i] = 1.0 / std::pow(static_cast<double>(i + 1), 0.8);
  }
  std::mt19937_64 rng(seed);
  std::discrete_distribution<uint32_t> pick(weights.begin(), weights.end());
  std::vector<uint32_t> schedule(events);
  // Every active session gets at least one event.
  for (uint64_t n = 0; n < events; ++n) {
    schedule[n] = n < kActiveSessions ? static_cast<uint32_t>(n) : pick(rng);
  }
  std::shuffle(schedule.begin(), schedule.end(), rng);
  return schedule;
}

Status RunSize(const BenchOptions& options, const std::string& config,
               uint64_t events, int writers,
               const std::vector<std::string>& payloads, int run,
               Reporter& report) {
  ScratchDir dir(options.dir);
  if (!dir.ok())
    return Status::IoError("cannot create a directory under " + options.dir);
  const std::vector<std::string> ids = SessionIds("incident-", kSessions);
  const std::vector<uint32_t> schedule = Schedule(events, 359 + run);
  ResetPeakRss();
  ACPSTORE_ASSIGN_OR_RETURN(
      std::unique_ptr<Store> store,
      OpenStore(BenchStoreOptions(options, dir.path() + "/data")));
  ACPSTORE_RETURN_IF_ERROR(CreateSessions(*store, BenchScope(), ids));
  LoadSpec spec{
      .scope = BenchScope(),
      .sessions = &ids,
      .payloads = &payloads,
      .writers = writers,
      .events = events,
      .pick_session = [&](uint64_t n, int) { return size_t(schedule[n]); }};
  LoadResult r = DriveAppends(*store, spec);
  if (!r.error.ok()) return r.error;
  StoreStats stats = store->Stats();
  MemoryUsage memory = ReadMemoryUsage();
  report.Add(run,
             Measurement{config,
                         "writers=" + std::to_string(writers),
                         {{"events", double(r.events)},
                          {"events_per_s", r.events / r.seconds},
                          {"p50_us", Percentile(&r.latencies_us, 50)},
                          {"p99_us", Percentile(&r.latencies_us, 99)},
                          {"peak_rss_mib", Mib(memory.hwm)},
                          {"rss_mib", Mib(memory.rss)},
                          {"retained", double(stats.events_retained)},
                          {"dropped", double(stats.events_dropped_retention)},
                          {"journal_mib", Mib(stats.journal_bytes)}}});
  report.out() << "  run " << run << " " << config << ": "
               << static_cast<uint64_t>(r.events / r.seconds)
               << " events/s, peak RSS " << Mib(memory.hwm) << " MiB\n"
               << std::flush;
  return Status::OK();
}

}  // namespace

Status RunIncidentWorkload(const BenchOptions& options, Reporter& report) {
  const uint64_t base = ScaledEvents(options, kIncidentEvents);
  const int writers =
      options.writers.empty() ? kDefaultWriters : options.writers.front();
  const std::vector<std::string> payloads =
      ToolEventPayloads(256, options.payload_bytes);
  report.out() << "incident: " << kSessions << " sessions, " << kActiveSessions
               << " appending, " << base << ", " << base * 10 << " and "
               << base * 100
               << " events, " << writers << " writers\n";
  for (int run = 1; run <= options.runs; ++run) {
    ACPSTORE_RETURN_IF_ERROR(
        RunSize(options, "incident-x1", base, writers, payloads, run, report));
    ACPSTORE_RETURN_IF_ERROR(RunSize(options, "incident-x10", base * 10,
                                     writers, payloads, run, report));
    ACPSTORE_RETURN_IF_ERROR(RunSize(options, "incident-x100", base * 100,
                                     writers, payloads, run, report));
  }
  report.PrintTable("incident: medians of " + std::to_string(options.runs) +
                        " run(s); peak RSS of the whole bench process per size",
                    {{"events", "events", 0},
                     {"events_per_s", "events/s", 0},
                     {"p50_us", "p50 us", 0},
                     {"p99_us", "p99 us", 0},
                     {"peak_rss_mib", "peak MiB", 1},
                     {"rss_mib", "RSS MiB", 1},
                     {"retained", "retained", 0},
                     {"dropped", "dropped", 0},
                     {"journal_mib", "journal MiB", 0}});
  return Status::OK();
}

}  // namespace acpstore::bench
