# The model commands end to end on the built-in digits files: accuracy printed, outputs written
# and read back, energy as JSON, and bad inputs refused with one clear line.
string(REPLACE "|" ";" EMULATOR "${EMULATOR}")

include(${CMAKE_CURRENT_LIST_DIR}/cli_test_helpers.cmake)  # sparq_ok, sparq_fails, check_figure

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

# --threads: the same outputs and energy on 3 threads (the ops split rows and panels, never a sum)
foreach(t 1 3)
  sparq_ok("wrote ${WORK}/cnn_t${t}.npy: \\(360, 10\\)" run ${DATA}/cnn.safetensors --input ${DATA}/test_x.npy --output ${WORK}/cnn_t${t}.npy
           --threads ${t})
endforeach()
file(SHA256 ${WORK}/cnn_t1.npy one_thread)
file(SHA256 ${WORK}/cnn_t3.npy three_threads)
if(NOT one_thread STREQUAL three_threads)
  message(FATAL_ERROR "sparq run --threads 3 wrote other outputs than --threads 1")
endif()
sparq_fails("--threads needs a whole number in \\[1, 1024\\]" run ${DATA}/cnn.safetensors --input ${DATA}/test_x.npy --output ${WORK}/z.npy --threads 0)

# The outputs written are the model's outputs: eval of the written file's rows would be circular,
# so check its size: a 128-byte header and 360 x 10 float32.
file(SIZE ${WORK}/digits_y.npy size)
if(NOT size EQUAL 14528)
  message(FATAL_ERROR "digits_y.npy has ${size} bytes, expected 14528")
endif()

sparq_fails("test_y.npy: expected float32 data, got <i8" run ${DATA}/mlp.safetensors --input ${DATA}/test_y.npy --output ${WORK}/z.npy)
sparq_fails("mlp_test_logits.npy: shape \\(360, 10\\) does not fit the model's input \\(batch, 64, 1, 1\\) or \\(batch, 64\\)"
            run ${DATA}/mlp.safetensors --input ${DATA}/mlp_test_logits.npy --output ${WORK}/z.npy)
sparq_fails("--precision int8 needs --calib" eval ${DATA}/mlp.safetensors --data ${DATA}/test_x.npy --labels ${DATA}/test_y.npy --precision int8)
sparq_fails("unknown model format" inspect ${DATA}/test_x.npy)
sparq_fails("not a .npy file" run ${DATA}/mlp.safetensors --input ${DATA}/mlp.safetensors --output ${WORK}/z.npy)
sparq_fails("--labels y.npy is needed" eval ${DATA}/mlp.safetensors --data ${DATA}/test_x.npy)
sparq_fails("which model" eval --data ${DATA}/test_x.npy)
sparq_fails("has 1437 labels for the 360 rows" eval ${DATA}/mlp.safetensors --data ${DATA}/test_x.npy --labels ${DATA}/train_y.npy)

# compress: .sparq files that run, evaluate and inspect as compiled, with no calibration.
sparq_ok("wrote ${WORK}/mlp_int8.sparq: int8, 2 layers, 10600 bytes stored \\(fp32: 38440\\)"
         compress ${DATA}/mlp.safetensors -o ${WORK}/mlp_int8.sparq --quant int8 --calib ${DATA}/train_x.npy --per-channel)
sparq_ok("wrote ${WORK}/cnn_fp16.sparq: fp16, 6 layers" compress ${DATA}/cnn.safetensors -o ${WORK}/cnn_fp16.sparq --quant fp16)
sparq_ok("accuracy: 0.9[5-9][0-9][0-9] \\([0-9]+ of 360, int8\\)" eval ${WORK}/mlp_int8.sparq --data ${DATA}/test_x.npy --labels ${DATA}/test_y.npy)
sparq_ok("accuracy: 0.98[0-9][0-9] \\([0-9]+ of 360, fp16\\)" eval ${WORK}/cnn_fp16.sparq --data ${DATA}/test_x.npy --labels ${DATA}/test_y.npy)
sparq_ok("mlp_int8.sparq: int8, 2 nodes, 64 -> 10 features, 10600 bytes stored.*fc1 +linear +\\(128, 1, 1\\) +relu +int8 +8192 int8"
         inspect ${WORK}/mlp_int8.sparq)
sparq_ok("\"total\": {\"macs\": 3409920," energy ${WORK}/mlp_int8.sparq --input ${DATA}/test_x.npy --json)
# an int8 model loaded from a file refuses non-finite inputs as the one compiled in memory does
sparq_fails("digits_nan.npy: row 2, feature 17 is NaN: an int8 model needs finite inputs"
            run ${WORK}/mlp_int8.sparq --input ${CMAKE_CURRENT_LIST_DIR}/../../tests/data/hostile/digits_nan.npy --output ${WORK}/z.npy)
# The .sparq file's outputs are those of the model compiled in memory with the same options.
sparq_ok("wrote ${WORK}/y_mem.npy" run ${DATA}/mlp.safetensors --precision int8 --calib ${DATA}/train_x.npy --input ${DATA}/test_x.npy
         --output ${WORK}/y_mem.npy)
sparq_ok("wrote ${WORK}/y_file.npy: \\(360, 10\\) float32 \\(int8\\)" run ${WORK}/mlp_int8.sparq --input ${DATA}/test_x.npy --output ${WORK}/y_file.npy)
execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${WORK}/y_mem.npy ${WORK}/y_file.npy RESULT_VARIABLE same)
if(NOT same EQUAL 0)
  message(FATAL_ERROR "sparq run of mlp_int8.sparq differs from the same model compiled in memory")
endif()
sparq_ok("wrote ${WORK}/mlp_int8.h: namespace digits, int8, 2 layers" export-c ${WORK}/mlp_int8.sparq -o ${WORK}/mlp_int8.h --name digits)

sparq_fails("--precision int8 needs --calib" compress ${DATA}/mlp.safetensors -o ${WORK}/z.sparq --quant int8)
sparq_fails("-o OUT.sparq is needed" compress ${DATA}/mlp.safetensors --quant fp16)
# int4: weight-only linear layers, a scale per 32 weights; it round-trips and exports.
sparq_ok("wrote ${WORK}/mlp_int4.sparq: int4, 2 layers, 6472 bytes stored \\(fp32: 38440\\)" compress ${DATA}/mlp.safetensors -o ${WORK}/mlp_int4.sparq --quant int4)
sparq_ok("fc1 +linear .* 8192 int4" inspect ${WORK}/mlp_int4.sparq)
sparq_ok("accuracy: 0\\.9[0-9]+ \\([0-9]+ of 360, int4\\)" eval ${WORK}/mlp_int4.sparq --data ${DATA}/test_x.npy --labels ${DATA}/test_y.npy)
sparq_ok("wrote ${WORK}/mlp_int4.h: namespace digits4, int4, 2 layers" export-c ${WORK}/mlp_int4.sparq -o ${WORK}/mlp_int4.h --name digits4)
# Mixed precision: named layers kept in fp32 inside the int8 model, or chosen by --sensitivity.
sparq_ok("wrote ${WORK}/mlp_mixed.sparq: int8, 2 layers, 34664 bytes stored"
         compress ${DATA}/mlp.safetensors -o ${WORK}/mlp_mixed.sparq --quant int8 --calib ${DATA}/train_x.npy --float-layers fc1)
sparq_ok("fc1 +linear +\\(128, 1, 1\\) +relu +float +8192 fp32\n.*fc2 .* 1280 int8" inspect ${WORK}/mlp_mixed.sparq)
sparq_ok("accuracy: 0\\.9[0-9]+" eval ${WORK}/mlp_mixed.sparq --data ${DATA}/test_x.npy --labels ${DATA}/test_y.npy)
sparq_ok("sensitivity on .*test_x.npy: fp32 [0-9.]+%, int8 [0-9.]+%.*\\| conv1 \\| [0-9.]+% \\| [-+][0-9.]+ \\|.*\\| fc \\|.*kept in fp32 \\(within 0.00 points of fp32\\): .*int8 accuracy"
         compress ${DATA}/cnn.safetensors -o ${WORK}/cnn_sens.sparq --quant int8 --calib ${DATA}/train_x.npy --sensitivity
         --data ${DATA}/test_x.npy --labels ${DATA}/test_y.npy --max-drop 0)
sparq_fails("no linear or conv2d node named 'fc9'" compress ${DATA}/mlp.safetensors -o ${WORK}/z.sparq --quant int8 --calib ${DATA}/train_x.npy --float-layers fc9)
sparq_fails("float layers are for int8 models" compress ${DATA}/mlp.safetensors -o ${WORK}/z.sparq --quant fp16 --float-layers fc1)
sparq_fails("--float-layers takes node names separated by commas" compress ${DATA}/mlp.safetensors -o ${WORK}/z.sparq --float-layers fc1,,fc2)
sparq_fails("--sensitivity needs --data X.npy --labels y.npy" compress ${DATA}/mlp.safetensors -o ${WORK}/z.sparq --quant int8 --calib ${DATA}/train_x.npy --sensitivity)
sparq_fails("--sensitivity chooses float layers of an int8 model" compress ${DATA}/mlp.safetensors -o ${WORK}/z.sparq --sensitivity --data ${DATA}/test_x.npy --labels ${DATA}/test_y.npy)
sparq_fails("--max-drop takes points of accuracy in \\[0, 100\\]" compress ${DATA}/mlp.safetensors -o ${WORK}/z.sparq --max-drop -1)

# --prune: a pattern by magnitude before compiling; bad specs refused before anything is written.
file(REMOVE ${WORK}/z.sparq)
sparq_fails("prune spec '50%': the share must be in \\[0, 1\\)" compress ${DATA}/mlp.safetensors -o ${WORK}/z.sparq --prune 50%)
sparq_fails("prune spec '3:2': N:M keeps N of every M: N must not exceed M" compress ${DATA}/mlp.safetensors -o ${WORK}/z.sparq --prune 3:2)
sparq_fails("prune spec 'tiles:0.5': unknown pattern" compress ${DATA}/mlp.safetensors -o ${WORK}/z.sparq --prune tiles:0.5)
sparq_fails("layer 'fc2': prune: a 4 x 4 block does not divide the \\[10, 128\\] weight"
            compress ${DATA}/mlp.safetensors -o ${WORK}/z.sparq --prune block:4x4:0.5)
if(EXISTS ${WORK}/z.sparq)
  message(FATAL_ERROR "a refused --prune wrote ${WORK}/z.sparq")
endif()
sparq_ok("wrote ${WORK}/mlp_24.sparq: int8, 2 layers, [0-9]+ bytes stored \\(fp32: 38440\\), 50.0% of the weights pruned"
         compress ${DATA}/mlp.safetensors -o ${WORK}/mlp_24.sparq --quant int8 --calib ${DATA}/train_x.npy --prune 2:4)
# Pruned models, one shot (no fine-tuning), bounds a few points under what was measured
# (2026-12-07, debug build): the MLP 2:4 0.8306 in fp32 and in int8 (the .sparq file, its layers
# run from CSRs); the CNN global:0.5 0.8778 in fp32, 0.8750 in int8 (tests/nn/test_pruned_int8.cpp
# bounds the same path against fp32 and the dense int8 kernels).
sparq_ok("accuracy: [0-9.]+ \\([0-9]+ of 360, fp32\\)" eval ${DATA}/mlp.safetensors --data ${DATA}/test_x.npy --labels ${DATA}/test_y.npy --prune 2:4)
check_figure("${RUN_OUTPUT}" "accuracy: ([0-9.]+)" 0.80 "" "mlp 2:4 fp32 accuracy" OUT acc_24_fp32)
sparq_ok("accuracy: [0-9.]+ \\([0-9]+ of 360, int8\\)" eval ${WORK}/mlp_24.sparq --data ${DATA}/test_x.npy --labels ${DATA}/test_y.npy)
check_figure("${RUN_OUTPUT}" "accuracy: ([0-9.]+)" 0.80 "" "mlp_24.sparq int8 accuracy" OUT acc_24_int8)
# int8 within a point of the same pruned weights in fp32 (cmake has no float arithmetic: x 10000)
string(REPLACE "." "" a32 "${acc_24_fp32}")
string(REPLACE "." "" a8 "${acc_24_int8}")
math(EXPR drop "${a32} - ${a8}")
if(drop GREATER 100)
  message(FATAL_ERROR "mlp_24.sparq: int8 accuracy ${acc_24_int8} is more than a point under the pruned fp32 model's ${acc_24_fp32}")
endif()
# The 2:4 layers run from CSRs: MACs counted are the nonzero codes, half of the dense 3409920.
sparq_ok("\"total\": {\"macs\": 1704960," energy ${WORK}/mlp_24.sparq --input ${DATA}/test_x.npy --json)
sparq_ok("accuracy: [0-9.]+ \\([0-9]+ of 360, fp32\\)" eval ${DATA}/cnn.safetensors --data ${DATA}/test_x.npy --labels ${DATA}/test_y.npy --prune global:0.5)
check_figure("${RUN_OUTPUT}" "accuracy: ([0-9.]+)" 0.85 "" "cnn global:0.5 fp32 accuracy")
sparq_ok("accuracy: [0-9.]+ \\([0-9]+ of 360, int8\\)" eval ${DATA}/cnn.safetensors --data ${DATA}/test_x.npy --labels ${DATA}/test_y.npy
         --prune global:0.5 --precision int8 --calib ${DATA}/train_x.npy)
check_figure("${RUN_OUTPUT}" "accuracy: ([0-9.]+)" 0.85 "" "cnn global:0.5 int8 accuracy")
sparq_fails("--precision, --calib, --observer and --prune do not apply"
            eval ${WORK}/mlp_24.sparq --data ${DATA}/test_x.npy --labels ${DATA}/test_y.npy --prune 0.5)
sparq_fails("--quant is fp32, fp16, bf16, int8 or int4, not 'int3'" compress ${DATA}/mlp.safetensors -o ${WORK}/z.sparq --quant int3)
sparq_fails("mlp_int8.sparq is compressed already" compress ${WORK}/mlp_int8.sparq -o ${WORK}/z.sparq)
sparq_fails("mlp_int8.sparq is compressed already: --precision, --calib, --observer and --prune do not apply"
            run ${WORK}/mlp_int8.sparq --precision int8 --calib ${DATA}/train_x.npy --input ${DATA}/test_x.npy --output ${WORK}/z.npy)
sparq_fails("is not a .sparq file \\(sparq compress makes one\\)" export-c ${DATA}/mlp.safetensors -o ${WORK}/z.h)
sparq_fails("'9lives' is not a C\\+\\+ identifier" export-c ${WORK}/mlp_int8.sparq -o ${WORK}/z.h --name 9lives)
# Damaged .sparq files: one line naming the file and the damage, a non-zero exit.
execute_process(COMMAND head -c 1000 ${WORK}/mlp_int8.sparq OUTPUT_FILE ${WORK}/truncated.sparq)
sparq_fails("truncated.sparq: offset 16: the header says [0-9]+ payload bytes, the file has 968 \\(truncated or extended\\)"
            run ${WORK}/truncated.sparq --input ${DATA}/test_x.npy --output ${WORK}/z.npy)
file(COPY_FILE ${WORK}/mlp_int8.sparq ${WORK}/corrupted.sparq)
execute_process(COMMAND sh -c "printf 'X' | dd of=${WORK}/corrupted.sparq bs=1 seek=5000 conv=notrunc 2>/dev/null")
sparq_fails("corrupted.sparq: payload checksum mismatch \\(the file is corrupted\\)" inspect ${WORK}/corrupted.sparq)
file(COPY_FILE ${WORK}/digits_y.npy ${WORK}/not_a_model.sparq)
sparq_fails("not_a_model.sparq: not a .sparq file" eval ${WORK}/not_a_model.sparq --data ${DATA}/test_x.npy --labels ${DATA}/test_y.npy)
