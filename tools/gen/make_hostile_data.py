#!/usr/bin/python3
"""Small hostile data files for the CLI tests of issue 19 (bad data into int8 models), written
to tests/data/hostile/ and committed (each under 3 KB):

  digits_nan.npy      4 x 64 float32: the first four rows of data/digits/test_x.npy, with
                      row 2, feature 17 NaN (an input, and a calibration set, an int8 model refuses)
  digits_neg_inf.npy  the same four rows with row 3, feature 40 -Inf
  digits_zeros.npy    4 x 64 float32, all zero (a calibration set compile int8 refuses)
  digits_y.npy        the labels of those four rows (int64), for sparq eval
  tiny.safetensors    a 2 -> 2 linear model ("fc", sparq.graph "fc")
  tiny_calib.npy      8 x 2 float32 calibration inputs for it
  tiny_nan_row300.npy 301 x 2 float32, finite but for row 300, feature 1 (NaN): past the CLI's
                      first batch of 256 rows, so the message must name the row of the file

Run from the repository root: /usr/bin/python3 tools/gen/make_hostile_data.py
"""
import json
import os
import struct

import numpy as np

out = "tests/data/hostile/"
os.makedirs(out, exist_ok=True)

x = np.load("data/digits/test_x.npy")[:4].astype("<f4")
nan = x.copy()
nan[2, 17] = np.nan
np.save(out + "digits_nan.npy", nan)
neg_inf = x.copy()
neg_inf[3, 40] = -np.inf
np.save(out + "digits_neg_inf.npy", neg_inf)
np.save(out + "digits_zeros.npy", np.zeros((4, 64), dtype="<f4"))
np.save(out + "digits_y.npy", np.load("data/digits/test_y.npy")[:4].astype("<i8"))


def save_safetensors(path, tensors, metadata):
    """safetensors by hand, as tools/gen/make_digits.py writes it."""
    header, blobs, at = {"__metadata__": metadata}, [], 0
    for name, t in tensors.items():
        b = np.asarray(t, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(np.shape(t)), "data_offsets": [at, at + len(b)]}
        blobs.append(b)
        at += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


save_safetensors(out + "tiny.safetensors", {"fc.weight": [[1.0, -1.0], [0.5, 2.0]], "fc.bias": [0.125, -0.25]},
                 {"sparq.graph": "fc"})
rng = np.random.default_rng(19)
np.save(out + "tiny_calib.npy", rng.uniform(-1.0, 1.0, (8, 2)).astype("<f4"))
rows = rng.uniform(-1.0, 1.0, (301, 2)).astype("<f4")
rows[300, 1] = np.nan
np.save(out + "tiny_nan_row300.npy", rows)
