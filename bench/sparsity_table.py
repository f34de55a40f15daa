#!/usr/bin/env python3
"""Sparse rows of one sparq_bench JSON run against the dense rows of the same shape
(docs/sparsity.md): speed ratios for the issue's targets and the break-even sparsity of each
format from the spmv_<format>_s<percent> sweep. Every row's GOP counter is the dense-equivalent
rate (2*M*N*K per second), so the ratio of two rows of one shape is their speed ratio."""
import json
import sys
from collections import defaultdict

run = json.load(open(sys.argv[1]))
gop = defaultdict(dict)  # family -> shape -> (impl -> median GOP/s)
for b in run["benchmarks"]:
    if b.get("aggregate_name", "median") != "median" or "GOP" not in b:
        continue
    family, impl, shape = b["run_name"].split("/")[:3]
    gop[family].setdefault(shape, {})[impl] = b["GOP"]  # already per second, in GOP


def get(family, shape, impl="sparq_xsimd"):
    return gop.get(family, {}).get(shape, {}).get(impl)


def ratio(a, b):
    return f"{a / b:.2f}x" if a and b else "-"


print("| shape | dense f32 | 90% CSR (sparq_xsimd) | CSR packed | CSR plain | CSR scalar | 90% block 4x16 | dense s8 | 90% CSR s8 | 90% block s8 | 50% channels |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for shape in gop.get("spmv_f32", {}):
    d, ds = get("matvec_f32", shape), get("matvec_s8", shape)
    print(f"| {shape} | {d or 0:.1f} | {ratio(get('spmv_f32', shape), d)} | {ratio(get('spmv_f32', shape, 'sparq_xsimd_packed'), d)} "
          f"| {ratio(get('spmv_f32', shape, 'sparq_xsimd_plain'), d)} "
          f"| {ratio(get('spmv_f32', shape, 'sparq_scalar'), d)} | {ratio(get('spmv_f32_block', shape), d)} | {ds or 0:.1f} "
          f"| {ratio(get('spmv_s8', shape), ds)} | {ratio(get('spmv_s8_block', shape), ds)} | {ratio(get('matvec_f32_chan50', shape), d)} |")
print()
print("| shape | dense f32 | 2:4 (rows layout) | 2:4 (panels layout) | 50% channels |")
print("|---|---:|---:|---:|---:|")
for shape in gop.get("spmm_f32_nm", {}):
    d = get("matmul_f32", shape)
    print(f"| {shape} | {d or 0:.1f} | {ratio(get('spmm_f32_nm', shape), d)} | {ratio(get('spmm_f32_nm_panels', shape), d)} "
          f"| {ratio(get('matmul_f32_chan50', shape), d)} |")
print()
# Break-even: the lowest swept sparsity from which the format is at least as fast as dense,
# interpolated linearly between the two sweep points around ratio 1.
print("| format | shape | " + " | ".join(f"{p}%" for p in (20, 30, 40, 50, 60, 70, 80, 90, 95)) + " | break-even |")
print("|---|---|" + "---:|" * 10)
for fmt, dense in (("spmv_f32", "matvec_f32"), ("spmv_f32_block", "matvec_f32"), ("spmv_s8", "matvec_s8"), ("spmv_s8_block", "matvec_s8")):
    shapes = sorted({s for f in gop if f.startswith(fmt + "_s") and f[len(fmt) + 2:].isdigit() for s in gop[f]})
    for shape in shapes:
        pts = []
        for p in (20, 30, 40, 50, 60, 70, 80, 90, 95):
            r = get(f"{fmt}_s{p}", shape)
            d = get(dense, shape)
            pts.append((p, r / d if r and d else None))
        cells = " | ".join(f"{r:.2f}x" if r else "-" for _, r in pts)
        even = "-"
        known = [(p, r) for p, r in pts if r]
        if known and known[0][1] >= 1:
            even = f"< {known[0][0]}%"
        for (p0, r0), (p1, r1) in zip(known, known[1:]):
            if r0 < 1 <= r1:
                even = f"~{p0 + (1 - r0) / (r1 - r0) * (p1 - p0):.0f}%"
        if known and known[-1][1] < 1:
            even = f"> {known[-1][0]}%"
        print(f"| {fmt} | {shape} | {cells} | {even} |")
