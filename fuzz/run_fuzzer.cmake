# Runs one fuzzer for SECONDS from a copy of its seed corpus; fails on any crash or leak.
file(REMOVE_RECURSE ${WORK})
file(COPY ${SEEDS}/ DESTINATION ${WORK})
# more seeds from elsewhere in the tree (a glob, '|'-separated: e.g. the committed ONNX test cases)
if(EXTRA_SEEDS)
  string(REPLACE "|" ";" _globs "${EXTRA_SEEDS}")
  file(GLOB _extra ${_globs})
  file(COPY ${_extra} DESTINATION ${WORK})
endif()
execute_process(COMMAND ${FUZZER} ${WORK} -max_total_time=${SECONDS} -max_len=65536 -print_final_stats=1
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${FUZZER} failed (exit ${rc}): the crashing input is in the working directory as crash-*")
endif()
