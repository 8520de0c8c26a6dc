// Helpers for the aegis tests: import a file into a fresh store, export a
// store to a string, read golden files. Test-only.
//
// Thread-safety: one test thread.

#ifndef ACPSTORE_AEGIS_AEGIS_TEST_UTIL_H_
#define ACPSTORE_AEGIS_AEGIS_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "acpstore/store.h"
#include "aegis/exporter.h"
#include "aegis/importer.h"
#include "engine/migration_target.h"
#include "io/test_dir.h"

namespace acpstore::aegis {

inline std::string TestData(const std::string& name) {
  return std::string(ACPSTORE_AEGIS_TESTDATA) + "/" + name;
}

inline std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

using engine::MigrationStore;

// A store with its migration target (engine::OpenForMigration): `->` and
// `*` reach the Store, target() what ImportAegis/ExportAegis take.
inline MigrationStore OpenForTest(const StoreOptions& options) {
  return engine::OpenForMigration(options).value();
}

inline MigrationStore MemoryStoreForTest() {
  StoreOptions options;
  options.engine = Engine::kMemory;
  options.maintenance_interval_ms = 0;
  return OpenForTest(options);
}

// Offline-tool options for the file engine: no background retention.
inline StoreOptions FileOptionsForTest(const std::string& dir) {
  StoreOptions options;
  options.engine = Engine::kFile;
  options.data_dir = dir;
  options.maintenance_interval_ms = 0;
  return options;
}

struct ImportRun {
  Result<ImportReport> report = Status::Internal("not run");
  std::vector<std::string> problems;
};

inline ImportRun RunImport(const std::string& file,
                           engine::MigrationTarget* store,
                           ImportOptions options = {}) {
  ImportRun run;
  options.on_problem = [&run](const std::string& p) {
    run.problems.push_back(p);
  };
  run.report = ImportAegis(file, store, options);
  return run;
}

inline std::string ExportToString(engine::MigrationTarget* store,
                                  const io::TempDir& dir,
                                  const std::string& name = "export.json") {
  const std::string path = dir.Join(name);
  Result<ExportReport> r = ExportAegis(store, path);
  EXPECT_TRUE(r.ok()) << r.error();
  return ReadText(path);
}

}  // namespace acpstore::aegis

#endif  // ACPSTORE_AEGIS_AEGIS_TEST_UTIL_H_
