# ctest acpstore_ships_without_bench: without ACPSTORE_BENCH_COMMAND the
# acpstore binary holds none of the benchmark library (bench/) and links
# none of its peers' libraries (SQLite; libpq stays, for the postgres
# engine), and its `bench` subcommand says it was not built.
#   cmake -DACPSTORE=<binary> -DREADELF=<readelf> -P check_bench_not_linked.cmake
execute_process(COMMAND ${READELF} -d ${ACPSTORE}
  OUTPUT_VARIABLE dynamic RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "readelf -d ${ACPSTORE} failed")
endif()
string(REGEX MATCHALL "\\(NEEDED\\)[^\n]*" needed "${dynamic}")
foreach(lib IN LISTS needed)
  if(lib MATCHES "sqlite")
    message(FATAL_ERROR "acpstore links a benchmark peer: ${lib}")
  endif()
endforeach()
# The workloads live in namespace acpstore::bench (bench/bench.h).
execute_process(COMMAND ${READELF} -W --syms ${ACPSTORE}
  OUTPUT_VARIABLE syms RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "readelf --syms ${ACPSTORE} failed")
endif()
string(REGEX MATCH "_ZN8acpstore5bench[0-9A-Za-z_]*" bench_symbol "${syms}")
if(bench_symbol)
  message(FATAL_ERROR "acpstore contains the benchmark library: ${bench_symbol}")
endif()
execute_process(COMMAND ${ACPSTORE} bench append
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc EQUAL 0 OR NOT err MATCHES "not built into this binary")
  message(FATAL_ERROR "acpstore bench: exit ${rc}, stderr: ${err}")
endif()
message(STATUS "acpstore: no benchmark library, no SQLite; `acpstore bench` says it is not built")
