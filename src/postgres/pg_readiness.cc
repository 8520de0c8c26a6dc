// PgReadiness: see pg_readiness.h.

#include "postgres/pg_readiness.h"

#include <libpq-fe.h>
#include <sys/socket.h>

#include <utility>

#include "base/thread_name.h"

namespace acpstore::postgres {

PgReadiness::PgReadiness(std::string url, std::string schema,
                         PgSessionLimits limits, int64_t wait_ms)
    : url_(std::move(url)),
      schema_(std::move(schema)),
      limits_(limits),
      wait_(wait_ms) {
  thread_ = std::thread([this] {
    base::NameThisThread("acp-pg-ready");
    Loop();
  });
}

PgReadiness::~PgReadiness() {
  {
    base::MutexLock lock(&mu_);
    stopping_ = true;
    // A statement waiting for a database that stopped answering would
    // hold the join for as long as TCP takes to give up: cut it short.
    if (socket_ >= 0) ::shutdown(socket_, SHUT_RDWR);
  }
  cv_.SignalAll();
  thread_.join();
}

Status PgReadiness::Check() {
  base::MutexLock lock(&mu_);
  const Clock::time_point now = Clock::now();
  uint64_t want;
  Clock::time_point deadline;
  if (running_) {
    // One probe at a time: a later one would queue behind it anyway.
    if (now - started_ >= wait_) {
      return Status::Unavailable(
          "the database did not answer a readiness probe within " +
          std::to_string(wait_.count()) + " ms (it has been waiting " +
          std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                             now - started_)
                             .count()) +
          " ms)");
    }
    want = requested_;
    deadline = started_ + wait_;
  } else {
    want = ++requested_;
    deadline = now + wait_;
    cv_.SignalAll();
  }
  while (answered_ < want) {
    if (!cv_.WaitUntil(&mu_, deadline) && answered_ < want) {
      return Status::Unavailable(
          "the database did not answer a readiness probe within " +
          std::to_string(wait_.count()) + " ms");
    }
  }
  return last_;
}

void PgReadiness::Loop() {
  for (;;) {
    uint64_t probe;
    {
      base::MutexLock lock(&mu_);
      while (!stopping_ && requested_ == answered_) cv_.Wait(&mu_);
      if (stopping_) return;
      probe = requested_;
      running_ = true;
      started_ = Clock::now();
    }
    Status s = Probe();
    {
      base::MutexLock lock(&mu_);
      running_ = false;
      answered_ = probe;
      last_ = std::move(s);
    }
    cv_.SignalAll();
  }
}

Status PgReadiness::Probe() {
  if (conn_ != nullptr && !conn_->healthy()) conn_.reset();
  if (conn_ == nullptr) {
    Result<std::unique_ptr<PgConn>> c = PgConn::Connect(url_, schema_, limits_);
    if (!c.ok()) return std::move(c).error();
    conn_ = *std::move(c);
  }
  {
    base::MutexLock lock(&mu_);
    if (stopping_) return Status::Unavailable("the server is shutting down");
    socket_ = PQsocket(conn_->raw());
  }
  Status s = conn_->Run("SELECT 1").status();
  {
    base::MutexLock lock(&mu_);
    socket_ = -1;  // before the connection (and its socket) may close
  }
  if (!conn_->healthy()) conn_.reset();
  return s;
}

}  // namespace acpstore::postgres
