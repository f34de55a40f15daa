#!/usr/bin/python3
"""Small hand-made ONNX graphs (opset 13) that pin down exactly what the importer must do, one
per op and attribute, plus the five wrong-result bugs seen in the first importer. Writes, under
tests/data/onnx/ (committed; tests/onnx_cases/test_onnx_cases.cpp reads them):

  <case>.onnx              the graph (one input 'input', batch dim symbolic 'N', batch 2 here)
  <case>.input.npy         float32 input
  <case>.output<k>.npy     float32 expected value of graph output k
  cases.txt                case | what it checks (printed by the test on failure)
  refused.txt              case | substrings the importer's error message must contain (joined by ' & ')

Expected outputs come from a reference written here in numpy (float64, each op from the ONNX
operator spec), never from sparq. When ONNX Runtime is installed (the anchor in
../shared/anchors/ort, npm package onnxruntime-node in $SPARQ_ANCHOR_CACHE) every output of every
case is also run there and must agree to 1e-5 (relative to the output's largest magnitude):
two independent references. --no-ort skips that check.

Run: /usr/bin/python3 tools/gen/make_onnx_cases.py [--out tests/data/onnx] [--no-ort]
Needs python3-onnx and python3-numpy (Debian).
"""
import argparse
import math
import os
import shutil
import subprocess
import sys
import tempfile
import zlib

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

BATCH = 2
OPSET = 13


# --------------------------------------------------------------------------- graph building
class Graph:
    def __init__(self, name, in_shape, doc):
        self.name, self.doc = name, doc
        self.in_shape = list(in_shape)  # without the batch
        self.nodes, self.inits = [], []
        self.rng = np.random.default_rng(zlib.crc32(name.encode()))
        self.count = 0

    def fresh(self, prefix):
        self.count += 1
        return f"{prefix}{self.count}"

    def const(self, arr, name=None):
        arr = np.asarray(arr)
        if arr.dtype == np.float64:
            arr = arr.astype(np.float32)
        name = name or self.fresh("c")
        self.inits.append(numpy_helper.from_array(arr, name))
        return name

    def weight(self, *shape, scale=None):
        fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else 1
        s = scale if scale is not None else 1.0 / math.sqrt(max(fan_in, 1))
        return self.const(self.rng.normal(0.0, s, size=shape).astype(np.float32), self.fresh("w"))

    def op(self, op_type, inputs, outputs=1, **attrs):
        outs = [self.fresh(op_type.lower() + "_") for _ in range(outputs)] if isinstance(outputs, int) else outputs
        self.nodes.append(helper.make_node(op_type, inputs, outs, name=self.fresh(op_type + "_node"), **attrs))
        return outs[0] if len(outs) == 1 else outs


# --------------------------------------------------------------------------- numpy reference
def _erf(x):
    return np.vectorize(math.erf)(x)


def _auto_pads(auto_pad, in_sizes, kernel, strides, dilations):
    """ONNX auto_pad: (begins, ends) per spatial dim."""
    begins, ends = [], []
    for i, n in enumerate(in_sizes):
        k = (kernel[i] - 1) * dilations[i] + 1
        if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
            out = -(-n // strides[i])
            total = max((out - 1) * strides[i] + k - n, 0)
            small = total // 2
            b, e = (small, total - small) if auto_pad == "SAME_UPPER" else (total - small, small)
        else:  # VALID / NOTSET without pads
            b = e = 0
        begins.append(b)
        ends.append(e)
    return begins, ends


def _spatial_pads(attrs, x, kernel, strides, dilations):
    auto_pad = attrs.get("auto_pad", b"NOTSET")
    auto_pad = auto_pad.decode() if isinstance(auto_pad, bytes) else auto_pad
    nd = len(kernel)
    if auto_pad != "NOTSET":
        return _auto_pads(auto_pad, x.shape[2:], kernel, strides, dilations)
    pads = attrs.get("pads", [0] * (2 * nd))
    return list(pads[:nd]), list(pads[nd:])


def ref_conv(x, w, b, attrs):
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    g = attrs.get("group", 1)
    s = attrs.get("strides", [1, 1])
    d = attrs.get("dilations", [1, 1])
    pb, pe = _spatial_pads(attrs, x, [kh, kw], s, d)
    xp = np.pad(x, ((0, 0), (0, 0), (pb[0], pe[0]), (pb[1], pe[1])))
    oh = (xp.shape[2] - ((kh - 1) * d[0] + 1)) // s[0] + 1
    ow = (xp.shape[3] - ((kw - 1) * d[1] + 1)) // s[1] + 1
    y = np.zeros((n, o, oh, ow))
    og = o // g
    for gi in range(g):
        xs = xp[:, gi * cg:(gi + 1) * cg]
        ws = w[gi * og:(gi + 1) * og]
        for i in range(kh):
            for j in range(kw):
                patch = xs[:, :, i * d[0]: i * d[0] + (oh - 1) * s[0] + 1: s[0], j * d[1]: j * d[1] + (ow - 1) * s[1] + 1: s[1]]
                y[:, gi * og:(gi + 1) * og] += np.einsum("nchw,oc->nohw", patch, ws[:, :, i, j])
    if b is not None:
        y += b.reshape(1, -1, 1, 1)
    return y


def _pool_out(n, k, s, b, e, ceil):
    span = n + b + e - k
    out = (-(-span // s) if ceil else span // s) + 1
    if ceil and (out - 1) * s >= n + b:  # the last window would start in the end padding
        out -= 1
    return out


def ref_pool(x, attrs, kind):
    k = attrs["kernel_shape"]
    s = attrs.get("strides", [1, 1])
    ceil = attrs.get("ceil_mode", 0)
    pb, pe = _spatial_pads(attrs, x, k, s, [1, 1])
    n, c, h, w = x.shape
    oh = _pool_out(h, k[0], s[0], pb[0], pe[0], ceil)
    ow = _pool_out(w, k[1], s[1], pb[1], pe[1], ceil)
    y = np.zeros((n, c, oh, ow))
    include = attrs.get("count_include_pad", 0)
    for i in range(oh):
        for j in range(ow):
            h0, w0 = i * s[0] - pb[0], j * s[1] - pb[1]
            h1, w1 = h0 + k[0], w0 + k[1]
            hv0, wv0, hv1, wv1 = max(h0, 0), max(w0, 0), min(h1, h), min(w1, w)
            win = x[:, :, hv0:hv1, wv0:wv1]
            if kind == "max":
                y[:, :, i, j] = win.max(axis=(2, 3))
            else:
                if include:  # the window clipped to the padded input (not to the ceil overhang)
                    cnt = (min(h1, h + pe[0]) - h0) * (min(w1, w + pe[1]) - w0)
                else:
                    cnt = (hv1 - hv0) * (wv1 - wv0)
                y[:, :, i, j] = win.sum(axis=(2, 3)) / cnt
    return y


def ref_softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def evaluate(model, x):
    """Runs an ONNX graph in numpy (float64 for float tensors)."""
    env = {}
    for t in model.graph.initializer:
        a = numpy_helper.to_array(t)
        env[t.name] = a.astype(np.float64) if a.dtype == np.float32 else a
    env[model.graph.input[0].name] = x.astype(np.float64)
    for nd in model.graph.node:
        a = {at.name: helper.get_attribute_value(at) for at in nd.attribute}
        i = [env[v] if v else None for v in nd.input]
        t = nd.op_type
        if t == "Gemm":
            A = i[0].T if a.get("transA", 0) else i[0]
            B = i[1].T if a.get("transB", 0) else i[1]
            y = a.get("alpha", 1.0) * (A @ B)
            if len(i) > 2 and i[2] is not None:
                y = y + a.get("beta", 1.0) * i[2]
            out = [y]
        elif t == "MatMul":
            out = [np.matmul(i[0], i[1])]
        elif t == "Conv":
            out = [ref_conv(i[0], i[1], i[2] if len(i) > 2 else None, a)]
        elif t == "MaxPool":
            out = [ref_pool(i[0], a, "max")]
        elif t == "AveragePool":
            out = [ref_pool(i[0], a, "avg")]
        elif t == "GlobalAveragePool":
            out = [i[0].mean(axis=(2, 3), keepdims=True)]
        elif t == "Relu":
            out = [np.maximum(i[0], 0)]
        elif t == "LeakyRelu":
            out = [np.where(i[0] < 0, a.get("alpha", 0.01) * i[0], i[0])]
        elif t == "Sigmoid":
            out = [1 / (1 + np.exp(-i[0]))]
        elif t == "HardSigmoid":
            out = [np.clip(a.get("alpha", 0.2) * i[0] + a.get("beta", 0.5), 0, 1)]
        elif t == "Tanh":
            out = [np.tanh(i[0])]
        elif t == "Exp":
            out = [np.exp(i[0])]
        elif t == "Sqrt":
            out = [np.sqrt(i[0])]
        elif t == "Neg":
            out = [-i[0]]
        elif t == "Erf":
            out = [_erf(i[0])]
        elif t == "Clip":
            lo = i[1] if len(i) > 1 and i[1] is not None else -np.inf
            hi = i[2] if len(i) > 2 and i[2] is not None else np.inf
            out = [np.minimum(np.maximum(i[0], lo), hi)]
        elif t in ("Add", "Sub", "Mul", "Div", "Pow"):
            f = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide, "Pow": np.power}[t]
            out = [f(i[0], i[1])]
        elif t == "Softmax":
            out = [ref_softmax(i[0], a.get("axis", -1))]
        elif t == "BatchNormalization":
            xx, sc, bi, mu, var = i[:5]
            shp = [1, -1] + [1] * (xx.ndim - 2)
            eps = a.get("epsilon", 1e-5)
            out = [(xx - mu.reshape(shp)) / np.sqrt(var.reshape(shp) + eps) * sc.reshape(shp) + bi.reshape(shp)]
        elif t == "Flatten":
            ax = a.get("axis", 1)
            out = [i[0].reshape(int(np.prod(i[0].shape[:ax])), -1)]
        elif t == "Reshape":
            shape = [int(v) for v in i[1]]
            shape = [i[0].shape[k] if v == 0 else v for k, v in enumerate(shape)]
            out = [i[0].reshape(shape)]
        elif t == "Transpose":
            out = [np.transpose(i[0], a["perm"])]
        elif t == "Concat":
            out = [np.concatenate(i, axis=a["axis"])]
        elif t == "ReduceMean":
            out = [i[0].mean(axis=tuple(a["axes"]), keepdims=bool(a.get("keepdims", 1)))]
        elif t == "Pad":
            pads = [int(v) for v in i[1]]
            value = float(i[2]) if len(i) > 2 and i[2] is not None else 0.0
            r = i[0].ndim
            out = [np.pad(i[0], [(pads[k], pads[k + r]) for k in range(r)], constant_values=value)]
        elif t == "Slice":
            starts, ends = [int(v) for v in i[1]], [int(v) for v in i[2]]
            axes = [int(v) for v in i[3]] if len(i) > 3 and i[3] is not None else list(range(len(starts)))
            steps = [int(v) for v in i[4]] if len(i) > 4 and i[4] is not None else [1] * len(starts)
            sl = [slice(None)] * i[0].ndim
            for b, e, ax, st in zip(starts, ends, axes, steps):
                sl[ax] = slice(b, e, st)
            out = [i[0][tuple(sl)]]
        elif t == "Split":
            ax = a.get("axis", 0)
            if len(i) > 1 and i[1] is not None:
                out = np.split(i[0], np.cumsum([int(v) for v in i[1]])[:-1], axis=ax)
            else:
                out = np.split(i[0], len(nd.output), axis=ax)
        elif t in ("Identity", "Dropout"):
            out = [i[0]]
        elif t == "Shape":
            out = [np.array(i[0].shape, dtype=np.int64)]
        elif t == "Gather":
            out = [np.take(i[0], i[1], axis=a.get("axis", 0))]
        elif t == "Unsqueeze":
            out = [np.expand_dims(i[0], tuple(int(v) for v in i[1]))]
        elif t == "Constant":
            out = [numpy_helper.to_array(a["value"]).astype(np.float64) if a["value"].data_type == TensorProto.FLOAT
                   else numpy_helper.to_array(a["value"])]
        else:
            raise ValueError(f"no numpy reference for {t}")
        for name, v in zip(nd.output, out):
            env[name] = v
    return [env[o.name] for o in model.graph.output]


# --------------------------------------------------------------------------- cases
CASES = []  # (name, builder)
REFUSED = []  # (name, builder, substring)


def case(fn):
    CASES.append((fn.__name__, fn))
    return fn


def refused(substring):
    def wrap(fn):
        REFUSED.append((fn.__name__, fn, substring))
        return fn
    return wrap


def finish(g, outputs, x=None, low=-2.0, high=2.0):
    """The model of g with these graph outputs, and its input (uniform in [low, high) unless given)."""
    if x is None:
        x = g.rng.uniform(low, high, size=[BATCH] + g.in_shape).astype(np.float32)
    in_vi = helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N"] + g.in_shape)
    outs = [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outputs]
    graph = helper.make_graph(g.nodes, g.name, [in_vi], outs, initializer=g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="sparq make_onnx_cases.py")
    model.ir_version = 7  # what ONNX 1.12 / PyTorch 1.13 write at opset 13
    return model, x


# ---- the five wrong-result bugs
@case
def relu_of_output():
    """outputs h = Gemm(x) and fc2(relu(h)): h is a graph output and a ReLU's input; it keeps its negative values"""
    g = Graph("relu_of_output", [6], relu_of_output.__doc__)
    h = g.op("Gemm", ["input", g.weight(5, 6), g.weight(5, scale=0.5)], outputs=["h"], transB=1)
    r = g.op("Relu", [h])
    y = g.op("Gemm", [r, g.weight(3, 5), g.weight(3, scale=0.5)], outputs=["y"], transB=1)
    return finish(g, [h, y])


@case
def relu_of_output_direct():
    """outputs h = Gemm(x) and relu(h), in that order"""
    g = Graph("relu_of_output_direct", [6], relu_of_output_direct.__doc__)
    h = g.op("Gemm", ["input", g.weight(5, 6), g.weight(5, scale=0.5)], outputs=["h"], transB=1)
    r = g.op("Relu", [h], outputs=["r"])
    return finish(g, [h, r])


@case
def identity_alias():
    """y = fc2(Identity(h) + relu(h)): the Add reads h through an alias, not relu(h) twice"""
    g = Graph("identity_alias", [6], identity_alias.__doc__)
    h = g.op("Gemm", ["input", g.weight(5, 6), g.weight(5, scale=0.5)], transB=1)
    h2 = g.op("Identity", [h])
    r = g.op("Relu", [h])
    s = g.op("Add", [h2, r])
    y = g.op("Gemm", [s, g.weight(3, 5), g.weight(3, scale=0.5)], transB=1)
    return finish(g, [y])


@case
def softmax_axis4d():
    """Softmax(axis=1) on [N, 4, 3, 5]: per pixel over the channels"""
    g = Graph("softmax_axis4d", [4, 3, 5], softmax_axis4d.__doc__)
    return finish(g, [g.op("Softmax", ["input"], axis=1)])


@case
def softmax_axis4d_last():
    """Softmax(axis=-1) on [N, 4, 3, 5]: over W"""
    g = Graph("softmax_axis4d_last", [4, 3, 5], softmax_axis4d_last.__doc__)
    return finish(g, [g.op("Softmax", ["input"], axis=-1)])


@case
def maxpool_auto_pad_same_upper():
    """MaxPool kernel 2 stride 2 auto_pad SAME_UPPER on 5x5: 3x3 outputs (the extra pad at the end)"""
    g = Graph("maxpool_auto_pad_same_upper", [2, 5, 5], maxpool_auto_pad_same_upper.__doc__)
    return finish(g, [g.op("MaxPool", ["input"], kernel_shape=[2, 2], strides=[2, 2], auto_pad="SAME_UPPER")])


@case
def maxpool_auto_pad_same_lower():
    """MaxPool kernel 2 stride 2 auto_pad SAME_LOWER on 5x5: 3x3 outputs (the extra pad at the start)"""
    g = Graph("maxpool_auto_pad_same_lower", [2, 5, 5], maxpool_auto_pad_same_lower.__doc__)
    return finish(g, [g.op("MaxPool", ["input"], kernel_shape=[2, 2], strides=[2, 2], auto_pad="SAME_LOWER")])


@case
def maxpool_auto_pad_valid():
    """MaxPool kernel 3 stride 2 auto_pad VALID on 7x6: 3x2 outputs"""
    g = Graph("maxpool_auto_pad_valid", [2, 7, 6], maxpool_auto_pad_valid.__doc__)
    return finish(g, [g.op("MaxPool", ["input"], kernel_shape=[3, 3], strides=[2, 2], auto_pad="VALID")])


@case
def reshape_target():
    """Reshape [N, 2, 4, 4] -> [0, -1, 4] = [N, 8, 4], then Softmax(axis=-1) over groups of 4"""
    g = Graph("reshape_target", [2, 4, 4], reshape_target.__doc__)
    r = g.op("Reshape", ["input", g.const(np.array([0, -1, 4], dtype=np.int64))])
    return finish(g, [g.op("Softmax", [r], axis=-1)])


@case
def reshape_target_matmul():
    """Reshape [N, 3, 2, 4] -> [N, -1, 4] = [N, 6, 4] (dynamic batch shape subgraph), then MatMul by a constant [4, 3]"""
    g = Graph("reshape_target_matmul", [3, 2, 4], reshape_target_matmul.__doc__)
    shp = g.op("Shape", ["input"])
    n = g.op("Gather", [shp, g.const(np.array(0, dtype=np.int64))], axis=0)
    n1 = g.op("Unsqueeze", [n, g.const(np.array([0], dtype=np.int64))])
    target = g.op("Concat", [n1, g.const(np.array([-1, 4], dtype=np.int64))], axis=0)
    r = g.op("Reshape", ["input", target])
    return finish(g, [g.op("MatMul", [r, g.weight(4, 3)])])


# ---- Gemm / MatMul
@case
def gemm_alpha_beta():
    """Gemm alpha 0.5, beta 2, transB 1, bias of shape [1, 4]"""
    g = Graph("gemm_alpha_beta", [6], gemm_alpha_beta.__doc__)
    b = g.const(g.rng.normal(size=(1, 4)))
    return finish(g, [g.op("Gemm", ["input", g.weight(4, 6), b], alpha=0.5, beta=2.0, transB=1)])


@case
def gemm_transb0():
    """Gemm transB 0: the weight stored [in, out]"""
    g = Graph("gemm_transb0", [7], gemm_transb0.__doc__)
    return finish(g, [g.op("Gemm", ["input", g.weight(7, 5), g.weight(5)])])


@refused("Transpose & batch")
def gemm_transa():
    """Transpose(x) -> Gemm transA 1 (A stored [in, N]), no bias: the batch moves into the features and back, refused"""
    g = Graph("gemm_transa", [6], gemm_transa.__doc__)
    t = g.op("Transpose", ["input"], perm=[1, 0])
    return finish(g, [g.op("Gemm", [t, g.weight(6, 3)], transA=1)])


@case
def matmul_const_2d():
    """MatMul [N, 6] x constant [6, 4], then Add a constant bias [4]"""
    g = Graph("matmul_const_2d", [6], matmul_const_2d.__doc__)
    m = g.op("MatMul", ["input", g.weight(6, 4)])
    return finish(g, [g.op("Add", [m, g.weight(4)])])


@case
def matmul_const_3d():
    """MatMul [N, 5, 6] x constant [6, 4] -> [N, 5, 4] (a sequence through a linear layer), Add bias"""
    g = Graph("matmul_const_3d", [5, 6], matmul_const_3d.__doc__)
    m = g.op("MatMul", ["input", g.weight(6, 4)])
    return finish(g, [g.op("Add", [m, g.weight(4)])])


@case
def matmul_const_4d():
    """MatMul [N, 2, 3, 6] x constant [6, 5] -> [N, 2, 3, 5]"""
    g = Graph("matmul_const_4d", [2, 3, 6], matmul_const_4d.__doc__)
    return finish(g, [g.op("MatMul", ["input", g.weight(6, 5)])])


# ---- Conv
@case
def conv_pads_asym():
    """Conv 3x3 with pads [top 0, left 1, bottom 2, right 1], bias, then Relu"""
    g = Graph("conv_pads_asym", [3, 5, 6], conv_pads_asym.__doc__)
    c = g.op("Conv", ["input", g.weight(4, 3, 3, 3), g.weight(4)], kernel_shape=[3, 3], pads=[0, 1, 2, 1])
    return finish(g, [g.op("Relu", [c])])


@case
def conv_dilations():
    """Conv 3x3 dilations [2, 1], pads 2/1, stride 1"""
    g = Graph("conv_dilations", [2, 7, 6], conv_dilations.__doc__)
    return finish(g, [g.op("Conv", ["input", g.weight(3, 2, 3, 3), g.weight(3)], kernel_shape=[3, 3], dilations=[2, 1],
                           pads=[2, 1, 2, 1])])


@case
def conv_groups():
    """Conv group 2: 4 -> 6 channels, 3x3, stride 2, pads 1"""
    g = Graph("conv_groups", [4, 7, 7], conv_groups.__doc__)
    return finish(g, [g.op("Conv", ["input", g.weight(6, 2, 3, 3), g.weight(6)], kernel_shape=[3, 3], group=2,
                           strides=[2, 2], pads=[1, 1, 1, 1])])


@case
def conv_depthwise():
    """Depthwise Conv (group = channels = 5), 3x3, pads 1, no bias, then Clip(0, 6)"""
    g = Graph("conv_depthwise", [5, 6, 6], conv_depthwise.__doc__)
    c = g.op("Conv", ["input", g.weight(5, 1, 3, 3)], kernel_shape=[3, 3], group=5, pads=[1, 1, 1, 1])
    return finish(g, [g.op("Clip", [c, g.const(np.array(0.0, dtype=np.float32)), g.const(np.array(6.0, dtype=np.float32))])])


@case
def conv_auto_pad_same_upper():
    """Conv 3x3 stride 2 auto_pad SAME_UPPER on 6x5 (even: the extra pad at the end)"""
    g = Graph("conv_auto_pad_same_upper", [2, 6, 5], conv_auto_pad_same_upper.__doc__)
    return finish(g, [g.op("Conv", ["input", g.weight(3, 2, 3, 3), g.weight(3)], kernel_shape=[3, 3], strides=[2, 2],
                           auto_pad="SAME_UPPER")])


@case
def conv_auto_pad_same_lower():
    """Conv 2x2 stride 1 auto_pad SAME_LOWER on 5x5 (one pad, at the start)"""
    g = Graph("conv_auto_pad_same_lower", [2, 5, 5], conv_auto_pad_same_lower.__doc__)
    return finish(g, [g.op("Conv", ["input", g.weight(3, 2, 2, 2)], kernel_shape=[2, 2], auto_pad="SAME_LOWER")])


@case
def conv_rect_stride():
    """Conv 3x1 kernel, strides [2, 1], no pads, no kernel_shape attribute (taken from the weight)"""
    g = Graph("conv_rect_stride", [3, 7, 4], conv_rect_stride.__doc__)
    return finish(g, [g.op("Conv", ["input", g.weight(2, 3, 3, 1), g.weight(2)], strides=[2, 1])])


# ---- pooling
@case
def avgpool_count_include_pad():
    """AveragePool 3x3 stride 2 pads 1 count_include_pad 1 (divide by 9 at the borders too)"""
    g = Graph("avgpool_count_include_pad", [2, 5, 6], avgpool_count_include_pad.__doc__)
    return finish(g, [g.op("AveragePool", ["input"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], count_include_pad=1)])


@case
def avgpool_exclude_pad():
    """AveragePool 3x3 stride 2 pads 1 count_include_pad 0 (divide by the valid part)"""
    g = Graph("avgpool_exclude_pad", [2, 5, 6], avgpool_exclude_pad.__doc__)
    return finish(g, [g.op("AveragePool", ["input"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])])


@case
def avgpool_ceil_mode():
    """AveragePool 3x3 stride 2 ceil_mode 1 on 6x8: 3x4 outputs, the last window partial (divided by its valid part)"""
    g = Graph("avgpool_ceil_mode", [2, 6, 8], avgpool_ceil_mode.__doc__)
    return finish(g, [g.op("AveragePool", ["input"], kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1)])


@case
def maxpool_ceil_mode():
    """MaxPool 3x3 stride 2 ceil_mode 1 on 6x7 (googlenet style): 3x3 outputs, not 2x3"""
    g = Graph("maxpool_ceil_mode", [3, 6, 7], maxpool_ceil_mode.__doc__)
    return finish(g, [g.op("MaxPool", ["input"], kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1)])


@case
def maxpool_pads():
    """MaxPool 3x3 stride 2 pads 1 (the resnet stem's), on 7x6"""
    g = Graph("maxpool_pads", [2, 7, 6], maxpool_pads.__doc__)
    return finish(g, [g.op("MaxPool", ["input"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])])


@case
def global_avgpool_flatten_gemm():
    """GlobalAveragePool -> Flatten -> Gemm (a classifier head)"""
    g = Graph("global_avgpool_flatten_gemm", [4, 5, 3], global_avgpool_flatten_gemm.__doc__)
    p = g.op("GlobalAveragePool", ["input"])
    f = g.op("Flatten", [p], axis=1)
    return finish(g, [g.op("Gemm", [f, g.weight(3, 4), g.weight(3)], transB=1)])


@case
def slice_then_conv_padded():
    """Slice rows 1: of [N, 2, 6, 5] (a crop: a pad node with a negative pad), then Conv 3x3 pads 1: the crop must not fold into the padding"""
    g = Graph("slice_then_conv_padded", [2, 6, 5], slice_then_conv_padded.__doc__)
    s = g.op("Slice", ["input", g.const(np.array([1], dtype=np.int64)), g.const(np.array([2 ** 62], dtype=np.int64)),
                       g.const(np.array([2], dtype=np.int64))])
    return finish(g, [g.op("Conv", [s, g.weight(3, 2, 3, 3), g.weight(3)], kernel_shape=[3, 3], pads=[1, 1, 1, 1])])


@case
def split_channels():
    """Split [N, 6, 3, 4] into channels 2 + 4 (sizes input), Relu of the first: both returned"""
    g = Graph("split_channels", [6, 3, 4], split_channels.__doc__)
    a, b = g.op("Split", ["input", g.const(np.array([2, 4], dtype=np.int64))], outputs=2, axis=1)
    return finish(g, [g.op("Relu", [a]), b])


# ---- shape ops
@refused("Flatten & axis 2 & batch")
def flatten_axis2():
    """Flatten(axis=2) on [N, 3, 4, 5] -> [N*3, 20], then Softmax(axis=-1) over each row of 20: the batch changes, refused"""
    g = Graph("flatten_axis2", [3, 4, 5], flatten_axis2.__doc__)
    f = g.op("Flatten", ["input"], axis=2)
    return finish(g, [g.op("Softmax", [f], axis=-1)])


@case
def concat_axis1():
    """Concat(axis=1) of a Conv branch and a Relu branch of one input"""
    g = Graph("concat_axis1", [2, 4, 4], concat_axis1.__doc__)
    a = g.op("Conv", ["input", g.weight(3, 2, 1, 1)], kernel_shape=[1, 1])
    b = g.op("Relu", ["input"])
    return finish(g, [g.op("Concat", [a, b], axis=1)])


@case
def concat_axis_h():
    """Concat(axis=2) along H of x and sigmoid(x)"""
    g = Graph("concat_axis_h", [2, 3, 4], concat_axis_h.__doc__)
    return finish(g, [g.op("Concat", ["input", g.op("Sigmoid", ["input"])], axis=2)])


@case
def concat_axis_last():
    """Concat(axis=-1) along W of x, tanh(x) and x again"""
    g = Graph("concat_axis_last", [2, 3, 2], concat_axis_last.__doc__)
    return finish(g, [g.op("Concat", ["input", g.op("Tanh", ["input"]), "input"], axis=-1)])


@case
def concat_2d():
    """Concat(axis=1) of two Gemm outputs on [N, F]"""
    g = Graph("concat_2d", [5], concat_2d.__doc__)
    a = g.op("Gemm", ["input", g.weight(3, 5), g.weight(3)], transB=1)
    b = g.op("Gemm", ["input", g.weight(2, 5)], transB=1)
    return finish(g, [g.op("Concat", [a, b], axis=1)])


@case
def transpose_nhwc():
    """Transpose perm [0, 2, 3, 1] of [N, 3, 4, 5] (NCHW -> NHWC)"""
    g = Graph("transpose_nhwc", [3, 4, 5], transpose_nhwc.__doc__)
    return finish(g, [g.op("Transpose", ["input"], perm=[0, 2, 3, 1])])


@case
def transpose_hw_softmax():
    """Transpose perm [0, 1, 3, 2] then Softmax(axis=-1) (over the original H)"""
    g = Graph("transpose_hw_softmax", [2, 3, 4], transpose_hw_softmax.__doc__)
    t = g.op("Transpose", ["input"], perm=[0, 1, 3, 2])
    return finish(g, [g.op("Softmax", [t], axis=-1)])


@case
def channel_shuffle():
    """Reshape [N, 6, 3, 2] -> [N, 2, 3, 3, 2], Transpose [0, 2, 1, 3, 4], Reshape back (shufflenet)"""
    g = Graph("channel_shuffle", [6, 3, 2], channel_shuffle.__doc__)
    r = g.op("Reshape", ["input", g.const(np.array([-1, 2, 3, 3, 2], dtype=np.int64))])
    t = g.op("Transpose", [r], perm=[0, 2, 1, 3, 4])
    return finish(g, [g.op("Reshape", [t, g.const(np.array([-1, 6, 3, 2], dtype=np.int64))])])


@case
def shape_subgraph_flatten():
    """x.view(x.size(0), -1) as a dynamic-batch export makes it: Shape -> Gather -> Unsqueeze -> Concat -> Reshape, then Gemm"""
    g = Graph("shape_subgraph_flatten", [2, 3, 3], shape_subgraph_flatten.__doc__)
    shp = g.op("Shape", ["input"])
    n = g.op("Gather", [shp, g.const(np.array(0, dtype=np.int64))], axis=0)
    n1 = g.op("Unsqueeze", [n, g.const(np.array([0], dtype=np.int64))])
    target = g.op("Concat", [n1, g.const(np.array([-1], dtype=np.int64))], axis=0)
    r = g.op("Reshape", ["input", target])
    return finish(g, [g.op("Gemm", [r, g.weight(4, 18), g.weight(4)], transB=1)])


@case
def reshape_constant_2d():
    """Reshape [N, 2, 3, 3] -> constant [-1, 18] (a static-batch style flatten) -> Gemm"""
    g = Graph("reshape_constant_2d", [2, 3, 3], reshape_constant_2d.__doc__)
    r = g.op("Reshape", ["input", g.const(np.array([-1, 18], dtype=np.int64))])
    return finish(g, [g.op("Gemm", [r, g.weight(3, 18), g.weight(3)], transB=1)])


@case
def pad_constant():
    """Pad (constant 0.5) of H by [1, 2] and W by [0, 3], then a 2x2 Conv"""
    g = Graph("pad_constant", [2, 4, 3], pad_constant.__doc__)
    p = g.op("Pad", ["input", g.const(np.array([0, 0, 1, 0, 0, 0, 2, 3], dtype=np.int64)), g.const(np.array(0.5, dtype=np.float32))],
             mode="constant")
    return finish(g, [g.op("Conv", [p, g.weight(3, 2, 2, 2), g.weight(3)], kernel_shape=[2, 2])])


@case
def pad_zero_default():
    """Pad with no value input (zeros) of H by [2, 0] and W by [1, 1]"""
    g = Graph("pad_zero_default", [2, 3, 3], pad_zero_default.__doc__)
    return finish(g, [g.op("Pad", ["input", g.const(np.array([0, 0, 2, 1, 0, 0, 0, 1], dtype=np.int64))])], low=0.5, high=2.0)


# ---- reductions, normalization
@case
def reducemean_keepdims1():
    """ReduceMean axes [2, 3] keepdims 1 -> [N, C, 1, 1]"""
    g = Graph("reducemean_keepdims1", [3, 4, 5], reducemean_keepdims1.__doc__)
    return finish(g, [g.op("ReduceMean", ["input"], axes=[2, 3], keepdims=1)])


@case
def reducemean_keepdims0():
    """ReduceMean axes [2, 3] keepdims 0 -> [N, C], then Gemm"""
    g = Graph("reducemean_keepdims0", [3, 4, 5], reducemean_keepdims0.__doc__)
    m = g.op("ReduceMean", ["input"], axes=[2, 3], keepdims=0)
    return finish(g, [g.op("Gemm", [m, g.weight(2, 3), g.weight(2)], transB=1)])


@case
def reducemean_channels():
    """ReduceMean axes [1] keepdims 1 (over the channels) then Sub from x (x - mean)"""
    g = Graph("reducemean_channels", [4, 2, 3], reducemean_channels.__doc__)
    m = g.op("ReduceMean", ["input"], axes=[1], keepdims=1)
    return finish(g, [g.op("Sub", ["input", m])])


@case
def reducemean_last():
    """ReduceMean axes [-1] keepdims 1 on [N, 5, 6] (LayerNorm's first step)"""
    g = Graph("reducemean_last", [5, 6], reducemean_last.__doc__)
    return finish(g, [g.op("ReduceMean", ["input"], axes=[-1], keepdims=1)])


def _bn(g, c, eps):
    scale = g.const(g.rng.uniform(0.5, 1.5, c))
    bias = g.const(g.rng.normal(0, 0.5, c))
    mean = g.const(g.rng.normal(0, 0.5, c))
    var = g.const(g.rng.uniform(0.5, 2.0, c))
    return [scale, bias, mean, var], dict(epsilon=eps)


@case
def batchnorm_2d():
    """BatchNormalization alone on [N, 4, 3, 5] (no layer before it to fold into), epsilon 1e-3"""
    g = Graph("batchnorm_2d", [4, 3, 5], batchnorm_2d.__doc__)
    ins, at = _bn(g, 4, 1e-3)
    return finish(g, [g.op("BatchNormalization", ["input"] + ins, **at)])


@case
def batchnorm_1d():
    """BatchNormalization on [N, 6] (BatchNorm1d on features)"""
    g = Graph("batchnorm_1d", [6], batchnorm_1d.__doc__)
    ins, at = _bn(g, 6, 1e-5)
    return finish(g, [g.op("BatchNormalization", ["input"] + ins, **at)])


@case
def batchnorm_1d_seq():
    """BatchNormalization on [N, 3, 7] (BatchNorm1d on a sequence: per channel over L)"""
    g = Graph("batchnorm_1d_seq", [3, 7], batchnorm_1d_seq.__doc__)
    ins, at = _bn(g, 3, 1e-5)
    return finish(g, [g.op("BatchNormalization", ["input"] + ins, **at)])


@case
def conv_batchnorm_relu():
    """Conv -> BatchNormalization -> Relu (a training-mode PRESERVE export keeps the BN node)"""
    g = Graph("conv_batchnorm_relu", [3, 5, 5], conv_batchnorm_relu.__doc__)
    c = g.op("Conv", ["input", g.weight(4, 3, 3, 3)], kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    ins, at = _bn(g, 4, 1e-5)
    return finish(g, [g.op("Relu", [g.op("BatchNormalization", [c] + ins, **at)])])


# ---- elementwise with constants and between values
@case
def mul_scalar_const():
    """Mul by a scalar constant, then Add a scalar constant"""
    g = Graph("mul_scalar_const", [3, 2, 2], mul_scalar_const.__doc__)
    m = g.op("Mul", ["input", g.const(np.array(1.7, dtype=np.float32))])
    return finish(g, [g.op("Add", [m, g.const(np.array(-0.3, dtype=np.float32))])])


@case
def add_per_channel_const():
    """Add a per-channel constant [C, 1, 1], Mul by a per-channel constant [1, C, 1, 1]"""
    g = Graph("add_per_channel_const", [3, 2, 4], add_per_channel_const.__doc__)
    a = g.op("Add", ["input", g.const(g.rng.normal(size=(3, 1, 1)))])
    return finish(g, [g.op("Mul", [a, g.const(g.rng.normal(size=(1, 3, 1, 1)))])])


@case
def mul_const_full():
    """Mul by a constant of the sample's full shape [C, H, W], Add a constant [W] (broadcast over C, H)"""
    g = Graph("mul_const_full", [2, 3, 4], mul_const_full.__doc__)
    m = g.op("Mul", ["input", g.const(g.rng.normal(size=(2, 3, 4)))])
    return finish(g, [g.op("Add", [m, g.const(g.rng.normal(size=(4,)))])])


@case
def sub_const_left():
    """1 - x (Sub with the constant first)"""
    g = Graph("sub_const_left", [3, 2, 2], sub_const_left.__doc__)
    return finish(g, [g.op("Sub", [g.const(np.array(1.0, dtype=np.float32)), "input"])])


@case
def sub_const_right():
    """x - c with a per-channel c [C, 1, 1]"""
    g = Graph("sub_const_right", [3, 2, 2], sub_const_right.__doc__)
    return finish(g, [g.op("Sub", ["input", g.const(g.rng.normal(size=(3, 1, 1)))])])


@case
def div_const_left():
    """2 / x (Div with the constant first; x in [0.5, 2])"""
    g = Graph("div_const_left", [3, 2, 2], div_const_left.__doc__)
    return finish(g, [g.op("Div", [g.const(np.array(2.0, dtype=np.float32)), "input"])], low=0.5, high=2.0)


@case
def div_const_right():
    """x / c with a per-channel c [C, 1, 1] of magnitudes 0.5..2"""
    g = Graph("div_const_right", [3, 2, 2], div_const_right.__doc__)
    c = g.rng.uniform(0.5, 2.0, size=(3, 1, 1)) * np.array([1, -1, 1]).reshape(3, 1, 1)
    return finish(g, [g.op("Div", ["input", g.const(c)])])


@case
def pow_const():
    """x ** 2 and x ** 3 (Pow with a constant exponent), summed"""
    g = Graph("pow_const", [3, 2, 2], pow_const.__doc__)
    a = g.op("Pow", ["input", g.const(np.array(2.0, dtype=np.float32))])
    b = g.op("Pow", ["input", g.const(np.array(3.0, dtype=np.float32))])
    return finish(g, [g.op("Add", [a, b])])


@case
def pow_const_base():
    """2 ** x (Pow with the constant as the base)"""
    g = Graph("pow_const_base", [3, 2, 2], pow_const_base.__doc__)
    return finish(g, [g.op("Pow", [g.const(np.array(2.0, dtype=np.float32)), "input"])])


@case
def mul_broadcast_values():
    """Squeeze-excitation: x [N, C, H, W] * sigmoid(conv1x1(mean(x))) [N, C, 1, 1]"""
    g = Graph("mul_broadcast_values", [4, 3, 5], mul_broadcast_values.__doc__)
    m = g.op("ReduceMean", ["input"], axes=[2, 3], keepdims=1)
    c = g.op("Conv", [m, g.weight(4, 4, 1, 1), g.weight(4)], kernel_shape=[1, 1])
    s = g.op("Sigmoid", [c])
    return finish(g, [g.op("Mul", ["input", s])])


@case
def binary_values():
    """Add, Sub, Mul and Div between two values of one shape: (a + b) * (a - b) / (1 + b*b)"""
    g = Graph("binary_values", [3, 2, 3], binary_values.__doc__)
    a = g.op("Tanh", ["input"])
    b = g.op("Conv", ["input", g.weight(3, 3, 1, 1)], kernel_shape=[1, 1])
    s = g.op("Add", [a, b])
    d = g.op("Sub", [a, b])
    p = g.op("Mul", [s, d])
    den = g.op("Add", [g.const(np.array(1.0, dtype=np.float32)), g.op("Mul", [b, b])])
    return finish(g, [g.op("Div", [p, den])])


@case
def broadcast_values_first():
    """Sub with the broadcast value first: mean(x) [N, C, 1, 1] - x [N, C, H, W]"""
    g = Graph("broadcast_values_first", [3, 2, 4], broadcast_values_first.__doc__)
    m = g.op("ReduceMean", ["input"], axes=[2, 3], keepdims=1)
    return finish(g, [g.op("Sub", [m, "input"])])


@case
def pow_values():
    """Pow between values: sigmoid(x) ** tanh(x)"""
    g = Graph("pow_values", [3, 2, 2], pow_values.__doc__)
    return finish(g, [g.op("Pow", [g.op("Sigmoid", ["input"]), g.op("Tanh", ["input"])])])


# ---- unary ops and activation patterns
@case
def sqrt_exp_neg():
    """Sqrt, Exp and Neg: -exp(sqrt(x)) on x in [0.1, 3]"""
    g = Graph("sqrt_exp_neg", [3, 2, 2], sqrt_exp_neg.__doc__)
    return finish(g, [g.op("Neg", [g.op("Exp", [g.op("Sqrt", ["input"])])])], low=0.1, high=3.0)


@case
def erf_op():
    """Erf alone"""
    g = Graph("erf_op", [4, 3], erf_op.__doc__)
    return finish(g, [g.op("Erf", ["input"])])


@case
def sigmoid_tanh():
    """Sigmoid and Tanh, two outputs"""
    g = Graph("sigmoid_tanh", [2, 3, 3], sigmoid_tanh.__doc__)
    return finish(g, [g.op("Sigmoid", ["input"]), g.op("Tanh", ["input"])], low=-4, high=4)


@case
def hardsigmoid_default():
    """HardSigmoid with its default alpha 0.2, beta 0.5"""
    g = Graph("hardsigmoid_default", [3, 2, 3], hardsigmoid_default.__doc__)
    return finish(g, [g.op("HardSigmoid", ["input"])], low=-4, high=4)


@case
def hardsigmoid_torch():
    """HardSigmoid alpha 1/6, beta 0.5 (torch's Hardsigmoid)"""
    g = Graph("hardsigmoid_torch", [3, 2, 3], hardsigmoid_torch.__doc__)
    return finish(g, [g.op("HardSigmoid", ["input"], alpha=1.0 / 6, beta=0.5)], low=-5, high=5)


@case
def hardswish_pattern():
    """HardSwish as opset 13 exports it: x * HardSigmoid(x, alpha 1/6, beta 0.5)"""
    g = Graph("hardswish_pattern", [3, 2, 3], hardswish_pattern.__doc__)
    hs = g.op("HardSigmoid", ["input"], alpha=1.0 / 6, beta=0.5)
    return finish(g, [g.op("Mul", ["input", hs])], low=-5, high=5)


@case
def silu_pattern():
    """SiLU as exported: x * Sigmoid(x)"""
    g = Graph("silu_pattern", [3, 2, 3], silu_pattern.__doc__)
    return finish(g, [g.op("Mul", ["input", g.op("Sigmoid", ["input"])])], low=-5, high=5)


@case
def silu_pattern_swapped():
    """SiLU with the operands swapped: Sigmoid(x) * x"""
    g = Graph("silu_pattern_swapped", [6], silu_pattern_swapped.__doc__)
    return finish(g, [g.op("Mul", [g.op("Sigmoid", ["input"]), "input"])], low=-5, high=5)


@case
def gelu_erf_pattern():
    """GELU as torch exports it: x * 0.5 * (1 + Erf(x / sqrt(2))) (Div, Erf, Add, Mul, Mul)"""
    g = Graph("gelu_erf_pattern", [3, 2, 3], gelu_erf_pattern.__doc__)
    d = g.op("Div", ["input", g.const(np.array(math.sqrt(2.0), dtype=np.float32))])
    e = g.op("Erf", [d])
    a = g.op("Add", [e, g.const(np.array(1.0, dtype=np.float32))])
    m = g.op("Mul", ["input", a])
    return finish(g, [g.op("Mul", [m, g.const(np.array(0.5, dtype=np.float32))])], low=-4, high=4)


@case
def leaky_relu():
    """LeakyRelu alpha 0.1 after a Gemm"""
    g = Graph("leaky_relu", [5], leaky_relu.__doc__)
    m = g.op("Gemm", ["input", g.weight(4, 5), g.weight(4)], transB=1)
    return finish(g, [g.op("LeakyRelu", [m], alpha=0.1)])


@case
def clip_min_max():
    """Clip with min -0.5 and max 0.7 given as constant inputs"""
    g = Graph("clip_min_max", [3, 2, 3], clip_min_max.__doc__)
    return finish(g, [g.op("Clip", ["input", g.const(np.array(-0.5, dtype=np.float32)), g.const(np.array(0.7, dtype=np.float32))])])


@case
def clip_min_only():
    """Clip with only a min input (max omitted: '') of 0.25"""
    g = Graph("clip_min_only", [3, 2, 3], clip_min_only.__doc__)
    return finish(g, [g.op("Clip", ["input", g.const(np.array(0.25, dtype=np.float32)), ""])])


@case
def clip_max_only():
    """Clip with only a max input (min omitted: '') of -0.1"""
    g = Graph("clip_max_only", [3, 2, 3], clip_max_only.__doc__)
    return finish(g, [g.op("Clip", ["input", "", g.const(np.array(-0.1, dtype=np.float32))])])


@case
def identity_dropout_chain():
    """Identity -> Dropout -> Identity -> Relu -> Dropout (all but Relu change nothing at inference)"""
    g = Graph("identity_dropout_chain", [3, 2, 2], identity_dropout_chain.__doc__)
    a = g.op("Identity", ["input"])
    b = g.op("Dropout", [a])
    c = g.op("Identity", [b])
    d = g.op("Relu", [c])
    return finish(g, [g.op("Dropout", [d, g.const(np.array(0.3, dtype=np.float32))])])


@case
def constant_node_weight():
    """Conv whose weight and bias come from Constant nodes, not initializers"""
    g = Graph("constant_node_weight", [2, 4, 4], constant_node_weight.__doc__)
    w = g.rng.normal(0, 0.5, size=(3, 2, 3, 3)).astype(np.float32)
    b = g.rng.normal(0, 0.5, size=(3,)).astype(np.float32)
    wn = g.op("Constant", [], value=numpy_helper.from_array(w, "wv"))
    bn = g.op("Constant", [], value=numpy_helper.from_array(b, "bv"))
    return finish(g, [g.op("Conv", ["input", wn, bn], kernel_shape=[3, 3], pads=[1, 1, 1, 1])])


@case
def residual_block():
    """x + Conv(Relu(Conv(x))): a residual Add between values"""
    g = Graph("residual_block", [3, 5, 4], residual_block.__doc__)
    c1 = g.op("Conv", ["input", g.weight(3, 3, 3, 3), g.weight(3)], kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    c2 = g.op("Conv", [g.op("Relu", [c1]), g.weight(3, 3, 3, 3)], kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    return finish(g, [g.op("Add", ["input", c2])])


@case
def two_outputs_intermediate():
    """outputs pooled features h [N, 4] and Softmax(Gemm(Relu(h))): h is consumed later"""
    g = Graph("two_outputs_intermediate", [2, 5, 5], two_outputs_intermediate.__doc__)
    c = g.op("Conv", ["input", g.weight(4, 2, 3, 3), g.weight(4)], kernel_shape=[3, 3])
    h = g.op("Flatten", [g.op("GlobalAveragePool", [c])], axis=1)
    y = g.op("Softmax", [g.op("Gemm", [g.op("Relu", [h]), g.weight(3, 4), g.weight(3)], transB=1)], axis=1)
    return finish(g, [h, y])


@case
def output_reshape_of_input():
    """outputs Reshape(x) [N, 6] -> [N, 6, 1, 1] (data unchanged: an alias of the input) and a 1x1 Conv of it (make_random_graphs seed 2 g0171)"""
    g = Graph("output_reshape_of_input", [6], output_reshape_of_input.__doc__)
    r = g.op("Reshape", ["input", g.const(np.array([-1, 6, 1, 1], dtype=np.int64))])
    c = g.op("Conv", [r, g.weight(3, 6, 1, 1), g.weight(3)], kernel_shape=[1, 1])
    return finish(g, [r, c])


# ---- refused
@refused("LSTM")
def refused_lstm():
    """an LSTM node: not supported, refused naming the op"""
    g = Graph("refused_lstm", [3, 4], refused_lstm.__doc__)
    hidden = 5
    w = g.weight(1, 4 * hidden, 4)
    r = g.weight(1, 4 * hidden, hidden)
    y = g.op("LSTM", ["input", w, r], outputs=["y", "yh", "yc"], hidden_size=hidden)[0]
    return finish(g, [y])


@refused("Conv & weight & constant")
def refused_conv_weight_not_constant():
    """Conv whose weight is computed from the input (Conv(x, x)): refused, the weight is not a constant"""
    g = Graph("refused_conv_weight_not_constant", [2, 3, 3], refused_conv_weight_not_constant.__doc__)
    return finish(g, [g.op("Conv", ["input", "input"], kernel_shape=[3, 3])])


@refused("Gemm & weight & constant")
def refused_gemm_weight_not_constant():
    """Gemm(x, Relu(x), transB 1): B is a value, not a weight: refused, the weight is not a constant"""
    g = Graph("refused_gemm_weight_not_constant", [4], refused_gemm_weight_not_constant.__doc__)
    r = g.op("Relu", ["input"])
    return finish(g, [g.op("Gemm", ["input", r], transB=1)])


# --------------------------------------------------------------------------- ORT cross-check
def ort_setup():
    here = os.path.dirname(os.path.abspath(__file__))
    anchor = os.path.normpath(os.path.join(here, "..", "..", "..", "shared", "anchors", "ort"))
    if not os.path.isdir(anchor):
        anchor = "/work/shared/anchors/ort"
    cache = os.environ.get("SPARQ_ANCHOR_CACHE", os.path.expanduser("~/.cache/sparq-anchors"))
    if not (os.path.isfile(os.path.join(anchor, "e2e.js")) and os.path.isdir(os.path.join(cache, "node_modules", "onnxruntime-node"))
            and shutil.which("node")):
        return None
    return anchor, cache


def ort_outputs(ort, model, x, tmp):
    """Every graph output through ONNX Runtime (e2e.js writes the first output: one run per output)."""
    anchor, cache = ort
    xpath = os.path.join(tmp, "x.npy")
    np.save(xpath, x)
    outs = []
    for k in range(len(model.graph.output)):
        m = onnx.ModelProto()
        m.CopyFrom(model)
        order = [model.graph.output[k]] + [o for j, o in enumerate(model.graph.output) if j != k]
        del m.graph.output[:]
        m.graph.output.extend(order)
        mpath, opath = os.path.join(tmp, "m.onnx"), os.path.join(tmp, "out.bin")
        onnx.save(m, mpath)
        subprocess.run(["node", os.path.join(anchor, "e2e.js"), mpath, xpath, "0", opath], check=True,
                       env=dict(os.environ, NODE_PATH=os.path.join(cache, "node_modules")))
        outs.append(np.fromfile(opath, dtype=np.float32))
    return outs


def set_output_shapes(model, ys):
    """Graph outputs typed with the reference's shapes (the batch dim symbolic 'N')."""
    for o, y in zip(model.graph.output, ys):
        dims = ["N"] + list(y.shape[1:]) if y.shape[0] == BATCH else list(y.shape)
        o.CopyFrom(helper.make_tensor_value_info(o.name, TensorProto.FLOAT, dims))


def ort_outputs_unoptimized(ort, model_path, x, tmp):
    """Every graph output through ONNX Runtime with graph optimizations off (tools/gen/ort_outputs.js),
    as (shape, values) pairs."""
    anchor, cache = ort
    xpath, prefix = os.path.join(tmp, "x.npy"), os.path.join(tmp, "out")
    np.save(xpath, x)
    r = subprocess.run(["node", os.path.join(os.path.dirname(os.path.abspath(__file__)), "ort_outputs.js"), model_path, xpath, prefix],
                       check=True, capture_output=True, text=True,
                       env=dict(os.environ, NODE_PATH=os.path.join(cache, "node_modules"), SPARQ_ORT_ANCHOR=anchor))
    shapes = [tuple(int(v) for v in line.split()) for line in r.stdout.splitlines()]
    return [(sh, np.fromfile(f"{prefix}.{k}.bin", dtype=np.float32)) for k, sh in enumerate(shapes)]


def rel_err(a, b):
    a, b = np.asarray(a, np.float64).ravel(), np.asarray(b, np.float64).ravel()
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-6))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--out", default=os.path.join(here, "..", "..", "tests", "data", "onnx"))
    ap.add_argument("--no-ort", action="store_true", help="skip the ONNX Runtime cross-check")
    args = ap.parse_args()
    out = os.path.normpath(args.out)
    os.makedirs(out, exist_ok=True)
    for f in os.listdir(out):  # stale cases go
        if f.endswith((".onnx", ".npy")):
            os.remove(os.path.join(out, f))
    ort = None if args.no_ort else ort_setup()
    if not args.no_ort and ort is None:
        print("ONNX Runtime not found (run ../shared/anchors/ort/ort_bench.sh once to install it): numpy reference only",
              file=sys.stderr)
    lines, bad = [], 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, fn in CASES:
            model, x = fn()
            ys = [y.astype(np.float32) for y in evaluate(model, x)]
            set_output_shapes(model, ys)
            onnx.checker.check_model(model, full_check=True)
            # The bug cases must tell the right answer from the wrong one seen.
            if name.startswith("relu_of_output"):
                assert (ys[0] < 0).any(), "h must have negative values for the case to mean anything"
            if name.startswith("maxpool_auto_pad_same"):
                assert ys[0].shape == (BATCH, 2, 3, 3)
            onnx.save(model, os.path.join(out, name + ".onnx"))
            np.save(os.path.join(out, name + ".input.npy"), x)
            for k, y in enumerate(ys):
                np.save(os.path.join(out, f"{name}.output{k}.npy"), y)
            note = ""
            if ort:
                errs = [rel_err(o, y) for o, y in zip(ort_outputs(ort, model, x, tmp), ys)]
                note = " ort " + " ".join(f"{e:.1e}" for e in errs)
                if max(errs) > 1e-5:
                    bad += 1
                    note += "  <-- numpy and ONNX Runtime disagree"
            print(f"{name}: {' '.join(str(list(y.shape)) for y in ys)}{note}")
            lines.append(f"{name} | {fn.__doc__.strip()}")
        ref_lines = []
        for name, fn, sub in REFUSED:
            model, x = fn()
            if name == "refused_lstm":
                set_output_shapes(model, [np.zeros((BATCH, 1, 3, 5))])  # [seq, directions, batch, hidden]
            else:
                set_output_shapes(model, [np.zeros((BATCH, 1))])
            onnx.checker.check_model(model)
            onnx.save(model, os.path.join(out, name + ".onnx"))
            np.save(os.path.join(out, name + ".input.npy"), x)
            ref_lines.append(f"{name} | {sub}")
            lines.append(f"{name} | {fn.__doc__.strip()}")
            print(f"{name}: refused, message must contain '{sub}'")
    with open(os.path.join(out, "cases.txt"), "w") as f:
        f.write("# case | what it checks (written by tools/gen/make_onnx_cases.py)\n" + "\n".join(lines) + "\n")
    with open(os.path.join(out, "refused.txt"), "w") as f:
        f.write("# case | substrings (joined by ' & ') the importer's error must contain (written by tools/gen/make_onnx_cases.py)\n"
                + "\n".join(ref_lines) + "\n")
    print(f"{len(CASES)} cases, {len(REFUSED)} refused cases written to {out}")
    if bad:
        sys.exit(f"{bad} cases where numpy and ONNX Runtime disagree")


if __name__ == "__main__":
    main()
