# A model exported with `sparq export-c` gives `sparq run`'s outputs of the same .sparq file,
# byte for byte (FIRMWARE: the example built against the generated header).
string(REPLACE "|" ";" EMULATOR "${EMULATOR}")
foreach(step "${SPARQ};run;${MODEL};--input;${DATA}/test_x.npy;--output;${WORK}/${NAME}_sparq_run.npy"
             "${FIRMWARE};${DATA}/test_x.npy;${WORK}/${NAME}_firmware.npy")
  execute_process(COMMAND ${EMULATOR} ${step} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${step}: exit ${rc}: ${out}${err}")
  endif()
endforeach()
execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${WORK}/${NAME}_sparq_run.npy ${WORK}/${NAME}_firmware.npy RESULT_VARIABLE same)
if(NOT same EQUAL 0)
  message(FATAL_ERROR "${NAME}: the exported model's outputs differ from sparq run's")
endif()
message(STATUS "${NAME}: the exported model's outputs are sparq run's, byte for byte")
