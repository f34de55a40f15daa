#!/usr/bin/env bash
# Builds and runs the whole test suite through ctest: the dev build (debug checks, all backends
# found, native SIMD, warnings as errors, every float32 through the float16/bfloat16 paths), the
# ASan+UBSan build, ThreadSanitizer on the tests that run threads, the build with no optional
# dependency at all, the aarch64 cross build
# (NEON paths, tests under qemu-aarch64), the libFuzzer targets for a short run each, and the
# release build (optimised; its tests include the model zoo: torchvision classifiers exported by
# PyTorch, generated at test time, imported and run against PyTorch's outputs, docs/zoo.md).
#
#   scripts/test.sh             all seven
#   scripts/test.sh dev         one of them (dev, asan, tsan, nodeps, aarch64, fuzz, release)
set -euo pipefail
cd "$(dirname "$0")/.."

presets=("$@")
[[ ${#presets[@]} -eq 0 ]] && presets=(dev asan tsan nodeps aarch64 fuzz release)
# The zoo needs PyTorch at test time: installed only when the release preset runs.
if [[ " ${presets[*]} " == *" release "* ]]; then
  scripts/setup.sh --zoo
else
  scripts/setup.sh
fi
for p in "${presets[@]}"; do
  echo "=== $p ==="
  cmake --workflow --preset "$p"
done
echo "all test presets passed: ${presets[*]}"
