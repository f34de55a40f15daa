# Writes the data of a little-endian float32 .npy file (INPUT) as a C++ header (OUTPUT) of its
# bytes, in a section of their own (.test_inputs) so size reports can leave them out:
#   test_input_bytes[]  the array's bytes, row after row
#   test_input_rows     its first extent
file(READ "${INPUT}" hex HEX)
string(SUBSTRING "${hex}" 0 12 magic)
if(NOT magic STREQUAL "934e554d5059")
  message(FATAL_ERROR "${INPUT}: not a .npy file")
endif()
# Header length: bytes 8-9, little-endian (format version 1.0).
string(SUBSTRING "${hex}" 16 2 lo)
string(SUBSTRING "${hex}" 18 2 hi)
math(EXPR header_len "0x${hi} * 256 + 0x${lo}")
file(READ "${INPUT}" header OFFSET 10 LIMIT ${header_len})
if(NOT header MATCHES "'descr': '<f4'" OR NOT header MATCHES "'shape': \\(([0-9]+),")
  message(FATAL_ERROR "${INPUT}: not a little-endian float32 array of rows")
endif()
set(rows ${CMAKE_MATCH_1})
math(EXPR data_offset "2 * (10 + ${header_len})")
string(SUBSTRING "${hex}" ${data_offset} -1 data)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${data}")
string(REGEX REPLACE "((0x..,){32})" "\\1\n" bytes "${bytes}")
file(WRITE "${OUTPUT}" "// Generated from ${INPUT} by npy_to_c.cmake. Do not edit.\n#pragma once\n#include <cstddef>\n"
     "inline constexpr std::size_t test_input_rows = ${rows};\n"
     "__attribute__((section(\".test_inputs\"))) inline constexpr unsigned char test_input_bytes[] = {\n${bytes}\n};\n")
