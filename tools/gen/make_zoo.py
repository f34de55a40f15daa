#!/usr/bin/python3
"""The model zoo: torchvision classifiers with random weights, exported by PyTorch's own ONNX
exporter, with the inputs and PyTorch's outputs to check an importer against. Nothing is
downloaded (weights=None) and nothing here is committed: ctest makes the zoo in the build tree
(tests/zoo, label "zoo"; docs/zoo.md).

For each model NAME, under --out DIR:

  NAME.input.npy    float32 [2, 3, 224, 224]  the input x (seed 1)
  NAME.calib.npy    float32 [4, 3, 224, 224]  int8 calibration images (seed 2)
  NAME.output.npy   float32 [2, 1000]         PyTorch's eval-mode outputs on x
  NAME.eval.onnx                              torch.onnx.export, opset 13, PyTorch's defaults (eval:
                                              BatchNorm folded into Conv, equal initializers shared
                                              through Identity nodes)
  NAME.preserve.onnx                          training=PRESERVE, do_constant_folding=False: the
                                              BatchNormalization nodes kept (same values: eval mode)

Both exports have a dynamic batch axis (input "input" [N, 3, 224, 224], output "output" [N, 1000])
and pass onnx.checker.

Weights: torchvision's initialisation (seed 0) with every BatchNorm given a random scale and shift,
then its running statistics set from a few random batches in train mode (torchvision's init alone
leaves some nets' logits tiny: mobilenet_v2's are ~3e-9), and any all-zero weight (a zero-initialised
head) drawn again. The outputs are then O(1) and differ between inputs, which is what a check of
an importer needs; they mean nothing as classifications.

A model whose five files all exist and are newer than this script is skipped, so running it again
(every ctest run of the zoo does) costs a second.

Run: /usr/bin/python3 tools/gen/make_zoo.py --out DIR [--models resnet18,mobilenet_v2] [--force]
     (Debian: python3-torch python3-torchvision python3-onnx python3-numpy)
"""
import argparse
import os
import sys
import time

# PyTorch's OpenMP threads wait passively: ctest runs this beside other tests on 2 cores, and
# spinning threads that lose their core made the zoo 5-10x slower there (measured). Two threads
# even on one core: with one, Debian's torch 1.13 runs convolutions without oneDNN, on its
# generic BLAS, about 10x slower.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
try:
    import numpy as np
    import onnx
    import torch
    import torchvision
except ImportError as e:
    sys.exit(f"make_zoo: {e} with {sys.executable}: the zoo needs Debian's python3-torch python3-torchvision python3-onnx "
             "python3-numpy (scripts/setup.sh --zoo)")

MODELS = ["resnet18", "resnet50", "mobilenet_v2", "mobilenet_v3_small", "efficientnet_b0", "squeezenet1_1",
          "shufflenet_v2_x1_0", "regnet_x_400mf", "densenet121"]
STATS_BATCHES = 4   # random batches in train mode that set the BatchNorm statistics
STATS_BATCH = 4     # images each: 16 in all, enough for stable per-channel means and variances
OPSET = 13


def outputs_of(name, out):
    return [os.path.join(out, f"{name}.{kind}") for kind in ("input.npy", "calib.npy", "output.npy", "eval.onnx", "preserve.onnx")]


def up_to_date(name, out):
    script = os.path.getmtime(os.path.abspath(__file__))
    return all(os.path.exists(p) and os.path.getmtime(p) > script for p in outputs_of(name, out))


def images(n, seed):
    return torch.randn(n, 3, 224, 224, generator=torch.Generator().manual_seed(seed))


def build(name):
    torch.manual_seed(0)
    model = getattr(torchvision.models, name)(weights=None)
    gen = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                # A random affine per channel (folding must carry it) and statistics that are the
                # plain average over the batches below (momentum None), from scratch.
                m.weight.copy_(torch.rand(m.weight.shape, generator=gen) + 0.5)
                m.bias.copy_(0.1 * torch.randn(m.bias.shape, generator=gen))
                m.reset_running_stats()
                m.momentum = None
            elif isinstance(m, (torch.nn.Linear, torch.nn.Conv2d)) and not m.weight.any():
                torch.nn.init.normal_(m.weight, 0.0, 1.0 / m.weight[0].numel() ** 0.5)
        model.train()
        for b in range(STATS_BATCHES):
            model(images(STATS_BATCH, 100 + b))
    model.eval()
    return model


def export(model, x, path, **kw):
    torch.onnx.export(model, x, path, opset_version=OPSET, input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}, **kw)
    onnx.checker.check_model(onnx.load(path))


def make(name, out):
    t0 = time.perf_counter()
    model = build(name)
    x = images(2, 1)
    calib = images(4, 2)
    with torch.no_grad():
        y = model(x)
    t1 = time.perf_counter()
    a = y.abs().max().item()
    spread = (y[0] - y[1]).abs().max().item()
    if not (a > 1e-2 and spread > 1e-3 * a and torch.isfinite(y).all()):
        sys.exit(f"make_zoo: {name}: outputs are not alive (max |y| {a:g}, rows differ by {spread:g})")
    # The .onnx files last: a half-made model is made again on the next run.
    base = os.path.join(out, name)
    np.save(base + ".input.npy", x.numpy())
    np.save(base + ".calib.npy", calib.numpy())
    np.save(base + ".output.npy", y.numpy())
    with torch.no_grad():
        export(model, x, base + ".eval.onnx")
        export(model, x, base + ".preserve.onnx", training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
    t2 = time.perf_counter()
    print(f"make_zoo: {name}: max |y| {a:.3g}, weights + BatchNorm statistics + outputs {t1 - t0:.1f} s, "
          f"two exports + checks {t2 - t1:.1f} s", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="directory for the zoo (made if missing)")
    ap.add_argument("--models", default=",".join(MODELS), help="comma-separated subset of: " + ", ".join(MODELS))
    ap.add_argument("--force", action="store_true", help="make every model again even if its files are up to date")
    args = ap.parse_args()
    names = [n for n in args.models.split(",") if n]
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        sys.exit(f"make_zoo: unknown model(s) {', '.join(unknown)} (known: {', '.join(MODELS)})")
    os.makedirs(args.out, exist_ok=True)
    torch.set_num_threads(max(2, min(4, os.cpu_count() or 2)))
    start = time.perf_counter()
    made = 0
    for name in names:
        if not args.force and up_to_date(name, args.out):
            print(f"make_zoo: {name}: up to date", flush=True)
            continue
        make(name, args.out)
        made += 1
    print(f"make_zoo: {made} of {len(names)} models made in {time.perf_counter() - start:.1f} s "
          f"(torch {torch.__version__}, torchvision {torchvision.__version__}, onnx {onnx.__version__})")


if __name__ == "__main__":
    main()
