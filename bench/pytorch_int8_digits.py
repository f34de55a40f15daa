#!/usr/bin/python3
"""PyTorch's int8 as a speed anchor for the digits models (docs/performance.md).

Rebuilds the digits MLP and CNN from data/digits/*.safetensors (the CNN's BatchNorm is folded
there, as sparq's import folds it), quantizes them the way PyTorch users do (eager-mode static
post-training quantization: per-channel int8 weights, histogram-observed activations, Conv/Linear
+ ReLU fused, calibrated on data/digits/train_x.npy), on the engine asked for (onednn or fbgemm),
and times one forward pass per batch size on one thread: median, p90 and minimum of the timed
calls after warm-up, as `sparq bench` reports them. Prints one JSON object per line.

    /usr/bin/python3 bench/pytorch_int8_digits.py [--engine onednn] [--batch 1 540] [--reps 200]
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tools", "gen"))
import safetensors_file as st  # noqa: E402  (tools/gen's reader)

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data", "digits")


class Mlp(torch.nn.Module):
    def __init__(self, t):
        super().__init__()
        self.quant, self.dequant = torch.ao.quantization.QuantStub(), torch.ao.quantization.DeQuantStub()
        self.fc1, self.relu, self.fc2 = torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10)
        for name in ("fc1", "fc2"):
            getattr(self, name).weight.data = torch.from_numpy(t[name + ".weight"])
            getattr(self, name).bias.data = torch.from_numpy(t[name + ".bias"])

    def forward(self, x):
        return self.dequant(self.fc2(self.relu(self.fc1(self.quant(x)))))

    fuse = [["fc1", "relu"]]


class Cnn(torch.nn.Module):
    def __init__(self, t):
        super().__init__()
        self.quant, self.dequant = torch.ao.quantization.QuantStub(), torch.ao.quantization.DeQuantStub()
        self.conv1, self.relu1, self.pool1 = torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2)
        self.conv2, self.relu2, self.pool2 = torch.nn.Conv2d(8, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2)
        self.flatten, self.fc = torch.nn.Flatten(), torch.nn.Linear(64, 10)
        for name in ("conv1", "conv2", "fc"):
            getattr(self, name).weight.data = torch.from_numpy(t[name + ".weight"])
            getattr(self, name).bias.data = torch.from_numpy(t[name + ".bias"])

    def forward(self, x):
        x = self.pool1(self.relu1(self.conv1(self.quant(x.reshape(-1, 1, 8, 8)))))
        x = self.pool2(self.relu2(self.conv2(x)))
        return self.dequant(self.fc(self.flatten(x)))

    fuse = [["conv1", "relu1"], ["conv2", "relu2"]]


def quantized(model, engine, calib):
    torch.backends.quantized.engine = engine
    model.eval()
    model = torch.ao.quantization.fuse_modules(model, model.fuse)
    model.qconfig = torch.ao.quantization.get_default_qconfig(engine)
    torch.ao.quantization.prepare(model, inplace=True)
    with torch.no_grad():
        model(calib)
    return torch.ao.quantization.convert(model)


def timed(model, x, reps, warmup=20):
    with torch.no_grad():
        for _ in range(warmup):
            model(x)
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            model(x)
            times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2], times[min(len(times) - 1, int(len(times) * 0.9))], times[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--engine", default="onednn", choices=["onednn", "fbgemm", "x86"])
    ap.add_argument("--batch", type=int, nargs="+", default=[1, 540])
    ap.add_argument("--reps", type=int, default=200)
    a = ap.parse_args()
    torch.set_num_threads(1)
    x_all = torch.from_numpy(np.load(os.path.join(DATA, "test_x.npy")).astype(np.float32).reshape(-1, 64))
    y_all = torch.from_numpy(np.load(os.path.join(DATA, "test_y.npy")).astype(np.int64))
    calib = torch.from_numpy(np.load(os.path.join(DATA, "train_x.npy")).astype(np.float32).reshape(-1, 64))
    for name, cls in (("mlp", Mlp), ("cnn", Cnn)):
        tensors = st.load_safetensors(os.path.join(DATA, name + ".safetensors"))
        for precision in ("fp32", "int8"):
            model = cls(tensors).eval()
            if precision == "int8":
                model = quantized(model, a.engine, calib)
            with torch.no_grad():  # (a check that the model is the right one: the test set's accuracy)
                accuracy = (model(x_all).argmax(1) == y_all).float().mean().item()
            for b in a.batch:
                x = x_all[:b] if b <= len(x_all) else x_all.repeat((b + len(x_all) - 1) // len(x_all), 1)[:b]
                med, p90, low = timed(model, x, a.reps)
                print(json.dumps({"model": "digits " + name, "precision": precision, "engine": a.engine if precision == "int8" else "",
                                  "batch": b, "threads": 1, "torch": torch.__version__, "test_accuracy": round(accuracy, 4),
                                  "latency_ms": {"median": med * 1e3, "p90": p90 * 1e3, "min": low * 1e3}}))


if __name__ == "__main__":
    main()
