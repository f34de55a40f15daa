#!/usr/bin/env bash
# One benchmark run, single thread, as JSON, then the table of ratios in docs/kernels.md.
#   bench/run.sh [extra Google Benchmark flags, e.g. --benchmark_filter=matmul]
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --preset release >/dev/null
cmake --build --preset release --target sparq_bench
out=build/release/bench-$(date -u +%Y%m%d-%H%M%S).json
# oneDNN is built with OpenMP: one thread for the comparable rows. Eigen and sparq use one anyway.
# Repetitions interleaved at random: on shared VMs a burst of noise then spreads over all rows
# instead of sinking the few that happened to run during it.
OMP_NUM_THREADS=1 build/release/bench/sparq_bench --benchmark_min_time=0.5 --benchmark_repetitions=3 \
  --benchmark_enable_random_interleaving=true \
  --benchmark_report_aggregates_only=true --benchmark_format=json --benchmark_out="$out" "$@" >/dev/null
python3 bench/table.py "$out" > docs/kernels-results.md
echo "wrote $out and docs/kernels-results.md"
