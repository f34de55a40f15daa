# Bad command lines: a non-zero exit and one clear line on stderr, never a crash.
string(REPLACE "|" ";" EMULATOR "${EMULATOR}")

include(${CMAKE_CURRENT_LIST_DIR}/cli_test_helpers.cmake)  # sparq_fails

sparq_fails("unknown command 'frobnicate'" frobnicate)
sparq_fails("usage: sparq")
sparq_fails("unknown option '--bogus'" demo --bogus)
sparq_fails("--rows needs a whole number in \\[1, 16384\\], got 'abc'" demo --rows abc)
sparq_fails("--rows needs a whole number in \\[1, 16384\\], got '0'" demo --rows 0)
sparq_fails("--batch needs a value" demo --batch)
sparq_fails("--min-int8-sqnr takes a number of dB, not 'abc'" demo --min-int8-sqnr abc)
sparq_fails("--min-fp16-sqnr needs a value" demo --min-fp16-sqnr)
sparq_fails("--cols needs a whole number in \\[1, 16384\\], got '99999999999999999999'" demo --cols 99999999999999999999)
sparq_fails("--weights needs --rows and --cols" quant-report --weights x.f32)
sparq_fails("cannot open /nonexistent.f32" quant-report --weights /nonexistent.f32 --rows 2 --cols 2)
sparq_fails("unknown option '--nope'" quant-report --nope 1)
sparq_fails("--observer is minmax, histogram, percentile, mse or entropy, not 'best'" digits --observer best)
sparq_fails("loading the model: .*/nonexistent/mlp.safetensors: cannot open" digits --data /nonexistent)
sparq_fails("--precision is fp32, fp16 or int8, not 'int3'" measure --precision int3)
sparq_fails("--seconds needs seconds in \\[0, 3600\\], got '-1'" measure --seconds -1)
sparq_fails("--cost: .*nonexistent.cost: cannot open" measure --cost /nonexistent.cost)
sparq_fails("usage: sparq compress MODEL -o OUT.sparq" compress)
sparq_fails("usage: sparq export-c MODEL.sparq -o model.h" export-c)
sparq_fails("cannot open" export-c /nonexistent.sparq -o /tmp/z.h)
# Hostile files: docs/hostile-inputs.md, run by test_hostile_inputs.cmake; here, what needs more
# than one command.
set(HOSTILE ${CMAKE_CURRENT_LIST_DIR}/../../tests/data/hostile)
# Bad data into int8 models (tests/data/hostile, made by tools/gen/make_hostile_inputs.py): NaN and
# Inf in inputs and calibration sets, and all-zero calibration, refused with the row and feature.
set(INT8 --precision int8 --calib ${DATA}/train_x.npy)
file(REMOVE ${WORK}/hostile_y.npy ${WORK}/hostile.sparq)
sparq_fails("running the model: invalid argument: .*digits_nan.npy: row 2, feature 17 is NaN: an int8 model needs finite inputs"
            run ${DATA}/mlp.safetensors ${INT8} --input ${HOSTILE}/digits_nan.npy --output ${WORK}/hostile_y.npy)
if(EXISTS ${WORK}/hostile_y.npy)
  message(FATAL_ERROR "sparq run wrote ${WORK}/hostile_y.npy for an input it refused")
endif()
sparq_fails("digits_neg_inf.npy: row 3, feature 40 is -Inf: an int8 model needs finite inputs"
            eval ${DATA}/mlp.safetensors ${INT8} --data ${HOSTILE}/digits_neg_inf.npy --labels ${HOSTILE}/digits_y.npy)
sparq_fails("digits_nan.npy: row 2, feature 17 is NaN: an int8 model needs finite inputs"
            energy ${DATA}/cnn.safetensors ${INT8} --input ${HOSTILE}/digits_nan.npy)
# The CLI runs 256 rows at a time: the row named is the file's (300), not the batch's (44).
sparq_fails("tiny_nan_row300.npy: row 300, feature 1 is NaN: an int8 model needs finite inputs"
            run ${HOSTILE}/tiny.safetensors --precision int8 --calib ${HOSTILE}/tiny_calib.npy --input ${HOSTILE}/tiny_nan_row300.npy
            --output ${WORK}/hostile_y.npy)
sparq_fails("compile int8: calibration row 2, feature 17 is NaN: calibration needs finite inputs"
            run ${DATA}/mlp.safetensors --precision int8 --calib ${HOSTILE}/digits_nan.npy --input ${DATA}/test_x.npy --output ${WORK}/hostile_y.npy)
sparq_fails("compile int8: calibration row 3, feature 40 is -Inf: calibration needs finite inputs"
            compress ${DATA}/mlp.safetensors -o ${WORK}/hostile.sparq --quant int8 --calib ${HOSTILE}/digits_neg_inf.npy)
sparq_fails("compile int8: the calibration inputs are all zero \\(4 rows of 64\\): activation ranges need real sample inputs"
            compress ${DATA}/mlp.safetensors -o ${WORK}/hostile.sparq --quant int8 --calib ${HOSTILE}/digits_zeros.npy)
if(EXISTS ${WORK}/hostile.sparq)
  message(FATAL_ERROR "sparq compress wrote ${WORK}/hostile.sparq from calibration data it refused")
endif()
# fp32 models are not checked: NaN propagates as in PyTorch (tests/nn/test_model.cpp).
sparq_ok("wrote ${WORK}/hostile_y.npy: \\(301, 2\\) float32 \\(fp32\\)"
         run ${HOSTILE}/tiny.safetensors --input ${HOSTILE}/tiny_nan_row300.npy --output ${WORK}/hostile_y.npy)
file(REMOVE ${WORK}/hostile_y.npy)
