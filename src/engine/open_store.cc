// OpenStore: picks the engine StoreOptions::engine names.

#include <memory>

#include "acpstore/store.h"
#include "engine/file_store.h"
#include "engine/memory_store.h"

namespace acpstore {

#ifdef ACPSTORE_WITH_POSTGRES
// src/postgres/pg_store_reads.cc: built where libpq is found.
namespace postgres {
Result<std::unique_ptr<Store>> OpenPostgresStore(const StoreOptions& options);
}  // namespace postgres
#endif

Result<std::unique_ptr<Store>> OpenStore(const StoreOptions& options) {
  switch (options.engine) {
    case Engine::kMemory:
      return std::unique_ptr<Store>(
          std::make_unique<engine::MemoryStore>(options));
    case Engine::kFile: {
      ACPSTORE_ASSIGN_OR_RETURN(std::unique_ptr<engine::FileStore> store,
                                engine::FileStore::Open(options));
      return std::unique_ptr<Store>(std::move(store));
    }
    case Engine::kPostgres:
#ifdef ACPSTORE_WITH_POSTGRES
      return postgres::OpenPostgresStore(options);
#else
      return Status::Unavailable(
          "this acpstore was built without libpq: no postgres engine");
#endif
  }
  return Status::InvalidArgument("unknown engine");
}

}  // namespace acpstore
