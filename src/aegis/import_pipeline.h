// ImportPipeline batches the importer's records into Mutations and commits
// them through engine::MigrationTarget with a bounded number in flight, so
// writing overlaps reading and memory stays bounded (max_in_flight batches
// of about batch_bytes each).
//
// The engine re-checks each batch atomically with its write
// (engine/migration_batch.h): sessions and actions it creates do not exist
// yet (a collision is kConflict naming the id), and appended seqs continue
// the stream. A refused batch writes nothing; the first failure stops the
// pipeline and is returned by every later call.
//
// Thread-safety: Add*/Flush/Finish on one thread; completions may run on
// the engine's commit thread (or inline) and only touch the counters
// under mu_.

#ifndef ACPSTORE_AEGIS_IMPORT_PIPELINE_H_
#define ACPSTORE_AEGIS_IMPORT_PIPELINE_H_

#include <condition_variable>
#include <cstddef>
#include <mutex>

#include "acpstore/records.h"
#include "acpstore/status.h"
#include "engine/migration_target.h"
#include "record/mutation.h"

namespace acpstore::aegis {

class ImportPipeline {
 public:
  ImportPipeline(engine::MigrationTarget* target, size_t batch_events,
                 size_t batch_bytes, size_t max_in_flight);
  ~ImportPipeline();  // waits for the batches in flight
  ImportPipeline(const ImportPipeline&) = delete;
  ImportPipeline& operator=(const ImportPipeline&) = delete;

  // `advance_to` > 0 raises the new session's empty stream first.
  Status AddSession(Session session, EventSeq advance_to);
  Status AddEvent(Event event);
  Status AddAction(Action action);
  Status AddPause(Pause pause);

  // Commits the open batch and waits for every batch; the first failure.
  Status Finish();

 private:
  void AppendToBatch(Event event, size_t bytes);
  // Waits until no batch is in flight.
  void Drain();
  Status MaybeFlush();
  Status Flush();
  Status Failed();

  engine::MigrationTarget* const target_;
  const size_t batch_events_;
  const size_t batch_bytes_;
  const size_t max_in_flight_;
  record::Mutation batch_;
  size_t batch_event_count_ = 0;
  size_t batch_byte_count_ = 0;

  std::mutex mu_;
  std::condition_variable cv_;
  size_t in_flight_ = 0;  // guarded by mu_
  Status failure_;        // guarded by mu_
};

}  // namespace acpstore::aegis

#endif  // ACPSTORE_AEGIS_IMPORT_PIPELINE_H_
