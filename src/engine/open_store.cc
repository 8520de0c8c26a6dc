// OpenStore: picks the engine StoreOptions::engine names.

#include <memory>

#include "acpstore/store.h"
#include "engine/memory_store.h"

namespace acpstore {

Result<std::unique_ptr<Store>> OpenStore(const StoreOptions& options) {
  switch (options.engine) {
    case Engine::kMemory:
      return std::unique_ptr<Store>(
          std::make_unique<engine::MemoryStore>(options));
    case Engine::kFile:
      return Status::Unavailable("the file engine is not built yet");
    case Engine::kPostgres:
      return Status::Unavailable("the postgres engine is not built yet");
  }
  return Status::InvalidArgument("unknown engine");
}

}  // namespace acpstore
