# ctest postgres_migrate_cli: `acpstore migrate` creates a schema, then
# finds it current; a schema newer than the binary is refused (exit 1).
#   cmake -DACPSTORE=<binary> -P migrate_cli_test.cmake
# Needs ACPSTORE_TEST_POSTGRES_URL (scripts/test.sh); fails without it.
if("$ENV{ACPSTORE_TEST_POSTGRES_URL}" STREQUAL "")
  message(FATAL_ERROR "ACPSTORE_TEST_POSTGRES_URL is not set: run through scripts/test.sh")
endif()
set(url "$ENV{ACPSTORE_TEST_POSTGRES_URL}")
string(RANDOM LENGTH 12 ALPHABET "abcdefghijklmnopqrstuvwxyz" suffix)
set(schema "cli_${suffix}")

function(migrate expect_rc expect_out)
  execute_process(
    COMMAND ${ACPSTORE} migrate --postgres-url ${url} --postgres-schema ${schema}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL expect_rc OR NOT "${out}${err}" MATCHES "${expect_out}")
    message(FATAL_ERROR "acpstore migrate: exit ${rc}, stdout: ${out}, stderr: ${err}")
  endif()
endfunction()

migrate(0 "migrated from version 0 to [1-9]")
migrate(0 "is at version [1-9][0-9]* \\(current\\)")
find_program(PSQL psql REQUIRED)
execute_process(
  COMMAND ${PSQL} ${url} -v ON_ERROR_STOP=1 -c
          "INSERT INTO ${schema}.schema_version (version, name) VALUES (9999, 'future')"
  RESULT_VARIABLE rc OUTPUT_QUIET)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "psql could not plant a future schema version")
endif()
migrate(1 "newer than this acpstore knows")
execute_process(COMMAND ${PSQL} ${url} -c "DROP SCHEMA ${schema} CASCADE"
                OUTPUT_QUIET ERROR_QUIET)
message(STATUS "acpstore migrate: creates, finds current, refuses a newer schema")
