# ctest acpstore_ships_without_bench: without ACPSTORE_BENCH_COMMAND the
# acpstore binary links no benchmark peer (SQLite, libpq) and its `bench`
# subcommand says it was not built.
#   cmake -DACPSTORE=<binary> -DREADELF=<readelf> -P check_bench_not_linked.cmake
execute_process(COMMAND ${READELF} -d ${ACPSTORE}
  OUTPUT_VARIABLE dynamic RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "readelf -d ${ACPSTORE} failed")
endif()
string(REGEX MATCHALL "\\(NEEDED\\)[^\n]*" needed "${dynamic}")
foreach(lib IN LISTS needed)
  if(lib MATCHES "sqlite|libpq")
    message(FATAL_ERROR "acpstore links a benchmark peer: ${lib}")
  endif()
endforeach()
execute_process(COMMAND ${ACPSTORE} bench append
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc EQUAL 0 OR NOT err MATCHES "not built into this binary")
  message(FATAL_ERROR "acpstore bench: exit ${rc}, stderr: ${err}")
endif()
message(STATUS "acpstore: no SQLite or libpq; `acpstore bench` says it is not built")
