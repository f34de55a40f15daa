# sparq distill / finetune end to end on the built-in digits data, a few epochs each: the model
# file written and loadable, accuracy and energy before and after printed, bad options refused.
string(REPLACE "|" ";" EMULATOR "${EMULATOR}")

include(${CMAKE_CURRENT_LIST_DIR}/cli_test_helpers.cmake)  # sparq_ok, sparq_fails

sparq_ok("usage: sparq distill" distill --help)
sparq_ok("usage: sparq finetune" finetune --help)
sparq_ok("KD loss: T 8, alpha 0.9.*\\| teacher fp32 \\| 9[0-9]\\.[0-9][0-9]% .*\\| after fp32 \\| [0-9]+\\.[0-9][0-9]% .*before:.*after:.*wrote ${WORK}/student.safetensors"
         distill --epochs 3 --hidden 16 --out ${WORK}/student.safetensors)
# the written student is a model the other commands take
sparq_ok("fc1 .*fc2" inspect ${WORK}/student.safetensors)
sparq_ok("\\| after int8 \\| 9[0-9]\\.[0-9][0-9]% \\| 80\\.[0-9]% .*pruned weights are zeros"
         finetune --prune 0.8 --qat --epochs 2 --out ${WORK}/finetuned.safetensors)
sparq_fails("--prune needs a number in \\[0, 0.99\\], got '2'" finetune --prune 2)
sparq_fails("--hidden takes widths like 32 or 64,32, got '3x'" distill --hidden 3x)
sparq_fails("--hidden \\(a fresh student\\) and --prune \\(the pruned teacher\\) exclude each other" distill --hidden 8 --prune 0.5)
sparq_fails("unknown option '--model'" distill --model x.safetensors)
sparq_fails("loading the teacher: .*/nonexistent.safetensors: cannot open" distill --teacher /nonexistent.safetensors)
sparq_fails("reading the training images: .*nonexistent/train_x.npy: cannot open" finetune --data /nonexistent)
