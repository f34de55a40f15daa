"""safetensors written by hand, for the generators here (no safetensors package on Debian): an
8-byte little-endian header length, a JSON header ("__metadata__" first, then name -> {dtype,
shape, data_offsets} in the order given), padded with spaces to 8 bytes, then the raw
little-endian float32 tensors."""
import json
import struct

import numpy as np


def save_safetensors(path, tensors, metadata):
    """tensors: name -> anything numpy turns into an array (written as float32)."""
    header, blobs, at = {"__metadata__": metadata}, [], 0
    for name, t in tensors.items():
        a = np.asarray(t, dtype="<f4")
        b = a.tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [at, at + len(b)]}
        blobs.append(b)
        at += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def load_safetensors(path):
    """{name: numpy array} of a safetensors file's F32 tensors (what the digits models hold)."""
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    body = data[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] != "F32":
            raise ValueError(f"{path}: {name} is {info['dtype']}, only F32 is read here")
        begin, end = info["data_offsets"]
        out[name] = np.frombuffer(body[begin:end], dtype="<f4").reshape(info["shape"]).copy()
    return out
