# package.cmake -- installing DVM like a system service, and its Debian
# package (included from CMakeLists.txt).
#
# `cmake --install build` puts in place: bin/dvm (the dashboard is compiled
# into it), LIBDIR/dvm/dvm-rcomp and dvm-jit.so (found from bin/dvm), the
# manual page dvm(1) generated from the usage text, the
# examples under share/dvm/examples, the systemd units dvm-master and
# dvm-node, and /etc/default/dvm, their settings.  The default prefix is
# /usr, where a system service belongs; /etc/default then is /etc/default
# (GNUInstallDirs' rule for /usr).  `cmake --build build --target package`
# (CPack) makes build/dvm_VERSION_ARCH.deb with the same files.
include(GNUInstallDirs)

set(DVM_BIN ${CMAKE_INSTALL_FULL_BINDIR}/dvm)
set(DVM_DEFAULT_FILE ${CMAKE_INSTALL_FULL_SYSCONFDIR}/default/dvm)
set(DVM_UNITDIR lib/systemd/system CACHE STRING
    "Where the systemd units go, under the prefix")
foreach(unit dvm-master dvm-node)
  configure_file(${CMAKE_SOURCE_DIR}/packaging/systemd/${unit}.service.in
                 ${CMAKE_BINARY_DIR}/packaging/${unit}.service @ONLY)
  install(FILES ${CMAKE_BINARY_DIR}/packaging/${unit}.service
          DESTINATION ${DVM_UNITDIR})
endforeach()

set(DVM_MAN ${CMAKE_BINARY_DIR}/man/dvm.1)
add_custom_command(OUTPUT ${DVM_MAN}.gz
  COMMAND ${CMAKE_COMMAND} -DDVM=$<TARGET_FILE:dvm> -DOUT=${DVM_MAN}
          -P ${CMAKE_SOURCE_DIR}/cmake/manpage.cmake
  COMMAND gzip -9nkf ${DVM_MAN}
  DEPENDS dvm ${CMAKE_SOURCE_DIR}/cmake/manpage.cmake
  COMMENT "Generating dvm(1) from the usage text")
add_custom_target(manpage ALL DEPENDS ${DVM_MAN}.gz)

install(TARGETS dvm RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# The RComp's executable, found from bin/dvm (src/util/exe.h).
install(TARGETS dvm_rcomp_exe RUNTIME DESTINATION ${CMAKE_INSTALL_LIBDIR}/dvm)
if(TARGET dvm_jit)      # the translator's LLVM half (src/exec/jit_backend.h)
  install(TARGETS dvm_jit LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}/dvm)
endif()
install(FILES ${DVM_MAN}.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/examples/
        DESTINATION ${CMAKE_INSTALL_DATADIR}/dvm/examples)
install(FILES ${CMAKE_SOURCE_DIR}/packaging/default/dvm
        DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/default)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME dvm)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "DVM maintainers <dvm@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "Datacenter virtual machine (DISA ${DVM_DISA_VERSION}, c0 ${DVM_C0_VERSION})")
set(CPACK_PACKAGE_DESCRIPTION
    "Runs DISA programs on one host (dvm run) or a cluster (dvm-master and dvm-node services); metrics for Prometheus and a live dashboard.")
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION misc)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# Loaded when first needed (src/util/dynlib.h), so not found by shlibdeps:
# UCX and libcrypto (the cluster), libmicrohttpd (--http).
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libucx0, libssl3, libmicrohttpd12")
configure_file(${CMAKE_SOURCE_DIR}/packaging/debian/conffiles.in
               ${CMAKE_BINARY_DIR}/packaging/debian/conffiles @ONLY)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_BINARY_DIR}/packaging/debian/conffiles
    ${CMAKE_SOURCE_DIR}/packaging/debian/postinst
    ${CMAKE_SOURCE_DIR}/packaging/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
