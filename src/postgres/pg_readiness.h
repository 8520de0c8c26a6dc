// PgReadiness: whether the database answers, for /readyz (SPEC §5.5, §10),
// within a bound (decision 0039). A thread of its own asks on a connection
// of its own ("SELECT 1"); a caller waits for that answer at most
// `wait_ms`, so a database that stopped answering (a frozen host, a
// stopped postmaster) costs an HTTP thread that long at most, never the
// 10 s of a connect_timeout or the minutes of a hung statement, and
// /healthz on the other threads is not starved. Callers that arrive while
// one probe runs share its answer; once it has run longer than the bound,
// they are answered at once that the database did not answer in time,
// until it does.
//
// Thread-safety: Check may be called from any thread. Lifetime: the
// destructor stops the thread, shutting its connection's socket down if a
// probe is waiting for an answer (a connection attempt in progress is
// waited for: at most its connect_timeout).

#ifndef ACPSTORE_POSTGRES_PG_READINESS_H_
#define ACPSTORE_POSTGRES_PG_READINESS_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "acpstore/status.h"
#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "postgres/pg_conn.h"

namespace acpstore::postgres {

class PgReadiness {
 public:
  PgReadiness(std::string url, std::string schema, PgSessionLimits limits,
              int64_t wait_ms);
  ~PgReadiness();
  PgReadiness(const PgReadiness&) = delete;
  PgReadiness& operator=(const PgReadiness&) = delete;

  // OK when the database answered a probe started at most `wait_ms` before
  // the call (or after it) within the bound; else kUnavailable saying why.
  Status Check() EXCLUDES(mu_);

 private:
  using Clock = std::chrono::steady_clock;
  void Loop() EXCLUDES(mu_);
  Status Probe() EXCLUDES(mu_);

  const std::string url_;
  const std::string schema_;
  const PgSessionLimits limits_;
  const std::chrono::milliseconds wait_;
  base::Mutex mu_;
  base::CondVar cv_;
  bool stopping_ GUARDED_BY(mu_) = false;
  uint64_t requested_ GUARDED_BY(mu_) = 0;  // probes asked for
  uint64_t answered_ GUARDED_BY(mu_) = 0;   // the last one that answered
  bool running_ GUARDED_BY(mu_) = false;
  Clock::time_point started_ GUARDED_BY(mu_);
  Status last_ GUARDED_BY(mu_);
  // The probe connection's socket while a statement waits on it, for the
  // destructor to shut down; -1 otherwise.
  int socket_ GUARDED_BY(mu_) = -1;
  std::unique_ptr<PgConn> conn_;  // the probe thread's
  std::thread thread_;
};

}  // namespace acpstore::postgres

#endif  // ACPSTORE_POSTGRES_PG_READINESS_H_
