# example_distill_digits --quick (30 epochs, one seed): exit 0 and the figures docs/distillation.md
# stands on, with bounds under what --quick measured (2026-12-07; debug and release builds print
# the same figures): teacher 0.9806; the 150-row student with the teacher on all 1437 images,
# KD - CE +0.1417; the teacher pruned to 80 % and fine-tuned (CE) 0.9694; the teacher in int8
# (post-training) 0.9806, as in fp32.
string(REPLACE "|" ";" EMULATOR "${EMULATOR}")
include(${CMAKE_CURRENT_LIST_DIR}/../tools/sparq/cli_test_helpers.cmake)  # run_ok, check_figure

run_ok(${PROGRAM} "## 7\\. The digits CNN" --quick)
set(out "${RUN_OUTPUT}")
check_figure("${out}" "teacher fp32 test accuracy: ([0-9.]+)" 0.95 "" "teacher accuracy")
check_figure("${out}" "\\| 150 labelled \\(15 per class\\) \\+ the teacher on all 1437 images \\| [0-9.]+ \\| [0-9.]+ \\| ([-+][0-9.]+) \\|"
             0.08 "" "KD with the teacher on all images, minus CE (150 labels)")
check_figure("${out}" "\\| pruned \\+ CE fine-tune \\| [0-9.]+ \\| ([0-9.]+) \\|" 0.95 "" "pruned 80 % + fine-tune accuracy")
check_figure("${out}" "\\| teacher, PTQ \\| ([0-9.]+) \\|" 0.95 "" "teacher fp32 (PTQ row)" OUT fp32)
string(REPLACE "." "" f "${fp32}")
check_figure("${out}" "\\| teacher, PTQ \\| [0-9.]+ \\| ([0-9.]+) \\|" 0 "" "teacher int8 (PTQ)" OUT int8)
string(REPLACE "." "" q "${int8}")
math(EXPR drop "${f} - ${q}")  # in 1/10000
if(drop GREATER 100)
  message(FATAL_ERROR "the teacher loses more than a point in int8: ${fp32} -> ${int8}")
endif()
