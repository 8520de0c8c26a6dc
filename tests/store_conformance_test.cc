// The engine conformance suite (SPEC §9): the engines it runs against, and
// the scenarios about persistence across a reopen. Scenarios by area live
// in conformance_*_test.cc; all are TEST_Ps of the one StoreConformance
// suite, instantiated here once per engine. Run one engine's cases with
// --gtest_filter='*/memory' (see tests/README.md). The scenarios about a
// reopen (conformance_persistence_test.cc) are a second suite,
// StorePersistence, over the persistent engines.
//
// To add an engine: append an EngineFactory to Engines(). Persistent
// engines keep their files under the per-test scratch directory.

#include "store_conformance.h"

#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace acpstore::conformance {

namespace {

// The file engine under one sync mode; `name` is the test-name suffix.
EngineFactory FileEngine(std::string name, SyncMode sync) {
  return {.name = std::move(name),
          .persistent = true,
          .open = [sync](StoreOptions options,
                         const std::filesystem::path& dir) {
            options.engine = Engine::kFile;
            options.data_dir = (dir / "data").string();
            options.sync = sync;
            return OpenStore(options);
          }};
}

}  // namespace

const std::vector<EngineFactory>& Engines() {
  static const auto* engines = new std::vector<EngineFactory>{
      {.name = "memory",
       .persistent = false,
       .open =
           [](StoreOptions options, const std::filesystem::path&) {
             options.engine = Engine::kMemory;
             return OpenStore(options);
           }},
      // kNone is the fast run of every scenario; kAlways is the default and
      // what production runs: its acknowledgements wait on the group
      // committer's fdatasync, a different path through the write queue.
      FileEngine("file", SyncMode::kNone),
      FileEngine("file_sync_always", SyncMode::kAlways),
      // and postgres, with a fresh database named after the scratch dir.
  };
  return *engines;
}

std::vector<EngineFactory> PersistentEngines() {
  std::vector<EngineFactory> out;
  for (const EngineFactory& e : Engines()) {
    if (e.persistent) out.push_back(e);
  }
  return out;
}

namespace {

std::string EngineName(const ::testing::TestParamInfo<EngineFactory>& info) {
  return info.param.name;
}

}  // namespace

INSTANTIATE_TEST_SUITE_P(Engines, StoreConformance,
                         ::testing::ValuesIn(Engines()), EngineName);
INSTANTIATE_TEST_SUITE_P(Engines, StorePersistence,
                         ::testing::ValuesIn(PersistentEngines()), EngineName);
INSTANTIATE_TEST_SUITE_P(Engines, StoreTranscripts,
                         ::testing::ValuesIn(Engines()), EngineName);
INSTANTIATE_TEST_SUITE_P(Engines, StoreTranscriptPersistence,
                         ::testing::ValuesIn(PersistentEngines()), EngineName);

}  // namespace acpstore::conformance
