#!/usr/bin/python3
"""Golden vectors for sparq's quantizer, from PyTorch (Debian's python3-torch), nobody here wrote:
torch.quantize_per_tensor / quantize_per_channel (+ dequantize), fake_quantize_per_tensor_affine
(value and straight-through gradient), MinMaxObserver, PerChannelMinMaxObserver,
MovingAverageMinMaxObserver and HistogramObserver.

Writes tests/data/quant_reference.inc (C++). Floats are written as their bit patterns, so the
C++ side sees exactly the numbers PyTorch saw. Scales are chosen float32-representable
(PyTorch keeps them as float64; sparq as float32) so both sides quantize with the same scale.

HistogramObserver in PyTorch 1.13 bins with torch.histc(min=int(min_val), max=int(max_val)): the
range is truncated to integers, and for data inside (-1, 1) both are 0, which makes histc use the
data's own min and max. The reference data stays inside (-1, 1) so that it matches the intended
algorithm (a histogram over [min, max]); docs/quantization.md notes the quirk.

Run: /usr/bin/python3 tools/gen/make_quant_reference.py
"""
import sys
import numpy as np
import torch
from torch.ao.quantization import (HistogramObserver, MinMaxObserver, MovingAverageMinMaxObserver,
                                   PerChannelMinMaxObserver)

rng = np.random.default_rng(20261121)
out = []


def f32(x):
    return np.asarray(x, dtype=np.float32)


def bits(a):
    return ", ".join(f"0x{int(b):08X}u" for b in f32(a).ravel().view(np.uint32))


def ints(a):
    return ", ".join(str(int(v)) for v in np.asarray(a).ravel())


def emit_floats(name, a):
    out.append(f"inline constexpr std::uint32_t {name}[] = {{{bits(a)}}};")


def emit_ints(name, a, ctype="std::int32_t"):
    out.append(f"inline constexpr {ctype} {name}[] = {{{ints(a)}}};")


def emit_scalar(name, v, ctype):
    if ctype == "float":
        out.append(f"inline constexpr std::uint32_t {name} = 0x{int(f32(v).view(np.uint32)):08X}u;")
    else:
        out.append(f"inline constexpr {ctype} {name} = {int(v)};")


def data_with_ties(n, scale, zp, spread):
    x = rng.normal(0, spread, n).astype(np.float32)
    k = rng.integers(-300, 300, n // 4)
    x[: n // 4] = ((k + 0.5 - zp) * scale).astype(np.float32)  # exact ties: (k + 0.5 - zp) * 2^-e
    # Far outside the range, but not past 2^63 / scale: PyTorch 1.13 casts the rounded value to
    # int64 before clamping, and beyond that (x = 1e30) the cast overflows and +1e30 lands on
    # qmin. sparq saturates such values to qmax (tested separately); docs/quantization.md notes it.
    x[n // 4] = 1e12
    x[n // 4 + 1] = -1e12
    x[n // 4 + 2] = 0.0
    x[n // 4 + 3] = -0.0
    return x


# --- quantize_per_tensor / dequantize / fake_quant ----------------------------------------------
for name, dtype, scale, zp in (("pt_u8", torch.quint8, 0.03125, 120), ("pt_s8", torch.qint8, 0.0625, -3),
                               ("pt_u8_odd", torch.quint8, float(f32(0.0173)), 37),
                               ("pt_s8_odd", torch.qint8, float(f32(0.0091)), 0)):
    x = data_with_ties(1024, scale, zp, 2.0)
    q = torch.quantize_per_tensor(torch.from_numpy(x), scale, zp, dtype)
    emit_floats(f"{name}_x", x)
    emit_scalar(f"{name}_scale", scale, "float")
    emit_scalar(f"{name}_zp", zp, "std::int32_t")
    emit_ints(f"{name}_q", q.int_repr().numpy())
    emit_floats(f"{name}_dq", q.dequantize().numpy())
    qmin, qmax = (0, 255) if dtype == torch.quint8 else (-128, 127)
    xt = torch.from_numpy(x.copy()).requires_grad_(True)
    y = torch.fake_quantize_per_tensor_affine(xt, scale, zp, qmin, qmax)
    y.sum().backward()
    emit_floats(f"{name}_fq", y.detach().numpy())
    emit_ints(f"{name}_mask", xt.grad.numpy().astype(np.int32))

# --- TFLite's reference arithmetic: x / scale (float32), rounded half away from zero ----------
# (TFLite's AffineQuantize: static_cast<int32>(TfLiteRound(val / scale)) + zero_point, clamped;
# TfLiteRound is std::round.) No TFLite in Debian: numpy's float32 division and an exact
# half-away rounding stand in for it. The scale is chosen so that x / scale and x * (1 / scale)
# differ for some inputs.
def round_half_away(v):
    a = np.abs(v).astype(np.float64)
    f = np.floor(a)
    return np.sign(v) * (f + (a - f >= 0.5))


scale = float(f32(0.0123))
x = rng.normal(0, 0.8, 4096).astype(np.float32)
k = rng.integers(-100, 100, 1024)
x[:1024] = ((k + 0.5) * np.float64(scale)).astype(np.float32)   # near-ties: where the two arithmetics part
unclamped = round_half_away(x / np.float32(scale)).astype(np.int64) + 3
emit_floats("tfl_x", x)
emit_scalar("tfl_scale", scale, "float")
emit_ints("tfl_q", np.clip(unclamped, -128, 127))

# --- quantize_per_channel on several axes -------------------------------------------------------
for name, shape, axis, dtype in (("pc_axis0", (6, 50), 0, torch.qint8), ("pc_axis1", (40, 7), 1, torch.quint8),
                                 ("pc_4d_axis1", (2, 5, 3, 4), 1, torch.qint8)):
    x = rng.normal(0, 1.5, shape).astype(np.float32)
    c = shape[axis]
    scales = f32(rng.uniform(0.005, 0.05, c))
    zps = rng.integers(-10, 10, c) if dtype == torch.qint8 else rng.integers(100, 150, c)
    q = torch.quantize_per_channel(torch.from_numpy(x), torch.from_numpy(scales.astype(np.float64)),
                                   torch.from_numpy(zps.astype(np.int64)), axis, dtype)
    emit_floats(f"{name}_x", x)
    emit_floats(f"{name}_scales", scales)
    emit_ints(f"{name}_zps", zps)
    emit_ints(f"{name}_q", q.int_repr().numpy())
    emit_floats(f"{name}_dq", q.dequantize().numpy())

# --- observers -----------------------------------------------------------------------------------
batches = [rng.normal(0.3, 1.0, 2000).astype(np.float32) * s for s in (1.0, 1.7, 0.6)]
for i, b in enumerate(batches):
    emit_floats(f"obs_batch{i}", b)


def qp(o):
    s, z = o.calculate_qparams()
    return s.numpy().astype(np.float32), z.numpy()


cases = {
    "minmax_u8_affine": MinMaxObserver(dtype=torch.quint8, qscheme=torch.per_tensor_affine),
    "minmax_s8_affine": MinMaxObserver(dtype=torch.qint8, qscheme=torch.per_tensor_affine),
    "minmax_s8_sym": MinMaxObserver(dtype=torch.qint8, qscheme=torch.per_tensor_symmetric),
    "minmax_s8_sym_narrow": MinMaxObserver(dtype=torch.qint8, qscheme=torch.per_tensor_symmetric,
                                           quant_min=-127, quant_max=127),
    "minmax_u8_sym": MinMaxObserver(dtype=torch.quint8, qscheme=torch.per_tensor_symmetric),
    "movavg_u8_affine": MovingAverageMinMaxObserver(averaging_constant=0.01, dtype=torch.quint8),
    "movavg_s8_sym": MovingAverageMinMaxObserver(averaging_constant=0.25, dtype=torch.qint8,
                                                 qscheme=torch.per_tensor_symmetric),
}
for name, o in cases.items():
    for b in batches:
        o(torch.from_numpy(b))
    s, z = qp(o)
    emit_floats(f"{name}_scale", s)
    emit_ints(f"{name}_zp", z)

w = rng.normal(0, 0.05, (8, 64)).astype(np.float32)
w[3, :] = 0.0                     # an all-zero channel: scale must be eps, not inf or 0
w[5, :] = np.abs(w[5, :])         # a channel with no negative values
emit_floats("pcobs_w", w)
for name, dtype, scheme, qmin, qmax in (("pcobs_s8_sym_narrow", torch.qint8, torch.per_channel_symmetric, -127, 127),
                                        ("pcobs_u8_affine", torch.quint8, torch.per_channel_affine, 0, 255)):
    o = PerChannelMinMaxObserver(ch_axis=0, dtype=dtype, qscheme=scheme, quant_min=qmin, quant_max=qmax)
    o(torch.from_numpy(w))
    s, z = qp(o)
    emit_floats(f"{name}_scale", s)
    emit_ints(f"{name}_zp", z)

# HistogramObserver (the MSE search): one batch inside (-1, 1), with a few outliers.
h = np.clip(rng.laplace(0.0, 0.08, 4000), -0.999, 0.999).astype(np.float32)
h[:5] = f32([0.97, -0.95, 0.93, 0.99, -0.9])
emit_floats("hist_x", h)
for name, dtype, scheme in (("hist_u8_affine", torch.quint8, torch.per_tensor_affine),
                            ("hist_s8_sym", torch.qint8, torch.per_tensor_symmetric)):
    o = HistogramObserver(dtype=dtype, qscheme=scheme)
    o(torch.from_numpy(h))
    s, z = qp(o)
    emit_floats(f"{name}_scale", s)
    emit_ints(f"{name}_zp", z)
    new_min, new_max = o._non_linear_param_search()
    emit_floats(f"{name}_range", [float(new_min), float(new_max)])
    emit_ints(f"{name}_histogram", o.histogram.numpy().astype(np.int64), "std::int64_t")

path = sys.argv[1] if len(sys.argv) > 1 else "tests/data/quant_reference.inc"
with open(path, "w") as f:
    f.write(f"// Generated by tools/gen/make_quant_reference.py from torch {torch.__version__}. Do not edit.\n")
    f.write("\n".join(out) + "\n")
print("wrote", path, len(out), "arrays")
