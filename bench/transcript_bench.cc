// transcript_bench: what transcripts (SPEC §13, issue 16) cost an append,
// and how big they are next to the events they come from.
//
// In process, one store per run, single appends from one writer (each
// waits for its completion), with an Aegis-shaped ACP session
// (acp_session.h, shared with `acpstore_bench append --mix acp`): every
// payload embeds the raw ACP frame under "acp" as Aegis's mapper does
// (message and thought chunks of 20-120 characters, tool calls with a
// 200 B - 4 KiB output, usage updates, turn ends, and session.updated
// events that are not folded). Runs alternate transcripts on
// (--transcript-max-bytes default) and off (0) so both see the same
// machine; each prints CPU (user+sys of the process, getrusage) per event.
// The table gives the medians of the runs.
//
// Usage: transcript_bench [--engine memory|file|postgres] [--events N]
//                         [--runs R] [--dir D] [--postgres-url URL]
//                         [--checkpoint-events K] [--read-latency READS]
//                         [--fold-only REPEATS]
// (--fold-only: no store; the fold alone (Transcript::Fold) over the
// session's canonical payloads, REPEATS times, the best thread CPU time per
// event printed: what the fold itself costs, immune to other load;
// --checkpoint-events: StoreOptions::postgres_transcript_checkpoint_events;
// --read-latency: instead of the append runs, the latency of
// Store::ReadTranscript on postgres with an empty tail and a full one of
// K - 1 folded events, READS reads per page.)
// (file engine: sync none, so the figure is the CPU of the write path, not
// fsync waits. postgres: a scratch schema acpstore_transcript_bench,
// dropped before and after each run; also the PostgreSQL server's CPU per
// event, its postmaster and children from /proc, PgServerCpu.)

#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "acpstore/blocking_store.h"
#include "acpstore/options.h"
#include "acpstore/store.h"
#include "acp_session.h"
#include "postgres_peer.h"
#include "record/validate.h"
#include "transcript/transcript.h"

namespace {

using namespace acpstore;

double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

struct RunResult {
  double cpu_us_per_event = 0;
  double events_per_s = 0;
  uint64_t payload_bytes = 0;
  uint64_t transcript_bytes = 0;
  double pg_cpu_us_per_event = 0;  // postgres only
};

std::string g_postgres_url;
constexpr const char* kPgSchema = "acpstore_transcript_bench";
// StoreOptions::postgres_transcript_checkpoint_events (--checkpoint-events).
uint64_t g_checkpoint_events = StoreOptions{}.postgres_transcript_checkpoint_events;

RunResult RunOnce(const std::string& engine, const std::string& dir, bool on,
                  const std::vector<NewEvent>& events, int run) {
  StoreOptions options;
  options.engine = engine == "file"       ? Engine::kFile
                   : engine == "postgres" ? Engine::kPostgres
                                          : Engine::kMemory;
  std::optional<bench::PgServerCpu> server;
  if (options.engine == Engine::kPostgres) {
    options.postgres_url = g_postgres_url;
    options.postgres_schema = kPgSchema;
    Status s = bench::DropPostgresSchema(g_postgres_url, kPgSchema);
    if (!s.ok()) {
      std::fprintf(stderr, "drop schema: %s\n", s.ToString().c_str());
      std::exit(1);
    }
    Result<bench::PgServerCpu> found = bench::PgServerCpu::Find(g_postgres_url);
    if (found.ok()) server = *found;
  }
  options.data_dir = dir + "/run-" + std::to_string(run) + (on ? "-on" : "-off");
  std::filesystem::remove_all(options.data_dir);
  options.sync = SyncMode::kNone;
  options.maintenance_interval_ms = 0;
  options.retention.max_events_per_session = 0;
  options.transcript_max_bytes = on ? (16ull << 20) : 0;
  options.postgres_transcript_checkpoint_events = g_checkpoint_events;
  auto store = OpenStore(options);
  if (!store.ok()) {
    std::fprintf(stderr, "open: %s\n", store.error().ToString().c_str());
    std::exit(1);
  }
  BlockingStore db(**store);
  const Scope scope{"t", "k", Scope::Access::kOwner};
  NewSession s;
  s.id = "sess-1";
  if (!db.CreateSession(scope, s).ok()) std::exit(1);
  const double cpu0 = CpuSeconds();
  const double pg0 = server ? server->Seconds() : 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (const NewEvent& e : events) {
    auto r = db.Append(scope, "sess-1", e);
    if (!r.ok()) {
      std::fprintf(stderr, "append: %s\n", r.error().ToString().c_str());
      std::exit(1);
    }
  }
  const double cpu = CpuSeconds() - cpu0;
  const double pg_cpu = server ? server->Seconds() - pg0 : 0;
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  StoreStats stats = (*store)->Stats();
  RunResult out;
  out.cpu_us_per_event = cpu * 1e6 / static_cast<double>(events.size());
  out.events_per_s = static_cast<double>(events.size()) / secs;
  out.payload_bytes = stats.event_payload_bytes;
  out.transcript_bytes = stats.memory_transcript_bytes;
  out.pg_cpu_us_per_event = pg_cpu * 1e6 / static_cast<double>(events.size());
  store->reset();
  if (options.engine == Engine::kPostgres) {
    (void)bench::DropPostgresSchema(g_postgres_url, kPgSchema);
  }
  std::filesystem::remove_all(options.data_dir);
  return out;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

// Postgres, transcripts on: Store::ReadTranscript latency of a session whose
// transcript was just checkpointed (its K-th folded event, K the checkpoint
// interval) and then got `tail` more folded events, which every read
// folds. Two pages of 100 entries: the first and the newest. `reads` each.
void ReadLatency(const std::vector<NewEvent>& events, uint64_t tail,
                 int reads) {
  StoreOptions options;
  options.engine = Engine::kPostgres;
  options.postgres_url = g_postgres_url;
  options.postgres_schema = kPgSchema;
  options.maintenance_interval_ms = 0;
  options.retention.max_events_per_session = 0;
  options.postgres_transcript_checkpoint_events = g_checkpoint_events;
  if (!bench::DropPostgresSchema(g_postgres_url, kPgSchema).ok()) std::exit(1);
  auto store = OpenStore(options);
  if (!store.ok()) std::exit(1);
  BlockingStore db(**store);
  const Scope scope{"t", "k", Scope::Access::kOwner};
  NewSession s;
  s.id = "read";
  if (!db.CreateSession(scope, s).ok()) std::exit(1);
  // Whole batches of the stream up to a checkpoint, then the tail.
  uint64_t folded = 0;
  const uint64_t want = g_checkpoint_events * 8 + tail;
  for (const NewEvent& e : events) {
    if (folded == want) break;
    if (e.event_type == "session.updated") continue;
    if (!db.Append(scope, "read", e).ok()) std::exit(1);
    ++folded;
  }
  if (folded != want) {
    std::fprintf(stderr, "read latency: the stream is too short (--events)\n");
    std::exit(1);
  }
  Result<TranscriptPage> first = db.ReadTranscript(scope, "read", {});
  if (!first.ok()) std::exit(1);
  for (bool newest : {false, true}) {
    TranscriptQuery q;
    q.limit = 100;
    if (newest) q.after = first->end_index > 101 ? first->end_index - 101 : 0;
    std::vector<double> us;
    for (int i = 0; i < reads; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      Result<TranscriptPage> page = db.ReadTranscript(scope, "read", q);
      us.push_back(std::chrono::duration<double, std::micro>(
                       std::chrono::steady_clock::now() - t0)
                       .count());
      if (!page.ok()) std::exit(1);
    }
    std::printf("read, tail %llu folded events, %s page of 100 (%llu entries): p50 %.0f us, p90 %.0f us, p99 %.0f us\n",
                static_cast<unsigned long long>(tail),
                newest ? "newest" : "first",
                static_cast<unsigned long long>(first->end_index - first->first_index),
                Median(us), Percentile(us, 0.9), Percentile(us, 0.99));
  }
  store->reset();
  (void)bench::DropPostgresSchema(g_postgres_url, kPgSchema);
}

// --fold-only: ns of thread CPU per Transcript::Fold, the best of `repeats`
// passes over `events` (canonicalised first, as the store keeps them).
void FoldOnly(const std::vector<NewEvent>& events, int repeats) {
  std::vector<std::string> payloads;
  payloads.reserve(events.size());
  for (const NewEvent& e : events) {
    payloads.push_back(record::CanonicalizePayload(e.payload, Limits{}).value());
  }
  auto thread_ns = [] {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) * 1e9 + static_cast<double>(t.tv_nsec);
  };
  double best = 0;
  for (int r = 0; r < repeats; ++r) {
    transcript::Transcript t;
    const transcript::Limits limits;
    const double start = thread_ns();
    for (size_t i = 0; i < events.size(); ++i) {
      t.Fold(transcript::EventView{i + 1, events[i].event_type, 1, payloads[i]},
             limits);
    }
    const double ns = (thread_ns() - start) / static_cast<double>(events.size());
    if (r == 0 || ns < best) best = ns;
  }
  std::printf("fold only: %.1f ns of CPU per event (best of %d passes over %zu events)\n",
              best, repeats, events.size());
}

}  // namespace

int main(int argc, char** argv) {
  std::string engine = "file";
  uint64_t n = 50000;
  int runs = 3;
  int read_latency = 0;  // reads per page; 0: not measured
  int fold_only = 0;     // passes; 0: the append runs
  std::string dir = std::filesystem::temp_directory_path() / "acpstore-transcript-bench";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--engine")) engine = argv[i + 1];
    else if (!std::strcmp(argv[i], "--events")) n = std::stoull(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--runs")) runs = std::stoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--dir")) dir = argv[i + 1];
    else if (!std::strcmp(argv[i], "--postgres-url")) g_postgres_url = argv[i + 1];
    else if (!std::strcmp(argv[i], "--checkpoint-events")) g_checkpoint_events = std::stoull(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--read-latency")) read_latency = std::stoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--fold-only")) fold_only = std::stoi(argv[i + 1]);
  }
  std::filesystem::create_directories(dir);
  const std::vector<NewEvent> events = bench::AcpSessionEvents(n, 16);
  if (fold_only > 0) {
    FoldOnly(events, fold_only);
    return 0;
  }
  if (read_latency > 0) {
    if (engine != "postgres") {
      std::fprintf(stderr, "--read-latency: postgres only\n");
      return 2;
    }
    for (uint64_t tail : {uint64_t{0}, g_checkpoint_events - 1}) {
      ReadLatency(events, tail, read_latency);
    }
    return 0;
  }
  std::vector<double> cpu_on, cpu_off, rate_on, rate_off, pg_on, pg_off;
  RunResult last_on;
  for (int run = 0; run < runs; ++run) {
    // Alternate which goes first, so drift on a shared machine hits both.
    for (int k = 0; k < 2; ++k) {
      const bool on = (run + k) % 2 == 0;
      RunResult r = RunOnce(engine, dir, on, events, run);
      std::printf("run %d transcripts %-3s: %.2f us CPU/event, %.2f us PostgreSQL CPU/event, %.0f events/s\n",
                  run, on ? "on" : "off", r.cpu_us_per_event,
                  r.pg_cpu_us_per_event, r.events_per_s);
      (on ? pg_on : pg_off).push_back(r.pg_cpu_us_per_event);
      (on ? cpu_on : cpu_off).push_back(r.cpu_us_per_event);
      (on ? rate_on : rate_off).push_back(r.events_per_s);
      if (on) last_on = r;
    }
  }
  std::printf("\nengine %s, %llu events, %d runs (medians)\n", engine.c_str(),
              static_cast<unsigned long long>(n), runs);
  std::printf("| transcripts | CPU us/event | events/s |\n|---|---|---|\n");
  std::printf("| off | %.2f | %.0f |\n", Median(cpu_off), Median(rate_off));
  std::printf("| on | %.2f | %.0f |\n", Median(cpu_on), Median(rate_on));
  if (engine == "postgres") {
    std::printf("PostgreSQL CPU us/event: off %.2f, on %.2f; total on/off %.3f\n",
                Median(pg_off), Median(pg_on),
                (Median(cpu_on) + Median(pg_on)) /
                    (Median(cpu_off) + Median(pg_off)));
  }
  std::printf("throughput on/off %.3f, CPU per event on/off %.3f\n",
              Median(rate_on) / Median(rate_off), Median(cpu_on) / Median(cpu_off));
  std::printf("event payload bytes %llu, transcript bytes %llu: %.3f transcript bytes per event byte (%.1fx smaller)\n",
              static_cast<unsigned long long>(last_on.payload_bytes),
              static_cast<unsigned long long>(last_on.transcript_bytes),
              static_cast<double>(last_on.transcript_bytes) / last_on.payload_bytes,
              static_cast<double>(last_on.payload_bytes) / last_on.transcript_bytes);
  return 0;
}
