#!/usr/bin/env bash
# Builds and runs the whole test suite through ctest: the dev build (debug checks, all backends
# found, native SIMD, warnings as errors, every float32 through the float16/bfloat16 paths), the
# ASan+UBSan build, and the build with no optional dependency at all.
#
#   scripts/test.sh             all three
#   scripts/test.sh dev         one of them (dev, asan, nodeps)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

presets=("$@")
[[ ${#presets[@]} -eq 0 ]] && presets=(dev asan nodeps)
for p in "${presets[@]}"; do
  echo "=== $p ==="
  cmake --workflow --preset "$p"
done
echo "all test presets passed: ${presets[*]}"
