# Helpers for the scripts that run the sparq program (cmake -P): SPARQ is the program, EMULATOR
# (already unpacked to a list) what starts it in a cross build.
# sparq_ok(expected args...): exit 0 and stdout matching the regular expression `expected`.
function(sparq_ok expected)
  execute_process(COMMAND ${EMULATOR} ${SPARQ} ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "sparq ${ARGN}: exit ${rc}: ${err}")
  endif()
  if(NOT out MATCHES "${expected}")
    message(FATAL_ERROR "sparq ${ARGN}: output '${out}' does not match '${expected}'")
  endif()
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
