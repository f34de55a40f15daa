# sparq bench end to end on the digits models: every JSON key the command promises, figures
# that agree with each other (median >= min > 0, p90 >= median, throughput = batch / median),
# the energy per inference equal to `sparq energy`'s for the same model, precision and batch,
# and bad options refused with one line and exit 2 (load failures exit 1). Few calls each
# (--reps 3 --warmup 1 --min-time 0): the figures' consistency is tested here, not the speed.
string(REPLACE "|" ";" EMULATOR "${EMULATOR}")

include(${CMAKE_CURRENT_LIST_DIR}/cli_test_helpers.cmake)  # sparq_ok, check_figure

set(quick --reps 3 --warmup 1 --min-time 0)
set(calib --calib ${DATA}/train_x.npy)

# bench_fails(rc expected args...): exit code exactly `rc` and stderr one line saying `expected`.
function(bench_fails rc expected)
  execute_process(COMMAND ${EMULATOR} ${SPARQ} bench ${ARGN} RESULT_VARIABLE got OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT got STREQUAL "${rc}")
    message(FATAL_ERROR "sparq bench ${ARGN}: expected exit ${rc}, got '${got}' (${err})")
  endif()
  if(NOT err MATCHES "^sparq bench: [^\n]*${expected}[^\n]*\n$")
    message(FATAL_ERROR "sparq bench ${ARGN}: stderr '${err}' is not one line saying '${expected}'")
  endif()
endfunction()

# True (exit 0) when awk finds `condition` true: CMake has no floating-point arithmetic.
function(check_awk condition what)
  execute_process(COMMAND awk "BEGIN { exit !(${condition}) }" RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what}: ${condition} is false")
  endif()
endfunction()

# bench_json(out precision batch args...): sparq bench --json; checks every required key and how
# the figures relate; leaves the JSON text in `out`.
function(bench_json out precision batch)
  sparq_ok("^{.*}\n$" bench ${ARGN} --batch ${batch} --json)
  set(j "${RUN_OUTPUT}")
  foreach(key model precision batch threads throughput_per_s peak_rss_bytes joules_per_inference)
    string(JSON v ERROR_VARIABLE e GET "${j}" ${key})
    if(e)
      message(FATAL_ERROR "sparq bench ${ARGN}: no \"${key}\" in ${j}")
    endif()
    set(${key} "${v}")
  endforeach()
  foreach(key median p90 min)
    string(JSON ${key} ERROR_VARIABLE e GET "${j}" latency_ms ${key})
    if(e)
      message(FATAL_ERROR "sparq bench ${ARGN}: no \"latency_ms\": {\"${key}\"} in ${j}")
    endif()
  endforeach()
  if(NOT precision STREQUAL "${ARGV1}" OR NOT batch EQUAL ARGV2 OR NOT threads EQUAL 1)
    message(FATAL_ERROR "sparq bench ${ARGN}: precision ${precision}, batch ${batch}, threads ${threads} in ${j}")
  endif()
  set(what "sparq bench ${ARGV3} ${ARGV1} batch ${ARGV2}")
  check_awk("${min} > 0 && ${median} >= ${min} && ${p90} >= ${median}" "${what}: latency min ${min} median ${median} p90 ${p90}")
  check_awk("${throughput_per_s} * ${median} / 1000 > ${ARGV2} * 0.99 && ${throughput_per_s} * ${median} / 1000 < ${ARGV2} * 1.01"
            "${what}: throughput ${throughput_per_s}/s is not batch / median")
  check_awk("${peak_rss_bytes} > 1000000 && ${joules_per_inference} > 0" "${what}: peak RSS ${peak_rss_bytes}, joules ${joules_per_inference}")
  message(STATUS "${what}: median ${median} ms, p90 ${p90}, min ${min}, ${throughput_per_s}/s, RSS ${peak_rss_bytes}, ${joules_per_inference} J")
  set(${out} "${j}" PARENT_SCOPE)
endfunction()

# A 100-row copy of the test images: the .npy header of test_x.npy with its row count patched
# (the same length: "(360," -> "(100,"), then the first 100 x 64 float32.
file(READ ${DATA}/test_x.npy head LIMIT 128 HEX)
string(FIND "${head}" "283336302c" at)  # "(360,"
if(at LESS 0)
  message(FATAL_ERROR "test_x.npy's header does not say (360, ...)")
endif()
math(EXPR at "${at} / 2 + 1")
execute_process(COMMAND sh -c "head -c 25728 '${DATA}/test_x.npy' > '${WORK}/x100.npy' && printf 100 | dd of='${WORK}/x100.npy' bs=1 seek=${at} conv=notrunc 2>/dev/null"
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "could not write ${WORK}/x100.npy")
endif()

# The energy per inference is `sparq energy`'s on the same 100 rows, digit for digit: the same
# counters priced the same way. (Only for batches up to 256: sparq energy runs a longer file in
# calls of 256 rows, and the estimate per inference depends on the batch, since each call reads
# the weights once and activations are priced by the memory level their size fits.)
sparq_ok("wrote ${WORK}/bench_cnn_int8.sparq: int8" compress ${DATA}/cnn.safetensors -o ${WORK}/bench_cnn_int8.sparq --quant int8 ${calib})
set(models ${DATA}/mlp.safetensors ${DATA}/cnn.safetensors)
if(ONNX)
  list(APPEND models ${DATA}/cnn.onnx)
endif()
foreach(m IN LISTS models)
  foreach(p fp32 int8)
    set(opts --precision ${p})
    if(p STREQUAL "int8")
      list(APPEND opts ${calib})
    endif()
    bench_json(j ${p} 100 ${m} ${opts} ${quick})
    string(JSON bench_j GET "${j}" joules_per_inference)
    sparq_ok("\"joules_per_inference\"" energy ${m} --input ${WORK}/x100.npy ${opts} --json)
    string(JSON energy_j GET "${RUN_OUTPUT}" total joules_per_inference)
    if(NOT bench_j STREQUAL energy_j)
      message(FATAL_ERROR "${m} ${p}: sparq bench says ${bench_j} J per inference at batch 100, sparq energy ${energy_j}")
    endif()
  endforeach()
endforeach()
bench_json(j int8 100 ${WORK}/bench_cnn_int8.sparq ${quick})
string(JSON bench_j GET "${j}" joules_per_inference)
sparq_ok("\"joules_per_inference\"" energy ${WORK}/bench_cnn_int8.sparq --input ${WORK}/x100.npy --json)
string(JSON energy_j GET "${RUN_OUTPUT}" total joules_per_inference)
if(NOT bench_j STREQUAL energy_j)
  message(FATAL_ERROR "bench_cnn_int8.sparq: sparq bench says ${bench_j} J per inference at batch 100, sparq energy ${energy_j}")
endif()

# batch 1 (the default) and a batch past the test set, random inputs; --input's first rows
bench_json(j fp32 1 ${DATA}/mlp.safetensors ${quick})
bench_json(j fp32 540 ${DATA}/cnn.safetensors ${quick})
bench_json(j fp32 360 ${DATA}/cnn.safetensors --input ${DATA}/test_x.npy ${quick})
string(JSON inputs GET "${j}" inputs)
if(NOT inputs STREQUAL "${DATA}/test_x.npy")
  message(FATAL_ERROR "sparq bench --input: \"inputs\" is '${inputs}'")
endif()

# int8 with no --calib calibrates on the random inputs and says so, on stderr and in the JSON.
execute_process(COMMAND ${EMULATOR} ${SPARQ} bench ${DATA}/cnn.safetensors --precision int8 --batch 8 --json ${quick}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
string(JSON how ERROR_VARIABLE e GET "${out}" calibration)
if(NOT rc EQUAL 0 OR NOT how STREQUAL "random" OR NOT err MATCHES "no --calib: int8 calibrated on 8 random input rows")
  message(FATAL_ERROR "sparq bench int8 without --calib: exit ${rc}, calibration '${how}', stderr '${err}'")
endif()

# The text form: one aligned line per figure, the energy marked as an estimate; --threads 2
# says what splits across the thread pool.
sparq_ok("model +.*mlp.safetensors\nprecision +int8 \\(calibrated on .*train_x.npy\\)\nbatch +4 .*\nthreads +2: matrix products and convolutions .*thread pool\ncpu +[^\n]+\nlatency +median [0-9.]+ (us|ms), p90 [0-9.]+ (us|ms), min [0-9.]+ (us|ms) per call \\(3 timed calls after 1 warm-up\\)\nthroughput +[0-9.]+ inferences/s\npeak RSS +[0-9.]+ MB \\([0-9]+ bytes\\)\nscratch +[0-9.]+ KB .*\nenergy +[0-9.]+ [pnu]J per inference \\(an estimate, not a measurement"
         bench ${DATA}/mlp.safetensors --precision int8 ${calib} --batch 4 --threads 2 ${quick})
# --min-time: timed calls go on past --reps until that many seconds have passed
sparq_ok("\"reps\": [0-9]+" bench ${DATA}/mlp.safetensors --reps 1 --warmup 0 --min-time 0.2 --json)
string(JSON reps GET "${RUN_OUTPUT}" reps)
if(reps LESS 100)
  message(FATAL_ERROR "sparq bench --min-time 0.2: only ${reps} timed calls of a microsecond model")
endif()

# --layers: every layer in the JSON with its kind, time and multiply-adds; the layers' time within
# the profiled call's, their multiply-adds those of the model (the CNN: 2 conv + 2 fc, batch 4).
sparq_ok("\"layers\": \\[" bench ${DATA}/cnn.safetensors --batch 4 --layers --json ${quick})
set(j "${RUN_OUTPUT}")
string(JSON n LENGTH "${j}" layers)
string(JSON call_ms GET "${j}" profile_call_ms)
string(JSON calls GET "${j}" profile_calls)
set(sum_ms 0)
set(sum_macs 0)
set(convs 0)
math(EXPR last "${n} - 1")
foreach(i RANGE ${last})
  string(JSON kind GET "${j}" layers ${i} kind)
  string(JSON ms GET "${j}" layers ${i} ms)
  string(JSON macs GET "${j}" layers ${i} macs)
  string(JSON name GET "${j}" layers ${i} name)
  set(sum_ms "${sum_ms} + ${ms}")
  math(EXPR sum_macs "${sum_macs} + ${macs}")
  if(kind STREQUAL "conv2d")
    math(EXPR convs "${convs} + 1")
  endif()
endforeach()
string(JSON kinds LENGTH "${j}" layer_kinds)
# the digits CNN: two convolutions, two max pools, a flatten and a fully connected layer
if(NOT calls EQUAL 3 OR convs LESS 2 OR kinds LESS 3)
  message(FATAL_ERROR "sparq bench --layers: ${calls} calls, ${convs} convolutions, ${kinds} kinds in ${j}")
endif()
check_awk("${sum_ms} <= ${call_ms} && ${sum_ms} > 0" "sparq bench --layers: the layers' ms against the call's ${call_ms}")
sparq_ok("\"joules_per_inference\"" energy ${DATA}/cnn.safetensors --input ${WORK}/x100.npy --json)
string(JSON energy_layers LENGTH "${RUN_OUTPUT}" layers)
set(energy_macs 0)
math(EXPR last "${energy_layers} - 1")
foreach(i RANGE ${last})
  string(JSON macs GET "${RUN_OUTPUT}" layers ${i} macs)
  math(EXPR energy_macs "${energy_macs} + ${macs}")
endforeach()
math(EXPR want "${energy_macs} * 4 / 100")  # energy ran the 100 rows, bench a batch of 4
if(NOT sum_macs EQUAL want)
  message(FATAL_ERROR "sparq bench --layers: ${sum_macs} multiply-adds a call, sparq energy ${energy_macs} for 100 rows")
endif()
sparq_ok("per layer: the mean of 3 calls counting each layer .*\n  kind +ms +share +MACs +GMAC/s\n  conv2d .*the [0-9]+ layers that took the most time:\n"
         bench ${DATA}/cnn.safetensors --batch 4 --layers ${quick})

# Bad options: exit 2, one line; a model or inputs that fail to load: exit 1.
bench_fails(2 "which model" --batch 2)
bench_fails(2 "--batch needs a whole number in \\[1, 1048576\\], got '0'" ${DATA}/mlp.safetensors --batch 0)
bench_fails(2 "--warmup needs a whole number in \\[0, 100000\\], got '-1'" ${DATA}/mlp.safetensors --warmup -1)
bench_fails(2 "--reps needs a whole number" ${DATA}/mlp.safetensors --reps x)
bench_fails(2 "--threads needs a whole number" ${DATA}/mlp.safetensors --threads 0)
bench_fails(2 "--min-time takes seconds in \\[0, 3600\\], got '-1'" ${DATA}/mlp.safetensors --min-time -1)
bench_fails(2 "--precision is fp32, fp16, bf16, int8 or int4, not 'int3'" ${DATA}/mlp.safetensors --precision int3)
bench_fails(2 "--calib is for --precision int8 \\(not fp16\\)" ${DATA}/mlp.safetensors --precision fp16 ${calib})
bench_fails(2 "--seed draws random inputs; --input gives them" ${DATA}/mlp.safetensors --input ${DATA}/test_x.npy --seed 2)
bench_fails(2 "unknown option '--bogus'" ${DATA}/mlp.safetensors --bogus 1)
bench_fails(2 "--reps needs a value" ${DATA}/mlp.safetensors --reps)
bench_fails(2 "--max-work needs operations per sample" ${DATA}/mlp.safetensors --max-work 0)
bench_fails(2 "bench_cnn_int8.sparq is int8: --precision fp32 conflicts" ${WORK}/bench_cnn_int8.sparq --precision fp32)
bench_fails(2 "bench_cnn_int8.sparq is compressed already: --calib does not apply" ${WORK}/bench_cnn_int8.sparq ${calib})
bench_fails(1 "test_x.npy has 360 rows, fewer than --batch 361" ${DATA}/mlp.safetensors --input ${DATA}/test_x.npy --batch 361)
bench_fails(1 "test_y.npy: expected float32 data" ${DATA}/mlp.safetensors --input ${DATA}/test_y.npy)
bench_fails(1 "unknown model format" ${DATA}/test_x.npy)
bench_fails(1 "nope.safetensors" ${DATA}/nope.safetensors)
