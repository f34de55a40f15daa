# Bad command lines: a non-zero exit and one clear line on stderr, never a crash.
string(REPLACE "|" ";" EMULATOR "${EMULATOR}")

include(${CMAKE_CURRENT_LIST_DIR}/cli_test_helpers.cmake)  # sparq_fails

sparq_fails("unknown command 'frobnicate'" frobnicate)
sparq_fails("usage: sparq")
sparq_fails("unknown option '--bogus'" demo --bogus)
sparq_fails("--rows needs a whole number in \\[1, 16384\\], got 'abc'" demo --rows abc)
sparq_fails("--rows needs a whole number in \\[1, 16384\\], got '0'" demo --rows 0)
sparq_fails("--batch needs a value" demo --batch)
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
# Hostile files: docs/hostile-inputs.md, run by test_hostile_inputs.cmake.
