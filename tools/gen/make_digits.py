#!/usr/bin/python3
"""The main job's built-in data and model: scikit-learn's 8x8 digits (1797 images, pixel values
0..16 scaled to [0, 1]) split 80/20 with a fixed seed, and a small MLP (64 -> 128 -> ReLU -> 10)
trained on it with PyTorch. Writes, under data/digits/:

  train_x.npy  float32 [1437, 64]   calibration / training images
  train_y.npy  int64   [1437]
  test_x.npy   float32 [360, 64]    evaluation images
  test_y.npy   int64   [360]
  mlp.safetensors                   fc1.weight [128, 64], fc1.bias, fc2.weight [10, 128], fc2.bias (F32)
  mlp.onnx                          the same model exported by PyTorch's ONNX exporter (opset 13)
  mlp_test_logits.npy float32 [360, 10]  PyTorch's fp32 outputs on test_x (the golden reference)
  cnn.onnx, cnn.safetensors         a small CNN (1x8x8 -> conv 8 3x3 + BN + ReLU -> max pool 2 -> conv 16 3x3 + ReLU
                                    -> max pool 2 -> flatten -> linear 64 -> 10), BN folded for safetensors
  cnn_test_logits.npy float32 [360, 10]
  reference.json                    PyTorch's fp32 accuracy and its own int8 PTQ accuracy

Run: /usr/bin/python3 tools/gen/make_digits.py   (Debian: python3-torch python3-sklearn python3-numpy)
"""
import json

import numpy as np
import torch
from sklearn.datasets import load_digits

import safetensors_file as st  # (tools/gen: the script's own directory is on the path)

torch.manual_seed(0)
digits = load_digits()
x = torch.tensor(digits.data / 16.0, dtype=torch.float32)
y = torch.tensor(digits.target, dtype=torch.int64)
perm = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))
train, test = perm[:1437], perm[1437:]
model = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
opt = torch.optim.Adam(model.parameters(), lr=1e-2)
for epoch in range(60):
    opt.zero_grad()
    loss = torch.nn.functional.cross_entropy(model(x[train]), y[train])
    loss.backward()
    opt.step()
model.eval()
with torch.no_grad():
    logits = model(x[test])
acc = (logits.argmax(1) == y[test]).float().mean().item()

# PyTorch's own eager-mode post-training int8 quantization on the same split, for comparison:
# fbgemm, per-channel weights, min-max observed activations, calibrated on the training images.
class Wrapped(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        self.quant, self.m, self.dequant = torch.ao.quantization.QuantStub(), m, torch.ao.quantization.DeQuantStub()

    def forward(self, t):
        return self.dequant(self.m(self.quant(t)))

import copy
q = Wrapped(copy.deepcopy(model)).eval()
q.qconfig = torch.ao.quantization.get_default_qconfig("fbgemm")
torch.ao.quantization.fuse_modules(q.m, [["0", "1"]], inplace=True)
torch.ao.quantization.prepare(q, inplace=True)
with torch.no_grad():
    q(x[train])
torch.ao.quantization.convert(q, inplace=True)
with torch.no_grad():
    acc_q = (q(x[test]).argmax(1) == y[test]).float().mean().item()

out = "data/digits/"
np.save(out + "train_x.npy", x[train].numpy().astype("<f4"))
np.save(out + "train_y.npy", y[train].numpy().astype("<i8"))
np.save(out + "test_x.npy", x[test].numpy().astype("<f4"))
np.save(out + "test_y.npy", y[test].numpy().astype("<i8"))
np.save(out + "mlp_test_logits.npy", logits.numpy().astype("<f4"))



def save_safetensors(path, tensors, metadata):
    st.save_safetensors(path, {name: t.detach().numpy() for name, t in tensors.items()}, metadata)


# sparq.graph: the layers in order (a name is a Linear with <name>.weight / <name>.bias, "relu"
# applies to the output of the layer before it); safetensors itself stores no graph.
save_safetensors(out + "mlp.safetensors",
                 {"fc1.weight": model[0].weight, "fc1.bias": model[0].bias, "fc2.weight": model[2].weight, "fc2.bias": model[2].bias},
                 {"format": "pt", "model": "digits_mlp", "sparq.graph": "fc1 relu fc2"})

torch.onnx.export(model, x[test][:1], out + "mlp.onnx", opset_version=13, input_names=["image"], output_names=["logits"],
                  dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}})

# A small CNN on the same split (images as 1 x 8 x 8).
torch.manual_seed(1)
cnn = torch.nn.Sequential(
    torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.BatchNorm2d(8), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
    torch.nn.Conv2d(8, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
    torch.nn.Flatten(), torch.nn.Linear(64, 10))
img = x.reshape(-1, 1, 8, 8)
opt = torch.optim.Adam(cnn.parameters(), lr=1e-2)
for epoch in range(80):
    opt.zero_grad()
    loss = torch.nn.functional.cross_entropy(cnn(img[train]), y[train])
    loss.backward()
    opt.step()
cnn.eval()
with torch.no_grad():
    cnn_logits = cnn(img[test])
cnn_acc = (cnn_logits.argmax(1) == y[test]).float().mean().item()
np.save(out + "cnn_test_logits.npy", cnn_logits.numpy().astype("<f4"))
torch.onnx.export(cnn, img[test][:1], out + "cnn.onnx", opset_version=13, input_names=["image"], output_names=["logits"],
                  dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}}, do_constant_folding=False,
                  training=torch.onnx.TrainingMode.PRESERVE)
# safetensors: BatchNorm folded into the first convolution, as sparq's ONNX import does.
bn = cnn[1]
f = bn.weight / torch.sqrt(bn.running_var + bn.eps)
conv1_w = cnn[0].weight * f.reshape(-1, 1, 1, 1)
conv1_b = (cnn[0].bias - bn.running_mean) * f + bn.bias
save_safetensors(out + "cnn.safetensors",
                 {"conv1.weight": conv1_w, "conv1.bias": conv1_b, "conv2.weight": cnn[4].weight, "conv2.bias": cnn[4].bias,
                  "fc.weight": cnn[8].weight, "fc.bias": cnn[8].bias},
                 {"format": "pt", "model": "digits_cnn", "sparq.input": "1 8 8",
                  "sparq.graph": "conv1@1,1 relu maxpool:2 conv2@1,1 relu maxpool:2 flatten fc"})

json.dump({"split": "torch.randperm(1797, seed 0): first 1437 train, last 360 test",
           "torch_fp32_test_accuracy": round(acc, 6),
           "torch_int8_ptq_test_accuracy": round(acc_q, 6),
           "torch_int8_ptq": "eager mode, fbgemm qconfig (per-channel weights, histogram-observed activations), "
                             "Linear+ReLU fused, calibrated on train_x",
           "torch_cnn_fp32_test_accuracy": round(cnn_acc, 6),
           "torch_version": torch.__version__},
          open(out + "reference.json", "w"), indent=1)
print(f"MLP fp32 test accuracy {acc:.4f}; PyTorch int8 PTQ {acc_q:.4f}; CNN fp32 {cnn_acc:.4f}")
