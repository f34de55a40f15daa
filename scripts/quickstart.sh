#!/usr/bin/env bash
# The main job, from nothing: install what is missing, build the release preset, run it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake --preset release
cmake --build --preset release --target sparq_cli
echo
build/release/tools/sparq/sparq digits "$@"
