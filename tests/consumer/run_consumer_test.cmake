# Installs sparq into a fresh prefix, then builds and runs a project that finds it with
# find_package(sparq CONFIG REQUIRED), the way a user's project would.
file(REMOVE_RECURSE ${WORK_DIR})

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}")
  endif()
endfunction()

run(${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK_DIR}/sparq-build -G ${GENERATOR}
    -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_INSTALL_PREFIX=${WORK_DIR}/prefix
    -DSPARQ_BUILD_TESTS=OFF -DSPARQ_BUILD_BENCH=OFF -DSPARQ_BUILD_EXAMPLES=OFF -DSPARQ_BUILD_TOOLS=OFF
    -DSPARQ_WITH_XSIMD=${WITH_XSIMD} -DSPARQ_WITH_DNNL=${WITH_DNNL} -DSPARQ_WITH_ONNX=${WITH_ONNX})
run(${CMAKE_COMMAND} --build ${WORK_DIR}/sparq-build)  # the header library needs nothing; sparq::onnx is compiled
run(${CMAKE_COMMAND} --install ${WORK_DIR}/sparq-build)
run(${CMAKE_COMMAND} -S ${CONSUMER_DIR} -B ${WORK_DIR}/consumer-build -G ${GENERATOR}
    -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix
    -DEXPECT_XSIMD=${WITH_XSIMD} -DEXPECT_DNNL=${WITH_DNNL} -DEXPECT_ONNX=${WITH_ONNX} -DEXAMPLE_SOURCE=${SOURCE_DIR}/examples/import_onnx.cpp)
run(${CMAKE_COMMAND} --build ${WORK_DIR}/consumer-build)
run(${WORK_DIR}/consumer-build/consumer)
if(WITH_ONNX)
  run(${WORK_DIR}/consumer-build/consumer_onnx ${DATA_DIR}/cnn.onnx ${DATA_DIR}/train_x.npy)
endif()
message(STATUS "consumer built against the installed sparq and ran")
