#!/usr/bin/python3
"""Random small PyTorch modules exported to ONNX, with PyTorch's outputs: the inputs of the
ONNX importer's differential test (tests/onnx_diff). Each graph is a chain or a DAG of 2-12 ops
drawn from what real CNNs use (Conv2d with every padding / stride / dilation / groups form,
BatchNorm, the activations, pooling, global means, Flatten / view / reshape / permute / channel
shuffle, Linear, elementwise ops with constants and between values incl. broadcasting, cat,
pad, softmax, clamp ...) on small odd shapes, exported by torch.onnx.export at opset 13 with a
dynamic batch axis, in eval mode (BatchNorm folded, constants folded) or in
TrainingMode.PRESERVE without constant folding (BatchNormalization nodes kept, shape subgraphs
left as they are); some graphs return two outputs, the first an intermediate value also used
later. Writes, for N = 0 .. count-1, under --out:

  gNNNN.onnx            the exported graph (input 'input' [2, C, H, W] or [2, F], batch 'N')
  gNNNN.input.npy       float32 input, batch 2
  gNNNN.output<k>.npy   PyTorch's float32 output k
  gNNNN.txt             the module: export mode, each op with its attributes and shapes

Deterministic for a seed (the same files, byte for byte). About 0.1 s a graph on one core.
--check-ort also runs each graph through ONNX Runtime (../shared/anchors/ort, graph
optimizations off: tools/gen/ort_outputs.js) and reports where its shapes differ from PyTorch's
or its values by more than 1e-4: a check that each exported file means what PyTorch computed
(of the generator and the exporter, not of sparq).

Run: /usr/bin/python3 tools/gen/make_random_graphs.py --seed 1 --count 200 --out DIR
Needs python3-torch, python3-onnx, python3-numpy (Debian).
"""
import argparse
import io
import os
import random
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(1)
BATCH = 2
CHANNELS = [1, 2, 3, 4, 5, 6, 7, 8, 11, 13, 16]
SIZES = [1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12]
FEATURES = [1, 2, 3, 5, 7, 8, 10, 13, 16, 24]


def is_img(s):
    return len(s) == 3


def is_vec(s):
    return len(s) == 1


def is_seq(s):
    return len(s) == 2


def fmt(s):
    return "[" + ", ".join(str(v) for v in (BATCH,) + tuple(s)) + "]"


class Net(nn.Module):
    """Values: 0 the input, i + 1 step i's result. A step is (function of the values list, text)."""

    def __init__(self):
        super().__init__()
        self.mods = nn.ModuleList()
        self.steps = []
        self.outputs = []

    def add(self, m):
        self.mods.append(m)
        return m

    def forward(self, x):
        vals = [x]
        for fn in self.steps:
            vals.append(fn(vals))
        outs = tuple(vals[i] for i in self.outputs)
        return outs if len(outs) > 1 else outs[0]


class Builder:
    def __init__(self, rng, net, in_shape):
        self.r, self.net = rng, net
        self.shapes = [tuple(in_shape)]
        self.desc = []
        self.consumers = [0]  # how many steps read each value
        self.kinds = ["input"]
        self.ops = 0  # torch ops used (a composite step counts each)

    def emit(self, fn, ins, out_shape, text, kind, ops=1):
        for i in ins:
            self.consumers[i] += 1
        self.net.steps.append(fn)
        self.shapes.append(tuple(out_shape))
        self.consumers.append(0)
        self.kinds.append(kind)
        self.ops += ops
        v = len(self.shapes) - 1
        args = ", ".join(f"v{i}" for i in ins)
        self.desc.append(f"v{v} = {text}({args})  {' '.join(fmt(self.shapes[i]) for i in ins)} -> {fmt(out_shape)}")
        return v

    # ---------------------------------------------------------------- random pieces
    def choice(self, weighted):
        items, w = zip(*weighted)
        return self.r.choices(items, weights=w)[0]

    def pick_other(self, want, exclude):
        """An earlier value whose shape satisfies want(shape), not exclude."""
        c = [i for i, s in enumerate(self.shapes) if i != exclude and want(s)]
        return self.r.choice(c) if c else None


# --------------------------------------------------------------------------- ops
def act_module(b):
    r = b.r
    name = b.choice([("relu", 4), ("relu6", 2), ("leaky_relu", 1), ("sigmoid", 1), ("tanh", 1), ("silu", 2), ("gelu", 1),
                     ("hardsigmoid", 1), ("hardswish", 2)])
    if name == "leaky_relu":
        slope = r.choice([0.01, 0.1, 0.2])
        return nn.LeakyReLU(slope), f"leaky_relu(slope {slope})"
    m = {"relu": nn.ReLU(), "relu6": nn.ReLU6(), "sigmoid": nn.Sigmoid(), "tanh": nn.Tanh(), "silu": nn.SiLU(), "gelu": nn.GELU(),
         "hardsigmoid": nn.Hardsigmoid(), "hardswish": nn.Hardswish()}[name]
    return m, name


def op_act(b, v):
    m, name = act_module(b)
    b.net.add(m)
    return b.emit(lambda vals, v=v, m=m: m(vals[v]), [v], b.shapes[v], name, "act")


def conv_out(n, k, s, p0, p1, d):
    span = n + p0 + p1 - (d * (k - 1) + 1)
    return span // s + 1 if span >= 0 else 0


def op_conv(b, v):
    r = b.r
    c, h, w = b.shapes[v]
    k = b.choice([(1, 3), (3, 6), (5, 1)])
    s = b.choice([(1, 3), (2, 2)])
    d = b.choice([(1, 5), (2, 1)]) if k > 1 else 1
    g_kind = b.choice([("1", 6), ("depthwise", 2), ("groups", 1)])
    if g_kind == "depthwise":
        groups, out = c, c * r.choice([1, 1, 2])
    elif g_kind == "groups":
        divs = [g for g in range(2, c + 1) if c % g == 0]
        if not divs:
            groups, out = 1, r.choice(CHANNELS)
        else:
            groups = r.choice(divs)
            out = groups * r.choice([1, 2, 3])
    else:
        groups, out = 1, r.choice(CHANNELS)
    if out > 16:  # keep C <= 16
        out = groups
    pad_kind = b.choice([("sym", 5), ("none", 2), ("asym", 2)]) if k > 1 else b.choice([("none", 4), ("asym", 1)])
    half = d * (k - 1) // 2
    if pad_kind == "sym":
        ph, pw = r.randint(0, max(half, 0)), r.randint(0, max(half, 0))
        pads = (pw, pw, ph, ph)  # F.pad order: left, right, top, bottom
    elif pad_kind == "asym":
        pads = tuple(r.randint(0, max(half, 1)) for _ in range(4))
        if pads[0] == pads[1] and pads[2] == pads[3]:
            pads = (pads[0], pads[1] + 1, pads[2], pads[3])
    else:
        pads = (0, 0, 0, 0)
    oh = conv_out(h, k, s, pads[2], pads[3], d)
    ow = conv_out(w, k, s, pads[0], pads[1], d)
    if oh < 1 or ow < 1:
        return None
    bias = r.random() < 0.7
    if pad_kind == "asym":
        conv = b.net.add(nn.Conv2d(c, out, k, stride=s, padding=0, dilation=d, groups=groups, bias=bias))
        fn = lambda vals, v=v, m=conv, p=pads: m(F.pad(vals[v], p))
        text = f"conv2d(F.pad {pads} then k{k} s{s} d{d} groups {groups} out {out}{' bias' if bias else ''})"
        ops = 2
    else:
        conv = b.net.add(nn.Conv2d(c, out, k, stride=s, padding=(pads[2], pads[0]), dilation=d, groups=groups, bias=bias))
        fn = lambda vals, v=v, m=conv: m(vals[v])
        text = f"conv2d(k{k} s{s} pad {pads[2]},{pads[0]} d{d} groups {groups} out {out}{' bias' if bias else ''})"
        ops = 1
    return b.emit(fn, [v], (out, oh, ow), text, "conv", ops)


def random_bn(m, r):
    n = m.num_features
    with torch.no_grad():
        m.weight.copy_(torch.tensor([r.uniform(0.5, 1.5) for _ in range(n)]))
        m.bias.copy_(torch.tensor([r.gauss(0, 0.5) for _ in range(n)]))
        m.running_mean.copy_(torch.tensor([r.gauss(0, 0.5) for _ in range(n)]))
        m.running_var.copy_(torch.tensor([r.uniform(0.5, 2.0) for _ in range(n)]))
    return m


def op_bn(b, v):
    s = b.shapes[v]
    if is_img(s):
        m = b.net.add(random_bn(nn.BatchNorm2d(s[0]), b.r))
        name = "batchnorm2d"
    else:  # [F] or [L, D]: BatchNorm1d over dim 1
        m = b.net.add(random_bn(nn.BatchNorm1d(s[0]), b.r))
        name = "batchnorm1d"
    return b.emit(lambda vals, v=v, m=m: m(vals[v]), [v], s, name, "bn")


def pool_out(n, k, s, p, ceil):
    span = n + 2 * p - k
    if span < 0:
        return 0
    out = (-(-span // s) if ceil else span // s) + 1
    if ceil and (out - 1) * s >= n + p:
        out -= 1
    return out


def op_pool(b, v, kind):
    r = b.r
    c, h, w = b.shapes[v]
    k = r.choice([2, 3, 3])
    s = r.choice([1, 2, 2, k])
    p = r.randint(0, k // 2)
    ceil = r.random() < 0.3
    oh, ow = pool_out(h, k, s, p, ceil), pool_out(w, k, s, p, ceil)
    if oh < 1 or ow < 1:
        return None
    if kind == "max":
        m = b.net.add(nn.MaxPool2d(k, s, p, ceil_mode=ceil))
        text = f"maxpool2d(k{k} s{s} pad {p}{' ceil' if ceil else ''})"
    else:
        inc = r.random() < 0.5
        def onnx_ceil(n):  # the exported Pad + AveragePool(pads 0, ceil_mode 1) per the ONNX spec
            return -(-(n + 2 * p - k) // s) + 1

        if ceil and inc and p and (onnx_ceil(h) != oh or onnx_ceil(w) != ow):
            # torch 1.13 exports this as Pad + AveragePool(ceil_mode) whose ONNX meaning differs from
            # PyTorch's result where PyTorch drops a last window that starts in the padding (the
            # exported graph has one more): a bug of the exporter, not what the importer is tested on.
            ceil = False
            oh, ow = pool_out(h, k, s, p, False), pool_out(w, k, s, p, False)
        m = b.net.add(nn.AvgPool2d(k, s, p, ceil_mode=ceil, count_include_pad=inc))
        text = f"avgpool2d(k{k} s{s} pad {p}{' ceil' if ceil else ''}{' count_include_pad' if inc and p else ''})"
    return b.emit(lambda vals, v=v, m=m: m(vals[v]), [v], (c, oh, ow), text, "pool")


def op_global(b, v):
    c = b.shapes[v][0]
    form = b.choice([("adaptive", 2), ("mean_keep", 2), ("mean", 2)])
    if form == "adaptive":
        m = b.net.add(nn.AdaptiveAvgPool2d(1))
        return b.emit(lambda vals, v=v, m=m: m(vals[v]), [v], (c, 1, 1), "adaptive_avgpool2d(1)", "global")
    if form == "mean_keep":
        return b.emit(lambda vals, v=v: vals[v].mean((2, 3), keepdim=True), [v], (c, 1, 1), "mean((2, 3), keepdim)", "global")
    return b.emit(lambda vals, v=v: vals[v].mean((2, 3)), [v], (c,), "mean((2, 3))", "global")


def op_flatten(b, v):
    s = b.shapes[v]
    n = int(np.prod(s))
    form = b.choice([("nn.Flatten", 2), ("torch.flatten", 2), ("view_size0", 2), ("reshape_minus1", 1)])
    if form == "nn.Flatten":
        m = b.net.add(nn.Flatten())
        fn = lambda vals, v=v, m=m: m(vals[v])
    elif form == "torch.flatten":
        fn = lambda vals, v=v: torch.flatten(vals[v], 1)
    elif form == "view_size0":
        fn = lambda vals, v=v: vals[v].reshape(vals[v].size(0), -1)
    else:
        fn = lambda vals, v=v, n=n: vals[v].reshape(-1, n)
    return b.emit(fn, [v], (n,), form, "flatten")


def op_linear(b, v):
    f = b.shapes[v][0]
    out = b.r.choice(FEATURES)
    bias = b.r.random() < 0.85
    m = b.net.add(nn.Linear(f, out, bias=bias))
    return b.emit(lambda vals, v=v, m=m: m(vals[v]), [v], (out,), f"linear(out {out}{'' if bias else ' no bias'})", "linear")


def const_tensor(b, shape, positive=False):
    vals = [b.r.uniform(0.5, 2.0) if positive else b.r.gauss(0, 1) for _ in range(int(np.prod(shape)))]
    return torch.tensor(vals, dtype=torch.float32).reshape(shape)


def op_binary_const(b, v):
    r = b.r
    s = b.shapes[v]
    form = b.choice([("scalar", 3), ("per_channel", 3), ("left", 2)])
    opn = r.choice(["add", "sub", "mul", "div"])
    if form == "scalar":
        c = round(r.uniform(0.5, 2.0) * r.choice([1, -1]), 3)
        text = f"{opn} scalar {c}"
        cshape = ()
    else:
        cshape = (s[0], 1, 1) if is_img(s) else (s[0],) if is_vec(s) else (1, s[1])
        if form == "per_channel" and is_img(s) and r.random() < 0.3:
            cshape = (1, s[0], 1, 1)
        c = const_tensor(b, cshape, positive=(opn == "div")) if form == "per_channel" else None
        text = f"{opn} const {list(cshape)}"
    if form == "left":
        # the constant on the left: 1 - x, 2 / (sigmoid(x) + 0.5), 3 * x, 0.5 + x
        k = round(r.uniform(0.5, 3.0), 3)
        if opn == "div":
            fn = lambda vals, v=v, k=k: k / (torch.sigmoid(vals[v]) + 0.5)
            return b.emit(fn, [v], s, f"{k} / (sigmoid + 0.5)", "binary_const", 3)
        f = {"add": lambda x, k=k: k + x, "sub": lambda x, k=k: k - x, "mul": lambda x, k=k: k * x}[opn]
        return b.emit(lambda vals, v=v, f=f: f(vals[v]), [v], s, f"{k} {opn} x", "binary_const")
    if form == "per_channel":
        buf = f"c{len(b.shapes)}"
        b.net.register_buffer(buf, c)
        f = {"add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div}[opn]
        fn = lambda vals, v=v, f=f, buf=buf: f(vals[v], getattr(b.net, buf))
        return b.emit(fn, [v], s, text, "binary_const")
    f = {"add": lambda x, c=c: x + c, "sub": lambda x, c=c: x - c, "mul": lambda x, c=c: x * c, "div": lambda x, c=c: x / c}[opn]
    return b.emit(lambda vals, v=v, f=f: f(vals[v]), [v], s, text, "binary_const")


def op_binary_values(b, v):
    r = b.r
    s = b.shapes[v]
    opn = b.choice([("add", 4), ("mul", 3), ("sub", 2), ("div", 1)])
    # the other operand: an earlier value of the same shape, or (images) one of [C, 1, 1]
    def same(t):
        return t == s

    def bcast(t):
        return is_img(s) and t == (s[0], 1, 1)

    o = b.pick_other(lambda t: same(t) or bcast(t), v)
    if o is None:
        return None
    a, c = (v, o) if r.random() < 0.7 or not same(b.shapes[o]) else (o, v)
    if opn == "div":
        fn = lambda vals, a=a, c=c: vals[a] / (torch.sigmoid(vals[c]) + 0.5)
        return b.emit(fn, [a, c], s, "div(x, sigmoid(y) + 0.5)", "binary_values", 3)
    f = {"add": torch.add, "sub": torch.sub, "mul": torch.mul}[opn]
    return b.emit(lambda vals, a=a, c=c, f=f: f(vals[a], vals[c]), [a, c], s, opn, "binary_values")


def op_se(b, v):
    """Squeeze-excitation: x * sigmoid(conv1x1(relu(conv1x1(mean(x)))))"""
    c = b.shapes[v][0]
    mid = max(1, c // 2)
    c1 = b.net.add(nn.Conv2d(c, mid, 1))
    c2 = b.net.add(nn.Conv2d(mid, c, 1))
    gate = b.r.choice(["sigmoid", "hardsigmoid"])
    g = torch.sigmoid if gate == "sigmoid" else F.hardsigmoid
    fn = lambda vals, v=v, c1=c1, c2=c2, g=g: vals[v] * g(c2(F.relu(c1(vals[v].mean((2, 3), keepdim=True)))))
    return b.emit(fn, [v], b.shapes[v], f"squeeze_excitation(mid {mid}, {gate})", "se", 6)


def op_residual(b, v):
    c, h, w = b.shapes[v]
    conv = b.net.add(nn.Conv2d(c, c, 3, padding=1))
    fn = lambda vals, v=v, m=conv: vals[v] + m(vals[v])
    return b.emit(fn, [v], (c, h, w), "residual(x + conv3x3 pad 1)", "residual", 2)


def op_unary_math(b, v):
    s = b.shapes[v]
    form = b.choice([("pow2", 2), ("sqrt", 2), ("exp", 2), ("neg", 2), ("clamp", 3), ("clamp_min", 1)])
    if form == "pow2":
        return b.emit(lambda vals, v=v: vals[v] ** 2, [v], s, "x ** 2", "math")
    if form == "sqrt":
        if b.r.random() < 0.5:
            return b.emit(lambda vals, v=v: torch.sqrt(vals[v] * vals[v] + 0.5), [v], s, "sqrt(x * x + 0.5)", "math", 3)
        return b.emit(lambda vals, v=v: torch.sqrt(torch.sigmoid(vals[v])), [v], s, "sqrt(sigmoid(x))", "math", 2)
    if form == "exp":
        return b.emit(lambda vals, v=v: torch.exp(torch.tanh(vals[v])), [v], s, "exp(tanh(x))", "math", 2)
    if form == "neg":
        return b.emit(lambda vals, v=v: torch.neg(vals[v]), [v], s, "neg", "math")
    lo = round(b.r.uniform(-1.0, 0.0), 3)
    if form == "clamp_min":
        return b.emit(lambda vals, v=v, lo=lo: torch.clamp(vals[v], min=lo), [v], s, f"clamp(min {lo})", "math")
    hi = round(b.r.uniform(0.1, 1.5), 3)
    return b.emit(lambda vals, v=v, lo=lo, hi=hi: torch.clamp(vals[v], lo, hi), [v], s, f"clamp({lo}, {hi})", "math")


def op_cat(b, v):
    s = b.shapes[v]
    dims = [1] * 6 + ([2, 3] if is_img(s) else [2] if is_seq(s) else [])
    d = b.r.choice(dims)

    def fits(t):
        return len(t) == len(s) and all(t[i] == s[i] for i in range(len(s)) if i != d - 1)

    o = b.pick_other(fits, v)
    if o is None or b.r.random() < 0.3:  # cat with a function of itself
        m, name = act_module(b)
        b.net.add(m)
        fn = lambda vals, v=v, m=m, d=d: torch.cat([vals[v], m(vals[v])], d)
        out = list(s)
        out[d - 1] *= 2
        return b.emit(fn, [v], out, f"cat(x, {name}(x), dim {d})", "cat", 2)
    out = list(s)
    out[d - 1] += b.shapes[o][d - 1]
    order = [v, o] if b.r.random() < 0.5 else [o, v]
    return b.emit(lambda vals, order=order, d=d: torch.cat([vals[i] for i in order], d), order, out, f"cat(dim {d})", "cat")


def op_pad(b, v):
    c, h, w = b.shapes[v]
    p = tuple(b.r.randint(0, 2) for _ in range(4))
    if sum(p) == 0:
        p = (1, 0, 0, 1)
    val = b.r.choice([0.0, 0.0, 0.5, -1.0])
    fn = lambda vals, v=v, p=p, val=val: F.pad(vals[v], p, mode="constant", value=val)
    return b.emit(fn, [v], (c, h + p[2] + p[3], w + p[0] + p[1]), f"F.pad({p}, value {val})", "pad")


def op_permute(b, v):
    s = b.shapes[v]
    if is_seq(s):
        return b.emit(lambda vals, v=v: vals[v].transpose(1, 2), [v], (s[1], s[0]), "transpose(1, 2)", "permute")
    perm = b.r.choice([(0, 1, 3, 2), (0, 2, 3, 1), (0, 3, 1, 2), (0, 2, 1, 3)])
    out = tuple(s[p - 1] for p in perm[1:])
    if b.r.random() < 0.5 and perm == (0, 1, 3, 2):
        return b.emit(lambda vals, v=v: vals[v].transpose(2, 3), [v], out, "transpose(2, 3)", "permute")
    return b.emit(lambda vals, v=v, perm=perm: vals[v].permute(*perm), [v], out, f"permute{perm}", "permute")


def op_shuffle(b, v):
    c, h, w = b.shapes[v]
    gs = [g for g in (2, 3, 4) if c % g == 0 and c > g]
    if not gs:
        return None
    g = b.r.choice(gs)
    dyn = b.r.random() < 0.5
    if dyn:  # as torchvision's shufflenet writes it: sizes read from the tensor (a shape subgraph)
        def fn(vals, v=v, g=g):
            x = vals[v]
            n, cc, hh, ww = x.size()
            return x.view(n, g, cc // g, hh, ww).transpose(1, 2).contiguous().view(n, -1, hh, ww)
    else:
        def fn(vals, v=v, g=g, c=c, h=h, w=w):
            return vals[v].reshape(-1, g, c // g, h, w).transpose(1, 2).reshape(-1, c, h, w)
    return b.emit(fn, [v], (c, h, w), f"channel_shuffle(groups {g}{', sizes from x.size()' if dyn else ''})", "shuffle", 3)


def op_to_seq(b, v):
    c, h, w = b.shapes[v]
    if b.r.random() < 0.5:
        fn = lambda vals, v=v, c=c, n=h * w: vals[v].reshape(-1, c, n)
        text = f"view(-1, {c}, {h * w})"
    else:
        fn = lambda vals, v=v: vals[v].reshape(vals[v].size(0), vals[v].size(1), -1)
        text = "reshape(x.size(0), x.size(1), -1)"
    return b.emit(fn, [v], (c, h * w), text, "reshape")


def op_seq_to_img(b, v):
    l, d = b.shapes[v]
    return b.emit(lambda vals, v=v, l=l, d=d: vals[v].reshape(-1, l, d, 1), [v], (l, d, 1), f"view(-1, {l}, {d}, 1)", "reshape")


def op_vec_to_img(b, v):
    f = b.shapes[v][0]
    return b.emit(lambda vals, v=v, f=f: vals[v].reshape(-1, f, 1, 1), [v], (f, 1, 1), f"view(-1, {f}, 1, 1)", "reshape")


def op_softmax(b, v):
    s = b.shapes[v]
    d = b.r.choice([1, -1])
    return b.emit(lambda vals, v=v, d=d: torch.softmax(vals[v], d), [v], s, f"softmax(dim {d})", "softmax")


def op_identity(b, v):
    m = b.net.add(b.r.choice([nn.Identity(), nn.Dropout(0.3), nn.Dropout(0.1)]))
    return b.emit(lambda vals, v=v, m=m: m(vals[v]), [v], b.shapes[v], type(m).__name__.lower(), "identity")


def ops_for(s, dag):
    """(op, weight) applicable to a value of per-sample shape s."""
    vals = dag and 1 or 0
    if is_img(s):
        big = s[1] * s[2] > 1
        return [(op_conv, 10), (op_bn, 4), (op_act, 8), (lambda b, v: op_pool(b, v, "max"), 3 if big else 0),
                (lambda b, v: op_pool(b, v, "avg"), 2 if big else 0), (op_global, 2 if big else 0), (op_flatten, 2),
                (op_binary_const, 3), (op_binary_values, 4 * vals + 1), (op_se, 2 if big else 0), (op_residual, 1 + 2 * vals),
                (op_unary_math, 3), (op_cat, 2 + 2 * vals), (op_pad, 1), (op_permute, 1), (op_shuffle, 1), (op_to_seq, 1),
                (op_softmax, 1), (op_identity, 1)]
    if is_vec(s):
        return [(op_linear, 10), (op_bn, 2), (op_act, 6), (op_binary_const, 3), (op_binary_values, 3 * vals + 1),
                (op_unary_math, 2), (op_cat, 1 + 2 * vals), (op_softmax, 2), (op_identity, 1), (op_vec_to_img, 1)]
    return [(op_softmax, 3), (op_permute, 2), (op_act, 3), (op_bn, 1), (op_binary_const, 2), (op_flatten, 3), (op_seq_to_img, 1),
            (op_unary_math, 1)]


# --------------------------------------------------------------------------- one graph
def build(seed, index, attempt):
    r = random.Random(f"sparq-random-graph-{seed}-{index}-{attempt}")
    torch.manual_seed(r.randrange(2 ** 31))
    dag = r.random() < 0.5
    if r.random() < 0.8:
        in_shape = (r.choice(CHANNELS[:8]), r.choice(SIZES), r.choice(SIZES))
    else:
        in_shape = (r.choice(FEATURES),)
    net = Net()
    b = Builder(r, net, in_shape)
    target = r.randint(2, 12)
    head = 0
    tries = 0
    while b.ops < target and tries < 200:
        tries += 1
        v = head
        if dag and r.random() < 0.2:  # a branch from an earlier value
            v = r.randrange(len(b.shapes))
        s = b.shapes[v]
        if int(np.prod(s)) > 4096:
            break
        fn = b.choice(ops_for(s, dag))
        if b.ops + 1 > 12:
            break
        out = fn(b, v)
        if out is not None:
            head = out
    if all(k == "identity" for k in b.kinds[1:]):
        op_act(b, head)
        head = len(b.shapes) - 1
    # Branches nothing reads join the last value (DAGs end in one or two outputs, no dead code).
    last = len(b.shapes) - 1
    for i in range(1, last):
        if b.consumers[i] == 0 and b.shapes[i] == b.shapes[last] and b.ops < 14:
            last = b.emit(lambda vals, a=last, c=i: vals[a] + vals[c], [last, i], b.shapes[last], "add (joins a branch)", "binary_values")
    net.outputs = [last]
    # Sometimes two outputs: an intermediate value that a later step also reads, then the last.
    used = [i for i in range(1, last) if b.consumers[i] > 0 and b.kinds[i] != "identity"]
    if used and r.random() < 0.25:
        net.outputs = [r.choice(used), last]
    training = r.random() < 0.4
    net.eval()
    x = torch.randn((BATCH,) + in_shape, generator=torch.Generator().manual_seed(r.randrange(2 ** 31)))
    head_text = [f"graph {index} (seed {seed}): {'DAG' if dag else 'chain'}, {b.ops} ops, input {fmt(in_shape)}, "
                 f"export {'TrainingMode.PRESERVE, no constant folding' if training else 'eval, constant folding'}"]
    outs_text = [f"outputs: {', '.join(f'v{i} {fmt(b.shapes[i])}' for i in net.outputs)}"]
    return net, x, training, "\n".join(head_text + b.desc + outs_text) + "\n"


def export(net, x, training):
    names = [f"output{k}" for k in range(len(net.outputs))]
    dyn = {n: {0: "N"} for n in ["input"] + names}
    f = io.BytesIO()
    kw = dict(training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False) if training else {}
    torch.onnx.export(net, (x,), f, opset_version=13, input_names=["input"], output_names=names, dynamic_axes=dyn, **kw)
    return f.getvalue()


def make_one(seed, index):
    for attempt in range(20):
        net, x, training, desc = build(seed, index, attempt)
        with torch.no_grad():
            ys = net(x)
        ys = ys if isinstance(ys, tuple) else (ys,)
        if any(not torch.isfinite(y).all() or y.abs().max() > 1e4 for y in ys):
            continue  # values out of a sensible range: draw this graph again
        return export(net, x, training), x, ys, desc
    raise RuntimeError(f"graph {index}: no usable draw")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--out", required=True)
    ap.add_argument("--first", type=int, default=0, help="first graph index (to regenerate one graph: --first N --count 1)")
    ap.add_argument("--check-ort", action="store_true", help="also compare ONNX Runtime with PyTorch on each graph")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    if args.first == 0:  # a fresh set: graphs of an earlier, larger run go
        import re
        for f in os.listdir(args.out):
            if re.fullmatch(r"g\d{4,}\.(onnx|txt|input\.npy|output\d+\.npy)", f):
                os.remove(os.path.join(args.out, f))
    import warnings
    warnings.filterwarnings("ignore")
    t0 = time.time()
    ort = None
    if args.check_ort:
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from make_onnx_cases import ort_setup, ort_outputs_unoptimized, rel_err  # noqa: E402
        import tempfile
        ort = ort_setup()
        if ort is None:
            sys.exit("--check-ort: ONNX Runtime not found (run ../shared/anchors/ort/ort_bench.sh once)")
        tmp = tempfile.mkdtemp()
    disagree = unloadable = 0
    for i in range(args.first, args.first + args.count):
        data, x, ys, desc = make_one(args.seed, i)
        stem = os.path.join(args.out, f"g{i:04d}")
        with open(stem + ".onnx", "wb") as f:
            f.write(data)
        np.save(stem + ".input.npy", x.numpy())
        for k, y in enumerate(ys):
            np.save(f"{stem}.output{k}.npy", y.numpy())
        with open(stem + ".txt", "w") as f:
            f.write(desc)
        if ort:
            try:
                outs = ort_outputs_unoptimized(ort, stem + ".onnx", x.numpy(), tmp)
            except subprocess.CalledProcessError as e:
                # ONNX Runtime checks the declared shapes at load; ceil_mode pooling where PyTorch
                # drops a last window that starts in the padding has an inferred shape one larger
                # than the data (ONNX 1.12's shape inference), which a later MatMul may refuse.
                unloadable += 1
                print(f"g{i:04d}: ONNX Runtime cannot load it: {e.stderr.strip().splitlines()[-1][:300]}")
                continue
            bad = [f"output {k}: ONNX Runtime {list(sh)}, PyTorch {list(y.shape)}" for k, ((sh, o), y) in enumerate(zip(outs, ys))
                   if sh != tuple(y.shape)]
            bad += [f"output {k}: ONNX Runtime differs from PyTorch by {rel_err(o, y.numpy()):.2e}" for k, ((sh, o), y)
                    in enumerate(zip(outs, ys)) if sh == tuple(y.shape) and rel_err(o, y.numpy()) > 1e-4]
            if bad:
                disagree += 1
                print(f"g{i:04d}: {'; '.join(bad)}\n{desc}")
    dt = time.time() - t0
    print(f"{args.count} graphs (seed {args.seed}) written to {args.out} in {dt:.1f} s"
          + (f"; ONNX Runtime disagrees with PyTorch on {disagree}, cannot load {unloadable}" if ort else ""))
    if disagree:
        sys.exit(1)


if __name__ == "__main__":
    main()
