#!/usr/bin/env bash
# Installs what sparq needs from Debian's packages, and only what is missing. Safe to run
# again: when everything is there it changes nothing. Needs root (or sudo) to install.
#
#   scripts/setup.sh            build, test and benchmark dependencies
#   scripts/setup.sh --zoo      also what the model zoo's tests need at test time (the release preset's
#                               label zoo: PyTorch, torchvision, onnx, numpy; scripts/test.sh asks for it)
#   scripts/setup.sh --gen      also what all reference-data generators need (the zoo's + scikit-learn)
set -euo pipefail

packages=(
  cmake ninja-build g++ pkg-config     # build
  libtsan2                             # ThreadSanitizer's runtime (the tsan preset; g++ brings it too)
  doctest-dev libgemmlowp-dev          # tests (gemmlowp: the requantization reference)
  libxsimd-dev                         # SIMD kernels (SPARQ_WITH_XSIMD)
  libdnnl-dev ocl-icd-opencl-dev      # oneDNN backend (SPARQ_WITH_DNNL); its CMake package needs OpenCL
  libeigen3-dev libbenchmark-dev       # benchmarks: Eigen is an anchor, Google Benchmark runs them
  g++-aarch64-linux-gnu qemu-user      # the aarch64 (NEON) build, its tests run under qemu-aarch64
  gcc-arm-none-eabi libstdc++-arm-none-eabi-newlib libnewlib-arm-none-eabi  # Cortex-M firmware builds
  qemu-system-arm                      # runs the Cortex-M firmware (MPS2 boards) in CI
  clang-14 libclang-rt-14-dev          # the libFuzzer targets (fuzz preset)
  libonnx-dev libprotobuf-dev          # ONNX import in the sparq program
)
case "${1:-}" in
  "") ;;
  --zoo) packages+=(python3-torch python3-torchvision python3-onnx python3-numpy) ;;
  --gen) packages+=(python3-torch python3-torchvision python3-onnx python3-numpy python3-sklearn) ;;
  *) echo "setup: unknown option '$1' (--zoo, --gen)" >&2; exit 2 ;;
esac

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "setup: all ${#packages[@]} packages already installed"
  exit 0
fi

echo "setup: installing ${missing[*]}"
sudo=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "setup: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
