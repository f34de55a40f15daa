#!/usr/bin/env bash
# Builds and runs the whole test suite through ctest: the dev build (debug checks, all backends
# found, native SIMD, warnings as errors, every float32 through the float16/bfloat16 paths), the
# ASan+UBSan build, the build with no optional dependency at all, and the aarch64 cross build
# (NEON paths, tests under qemu-aarch64), and the libFuzzer targets for a short run each.
#
#   scripts/test.sh             all five
#   scripts/test.sh dev         one of them (dev, asan, nodeps, aarch64, fuzz)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

presets=("$@")
[[ ${#presets[@]} -eq 0 ]] && presets=(dev asan nodeps aarch64 fuzz)
for p in "${presets[@]}"; do
  echo "=== $p ==="
  cmake --workflow --preset "$p"
done
echo "all test presets passed: ${presets[*]}"
