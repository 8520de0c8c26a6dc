# The Debian package: `cpack -G DEB` in a build directory (after building
# the acpstore target) writes acpstore_<version>_<arch>.deb
# (scripts/test_deb.sh builds, installs, runs and purges it; README,
# "Installing the Debian package").
#
#   /usr/bin/acpstore                      the binary (install component runtime)
#   /lib/systemd/system/acpstore.service   the unit, ExecStart /usr/bin/acpstore
#   /etc/default/acpstore                  options for the unit (a conffile)
#   /usr/share/doc/acpstore/               README.md, CHANGELOG.md, docs/*.md
#                                          (operations, recovery, spec,
#                                          http_api)
#   postinst                               the `acpstore` system user,
#                                          /var/lib/acpstore (0700), and under
#                                          systemd: enable and (re)start
#   prerm / postrm                         stop; only `purge` deletes the
#                                          user and /var/lib/acpstore
#
# Only the runtime component goes in; the library (component dev) is for
# `cmake --install`.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME acpstore)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "acpstore maintainers <acpstore@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "durable, memory-bounded store for AI-agent sessions (HTTP server)")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
# Without the debug information of RelWithDebInfo (~40 MB more, minutes of
# compression); keep the build tree's binary for debugging.
set(CPACK_STRIP_FILES ON)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL runtime)
set(CPACK_COMPONENTS_GROUPING ALL_COMPONENTS_IN_ONE)
set(CPACK_DEBIAN_PACKAGE_NAME acpstore)
set(CPACK_DEBIAN_PACKAGE_SECTION database)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# The shared libraries the binary links (Boost.JSON, libpq, jemalloc, ...),
# as dpkg-shlibdeps finds them; useradd/userdel come from passwd (required).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "passwd")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${CMAKE_CURRENT_SOURCE_DIR}/debian/conffiles
  ${CMAKE_CURRENT_SOURCE_DIR}/debian/postinst
  ${CMAKE_CURRENT_SOURCE_DIR}/debian/prerm
  ${CMAKE_CURRENT_SOURCE_DIR}/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
