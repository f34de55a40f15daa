#!/usr/bin/python3
"""Small hostile inputs, one per defect of issue 19 that a file can carry, written under
tests/data/hostile/ (committed; each is at most a few tens of KB). docs/hostile-inputs.md lists
them with the command that reads each and the outcome, and the sparq_hostile_inputs test
(tools/sparq/test_hostile_inputs.cmake) runs every row of that table.

  maxpool_2p24.onnx        MaxPool with a 2^24 x 2^24 window over a 1 x 1 map (ran for hours)
  conv_4e12.onnx           a 16 -> 16 convolution, 64 x 64 kernel, over 16 x 2048 x 2048: 4.4e12
                           multiply-adds a sample from a 300-byte file (the work budget)
  matmul_shared_80.onnx    80 MatMuls naming one 1024 x 1024 constant (copies without bound)
  pad_sigmoid_6g.onnx      a Pad to 4096 x 4096 then 100 Sigmoids: little work, 6.7 GB a sample
  conv0_batchnorm.onnx     a Conv of 0 output channels followed by BatchNormalization (SIGFPE)
  names_inject.onnx        a Gemm whose weight and node names hold a newline, an #include and a
                           declaration (export-c must keep them out of the header's code)
  repeated_tensor.safetensors   one 64 x 64 tensor named 1000 times by sparq.graph (4 GB from 16 MB)
  maxpool_window.safetensors    maxpool:999999 over a 1 x 1 x 1 input
  truncated.npy            8 bytes that agree with the .npy magic
  duplicate_key.npy        a header naming 'shape' twice (the second extended the first)
  not_utf8.cost            a cost model whose name is not UTF-8 (broke energy --json)

and bad data for int8 models (NaN / Inf gave plausible numbers; all-zero calibration, 10.8 %):

  digits_nan.npy           4 x 64 float32: the first four rows of data/digits/test_x.npy with row
                           2, feature 17 NaN (an input, and a calibration set, an int8 model refuses)
  digits_neg_inf.npy       the same four rows with row 3, feature 40 -Inf
  digits_zeros.npy         4 x 64 float32, all zero (a calibration set compile int8 refuses)
  digits_y.npy             the labels of those four rows (int64), for sparq eval
  tiny.safetensors         a 2 -> 2 linear model ("fc", sparq.graph "fc")
  tiny_calib.npy           8 x 2 float32 calibration inputs for it
  tiny_nan_row300.npy      301 x 2 float32, finite but for row 300, feature 1 (NaN): past the CLI's
                           first batch of 256 rows, so the message must name the row of the file

Run from the repository root: /usr/bin/python3 tools/gen/make_hostile_inputs.py [--out tests/data/hostile]
Needs python3-onnx and python3-numpy (Debian). Deterministic: the same bytes every run.
"""
import argparse
import os
import struct

import numpy as np
from onnx import TensorProto, helper

from safetensors_file import save_safetensors  # (tools/gen: the script's own directory is on the path)


def model(nodes, inputs, outputs, initializers=(), name="hostile"):
    g = helper.make_graph(nodes, name, inputs, outputs, initializer=list(initializers))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], producer_name="make_hostile_inputs")
    m.ir_version = 7
    return m


def value(name, dims):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, ["N"] + list(dims))


def shape_const(name, dims):
    return helper.make_tensor(name, TensorProto.INT64, [len(dims)], list(dims))


def write_onnx(out, name, m):
    with open(os.path.join(out, name), "wb") as f:
        f.write(m.SerializeToString(deterministic=True))


def npy_with_header(path, header_text, payload):
    head = header_text.encode("latin1")
    head += b" " * (-(10 + len(head) + 1) % 64) + b"\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(head)) + head + payload)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "..", "tests", "data", "hostile"))
    out = ap.parse_args().out
    os.makedirs(out, exist_ok=True)

    big = 1 << 24
    write_onnx(out, "maxpool_2p24.onnx", model(
        [helper.make_node("MaxPool", ["x"], ["y"], name="pool", kernel_shape=[big, big])],
        [value("x", [1, 1, 1])], [value("y", [1, 1, 1])]))

    write_onnx(out, "conv_4e12.onnx", model(
        [helper.make_node("ConstantOfShape", ["wshape"], ["w"], name="weights"),
         helper.make_node("Conv", ["x", "w"], ["y"], name="conv", pads=[31, 31, 31, 31])],
        [value("x", [16, 2048, 2048])], [value("y", [16, 2047, 2047])], [shape_const("wshape", [16, 16, 64, 64])]))

    nodes = [helper.make_node("ConstantOfShape", ["wshape"], ["w"], name="weights")]
    prev = "x"
    for k in range(80):
        nodes.append(helper.make_node("MatMul", [prev, "w"], [f"h{k}"], name=f"mm{k}"))
        prev = f"h{k}"
    write_onnx(out, "matmul_shared_80.onnx", model(nodes, [value("x", [1024])], [value(prev, [1024])],
                                                   [shape_const("wshape", [1024, 1024])]))

    nodes = [helper.make_node("Pad", ["x", "pads"], ["p"], name="pad")]
    prev = "p"
    for k in range(100):
        nodes.append(helper.make_node("Sigmoid", [prev], [f"s{k}"], name=f"sigmoid{k}"))
        prev = f"s{k}"
    write_onnx(out, "pad_sigmoid_6g.onnx", model(nodes, [value("x", [1, 1, 1])], [value(prev, [1, 4096, 4096])],
                                                 [shape_const("pads", [0, 0, 0, 0, 0, 0, 4095, 4095])]))

    empty = lambda name, dims: helper.make_tensor(name, TensorProto.FLOAT, dims, [])
    write_onnx(out, "conv0_batchnorm.onnx", model(
        [helper.make_node("Conv", ["x", "w"], ["c"], name="conv"),
         helper.make_node("BatchNormalization", ["c", "s", "b", "m", "v"], ["y"], name="bn")],
        [value("x", [1, 4, 4])], [value("y", [0, 2, 2])],
        [empty("w", [0, 1, 3, 3]), empty("s", [0]), empty("b", [0]), empty("m", [0]), empty("v", [0])]))

    evil = 'fc\n#include "/etc/hostname"\nint evil = 42; /* */ //'
    w = helper.make_tensor(evil + ".weight", TensorProto.FLOAT, [3, 4], list(np.linspace(-1, 1, 12, dtype=np.float32)))
    write_onnx(out, "names_inject.onnx", model(
        [helper.make_node("Gemm", ["x", evil + ".weight"], ["y"], name=evil, transB=1)],
        [value("x", [4])], [value("y", [3])], [w]))

    t = np.full((64, 64), 0.5, dtype=np.float32)
    save_safetensors(os.path.join(out, "repeated_tensor.safetensors"), {"a.weight": t}, {"sparq.graph": " ".join(["a"] * 1000)})
    save_safetensors(os.path.join(out, "maxpool_window.safetensors"), {"a.weight": np.ones((2, 1), np.float32)},
                     {"sparq.graph": "maxpool:999999 flatten a", "sparq.input": "1 1 1"})

    with open(os.path.join(out, "truncated.npy"), "wb") as f:
        f.write(b"\x93NUMPY\x01\x00")
    npy_with_header(os.path.join(out, "duplicate_key.npy"),
                    "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 64), 'shape': (1000000, 64), }",
                    np.zeros((2, 64), np.float32).tobytes())
    with open(os.path.join(out, "not_utf8.cost"), "wb") as f:
        f.write(b"base = 45nm\nname = chip \xff\xfe\xc0\xaf\nmult.s8 = 0.2\n")

    x = np.load("data/digits/test_x.npy")[:4].astype("<f4")
    nan = x.copy()
    nan[2, 17] = np.nan
    np.save(os.path.join(out, "digits_nan.npy"), nan)
    neg_inf = x.copy()
    neg_inf[3, 40] = -np.inf
    np.save(os.path.join(out, "digits_neg_inf.npy"), neg_inf)
    np.save(os.path.join(out, "digits_zeros.npy"), np.zeros((4, 64), dtype="<f4"))
    np.save(os.path.join(out, "digits_y.npy"), np.load("data/digits/test_y.npy")[:4].astype("<i8"))
    save_safetensors(os.path.join(out, "tiny.safetensors"), {"fc.weight": [[1.0, -1.0], [0.5, 2.0]], "fc.bias": [0.125, -0.25]},
                     {"sparq.graph": "fc"})
    rng = np.random.default_rng(19)
    np.save(os.path.join(out, "tiny_calib.npy"), rng.uniform(-1.0, 1.0, (8, 2)).astype("<f4"))
    rows = rng.uniform(-1.0, 1.0, (301, 2)).astype("<f4")
    rows[300, 1] = np.nan
    np.save(os.path.join(out, "tiny_nan_row300.npy"), rows)


if __name__ == "__main__":
    main()
