# Cross-compiling bare-metal firmware for Arm Cortex-M with Debian's gcc-arm-none-eabi and its
# newlib (libstdc++-arm-none-eabi-newlib). SPARQ_CORTEX_M_CPU picks the core and its FPU:
#   cortex-m4  -mcpu=cortex-m4 -mfpu=fpv4-sp-d16 -mfloat-abi=hard  (single-precision FPU)
#   cortex-m7  -mcpu=cortex-m7 -mfpu=fpv5-d16    -mfloat-abi=hard  (double-precision FPU)
# Firmware is built without exceptions and RTTI; there is no operating system, so CMake's
# test programs are static libraries (they cannot link without a startup file).
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CMAKE_C_COMPILER arm-none-eabi-gcc)
set(CMAKE_CXX_COMPILER arm-none-eabi-g++)
set(CMAKE_ASM_COMPILER arm-none-eabi-gcc)
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

set(SPARQ_CORTEX_M_CPU "cortex-m4" CACHE STRING "The Cortex-M core to build for: cortex-m4 or cortex-m7")
set_property(CACHE SPARQ_CORTEX_M_CPU PROPERTY STRINGS cortex-m4 cortex-m7)
if(SPARQ_CORTEX_M_CPU STREQUAL "cortex-m4")
  set(_fpu "-mfpu=fpv4-sp-d16")
elseif(SPARQ_CORTEX_M_CPU STREQUAL "cortex-m7")
  set(_fpu "-mfpu=fpv5-d16")
else()
  message(FATAL_ERROR "SPARQ_CORTEX_M_CPU='${SPARQ_CORTEX_M_CPU}': cortex-m4 or cortex-m7")
endif()
set(_flags "-mcpu=${SPARQ_CORTEX_M_CPU} -mthumb ${_fpu} -mfloat-abi=hard -ffunction-sections -fdata-sections")
set(CMAKE_C_FLAGS_INIT "${_flags}")
set(CMAKE_CXX_FLAGS_INIT "${_flags} -fno-exceptions -fno-rtti -fno-threadsafe-statics")
set(CMAKE_ASM_FLAGS_INIT "${_flags}")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-Wl,--gc-sections --specs=nano.specs")

set(CMAKE_FIND_ROOT_PATH /usr/lib/arm-none-eabi)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
