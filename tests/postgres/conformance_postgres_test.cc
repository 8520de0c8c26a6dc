// The engine conformance suite (SPEC §9) on the postgres engine: the same
// StoreConformance scenarios as tests/store_conformance_test.cc runs on the
// memory and file engines, compiled into their own binary because this one
// needs the throwaway PostgreSQL of scripts/test.sh (pg_test_env.h). Each
// test runs in a fresh schema named after its scratch directory, so a
// Reopen() sees the same database, and dropped as the test ends.

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "../store_conformance.h"
#include "pg_test_env.h"
#include "pg_test_sql.h"

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
           },
       .discard =
           [](const std::filesystem::path& dir) {
             Result<std::string> url = pgtest::TestPostgresUrl();
             if (url.ok()) {
               pgtest::DropSchema(*url, pgtest::SchemaFor(dir.string()));
             }
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
// Transcripts (../conformance_transcripts_test.cc, SPEC §13): every case,
// kept in the transcript tables (src/postgres/pg_transcripts.h).
INSTANTIATE_TEST_SUITE_P(Engines, StoreTranscripts,
                         ::testing::ValuesIn(Engines()), EngineName);
INSTANTIATE_TEST_SUITE_P(Engines, StoreTranscriptPersistence,
                         ::testing::ValuesIn(PersistentEngines()), EngineName);

}  // namespace acpstore::conformance
