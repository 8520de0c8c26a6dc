// OpenStore: picks the engine StoreOptions::engine names.

#include <memory>

#include "acpstore/store.h"
#include "engine/file_store.h"
#include "engine/memory_store.h"

namespace acpstore {

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
      return Status::Unavailable("the postgres engine is not built yet");
  }
  return Status::InvalidArgument("unknown engine");
}

}  // namespace acpstore
