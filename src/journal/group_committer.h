// GroupCommitter is the journal's single writer thread. Callers submit
// records with a completion; the thread takes everything pending, writes it
// with one write, and (SyncMode::kAlways) fdatasyncs once for the whole
// batch before completing each waiter, so concurrent writers share fsyncs
// with no artificial delay. kInterval writes and acknowledges at once and
// fdatasyncs every sync_interval_ms; kNone only writes.
//
// Guarantees:
//  * Records are written in Submit order; completions run in that order, on
//    the writer thread, with no lock of ours held.
//  * Under kAlways no completion reports success before its record is
//    durable.
//  * A failed batch fails all of its records with the same Status:
//    - kInsufficientStorage (ENOSPC): none of them is in the journal; the
//      next batch is tried afresh, so writes recover once space returns.
//    - kUnavailable (a failed fsync or write): the journal is failed for
//      good; whether those records reached the disk is unknown.
//  * Records queued behind a failed batch are still written, unless the
//    caller aborts them: a caller whose later records depend on earlier
//    ones (sequence numbers) calls AbortQueued() from the failure
//    completion, under the same lock it holds while deciding and
//    submitting. Every record queued at that moment then fails, and its
//    completion runs before any later record is written, so no record
//    decided on top of a failed one ever reaches the journal.
//
// Thread-safety: Submit, Flush, stats and health may be called from any
// thread; Flush and Close must not be called from a completion.
// Lifetime: owns the writer; the destructor Close()s.

#ifndef ACPSTORE_JOURNAL_GROUP_COMMITTER_H_
#define ACPSTORE_JOURNAL_GROUP_COMMITTER_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "acpstore/options.h"
#include "acpstore/result.h"
#include "base/mutex.h"
#include "journal/format.h"
#include "journal/journal_stats.h"
#include "journal/journal_writer.h"
#include "journal/position.h"

namespace acpstore::journal {

struct GroupCommitOptions {
  // Default kAlways.
  SyncMode sync = SyncMode::kAlways;
  // kInterval only: fdatasync period. Default 100 ms.
  int64_t sync_interval_ms = 100;
  // A batch takes pending records up to this many bytes (always at least
  // one record), which bounds the time one write keeps later records
  // waiting. Default 4 MiB.
  size_t max_batch_bytes = 4 << 20;
};

// Receives the record's location once it is written (and, under kAlways,
// durable), or why it was not.
using CommitCallback = std::function<void(Result<RecordLocation>)>;

// Told when a run of completions has ended (one batch, or the records
// failed together), so that a caller can finish per batch what its
// completions only collected: one lock and one wake-up per fdatasync
// instead of one per record (issue 14).
class BatchListener {
 public:
  virtual ~BatchListener() = default;
  // Runs on the thread that ran the completions, right after them and
  // before any Flush of the same batch returns, with no lock of ours held;
  // AbortQueued may be called from here too.
  virtual void OnBatchEnd() = 0;
};

class GroupCommitter {
 public:
  GroupCommitter(std::unique_ptr<JournalWriter> writer,
                 GroupCommitOptions options);
  ~GroupCommitter();
  GroupCommitter(const GroupCommitter&) = delete;
  GroupCommitter& operator=(const GroupCommitter&) = delete;

  // Frames `payload` on the caller's thread (CRCs cost the caller, not the
  // single writer) and queues it.
  void Submit(RecordType type, std::string_view payload, CommitCallback done);
  // Queues one already framed record (format.h BeginRecord/FinishRecord).
  // A payload over kMaxPayloadBytes fails with kPayloadTooLarge.
  void SubmitFramed(std::string record, CommitCallback done);

  // Sets the listener told after every run of completions (null: none).
  // Set it before the first Submit; it must outlive Close().
  void SetBatchListener(BatchListener* listener);

  // Fails, with `why`, every record queued and not yet being written (Flush
  // waiters are left alone). Their completions run on the writer thread,
  // in order, before it writes anything submitted later. Safe to call from
  // a completion.
  void AbortQueued(const Status& why);

  // Waits until everything submitted before is written and fdatasync'ed,
  // in every sync mode; returns the durable end of the journal. Used before
  // a snapshot and at shutdown.
  Result<JournalPosition> Flush();

  // Stops accepting records (later ones fail with kUnavailable, completed
  // inline because no writer is left), writes and syncs everything queued,
  // stops the thread and closes the segment. Idempotent.
  Status Close();

  // A snapshot of the counters, updated after every batch.
  JournalStats stats() const;
  // OK, or the permanent failure every write now gets.
  Status health() const;

 private:
  struct Pending {
    std::string record;  // empty for a flush marker
    CommitCallback done;
    std::function<void(Result<JournalPosition>)> flushed;  // flush marker
    Status aborted;  // set by AbortQueued: fail instead of writing
  };

  void Enqueue(Pending pending);
  void Run();
  void ProcessBatch(const std::vector<Pending>& batch,
                    BatchListener* listener);
  static void Complete(Pending& p, const Status& failure);
  BatchListener* listener();
  void PublishStats();

  const GroupCommitOptions options_;
  // Touched only by the writer thread, and by Close() after joining it.
  const std::unique_ptr<JournalWriter> writer_;

  mutable base::Mutex mu_;
  base::CondVar cv_;  // signalled on submit and on close
  std::deque<Pending> pending_ GUARDED_BY(mu_);
  bool closing_ GUARDED_BY(mu_) = false;
  bool closed_ GUARDED_BY(mu_) = false;
  Status close_status_ GUARDED_BY(mu_);
  Status health_ GUARDED_BY(mu_);
  JournalStats stats_ GUARDED_BY(mu_);
  BatchListener* listener_ GUARDED_BY(mu_) = nullptr;

  std::thread thread_;  // started last, in the constructor
};

}  // namespace acpstore::journal

#endif  // ACPSTORE_JOURNAL_GROUP_COMMITTER_H_
