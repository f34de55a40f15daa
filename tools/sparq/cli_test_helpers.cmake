# Helpers for the scripts that run the sparq program (cmake -P): SPARQ is the program, EMULATOR
# (already unpacked to a list) what starts it in a cross build. Every CLI test runs through these
# (never ctest's PASS_REGULAR_EXPRESSION, which passes on a match whatever the exit code).

# run_ok(program expected args...): exit 0 and stdout matching the regular expression `expected`;
# the output is left in RUN_OUTPUT for check_figure.
function(run_ok program expected)
  execute_process(COMMAND ${EMULATOR} ${program} ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  get_filename_component(name "${program}" NAME)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${name} ${ARGN}: exit ${rc}: ${err}")
  endif()
  if(NOT out MATCHES "${expected}")
    message(FATAL_ERROR "${name} ${ARGN}: output '${out}' does not match '${expected}'")
  endif()
  set(RUN_OUTPUT "${out}" PARENT_SCOPE)
endfunction()

# sparq_ok(expected args...): run_ok of the sparq program.
function(sparq_ok expected)
  run_ok(${SPARQ} "${expected}" ${ARGN})
  set(RUN_OUTPUT "${RUN_OUTPUT}" PARENT_SCOPE)
endfunction()

function(sparq_fails expected)
  execute_process(COMMAND ${EMULATOR} ${SPARQ} ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(rc EQUAL 0 OR NOT rc MATCHES "^[0-9]+$")
    message(FATAL_ERROR "sparq ${ARGN}: expected a clean non-zero exit, got '${rc}'")
  endif()
  if(NOT err MATCHES "${expected}")
    message(FATAL_ERROR "sparq ${ARGN}: stderr '${err}' does not say '${expected}'")
  endif()
endfunction()

# check_figure(text regex lo hi what [OUT var]): the number that the first group of `regex`
# captures in `text` lies in [lo, hi] (either may be "" for no bound); OUT keeps it for the caller.
function(check_figure text regex lo hi what)
  cmake_parse_arguments(arg "" "OUT" "" ${ARGN})
  if(NOT text MATCHES "${regex}")
    message(FATAL_ERROR "${what}: '${regex}' is not in the output:\n${text}")
  endif()
  set(v "${CMAKE_MATCH_1}")
  if(NOT v MATCHES "^[-+]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][-+]?[0-9]+)?$")
    message(FATAL_ERROR "${what}: '${v}' is not a number")
  endif()
  if((NOT lo STREQUAL "" AND v LESS lo) OR (NOT hi STREQUAL "" AND v GREATER hi))
    message(FATAL_ERROR "${what} is ${v}, outside [${lo}, ${hi}]")
  endif()
  message(STATUS "${what}: ${v} (bounds [${lo}, ${hi}])")
  if(arg_OUT)
    set(${arg_OUT} "${v}" PARENT_SCOPE)
  endif()
endfunction()
