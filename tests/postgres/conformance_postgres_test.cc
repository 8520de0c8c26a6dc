// The engine conformance suite (SPEC §9) on the postgres engine: the same
// StoreConformance scenarios as tests/store_conformance_test.cc runs on the
// memory and file engines, compiled into their own binary because this one
// needs the throwaway PostgreSQL of scripts/test.sh (pg_test_env.h). Each
// test runs in a fresh schema named after its scratch directory, so a
// Reopen() sees the same database.

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "../store_conformance.h"
#include "pg_test_env.h"

namespace acpstore::conformance {

const std::vector<EngineFactory>& Engines() {
  static const auto* engines = new std::vector<EngineFactory>{
      {.name = "postgres",
       .persistent = true,
       .open =
           [](StoreOptions options, const std::filesystem::path& dir)
           -> Result<std::unique_ptr<Store>> {
             ACPSTORE_RETURN_IF_ERROR(pgtest::UsePostgres(
                 &options, pgtest::SchemaFor(dir.string())));
             return OpenStore(options);
           }},
  };
  return *engines;
}

std::vector<EngineFactory> PersistentEngines() { return Engines(); }

namespace {

std::string EngineName(const ::testing::TestParamInfo<EngineFactory>& info) {
  return info.param.name;
}

}  // namespace

INSTANTIATE_TEST_SUITE_P(Engines, StoreConformance,
                         ::testing::ValuesIn(Engines()), EngineName);
// The Reopen scenarios (../conformance_persistence_test.cc): a new store
// over the same schema sees what the previous one acknowledged.
INSTANTIATE_TEST_SUITE_P(Engines, StorePersistence,
                         ::testing::ValuesIn(PersistentEngines()), EngineName);
// PENDING (issue 16): transcripts are not built on the postgres engine yet
// (PgStore::ReadTranscript answers kUnavailable), so the transcript suites
// StoreTranscripts and StoreTranscriptPersistence
// (../conformance_transcripts_test.cc) are deliberately not instantiated
// here. Instantiate them like the two above when they are built.
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(StoreTranscripts);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(StoreTranscriptPersistence);

}  // namespace acpstore::conformance
