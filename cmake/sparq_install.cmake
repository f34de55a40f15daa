include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS sparq EXPORT sparqTargets)
install(DIRECTORY include/sparq DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${PROJECT_BINARY_DIR}/include/sparq/version.hpp
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/sparq)

set(SPARQ_CMAKE_DIR ${CMAKE_INSTALL_DATADIR}/cmake/sparq)  # header-only: arch-independent
install(EXPORT sparqTargets NAMESPACE sparq:: DESTINATION ${SPARQ_CMAKE_DIR})
# The build tree is a package too: sparq_DIR=<build dir> works without installing.
export(EXPORT sparqTargets NAMESPACE sparq:: FILE ${PROJECT_BINARY_DIR}/sparqTargets.cmake)
# The ONNX component: its own export set, loaded by find_package(sparq COMPONENTS onnx).
if(SPARQ_WITH_ONNX)
  install(TARGETS sparq_onnx EXPORT sparqOnnxTargets ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
  install(EXPORT sparqOnnxTargets NAMESPACE sparq:: DESTINATION ${SPARQ_CMAKE_DIR})
  export(EXPORT sparqOnnxTargets NAMESPACE sparq:: FILE ${PROJECT_BINARY_DIR}/sparqOnnxTargets.cmake)
endif()
configure_package_config_file(cmake/sparqConfig.cmake.in
  ${PROJECT_BINARY_DIR}/sparqConfig.cmake INSTALL_DESTINATION ${SPARQ_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/sparqConfigVersion.cmake
  COMPATIBILITY SameMinorVersion ARCH_INDEPENDENT)
install(FILES ${PROJECT_BINARY_DIR}/sparqConfig.cmake ${PROJECT_BINARY_DIR}/sparqConfigVersion.cmake
        DESTINATION ${SPARQ_CMAKE_DIR})
install(FILES LICENSE README.md CHANGELOG.md DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/sparq)
