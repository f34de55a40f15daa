#!/usr/bin/env bash
# Whole models, sparq against ONNX Runtime, interleaved (docs/performance.md): for each model of
# the zoo, sparq bench fp32 and int8 at batch 1 and N, then ONNX Runtime's fp32 and QDQ int8 on
# the same .onnx with the same calibration rows (../shared/anchors/ort/ort_bench.sh); sparq's int8
# from a .sparq file `sparq compress` made with those rows; ROUNDS
# times over, one line per figure, for a table of medians.
#   bench/models_vs_ort.sh ZOO_DIR OUT_DIR [ROUNDS] [MODELS...]
# ZOO_DIR holds tools/gen/make_zoo.py's files (MODEL.eval.onnx, MODEL.input.npy, MODEL.calib.npy);
# OUT_DIR gets the batch-N input files and results.txt. Needs the release build (sparq) and
# the anchor's npm install. Set BATCH (default 8) and THREADS (default 1).
set -euo pipefail
zoo=${1:?ZOO_DIR}
out=${2:?OUT_DIR}
rounds=${3:-2}
shift $(( $# < 3 ? $# : 3 ))
models=("$@")
[ ${#models[@]} -eq 0 ] && models=(resnet18 mobilenet_v2 efficientnet_b0)
batch=${BATCH:-8}
threads=${THREADS:-1}
here=$(cd "$(dirname "$0")/.." && pwd)
sparq=$here/build/release/tools/sparq/sparq
ort=$here/../shared/anchors/ort/ort_bench.sh
py=/usr/bin/python3
mkdir -p "$out"
for m in "${models[@]}"; do
  # N rows in the .onnx file's input shape: the zoo's sample inputs repeated
  $py -c "import numpy as np; x=np.load('$zoo/$m.input.npy'); r=-(-$batch // len(x)); np.save('$out/$m.x$batch.npy', np.concatenate([x]*r)[:$batch])"
  # int8 runs from a .sparq file quantized once, as deployed (ONNX Runtime's QDQ model is made
  # offline too): the timed process's memory holds no calibration pass
  "$sparq" compress "$zoo/$m.eval.onnx" --quant int8 --calib "$zoo/$m.calib.npy" -o "$out/$m.int8.sparq" > /dev/null
done
for round in $(seq "$rounds"); do
  for m in "${models[@]}"; do
    for b in 1 "$batch"; do
      for p in fp32 int8; do
        model=("$zoo/$m.eval.onnx" --precision fp32); [ "$p" = int8 ] && model=("$out/$m.int8.sparq")
        line=$("$sparq" bench "${model[@]}" --batch "$b" --threads "$threads" \
                 --reps 10 --min-time 2 --json 2>/dev/null |
               $py -c 'import json,sys; d=json.load(sys.stdin); print("median_ms", round(d["latency_ms"]["median"],3), "rss_MB", d["peak_rss_bytes"]>>20)')
        echo "round $round $m sparq b$b $p $line" | tee -a "$out/results.txt"
      done
    done
    echo "round $round $m ort $(OMP_NUM_THREADS=$threads "$ort" "$zoo/$m.eval.onnx" "$out/$m.x$batch.npy" --int8 "$zoo/$m.calib.npy" 2>&1 | tr '\n' ' ')" |
      tee -a "$out/results.txt"
  done
done
