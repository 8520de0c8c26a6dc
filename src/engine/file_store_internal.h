// Internal pieces of FileStore shared by its .cc files: the bookkeeping of
// one journal record in flight. Not for use outside file_store*.cc.
//
// Thread-safety: an Inflight is built under FileStore::mu_ and then only
// touched by the journal's writer thread (its commit callback).

#ifndef ACPSTORE_ENGINE_FILE_STORE_INTERNAL_H_
#define ACPSTORE_ENGINE_FILE_STORE_INTERNAL_H_

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/file_store.h"
#include "record/mutation.h"
#include "record/mutation_codec.h"

namespace acpstore::engine {

struct FileStore::Inflight {
  uint64_t ticket = 0;
  uint64_t generation = 0;
  uint64_t bytes = 0;  // charged to pending_bytes_
  // A probe (the disk was full) is applied only once it commits.
  bool probe = false;
  record::Mutation mutation;  // probes only
  std::vector<record::EventSpan> spans;
  // Each session the record appended to: where to mark events durable.
  struct Group {
    std::string tenant_id;
    std::string session_id;
    uint64_t incarnation = 0;
    EventSeq last_seq = 0;
  };
  std::vector<Group> groups;
  std::vector<std::string> notify;     // session keys for the hub
  std::unique_ptr<Waiter> waiter;  // may be null (maintenance)
};

}  // namespace acpstore::engine

#endif  // ACPSTORE_ENGINE_FILE_STORE_INTERNAL_H_
