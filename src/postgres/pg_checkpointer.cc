// Checkpointer: see pg_checkpointer.h.

#include "postgres/pg_checkpointer.h"

#include <algorithm>

#include "base/thread_name.h"

namespace acpstore::postgres {
namespace {

// The row lock every writer of the session takes (appends, deletes,
// retention, import): the checkpoint serialises with all of them, and
// its reads (later statements, READ COMMITTED) see what they committed.
constexpr PgStatement kLockForCheckpoint{
    "ck_lock",
    "SELECT 1 FROM sessions WHERE tenant_id = $1 AND session_id = $2 "
    "FOR UPDATE"};

}  // namespace

Checkpointer::Checkpointer(Transact transact, TranscriptConfig config,
                           SessionCache* cache)
    : transact_(std::move(transact)), config_(config), cache_(cache) {
  thread_ = std::thread([this] {
    base::NameThisThread("acp-pg-ckpt");
    Loop();
  });
}

Checkpointer::~Checkpointer() {
  {
    base::MutexLock lock(&mu_);
    stopping_ = true;
  }
  cv_.SignalAll();
  thread_.join();
}

void Checkpointer::Post(std::vector<DueCheckpoint> due) {
  if (due.empty()) return;
  {
    base::MutexLock lock(&mu_);
    for (DueCheckpoint& d : due) {
      Key key{std::move(d.tenant_id), std::move(d.session_id)};
      auto it = pending_.find(key);
      if (it != pending_.end()) {
        it->second.through = std::max(it->second.through, d.through);
        it->second.if_due = it->second.if_due && d.if_due;
        continue;
      }
      if (pending_.size() >= kMaxPending) {
        dropped_.fetch_add(1);
        continue;
      }
      pending_.emplace(key, Due{.through = d.through, .if_due = d.if_due});
      order_.push_back(std::move(key));
    }
  }
  cv_.Signal();
}

void Checkpointer::Loop() {
  for (;;) {
    Key key;
    Due due;
    {
      base::MutexLock lock(&mu_);
      while (order_.empty()) {
        if (stopping_) return;  // everything posted ran
        cv_.Wait(&mu_);
      }
      key = std::move(order_.front());
      order_.pop_front();
      auto it = pending_.find(key);
      due = it->second;
      pending_.erase(it);
    }
    // Named again while this one runs: it waits again, and finds its work
    // done unless more was appended meanwhile.
    CheckpointResult result;
    Status s = transact_([&](PgConn& c) -> Status {
      result = CheckpointResult();  // each attempt afresh
      return Run(c, key, due, &result);
    });
    (s.ok() ? done_ : failed_).fetch_add(1);
    if (s.ok() && result.wrote && cache_ != nullptr) {
      cache_->Checkpointed(key.first, key.second, result.xmin_before,
                           result.folded_seq, result.xid);
    }
  }
}

Status Checkpointer::Run(PgConn& conn, const Key& key, const Due& due,
                         CheckpointResult* result) {
  // Queued: it goes out with CheckpointTranscript's reads, which the
  // server runs after it, once the row is locked.
  ACPSTORE_RETURN_IF_ERROR(conn.Send(
      kLockForCheckpoint, PgParams().Text(key.first).Text(key.second)));
  return CheckpointTranscript(conn, key.first, key.second, due.through,
                              config_.limits, result,
                              due.if_due ? config_.checkpoint_events : 0);
}

}  // namespace acpstore::postgres
