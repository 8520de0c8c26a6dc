# Writes ${PROJECT_BINARY_DIR}/layering.txt, the include graph the build
# declares, for scripts/check_layering.sh (docs/architecture.md, "Layers").
#
#   owner <file> <target>...    the targets a file belongs to: the targets
#                               listing it as a source; for a header, the
#                               target listing the .cc of the same name, or
#                               else every library defined in its folder
#   allow <target> <target>...  whose headers <target> may include: itself,
#                               what it links (PUBLIC or PRIVATE), and what
#                               those pass on to it (their PUBLIC links,
#                               transitively), as CMake's usage requirements
#                               do. Only this project's targets appear.
# Paths are relative to the source directory. Included last from the
# top-level CMakeLists.txt, once every target exists.

function(_layering_targets dir out)
  get_property(ts DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
  get_property(subs DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
  foreach(sub IN LISTS subs)
    _layering_targets(${sub} more)
    list(APPEND ts ${more})
  endforeach()
  set(${out} ${ts} PARENT_SCOPE)
endfunction()

# The PUBLIC closure of what `target` links, restricted to project targets.
function(_layering_closure target out)
  get_target_property(direct ${target} LINK_LIBRARIES)
  if(NOT direct)
    set(direct)
  endif()
  set(seen ${target})
  set(todo ${direct})
  while(todo)
    list(POP_FRONT todo t)
    if(t MATCHES "^\\$<" OR NOT TARGET ${t} OR t IN_LIST seen)
      continue()
    endif()
    get_target_property(imported ${t} IMPORTED)
    if(imported)
      continue()
    endif()
    list(APPEND seen ${t})
    get_target_property(iface ${t} INTERFACE_LINK_LIBRARIES)
    if(iface)
      list(APPEND todo ${iface})  # $<LINK_ONLY:...> (PRIVATE) is skipped above
    endif()
  endwhile()
  set(${out} ${seen} PARENT_SCOPE)
endfunction()

function(_layering_write)
  _layering_targets(${PROJECT_SOURCE_DIR} all)
  set(lines)
  set(owned_files)
  foreach(t IN LISTS all)
    get_target_property(type ${t} TYPE)
    if(NOT type MATCHES "LIBRARY|EXECUTABLE")
      continue()
    endif()
    _layering_closure(${t} allowed)
    string(REPLACE ";" " " allowed "${allowed}")
    list(APPEND lines "allow ${t} ${allowed}")

    get_target_property(srcs ${t} SOURCES)
    get_target_property(sdir ${t} SOURCE_DIR)
    if(NOT srcs)
      continue()
    endif()
    set(is_test OFF)
    if(t MATCHES "_test$" OR type STREQUAL "EXECUTABLE")
      set(is_test ON)
    endif()
    foreach(s IN LISTS srcs)
      if(s MATCHES "^\\$<" OR NOT s MATCHES "\\.(cc|h)$")
        continue()
      endif()
      get_filename_component(abs ${s} ABSOLUTE BASE_DIR ${sdir})
      file(RELATIVE_PATH rel ${PROJECT_SOURCE_DIR} ${abs})
      if(rel MATCHES "^\\.\\.")
        continue()  # generated, outside the tree
      endif()
      string(MAKE_C_IDENTIFIER "${rel}" key)
      list(APPEND _owners_${key} ${t})
      list(APPEND owned_files ${rel})
      # Headers without a .cc of their own belong to the folder's libraries.
      get_filename_component(fdir ${rel} DIRECTORY)
      string(MAKE_C_IDENTIFIER "${fdir}" dkey)
      if(NOT is_test AND NOT t IN_LIST _dirlibs_${dkey})
        list(APPEND _dirlibs_${dkey} ${t})
      endif()
      if(NOT t IN_LIST _dirall_${dkey})
        list(APPEND _dirall_${dkey} ${t})
      endif()
      list(APPEND dirs ${fdir})
    endforeach()
  endforeach()

  list(REMOVE_DUPLICATES owned_files)
  foreach(rel IN LISTS owned_files)
    string(MAKE_C_IDENTIFIER "${rel}" key)
    list(REMOVE_DUPLICATES _owners_${key})
    string(REPLACE ";" " " o "${_owners_${key}}")
    list(APPEND lines "owner ${rel} ${o}")
  endforeach()

  list(REMOVE_DUPLICATES dirs)
  foreach(fdir IN LISTS dirs)
    string(MAKE_C_IDENTIFIER "${fdir}" dkey)
    file(GLOB headers RELATIVE ${PROJECT_SOURCE_DIR} ${PROJECT_SOURCE_DIR}/${fdir}/*.h)
    foreach(h IN LISTS headers)
      string(MAKE_C_IDENTIFIER "${h}" key)
      if(DEFINED _owners_${key})
        continue()
      endif()
      string(REGEX REPLACE "\\.h$" ".cc" cc "${h}")
      string(MAKE_C_IDENTIFIER "${cc}" cckey)
      if(DEFINED _owners_${cckey})
        set(o ${_owners_${cckey}})
      elseif(_dirlibs_${dkey})
        set(o ${_dirlibs_${dkey}})
      else()
        set(o ${_dirall_${dkey}})
      endif()
      string(REPLACE ";" " " o "${o}")
      list(APPEND lines "owner ${h} ${o}")
    endforeach()
  endforeach()

  list(SORT lines)
  string(REPLACE ";" "\n" body "${lines}")
  file(WRITE ${PROJECT_BINARY_DIR}/layering.txt "${body}\n")
endfunction()

_layering_write()

if(ACPSTORE_BUILD_TESTS)
  add_test(NAME layering
    COMMAND ${PROJECT_SOURCE_DIR}/scripts/check_layering.sh
            ${PROJECT_BINARY_DIR}/layering.txt ${PROJECT_SOURCE_DIR})
  add_test(NAME layering_catches_a_wrong_include
    COMMAND ${PROJECT_SOURCE_DIR}/scripts/check_layering.sh --self-test
            ${PROJECT_BINARY_DIR}/layering.txt ${PROJECT_SOURCE_DIR})
  set_tests_properties(layering layering_catches_a_wrong_include
    PROPERTIES LABELS layering TIMEOUT 120)
endif()
