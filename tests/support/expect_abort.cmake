# Runs PROGRAM with SCENARIO and requires an abnormal end whose stderr contains EXPECT.
execute_process(COMMAND ${PROGRAM} ${SCENARIO} RESULT_VARIABLE rc ERROR_VARIABLE err OUTPUT_QUIET)
if(rc EQUAL 0)
  message(FATAL_ERROR "${SCENARIO}: the broken precondition was not caught (exit 0)")
endif()
string(FIND "${err}" "${EXPECT}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "${SCENARIO}: stderr '${err}' does not contain '${EXPECT}'")
endif()
