# The model commands end to end on the built-in digits files: accuracy printed, outputs written
# and read back, energy as JSON, and bad inputs refused with one clear line.
string(REPLACE "|" ";" EMULATOR "${EMULATOR}")

include(${CMAKE_CURRENT_LIST_DIR}/cli_test_helpers.cmake)  # sparq_ok, sparq_fails

set(models ${DATA}/mlp.safetensors)
if(ONNX)
  list(APPEND models ${DATA}/mlp.onnx)
else()
  sparq_fails("built without ONNX import" inspect ${DATA}/mlp.onnx)
endif()
foreach(m IN LISTS models)
  sparq_ok("2 nodes, input \\(64, 1, 1\\) -> 10 outputs, 9610 parameters, 9472 MACs" inspect ${m})
  sparq_ok("accuracy: 0.9667 \\(348 of 360, fp32\\)" eval ${m} --data ${DATA}/test_x.npy --labels ${DATA}/test_y.npy)
  sparq_ok("accuracy: 0.9[5-9][0-9][0-9] .*int8" eval ${m} --data ${DATA}/test_x.npy --labels ${DATA}/test_y.npy
           --precision int8 --calib ${DATA}/train_x.npy)
  sparq_ok("wrote ${WORK}/digits_y.npy: \\(360, 10\\)" run ${m} --input ${DATA}/test_x.npy --output ${WORK}/digits_y.npy)
  sparq_ok("\"total\": {\"macs\": 3409920, .*\"fp32_joules\"" energy ${m} --input ${DATA}/test_x.npy --precision fp16 --json)
endforeach()
set(cnns ${DATA}/cnn.safetensors)
if(ONNX)
  list(APPEND cnns ${DATA}/cnn.onnx)
endif()
foreach(m IN LISTS cnns)
  sparq_ok("6 nodes, input \\(1, 8, 8\\) -> 10 outputs, 1898 parameters, 23680 MACs" inspect ${m})
  sparq_ok("accuracy: 0.9889 \\(356 of 360, fp32\\)" eval ${m} --data ${DATA}/test_x.npy --labels ${DATA}/test_y.npy)
  sparq_ok("accuracy: 0.9[89][0-9][0-9] .*int8" eval ${m} --data ${DATA}/test_x.npy --labels ${DATA}/test_y.npy
           --precision int8 --calib ${DATA}/train_x.npy)
endforeach()

# The outputs written are the model's outputs: eval of the written file's rows would be circular,
# so check its size: a 128-byte header and 360 x 10 float32.
file(SIZE ${WORK}/digits_y.npy size)
if(NOT size EQUAL 14528)
  message(FATAL_ERROR "digits_y.npy has ${size} bytes, expected 14528")
endif()

sparq_fails("test_y.npy: expected float32 data, got <i8" run ${DATA}/mlp.safetensors --input ${DATA}/test_y.npy --output ${WORK}/z.npy)
sparq_fails("mlp_test_logits.npy: shape \\(360, 10\\) does not fit the model's input \\(batch, 64\\)"
            run ${DATA}/mlp.safetensors --input ${DATA}/mlp_test_logits.npy --output ${WORK}/z.npy)
sparq_fails("--precision int8 needs --calib" eval ${DATA}/mlp.safetensors --data ${DATA}/test_x.npy --labels ${DATA}/test_y.npy --precision int8)
sparq_fails("unknown model format" inspect ${DATA}/test_x.npy)
sparq_fails("not a .npy file" run ${DATA}/mlp.safetensors --input ${DATA}/mlp.safetensors --output ${WORK}/z.npy)
sparq_fails("--labels y.npy is needed" eval ${DATA}/mlp.safetensors --data ${DATA}/test_x.npy)
sparq_fails("which model" eval --data ${DATA}/test_x.npy)
sparq_fails("has 1437 labels for the 360 rows" eval ${DATA}/mlp.safetensors --data ${DATA}/test_x.npy --labels ${DATA}/train_y.npy)
