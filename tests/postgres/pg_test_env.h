// The throwaway PostgreSQL the postgres tests run against:
// scripts/test.sh starts one (scripts/pg_test_server.sh) and exports
// ACPSTORE_TEST_POSTGRES_URL. Without it every postgres test FAILS rather
// than skips: a skipped engine would pass CI having tested nothing.
//
// Each test gets its own schema (so tests never see each other's rows),
// named after something unique to it, e.g. its scratch directory.
//
// Thread-safety: pure functions.

#ifndef ACPSTORE_TESTS_POSTGRES_PG_TEST_ENV_H_
#define ACPSTORE_TESTS_POSTGRES_PG_TEST_ENV_H_

#include <cstdint>
#include <cstdlib>
#include <functional>
#include <string>
#include <string_view>

#include "acpstore/options.h"
#include "acpstore/result.h"
#include "acpstore/status.h"

namespace acpstore::pgtest {

inline Result<std::string> TestPostgresUrl() {
  const char* url = std::getenv("ACPSTORE_TEST_POSTGRES_URL");
  if (url == nullptr || *url == '\0') {
    return Status::Unavailable(
        "ACPSTORE_TEST_POSTGRES_URL is not set: run the postgres tests "
        "through scripts/test.sh, which starts a throwaway PostgreSQL");
  }
  return std::string(url);
}

// A schema name (a short SQL identifier) unique to `seed`.
inline std::string SchemaFor(std::string_view seed) {
  uint64_t h = 1469598103934665603ULL;  // FNV-1a
  for (char c : seed) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  static const char* kHex = "0123456789abcdef";
  std::string out = "t_";
  for (int i = 60; i >= 0; i -= 4) out.push_back(kHex[(h >> i) & 0xf]);
  return out;
}

// Sets the postgres fields of `options` for a store in schema `schema`.
inline Status UsePostgres(StoreOptions* options, std::string_view schema) {
  ACPSTORE_ASSIGN_OR_RETURN(std::string url, TestPostgresUrl());
  options->engine = Engine::kPostgres;
  options->postgres_url = std::move(url);
  options->postgres_schema = std::string(schema);
  options->postgres_pool = 4;
  return Status::OK();
}

}  // namespace acpstore::pgtest

#endif  // ACPSTORE_TESTS_POSTGRES_PG_TEST_ENV_H_
