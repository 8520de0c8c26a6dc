// RunSqlite (peers.h): SQLite appending the same events, as the peer an
// embedded store is usually measured against.

#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "peers.h"

namespace acpstore::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr const char* kInsert =
    "INSERT INTO events(session, seq, payload) "
    "SELECT ?1, coalesce(max(seq), 0) + 1, ?2 FROM events WHERE session = ?1";

// One connection with its insert statement. Not thread-safe: callers
// serialise.
class Db {
 public:
  ~Db() {
    if (insert_ != nullptr) sqlite3_finalize(insert_);
    if (db_ != nullptr) sqlite3_close(db_);
  }

  Status Open(const std::string& path, const std::string& synchronous) {
    if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) return Error("open");
    ACPSTORE_RETURN_IF_ERROR(Exec("PRAGMA journal_mode=WAL"));
    ACPSTORE_RETURN_IF_ERROR(Exec("PRAGMA synchronous=" + synchronous));
    ACPSTORE_RETURN_IF_ERROR(
        Exec("CREATE TABLE events(session TEXT, seq INTEGER, payload BLOB, "
             "PRIMARY KEY(session, seq))"));
    if (sqlite3_prepare_v2(db_, kInsert, -1, &insert_, nullptr) != SQLITE_OK) {
      return Error("prepare");
    }
    return Status::OK();
  }

  Status Exec(const std::string& sql) {
    char* msg = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &msg) != SQLITE_OK) {
      Status s = Status::IoError("sqlite " + sql + ": " +
                                 (msg != nullptr ? msg : "?"));
      sqlite3_free(msg);
      return s;
    }
    return Status::OK();
  }

  Status Insert(const std::string& session, const std::string& payload) {
    sqlite3_bind_text(insert_, 1, session.data(),
                      static_cast<int>(session.size()), SQLITE_STATIC);
    sqlite3_bind_blob(insert_, 2, payload.data(),
                      static_cast<int>(payload.size()), SQLITE_STATIC);
    int rc = sqlite3_step(insert_);
    sqlite3_reset(insert_);
    return rc == SQLITE_DONE ? Status::OK() : Error("insert");
  }

 private:
  Status Error(const char* what) {
    return Status::IoError(std::string("sqlite ") + what + ": " +
                           (db_ != nullptr ? sqlite3_errmsg(db_) : "no db"));
  }

  sqlite3* db_ = nullptr;
  sqlite3_stmt* insert_ = nullptr;
};

// Appends handed to the batching committer, each waited for by its writer.
struct Pending {
  const std::string* session;
  const std::string* payload;
  bool done = false;
  Status status;
};

class Batcher {
 public:
  explicit Batcher(Db& db) : db_(db), thread_([this] { Loop(); }) {}
  ~Batcher() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  Status Append(const std::string& session, const std::string& payload) {
    Pending p{&session, &payload};
    std::unique_lock<std::mutex> lock(mu_);
    queue_.push_back(&p);
    cv_.notify_all();
    done_cv_.wait(lock, [&] { return p.done; });
    return std::move(p.status);
  }

  uint64_t commits() const {
    std::lock_guard<std::mutex> lock(mu_);
    return commits_;
  }

 private:
  void Loop() {
    std::unique_lock<std::mutex> lock(mu_);
    while (true) {
      cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;
      std::deque<Pending*> batch;
      batch.swap(queue_);
      lock.unlock();
      Status s = db_.Exec("BEGIN IMMEDIATE");
      for (Pending* p : batch) {
        if (s.ok()) s = db_.Insert(*p->session, *p->payload);
      }
      s = s.ok() ? db_.Exec("COMMIT") : s;
      if (!s.ok()) (void)db_.Exec("ROLLBACK");
      lock.lock();
      ++commits_;
      for (Pending* p : batch) {
        p->status = s;
        p->done = true;
      }
      done_cv_.notify_all();
    }
  }

  Db& db_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable done_cv_;
  std::deque<Pending*> queue_;
  bool stop_ = false;
  uint64_t commits_ = 0;
  std::thread thread_;
};

}  // namespace

PeerResult RunSqlite(const SqliteSpec& spec) {
  PeerResult result;
  Db db;
  result.error = db.Open(spec.dir + "/events.sqlite", spec.synchronous);
  if (!result.error.ok()) return result;

  std::vector<std::string> sessions;
  for (int w = 0; w < spec.writers; ++w) {
    sessions.push_back("bench-" + std::to_string(w));
  }
  std::mutex db_mu;  // kPerAppend: the single writer
  std::unique_ptr<Batcher> batcher;
  if (spec.mode == SqliteMode::kBatched)
    batcher = std::make_unique<Batcher>(db);

  std::atomic<uint64_t> claimed{0};
  std::atomic<bool> stop{false};
  std::mutex error_mu;
  std::vector<std::vector<uint32_t>> latencies(spec.writers);
  uint64_t commits = 0;
  const SteadyClock::time_point start = SteadyClock::now();

  auto writer = [&](int w) {
    while (!stop.load(std::memory_order_relaxed)) {
      uint64_t n = claimed.fetch_add(1);
      if (n >= spec.max_events) break;
      const std::string& payload = (*spec.payloads)[n % spec.payloads->size()];
      SteadyClock::time_point t0 = SteadyClock::now();
      Status s;
      if (batcher != nullptr) {
        s = batcher->Append(sessions[w], payload);
      } else {
        std::lock_guard<std::mutex> lock(db_mu);
        s = db.Exec("BEGIN IMMEDIATE");
        if (s.ok()) s = db.Insert(sessions[w], payload);
        s = s.ok() ? db.Exec("COMMIT") : s;
        ++commits;
      }
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
      if (spec.max_seconds > 0 &&
          std::chrono::duration<double>(t1 - start).count() >=
              spec.max_seconds) {
        stop = true;
      }
    }
  };
  std::vector<std::thread> threads;
  for (int w = 0; w < spec.writers; ++w) threads.emplace_back(writer, w);
  for (std::thread& t : threads) t.join();
  result.seconds =
      std::chrono::duration<double>(SteadyClock::now() - start).count();
  if (batcher != nullptr) commits = batcher->commits();
  for (auto& v : latencies) {
    result.events += v.size();
    result.latencies_us.insert(result.latencies_us.end(), v.begin(), v.end());
  }
  result.syncs = commits;
  return result;
}

}  // namespace acpstore::bench
