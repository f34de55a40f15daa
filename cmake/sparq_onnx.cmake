# The ONNX importer, sparq::onnx: a compiled component (src/onnx) over Debian's libonnx-dev +
# libprotobuf-dev, so the header-only core never includes protobuf. SPARQ_WITH_ONNX is AUTO
# (ON when both are found), ON (required) or OFF. ONNX's own CMake package names files Debian
# does not ship: its header and library are found by hand.
set(SPARQ_WITH_ONNX AUTO CACHE STRING "Build the ONNX importer component sparq::onnx: AUTO, ON or OFF")
set_property(CACHE SPARQ_WITH_ONNX PROPERTY STRINGS AUTO ON OFF)
set(_request "${SPARQ_WITH_ONNX}")
set(SPARQ_WITH_ONNX OFF)
if(_request AND NOT SPARQ_BARE_METAL)
  find_path(SPARQ_ONNX_INCLUDE onnx/onnx_pb.h)
  find_library(SPARQ_ONNX_PROTO_LIB onnx_proto)
  find_package(Protobuf QUIET)
  if(SPARQ_ONNX_INCLUDE AND SPARQ_ONNX_PROTO_LIB AND Protobuf_FOUND)
    set(SPARQ_WITH_ONNX ON)
  elseif(NOT _request STREQUAL "AUTO")
    message(FATAL_ERROR "SPARQ_WITH_ONNX=ON but libonnx-dev / libprotobuf-dev were not found: run scripts/setup.sh")
  else()
    message(STATUS "sparq: ONNX import off (libonnx-dev and libprotobuf-dev not found)")
  endif()
endif()

if(SPARQ_WITH_ONNX)
  # (the fuzz target compiles these sources itself, instrumented)
  set(SPARQ_ONNX_SOURCES ${PROJECT_SOURCE_DIR}/src/onnx/import.cpp ${PROJECT_SOURCE_DIR}/src/onnx/constant.cpp
      ${PROJECT_SOURCE_DIR}/src/onnx/ops_layers.cpp ${PROJECT_SOURCE_DIR}/src/onnx/ops_elementwise.cpp
      ${PROJECT_SOURCE_DIR}/src/onnx/ops_constant.cpp ${PROJECT_SOURCE_DIR}/src/onnx/ops_layout.cpp)
  add_library(sparq_onnx STATIC ${SPARQ_ONNX_SOURCES})
  add_library(sparq::onnx ALIAS sparq_onnx)
  set_target_properties(sparq_onnx PROPERTIES EXPORT_NAME onnx POSITION_INDEPENDENT_CODE ON)
  target_link_libraries(sparq_onnx PUBLIC sparq)
  target_compile_definitions(sparq_onnx PRIVATE ONNX_ML=1 ONNX_NAMESPACE=onnx)
  target_include_directories(sparq_onnx SYSTEM PRIVATE ${SPARQ_ONNX_INCLUDE} ${Protobuf_INCLUDE_DIRS})
  target_link_libraries(sparq_onnx PRIVATE ${SPARQ_ONNX_PROTO_LIB} protobuf::libprotobuf)
  # Warnings as sparq's own targets, but no SPARQ_ARCH_FLAGS: the library is installed, and the
  # inline functions it shares with its users must not be built for a newer CPU than theirs.
  target_compile_options(sparq_onnx PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion)
  if(SPARQ_WARNINGS_AS_ERRORS)
    target_compile_options(sparq_onnx PRIVATE -Werror)
  endif()
endif()
