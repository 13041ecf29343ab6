# The Debian package, packed by CPack from the same install rules as
# `cmake --install` (scripts/build-deb.sh configures the build for /usr and
# runs cpack): no second build. Depends: is computed by dpkg-shlibdeps from
# the binary; the maintainer scripts in packaging/deb make the certkeeper
# system user and /var/lib/certkeeper (0700), and leave no unit enabled
# behind on removal.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME certkeeper)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "certkeeper maintainers <maintainers@users.noreply.r-seed-b7800274.example>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "TLS certificate renewal for operations teams")
# The extended description (CPack puts the summary above it).
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "certkeeper runs a private CA for people's TLS client certificates (create,
renew, revoke, PKCS#12 bundles, expiry notices, a CRL that holds each
superseded certificate's revocation until its user applied the new one),
renews server certificates over ACME and rolls them out to many endpoints in
stages, verifying each step with a real TLS handshake, and scans TLS
endpoints for Prometheus. Its state is in SQLite under a home folder or in
PostgreSQL; the CA key can live in a PKCS#11 token.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser, init-system-helpers (>= 1.54)")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "libengine-pkcs11-openssl")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "nginx, postgresql-client, softhsm2")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${CMAKE_SOURCE_DIR}/packaging/deb/postinst
  ${CMAKE_SOURCE_DIR}/packaging/deb/prerm
  ${CMAKE_SOURCE_DIR}/packaging/deb/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
set(CPACK_STRIP_FILES TRUE)
# Only the install rules of this project (not those of the test libraries).
set(CPACK_INSTALL_CMAKE_PROJECTS "${CMAKE_BINARY_DIR};certkeeper;ALL;/")
set(CPACK_PACKAGE_DIRECTORY ${CMAKE_BINARY_DIR}/package)
include(CPack)
