// The replay workload (W3): one session of 10,000 tool events (2.5 KB
// payloads), read back from the start the two ways a client does -
// ListEvents pages of 100 (GET .../events) and a Subscription drained
// with Next(100) (the replay half of SSE) - each "cold" and then "warm".
//
//   cold  the file store is closed and reopened (its payload cache is
//         empty) and every file of the data directory is dropped from the
//         OS page cache (fdatasync, then posix_fadvise DONTNEED), so
//         payloads come from the disk. On a virtio disk with a host-side
//         cache "the disk" may still be the host's RAM.
//   warm  the same read again at once: payload cache and page cache full.
//
// The memory engine gives the ceiling (always warm). The SQLite peer keeps
// the same events in events(session, seq, event_type, occurred_at,
// ingested_at, payload, PRIMARY KEY(session, seq)) and pages with
// `WHERE session = ? AND seq > ? ORDER BY seq LIMIT 100`, copying each
// row into an acpstore::Event as the store does; its cold read opens a new
// connection after dropping the database and WAL files from the page cache.
//
// Thread-safety: one thread. Lifetime: stores and scratch directories end
// with each run.

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>

#include "acpstore/blocking_store.h"
#include "acpstore/store.h"
#include "load.h"
#include "payloads.h"
#include "sqlite_db.h"
#include "workloads.h"

namespace acpstore::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr uint64_t kDefaultEvents = 10000;
constexpr uint32_t kPage = 100;
constexpr char kSession[] = "replay-0";

struct ReadResult {
  uint64_t events = 0;
  uint64_t payload_bytes = 0;
  double seconds = 0;
};

Measurement ReadMeasurement(const std::string& subject,
                            const std::string& config, const ReadResult& r) {
  double secs = r.seconds > 0 ? r.seconds : 1e-9;
  return Measurement{subject,
                     config,
                     {{"events", static_cast<double>(r.events)},
                      {"ms", r.seconds * 1000},
                      {"events_per_s", r.events / secs},
                      {"mb_per_s", r.payload_bytes / secs / 1e6}}};
}

// Drops every file under `dir` from the page cache. Pages must be clean
// for DONTNEED to drop them, hence the fdatasync first.
void DropPageCache(const std::string& dir) {
  std::error_code ec;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir, ec)) {
    if (!e.is_regular_file(ec)) continue;
    int fd = ::open(e.path().c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    (void)::fdatasync(fd);
    (void)::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    ::close(fd);
  }
}

StoreOptions ReplayStoreOptions(const BenchOptions& options, Engine engine,
                                const std::string& data_dir) {
  BenchOptions o = options;
  o.engine = engine;
  StoreOptions store = BenchStoreOptions(o, data_dir);
  // More than the default 10,000 per session must all stay readable.
  store.retention.max_events_per_session = 0;
  return store;
}

// Appends `events` events to kSession in batches of 100 (not measured).
Status Fill(Store& store, uint64_t events,
            const std::vector<std::string>& payloads) {
  ACPSTORE_RETURN_IF_ERROR(CreateSessions(store, BenchScope(), {kSession}));
  BlockingStore db(store);
  for (uint64_t n = 0; n < events;) {
    AppendRequest req;
    for (; n < events && req.events.size() < kPage; ++n) {
      req.events.push_back(NewEvent{.event_type = ToolEventType(n),
                                    .payload = payloads[n % payloads.size()]});
    }
    Result<AppendResult> r =
        db.AppendEvents(BenchScope(), kSession, std::move(req));
    if (!r.ok()) return r.error();
  }
  return Status::OK();
}

Status CheckCount(const ReadResult& r, uint64_t expect, const char* what) {
  if (r.events == expect) return Status::OK();
  return Status::Internal(std::string(what) + " read " +
                          std::to_string(r.events) + " events, expected " +
                          std::to_string(expect));
}

Result<ReadResult> ListAll(Store& store) {
  ReadResult r;
  SteadyClock::time_point t0 = SteadyClock::now();
  EventSeq after = 0;
  while (true) {
    ACPSTORE_ASSIGN_OR_RETURN(
        EventPage page, store.ListEvents(BenchScope(), kSession, after, kPage));
    if (page.events.empty()) break;
    for (const Event& e : page.events) r.payload_bytes += e.payload.size();
    r.events += page.events.size();
    after = page.events.back().seq;
  }
  r.seconds = std::chrono::duration<double>(SteadyClock::now() - t0).count();
  return r;
}

Result<ReadResult> SubscribeAll(Store& store) {
  ReadResult r;
  SteadyClock::time_point t0 = SteadyClock::now();
  ACPSTORE_ASSIGN_OR_RETURN(
      std::unique_ptr<Subscription> sub,
      store.Subscribe(BenchScope(), kSession,
                      SubscribeOptions{.after = 0, .on_ready = [] {}}));
  while (true) {
    ACPSTORE_ASSIGN_OR_RETURN(EventPage page, sub->Next(kPage));
    if (page.events.empty()) break;  // caught up
    for (const Event& e : page.events) r.payload_bytes += e.payload.size();
    r.events += page.events.size();
  }
  r.seconds = std::chrono::duration<double>(SteadyClock::now() - t0).count();
  return r;
}

// One reader (list or subscribe), cold then warm, on the file store in
// `data_dir`, which holds `events` events.
template <typename Read>
Status FileColdWarm(const BenchOptions& options, const std::string& data_dir,
                    const std::string& what, uint64_t events, Read&& read,
                    int run, Reporter& report) {
  ACPSTORE_ASSIGN_OR_RETURN(
      std::unique_ptr<Store> store,
      OpenStore(ReplayStoreOptions(options, Engine::kFile, data_dir)));
  DropPageCache(data_dir);
  ACPSTORE_ASSIGN_OR_RETURN(ReadResult cold, read(*store));
  ACPSTORE_RETURN_IF_ERROR(CheckCount(cold, events, what.c_str()));
  ACPSTORE_ASSIGN_OR_RETURN(ReadResult warm, read(*store));
  ACPSTORE_RETURN_IF_ERROR(CheckCount(warm, events, what.c_str()));
  report.Add(run, ReadMeasurement("acpstore-file", what + "-cold", cold));
  report.Add(run, ReadMeasurement("acpstore-file", what + "-warm", warm));
  report.out() << "  run " << run << " file " << what << ": cold "
               << static_cast<uint64_t>(cold.events / cold.seconds)
               << " events/s, warm "
               << static_cast<uint64_t>(warm.events / warm.seconds)
               << " events/s\n"
               << std::flush;
  return Status::OK();
}

Status RunEngines(const BenchOptions& options, uint64_t events,
                  const std::vector<std::string>& payloads, int run,
                  Reporter& report) {
  ScratchDir dir(options.dir);
  if (!dir.ok())
    return Status::IoError("cannot create a directory under " + options.dir);
  const std::string data_dir = dir.path() + "/data";
  {
    ACPSTORE_ASSIGN_OR_RETURN(
        std::unique_ptr<Store> store,
        OpenStore(ReplayStoreOptions(options, Engine::kFile, data_dir)));
    ACPSTORE_RETURN_IF_ERROR(Fill(*store, events, payloads));
  }
  ACPSTORE_RETURN_IF_ERROR(
      FileColdWarm(options, data_dir, "list", events, ListAll, run, report));
  ACPSTORE_RETURN_IF_ERROR(FileColdWarm(options, data_dir, "subscribe", events,
                                        SubscribeAll, run, report));

  ACPSTORE_ASSIGN_OR_RETURN(
      std::unique_ptr<Store> memory,
      OpenStore(ReplayStoreOptions(options, Engine::kMemory, "")));
  ACPSTORE_RETURN_IF_ERROR(Fill(*memory, events, payloads));
  ACPSTORE_ASSIGN_OR_RETURN(ReadResult list, ListAll(*memory));
  ACPSTORE_RETURN_IF_ERROR(CheckCount(list, events, "memory list"));
  ACPSTORE_ASSIGN_OR_RETURN(ReadResult sub, SubscribeAll(*memory));
  ACPSTORE_RETURN_IF_ERROR(CheckCount(sub, events, "memory subscribe"));
  report.Add(run, ReadMeasurement("acpstore-memory", "list-warm", list));
  report.Add(run, ReadMeasurement("acpstore-memory", "subscribe-warm", sub));
  return Status::OK();
}

// ------------------------------------------------------------------ SQLite

constexpr char kSqliteSchema[] =
    "CREATE TABLE events(session TEXT NOT NULL, seq INTEGER NOT NULL, "
    "event_type TEXT NOT NULL, occurred_at INTEGER, ingested_at INTEGER, "
    "payload BLOB, PRIMARY KEY(session, seq))";

Status SqliteFill(const std::string& path, uint64_t events,
                  const std::vector<std::string>& payloads) {
  SqliteDb db;
  ACPSTORE_RETURN_IF_ERROR(db.Open(path, "FULL"));
  ACPSTORE_RETURN_IF_ERROR(db.Exec(kSqliteSchema));
  SqliteStmt insert;
  ACPSTORE_RETURN_IF_ERROR(db.Prepare(
      "INSERT INTO events VALUES (?1, ?2, ?3, ?4, ?4, ?5)", &insert));
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  for (uint64_t n = 0; n < events;) {
    ACPSTORE_RETURN_IF_ERROR(db.Exec("BEGIN"));
    for (uint32_t i = 0; n < events && i < kPage; ++n, ++i) {
      insert.BindText(1, kSession);
      insert.BindInt(2, static_cast<int64_t>(n + 1));
      insert.BindText(3, ToolEventType(n));
      insert.BindInt(4, now);
      insert.BindBlob(5, payloads[n % payloads.size()]);
      Status s = insert.Run();
      insert.Reset();
      ACPSTORE_RETURN_IF_ERROR(s);
    }
    ACPSTORE_RETURN_IF_ERROR(db.Exec("COMMIT"));
  }
  // Leave the WAL in place, as a live database would have it.
  return Status::OK();
}

Result<ReadResult> SqliteListAll(SqliteStmt& select) {
  ReadResult r;
  SteadyClock::time_point t0 = SteadyClock::now();
  EventSeq after = 0;
  while (true) {
    std::vector<Event> page;
    select.BindText(1, kSession);
    select.BindInt(2, static_cast<int64_t>(after));
    select.BindInt(3, kPage);
    bool row = false;
    Status s = select.Step(&row);
    while (s.ok() && row) {
      Event e;
      e.session_id = kSession;
      e.seq = static_cast<EventSeq>(select.ColumnInt(0));
      e.event_type = std::string(select.ColumnText(1));
      e.occurred_at = select.ColumnInt(2);
      e.ingested_at = select.ColumnInt(3);
      e.payload = std::string(select.ColumnText(4));
      page.push_back(std::move(e));
      s = select.Step(&row);
    }
    select.Reset();
    ACPSTORE_RETURN_IF_ERROR(s);
    if (page.empty()) break;
    for (const Event& e : page) r.payload_bytes += e.payload.size();
    r.events += page.size();
    after = page.back().seq;
  }
  r.seconds = std::chrono::duration<double>(SteadyClock::now() - t0).count();
  return r;
}

Status RunSqlitePeer(const BenchOptions& options, uint64_t events,
                     const std::vector<std::string>& payloads, int run,
                     Reporter& report) {
  ScratchDir dir(options.dir);
  if (!dir.ok())
    return Status::IoError("cannot create a directory under " + options.dir);
  const std::string path = dir.path() + "/events.sqlite";
  ACPSTORE_RETURN_IF_ERROR(SqliteFill(path, events, payloads));
  DropPageCache(dir.path());
  SqliteDb db;
  ACPSTORE_RETURN_IF_ERROR(db.Open(path, "FULL"));
  SqliteStmt select;
  ACPSTORE_RETURN_IF_ERROR(db.Prepare(
      "SELECT seq, event_type, occurred_at, ingested_at, payload FROM events "
      "WHERE session = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
      &select));
  ACPSTORE_ASSIGN_OR_RETURN(ReadResult cold, SqliteListAll(select));
  ACPSTORE_RETURN_IF_ERROR(CheckCount(cold, events, "sqlite cold"));
  ACPSTORE_ASSIGN_OR_RETURN(ReadResult warm, SqliteListAll(select));
  ACPSTORE_RETURN_IF_ERROR(CheckCount(warm, events, "sqlite warm"));
  report.Add(run, ReadMeasurement("sqlite-wal", "list-cold", cold));
  report.Add(run, ReadMeasurement("sqlite-wal", "list-warm", warm));
  return Status::OK();
}

}  // namespace

Status RunReplayWorkload(const BenchOptions& options, Reporter& report) {
  if (options.engine != Engine::kFile) {
    return Status::InvalidArgument(
        "replay runs the file engine (and the memory engine beside it); "
        "drop --engine");
  }
  const uint64_t events = ScaledEvents(options, kDefaultEvents);
  const std::vector<std::string> payloads =
      ToolEventPayloads(256, options.payload_bytes);
  report.out() << "replay: " << events << " events in one session, pages of "
               << kPage << "; cold = reopened store + page cache dropped "
               << "(posix_fadvise DONTNEED)\n";
  for (int run = 1; run <= options.runs; ++run) {
    ACPSTORE_RETURN_IF_ERROR(
        RunEngines(options, events, payloads, run, report));
    if (options.peers) {
      ACPSTORE_RETURN_IF_ERROR(
          RunSqlitePeer(options, events, payloads, run, report));
    }
  }
  std::vector<Measurement> ratios;
  for (const char* config : {"list-cold", "list-warm"}) {
    double ours = report.Median("acpstore-file", config, "events_per_s");
    double theirs = report.Median("sqlite-wal", config, "events_per_s");
    if (theirs > 0) {
      ratios.push_back(
          Measurement{"ratio", config, {{"vs_sqlite", ours / theirs}}});
    }
  }
  report.PrintTable("replay: medians of " + std::to_string(options.runs) +
                        " run(s); MB/s of canonical payload bytes",
                    {{"events", "events", 0},
                     {"ms", "ms", 1},
                     {"events_per_s", "events/s", 0},
                     {"mb_per_s", "MB/s", 1}});
  if (ratios.empty()) return Status::OK();
  for (const Measurement& m : ratios) report.Add(1, m);
  report.PrintTable("replay: acpstore-file events/s divided by SQLite's",
                    {{"vs_sqlite", "/sqlite", 2}});
  return Status::OK();
}

}  // namespace acpstore::bench
