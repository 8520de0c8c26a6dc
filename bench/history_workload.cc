// The rss and recovery workloads: N events (default 1,000,000) of tool
// payloads over S sessions (default 2,000) with a 64 MiB memory budget,
// sampling this process's RSS at 10^4, 10^5, 10^6 events and at the end;
// then the time to reopen that history after a clean close (a fresh
// snapshot) and with the snapshots deleted (a full journal replay).
//
// RSS is the whole process's: the store, the payload pool of the driver
// (~0.6 MiB) and the writer threads' stacks and latency buffers (4 bytes
// per event).

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <mutex>

#include "acpstore/store.h"
#include "load.h"
#include "payloads.h"
#include "workloads.h"

namespace acpstore::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr uint64_t kDefaultEvents = 1000000;
constexpr uint64_t kDefaultSessions = 2000;
constexpr int kDefaultWriters = 16;
constexpr int kReopens = 3;  // per kind, per run; the median is reported

struct Sample {
  uint64_t events = 0;
  double seconds = 0;
  MemoryUsage memory;
  StoreStats stats;
};

Measurement SampleMeasurement(const Sample& s) {
  return Measurement{
      "acpstore",
      "events=" + std::to_string(s.events),
      {{"rss_mib", Mib(s.memory.rss)},
       {"peak_rss_mib", Mib(s.memory.hwm)},
       {"index_mib", Mib(s.stats.memory_index_bytes)},
       {"cache_mib", Mib(s.stats.memory_cache_bytes)},
       {"journal_mib", Mib(s.stats.journal_bytes)},
       {"events_per_s", s.seconds > 0 ? s.events / s.seconds : 0}}};
}

// Opens the store and measures how long it took; closes it again.
Status MeasureReopen(const BenchOptions& options, const std::string& data_dir,
                     const std::string& config, uint64_t expect_events, int run,
                     Reporter& report) {
  // The peak of this reopen alone. The process's heap still holds what
  // earlier phases freed, so RSS here is higher than a fresh process's.
  ResetPeakRss();
  SteadyClock::time_point t0 = SteadyClock::now();
  ACPSTORE_ASSIGN_OR_RETURN(std::unique_ptr<Store> store,
                            OpenStore(BenchStoreOptions(options, data_dir)));
  double open_ms =
      std::chrono::duration<double, std::milli>(SteadyClock::now() - t0)
          .count();
  StoreStats stats = store->Stats();
  MemoryUsage memory = ReadMemoryUsage();
  if (stats.events_retained != expect_events) {
    return Status::Internal(
        "reopened store holds " + std::to_string(stats.events_retained) +
        " events, expected " + std::to_string(expect_events));
  }
  report.Add(run, Measurement{"acpstore",
                              config,
                              {{"open_ms", open_ms},
                               {"recovery_ms", double(stats.recovery_ms)},
                               {"rss_after_open_mib", Mib(memory.rss)},
                               {"open_peak_rss_mib", Mib(memory.hwm)},
                               {"snapshot_mib", Mib(stats.snapshot_bytes)}}});
  report.out() << "  run " << run << " reopen " << config << ": " << open_ms
               << " ms\n"
               << std::flush;
  return Status::OK();  // closing writes a snapshot; not timed
}

Status DeleteSnapshots(const std::string& data_dir) {
  std::error_code ec;
  for (const auto& e :
       std::filesystem::directory_iterator(data_dir + "/snapshot", ec)) {
    std::filesystem::remove(e.path(), ec);
    if (ec) return Status::IoError("remove " + e.path().string());
  }
  return ec ? Status::IoError("list " + data_dir + "/snapshot: " + ec.message())
            : Status::OK();
}

Status RunOnce(const BenchOptions& options, uint64_t events, uint64_t sessions,
               int writers, const std::vector<std::string>& payloads, int run,
               Reporter& report) {
  ScratchDir dir(options.dir);
  if (!dir.ok())
    return Status::IoError("cannot create a directory under " + options.dir);
  const std::string data_dir = dir.path() + "/data";
  const std::vector<std::string> ids = SessionIds("agent-", sessions);
  std::vector<Sample> samples;
  Measurement close;
  {
    if (!ResetPeakRss()) report.out() << "  (cannot reset VmHWM)\n";
    ACPSTORE_ASSIGN_OR_RETURN(std::unique_ptr<Store> store,
                              OpenStore(BenchStoreOptions(options, data_dir)));
    ACPSTORE_RETURN_IF_ERROR(CreateSessions(*store, BenchScope(), ids));
    std::mutex samples_mu;
    LoadSpec spec{.scope = BenchScope(),
                  .sessions = &ids,
                  .payloads = &payloads,
                  .writers = writers,
                  .events = events};
    for (uint64_t c = 10000; c < events; c *= 10) spec.checkpoints.push_back(c);
    spec.checkpoints.push_back(events);
    spec.at_checkpoint = [&](uint64_t done, double seconds) {
      Sample s{done, seconds, ReadMemoryUsage(), store->Stats()};
      std::lock_guard<std::mutex> lock(samples_mu);
      samples.push_back(s);
      report.out() << "  run " << run << ": " << done << " events, RSS "
                   << Mib(s.memory.rss) << " MiB, peak " << Mib(s.memory.hwm)
                   << " MiB\n"
                   << std::flush;
    };
    LoadResult r = DriveAppends(*store, spec);
    if (!r.error.ok()) return r.error;
    // A clean close writes a snapshot (a copy of the index, encoded): its
    // own peak.
    ResetPeakRss();
    SteadyClock::time_point t0 = SteadyClock::now();
    store.reset();
    close = Measurement{"acpstore",
                        "close-after-load",
                        {{"open_ms", std::chrono::duration<double, std::milli>(
                                         SteadyClock::now() - t0)
                                         .count()},
                         {"peak_rss_mib", Mib(ReadMemoryUsage().hwm)}}};
  }
  std::sort(
      samples.begin(), samples.end(),
      [](const Sample& a, const Sample& b) { return a.events < b.events; });
  for (const Sample& s : samples) report.Add(run, SampleMeasurement(s));
  report.Add(run, close);

  if (options.engine != Engine::kFile) return Status::OK();
  for (int i = 0; i < kReopens; ++i) {
    ACPSTORE_RETURN_IF_ERROR(MeasureReopen(
        options, data_dir, "reopen-with-snapshot", events, run, report));
  }
  for (int i = 0; i < kReopens; ++i) {
    ACPSTORE_RETURN_IF_ERROR(DeleteSnapshots(data_dir));
    ACPSTORE_RETURN_IF_ERROR(MeasureReopen(
        options, data_dir, "reopen-full-replay", events, run, report));
  }
  return Status::OK();
}

}  // namespace

Status RunHistoryWorkload(const BenchOptions& options, Reporter& report) {
  const uint64_t events = ScaledEvents(options, kDefaultEvents);
  const uint64_t sessions =
      options.sessions > 0 ? options.sessions : kDefaultSessions;
  const int writers =
      options.writers.empty() ? kDefaultWriters : options.writers.front();
  const std::vector<std::string> payloads =
      ToolEventPayloads(256, options.payload_bytes);
  report.out() << "rss/recovery: " << events << " events over " << sessions
               << " sessions, " << writers << " writers, memory budget "
               << Mib(options.memory_budget_bytes) << " MiB\n";
  for (int run = 1; run <= options.runs; ++run) {
    ACPSTORE_RETURN_IF_ERROR(
        RunOnce(options, events, sessions, writers, payloads, run, report));
  }
  report.PrintTable(
      "rss and recovery: medians of " + std::to_string(options.runs) +
          " run(s); RSS of the whole bench process; recovery medians of " +
          std::to_string(kReopens) + " reopens per run",
      {{"rss_mib", "RSS MiB", 1},
       {"peak_rss_mib", "peak MiB", 1},
       {"index_mib", "index MiB", 1},
       {"cache_mib", "cache MiB", 1},
       {"journal_mib", "journal MiB", 0},
       {"events_per_s", "events/s", 0},
       {"open_ms", "open/close ms", 0},
       {"recovery_ms", "recovery ms", 0},
       {"rss_after_open_mib", "RSS after open", 1},
       {"open_peak_rss_mib", "peak in open", 1},
       {"snapshot_mib", "snapshot MiB", 1}});
  return Status::OK();
}

}  // namespace acpstore::bench
