// SQL beside the code under test, for the postgres tests that set up or
// inspect the database directly (terminate a backend, read a row): each
// call on a connection of its own, so it never shares a transaction or a
// session setting with what it checks. Needs libpq (PostgreSQL::PostgreSQL).
//
// Thread-safety: pure functions.

#ifndef ACPSTORE_TESTS_POSTGRES_PG_TEST_SQL_H_
#define ACPSTORE_TESTS_POSTGRES_PG_TEST_SQL_H_

#include <libpq-fe.h>

#include <string>

namespace acpstore::pgtest {

// Runs `sql` (one statement or several) on the database at `url`; the
// first column of the first row of the last result, or "" when there is
// none or the connection failed.
inline std::string FirstValue(const std::string& url, const std::string& sql) {
  PGconn* c = PQconnectdb(url.c_str());
  std::string out;
  if (PQstatus(c) == CONNECTION_OK) {
    PGresult* r = PQexec(c, sql.c_str());
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0) {
      out = PQgetvalue(r, 0, 0);
    }
    PQclear(r);
  }
  PQfinish(c);
  return out;
}

// Drops `schema` from the test database, as a test that made one ends. A
// failure only leaves the schema behind, so it is not reported.
inline void DropSchema(const std::string& url, const std::string& schema) {
  PGconn* c = PQconnectdb(url.c_str());
  if (PQstatus(c) == CONNECTION_OK) {
    PQclear(PQexec(c, "SET client_min_messages = warning"));
    PQclear(PQexec(
        c, ("DROP SCHEMA IF EXISTS \"" + schema + "\" CASCADE").c_str()));
  }
  PQfinish(c);
}

}  // namespace acpstore::pgtest

#endif  // ACPSTORE_TESTS_POSTGRES_PG_TEST_SQL_H_
