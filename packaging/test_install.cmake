# ctest install_example: the installed tree stands alone.
#   cmake -DBUILD_DIR=... -DSOURCE_DIR=... -DWORK_DIR=... -DCXX=...
#         -DGENERATOR=... -P test_install.cmake
# Installs BUILD_DIR into WORK_DIR/prefix, checks that nothing installed
# names the source or build tree, then builds packaging/example against the
# prefix twice (find_package, pkg-config) and runs both binaries, which
# exit non-zero unless the example's event got seq 1.
foreach(v BUILD_DIR SOURCE_DIR WORK_DIR CXX GENERATOR)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "test_install.cmake: -D${v}=... is required")
  endif()
endforeach()

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    string(REPLACE ";" " " cmd "${ARGN}")
    message(FATAL_ERROR "failed (${rc}): ${cmd}")
  endif()
endfunction()

set(prefix ${WORK_DIR}/prefix)
file(REMOVE_RECURSE ${WORK_DIR})
run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})

foreach(f bin/acpstore include/acpstore/store.h include/acpstore/blocking_store.h
          lib/systemd/system/acpstore.service etc/default/acpstore)
  if(NOT EXISTS ${prefix}/${f})
    message(FATAL_ERROR "not installed: ${f}")
  endif()
endforeach()
file(GLOB_RECURSE libs ${prefix}/lib*/libacpstore.a ${prefix}/lib*/libacpstore.so)
list(LENGTH libs n)
if(NOT n EQUAL 2)
  message(FATAL_ERROR "expected libacpstore.a and libacpstore.so, found: ${libs}")
endif()
file(GLOB_RECURSE pc ${prefix}/lib*/acpstore.pc)
if(NOT pc)
  message(FATAL_ERROR "not installed: acpstore.pc")
endif()

# Every text file installed must be free of this machine's trees.
file(GLOB_RECURSE texts ${prefix}/*.cmake ${prefix}/*.pc ${prefix}/*.service)
foreach(f IN LISTS texts)
  file(READ ${f} body)
  # The scratch prefix may itself lie in the build tree; it is meant.
  string(REPLACE "${prefix}" "<prefix>" body "${body}")
  foreach(tree ${SOURCE_DIR} ${BUILD_DIR})
    string(FIND "${body}" "${tree}" at)
    if(NOT at EQUAL -1)
      message(FATAL_ERROR "${f} names the build machine's tree ${tree}")
    endif()
  endforeach()
endforeach()
file(READ ${prefix}/lib/systemd/system/acpstore.service unit)
string(FIND "${unit}" "ExecStart=${prefix}/bin/acpstore serve" at)
if(at EQUAL -1)
  message(FATAL_ERROR "acpstore.service does not start ${prefix}/bin/acpstore")
endif()
# Every option of the unit comes from the environment: a flag in ExecStart
# would beat the same ACPSTORE_* line of /etc/default/acpstore, silently.
# Its defaults are Environment= lines, which EnvironmentFile= overrides.
string(REGEX MATCH "\nExecStart=[^\n]*" exec "${unit}")
if(NOT exec STREQUAL "\nExecStart=${prefix}/bin/acpstore serve")
  message(FATAL_ERROR "acpstore.service passes flags, which its options "
    "files could not override:${exec}")
endif()
foreach(line "Environment=ACPSTORE_DATA_DIR=/var/lib/acpstore"
             "Environment=ACPSTORE_LOG_FORMAT=json"
             "EnvironmentFile=-/etc/default/acpstore")
  string(FIND "${unit}" "\n${line}\n" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "acpstore.service has no line ${line}")
  endif()
endforeach()

# The documents the unit and the options file point to are installed (both
# named files that no install rule made).
string(REGEX MATCH "\nDocumentation=file://([^\n]*)" _ "${unit}")
set(unit_doc "${CMAKE_MATCH_1}")
file(READ ${prefix}/etc/default/acpstore options)
string(REGEX MATCH "(/[^ \n]*/share/doc/acpstore/[^ \n]*)" _ "${options}")
set(options_doc "${CMAKE_MATCH_1}")
foreach(doc "${unit_doc}" "${options_doc}")
  string(FIND "${doc}" "${prefix}/" at)
  if(NOT at EQUAL 0 OR NOT EXISTS "${doc}")
    message(FATAL_ERROR "the unit or etc/default/acpstore points to '${doc}', "
      "which the install did not put under ${prefix}")
  endif()
endforeach()

# 1. find_package(acpstore), the shared library.
set(ex ${WORK_DIR}/example)
run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/packaging/example -B ${ex}
    -G ${GENERATOR} -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_PREFIX_PATH=${prefix}
    -DCMAKE_BUILD_TYPE=RelWithDebInfo)
run(${CMAKE_COMMAND} --build ${ex})
run(${ex}/example)

# 2. pkg-config, the static library (--static: its private libraries too).
find_program(PKG_CONFIG pkg-config REQUIRED)
get_filename_component(pcdir ${pc} DIRECTORY)
set(ENV{PKG_CONFIG_PATH} ${pcdir})
execute_process(COMMAND ${PKG_CONFIG} --cflags --libs --static acpstore
  OUTPUT_VARIABLE flags OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "pkg-config acpstore failed")
endif()
# The archive by its file name: -lacpstore would pick the shared library.
string(REPLACE "-lacpstore" "-l:libacpstore.a" flags "${flags}")
separate_arguments(flags UNIX_COMMAND "${flags}")
run(${CXX} ${SOURCE_DIR}/packaging/example/main.cc ${flags}
    -o ${WORK_DIR}/example_static)
run(${WORK_DIR}/example_static)
