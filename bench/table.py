#!/usr/bin/env python3
"""Turns one sparq_bench JSON run into markdown tables of GOP/s and ratios (docs/kernels-results.md).

Pairs rows by the family/impl/shape naming scheme (bench/README.md); medians of repetitions."""
import json
import subprocess
import sys
from collections import defaultdict

run = json.load(open(sys.argv[1]))
rows = defaultdict(dict)  # (family, shape) -> impl -> GOP/s or bytes/s
for b in run["benchmarks"]:
    name = b.get("run_name", b["name"])
    if b.get("aggregate_name", "median") != "median":
        continue
    parts = name.split("/")
    if len(parts) < 3:
        continue
    family, impl, shape = parts[0], parts[1], parts[2]
    value = b.get("GOP")
    if value is None and "bytes_per_second" in b:
        value = b["bytes_per_second"]
    if value is not None:
        rows[(family, shape)][impl] = (value, b.get("real_time"), b.get("time_unit"), b.get("label", ""))

ctx = run["context"]
cpu = subprocess.run(["sh", "-c", "lscpu | sed -n 's/^Model name:[[:space:]]*//p'"], capture_output=True, text=True).stdout.strip()
print(f"# Kernel benchmark results\n\nMade by `bench/run.sh` (OMP_NUM_THREADS=1, single thread) on {ctx['date'][:10]}, "
      f"CPU: {cpu or 'unknown'} ({ctx['num_cpus']} vCPU, {ctx['mhz_per_cpu']} MHz reported), "
      f"build: release preset (-O3 -march=native). Medians of {3} repetitions. GOP/s counts 2*M*N*K per product.\n")


def fmt(v):
    return f"{v / 1e9:.1f}" if v > 1e6 else f"{v:.1f}"


def ratio(a, b):
    return f"{a / b:.2f}x" if a and b else "-"


families = sorted({f for f, _ in rows})
for family in families:
    shapes = [s for f, s in rows if f == family]
    impls = sorted({i for (f, s), d in rows.items() if f == family for i in d})
    unit = "GB/s" if family in ("quantize_s8", "dequantize_s8", "memcpy", "convert_f16", "convert_bf16") else "GOP/s"
    print(f"## {family} ({unit})\n")
    print("| shape | " + " | ".join(impls) + " |")
    print("|---|" + "---:|" * len(impls))
    for s in shapes:
        d = rows[(family, s)]
        print(f"| {s} | " + " | ".join(fmt(d[i][0]) if i in d else "-" for i in impls) + " |")
    print()

# The ratios the kernels issue names.
print("## Ratios\n")
print("| shape | xsimd f32 / Eigen f32 | sparq_onednn / onednn (f32) | sparq_onednn / onednn (s8) "
      "| xsimd s8 / xsimd f32 | xsimd s8 / onednn s8 |")
print("|---|---:|---:|---:|---:|---:|")
for (family, s), d in sorted(rows.items()):
    if family != "matmul_f32":
        continue
    s8 = rows.get(("matmul_s8", s), {})
    g = lambda dd, k: dd[k][0] if k in dd else None
    print(f"| {s} | {ratio(g(d, 'sparq_xsimd'), g(d, 'eigen'))} | {ratio(g(d, 'sparq_onednn'), g(d, 'onednn'))} | "
          f"{ratio(g(s8, 'sparq_onednn'), g(s8, 'onednn'))} | {ratio(g(s8, 'sparq_xsimd'), g(d, 'sparq_xsimd'))} | "
          f"{ratio(g(s8, 'sparq_xsimd'), g(s8, 'onednn'))} |")
print()
print("| matvec N x K | xsimd f32 / Eigen f32 | f16 weights / f32 | bf16 weights / f32 | s8 / f32 |")
print("|---|---:|---:|---:|---:|")
for (family, s), d in sorted(rows.items()):
    if family != "matvec_f32":
        continue
    g = lambda fam, k: rows.get((fam, s), {}).get(k, (None,))[0]
    f32 = g("matvec_f32", "sparq_xsimd")
    print(f"| {s} | {ratio(f32, g('matvec_f32', 'eigen'))} | {ratio(g('matvec_f16', 'sparq_xsimd'), f32)} | "
          f"{ratio(g('matvec_bf16', 'sparq_xsimd'), f32)} | {ratio(g('matvec_s8', 'sparq_xsimd'), f32)} |")
print()
print("| linear_s8 shape (int8 out, bias + ReLU) | fused / oneDNN | fused / two-pass |")
print("|---|---:|---:|")
for (family, s), d in sorted(rows.items()):
    if family != "linear_s8":
        continue
    g = lambda k: d[k][0] if k in d else None
    print(f"| {s} | {ratio(g('sparq_xsimd'), g('onednn'))} | {ratio(g('sparq_xsimd'), g('sparq_xsimd_2pass'))} |")

# What counting energy costs: each counted sparq_xsimd row against the same kernel with no counter.
pairs = [(f, s, d) for (f, s), d in sorted(rows.items()) if "sparq_xsimd" in d and "sparq_xsimd_nocount" in d]
if pairs:
    print()
    print("## Energy counting overhead (sparq_xsimd with a counter vs sparq_xsimd_nocount)\n")
    print("| family | shape | with counter (GOP/s) | without (GOP/s) | overhead |")
    print("|---|---|---:|---:|---:|")
    for f, s, d in pairs:
        counted, bare = d["sparq_xsimd"][0], d["sparq_xsimd_nocount"][0]
        print(f"| {f} | {s} | {fmt(counted)} | {fmt(bare)} | {100.0 * (bare / counted - 1.0):+.1f}% |")

# The cost of one count (energy_count/count_gemm) against each counted row's time per call.
count = next((b for b in run["benchmarks"] if b.get("run_name", b["name"]).startswith("energy_count/count_gemm")
              and b.get("aggregate_name", "median") == "median"), None)
if count:
    scale = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}
    count_ns = count["real_time"] * scale[count["time_unit"]]
    print()
    print(f"One count (energy::count_gemm): {count_ns:.1f} ns. Its share of each counted call:\n")
    print("| family | shape | time per call | counting share |")
    print("|---|---|---:|---:|")
    for (f, s), d in sorted(rows.items()):
        if f.split("_")[0] not in ("matmul", "matvec") or "sparq_xsimd" not in d:
            continue
        t_ns = d["sparq_xsimd"][1] * scale[d["sparq_xsimd"][2]]
        print(f"| {f} | {s} | {t_ns / 1e3:.2f} us | {100.0 * count_ns / t_ns:.3f}% |")
