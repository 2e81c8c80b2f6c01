# Installation and the exported CMake package (find_package(Qopt)).
#
# qopt's libraries are built with add_mlir_*_library(... DISABLE_INSTALL) so
# that they land in qopt's own export set rather than MLIR's.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(QOPT_INSTALL_PACKAGE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/qopt)
set_property(GLOBAL PROPERTY QOPT_EXPORTED_TARGETS "")

# qopt_install_library(<target>): install a library into the QoptTargets set.
function(qopt_install_library name)
  target_include_directories(${name} INTERFACE
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  install(TARGETS ${name} EXPORT QoptTargets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
    RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endfunction()

function(qopt_install_package)
  install(DIRECTORY ${QOPT_SOURCE_DIR}/include/qopt
    DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
    FILES_MATCHING PATTERN "*.h" PATTERN "*.td")
  install(DIRECTORY ${QOPT_SOURCE_DIR}/include/qopt-c
    DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
    FILES_MATCHING PATTERN "*.h")
  install(DIRECTORY ${QOPT_BINARY_DIR}/include/qopt
    DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
    FILES_MATCHING PATTERN "*.inc" PATTERN "*.h")
  install(EXPORT QoptTargets NAMESPACE Qopt::
    DESTINATION ${QOPT_INSTALL_PACKAGE_DIR})
  configure_package_config_file(
    ${QOPT_SOURCE_DIR}/cmake/QoptConfig.cmake.in
    ${QOPT_BINARY_DIR}/QoptConfig.cmake
    INSTALL_DESTINATION ${QOPT_INSTALL_PACKAGE_DIR})
  write_basic_package_version_file(
    ${QOPT_BINARY_DIR}/QoptConfigVersion.cmake
    VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
  install(FILES ${QOPT_BINARY_DIR}/QoptConfig.cmake
    ${QOPT_BINARY_DIR}/QoptConfigVersion.cmake
    DESTINATION ${QOPT_INSTALL_PACKAGE_DIR})
endfunction()
