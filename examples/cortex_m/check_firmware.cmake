# Runs the firmware example (main.cpp) for each exported model and checks its outputs against
# `sparq run` of the same .sparq file, byte for byte (cmake -P; run by ctest).
#   MODE=host        PROGRAMS holds firmware_host_<model>, built by the host build
#   MODE=cortex-m4|cortex-m7
#                    configures and builds this source tree for the core (as the preset of that
#                    name does) in WORK, runs each ELF on qemu-system-arm's MPS2 board (AN386:
#                    Cortex-M4, AN500: Cortex-M7) through semihosting, scans its link map for
#                    heap and exception symbols, and checks the size budget of the int8 digits
#                    models: 64 KiB flash, 16 KiB RAM (static data + the 4 KiB stack reserve),
#                    writing WORK/firmware-size.md.
# MODELS: names separated by |, each with HEADERS/<name>.sparq and HEADERS/<name>.h.
string(REPLACE "|" ";" MODELS "${MODELS}")
set(flash_budget 65536)
set(ram_budget 16384)

# The float32 data of an .npy file as lowercase hex, in file (little-endian) order.
function(npy_data_hex file out)
  file(READ "${file}" hex HEX)
  string(SUBSTRING "${hex}" 16 2 lo)
  string(SUBSTRING "${hex}" 18 2 hi)
  math(EXPR start "2 * (10 + 0x${hi} * 256 + 0x${lo})")
  string(SUBSTRING "${hex}" ${start} -1 data)
  set(${out} "${data}" PARENT_SCOPE)
endfunction()

# Runs a firmware program; checks its rows against `sparq run`; returns its summary line.
function(check_outputs name summary_out)
  set(expected_npy ${WORK}/${name}_sparq_run.npy)
  execute_process(COMMAND ${SPARQ} run ${HEADERS}/${name}.sparq --input ${DATA}/test_x.npy --output ${expected_npy}
                  RESULT_VARIABLE rc ERROR_VARIABLE err OUTPUT_QUIET)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "sparq run ${name}: exit ${rc}: ${err}")
  endif()
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 300)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${name} (${MODE}): exit ${rc}: ${err}\n${out}")
  endif()
  if(NOT out MATCHES "stack_bytes ([0-9]+) buffer_bytes ([0-9]+)\n$")
    message(FATAL_ERROR "${name} (${MODE}): no summary line at the end of its output:\n${out}")
  endif()
  set(${summary_out} "${CMAKE_MATCH_1};${CMAKE_MATCH_2}" PARENT_SCOPE)
  string(REGEX REPLACE "stack_bytes [^\n]*\n$" "" rows "${out}")
  string(REPLACE "\n" "" got "${rows}")
  npy_data_hex(${expected_npy} expected)
  if(NOT got STREQUAL expected)
    string(LENGTH "${got}" gl)
    string(LENGTH "${expected}" el)
    message(FATAL_ERROR "${name} (${MODE}): outputs differ from sparq run's (${gl} vs ${el} hex digits)")
  endif()
  message(STATUS "${name} (${MODE}): the outputs are sparq run's, byte for byte")
endfunction()

if(MODE STREQUAL "host")
  foreach(name ${MODELS})
    check_outputs(${name} summary ${PROGRAMS}/firmware_host_${name})
  endforeach()
  return()
endif()

# ---- a Cortex-M core: build, run on qemu, scan, size
if(MODE STREQUAL "cortex-m4")
  set(machine mps2-an386)
elseif(MODE STREQUAL "cortex-m7")
  set(machine mps2-an500)
else()
  message(FATAL_ERROR "MODE=${MODE}: host, cortex-m4 or cortex-m7")
endif()
string(REPLACE ";" "|" models_arg "${MODELS}")
execute_process(COMMAND ${CMAKE_COMMAND} -S ${SOURCE} -B ${WORK} -G Ninja
                        -DCMAKE_TOOLCHAIN_FILE=${SOURCE}/cmake/toolchains/arm-none-eabi.cmake -DSPARQ_CORTEX_M_CPU=${MODE}
                        -DCMAKE_BUILD_TYPE=MinSizeRel -DSPARQ_WITH_XSIMD=OFF -DSPARQ_WITH_DNNL=OFF -DSPARQ_INSTALL=OFF
                        -DSPARQ_WARNINGS_AS_ERRORS=ON -DSPARQ_FIRMWARE_HEADERS=${HEADERS} "-DSPARQ_FIRMWARE_MODELS=${models_arg}"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "configuring the ${MODE} build: ${out}${err}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build ${WORK} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "building for ${MODE}: ${out}${err}")
endif()

set(report "| model | core | flash (bytes) | RAM: static + 4 KiB stack (bytes) | stack peak (bytes) | within 64 KiB / 16 KiB |\n|---|---|---:|---:|---:|---|\n")
set(forbidden "malloc|_malloc_r|calloc|realloc|_realloc_r|free|_free_r|_sbrk|_sbrk_r|_Znwj|_Znaj|_ZnwjRKSt9nothrow_t|_ZdlPv|_ZdaPv|_ZdlPvj|__cxa_throw|__cxa_allocate_exception|__cxa_begin_catch|__gxx_personality_v0|_Unwind_Resume|__cxa_pure_virtual|_ZTI[A-Za-z0-9_]*|_ZTVN10__cxxabiv")
foreach(name ${MODELS})
  set(elf ${WORK}/examples/cortex_m/firmware_${name}.elf)
  # The link map: nothing that allocates or throws may be linked in.
  file(READ ${WORK}/examples/cortex_m/firmware_${name}.map map)
  string(FIND "${map}" "Discarded input sections" cut)
  string(SUBSTRING "${map}" 0 ${cut} members)                 # archive members pulled in, and why
  string(FIND "${map}" "Linker script and memory map" cut)
  string(SUBSTRING "${map}" ${cut} -1 layout)                 # what the image holds
  foreach(part members layout)
    if(${part} MATCHES "[ (](${forbidden})[ )\n]")
      message(FATAL_ERROR "${name} (${MODE}): the link map holds '${CMAKE_MATCH_1}': heap or exceptions linked into the firmware")
    endif()
  endforeach()
  check_outputs(${name} summary ${QEMU} -M ${machine} -nographic -monitor none -serial none
                -chardev stdio,id=semihosting -semihosting-config enable=on,target=native,chardev=semihosting -kernel ${elf})
  list(GET summary 0 stack_peak)
  # Sizes from the section table (arm-none-eabi-size -A), the test images left out.
  file(READ ${WORK}/examples/cortex_m/firmware_${name}.size sizes)
  foreach(section vectors text rodata ARM.exidx init_array data bss stack)
    set(${section} 0)
    string(REPLACE "." "\\." pattern "${section}")
    if(sizes MATCHES "\n\\.${pattern} +([0-9]+)")
      set(${section} ${CMAKE_MATCH_1})
    endif()
  endforeach()
  math(EXPR flash "${vectors} + ${text} + ${rodata} + ${ARM.exidx} + ${init_array} + ${data}")
  math(EXPR ram "${data} + ${bss} + ${stack}")
  set(fits "yes")
  if(flash GREATER flash_budget OR ram GREATER ram_budget)
    set(fits "no")
  endif()
  string(APPEND report "| ${name} | ${MODE} | ${flash} | ${ram} | ${stack_peak} | ${fits} |\n")
  message(STATUS "${name} (${MODE}): flash ${flash} bytes, RAM ${ram} bytes (stack peak ${stack_peak}); no heap or exception symbols linked")
  if(NOT fits)
    message(FATAL_ERROR "${name} (${MODE}): over the budget of ${flash_budget} bytes flash / ${ram_budget} bytes RAM")
  endif()
endforeach()
file(WRITE ${WORK}/firmware-size.md "${report}")
message(STATUS "size report: ${WORK}/firmware-size.md\n${report}")
