#!/usr/bin/python3
"""A real trained weight matrix for the quantization report (docs/quantization.md): the first
layer (128 x 64) of a small MLP trained with PyTorch on scikit-learn's 8x8 digits (fixed seed,
80/20 split). Written as raw little-endian float32, row-major: docs/data/digits_mlp_fc1_128x64.f32.

Run: /usr/bin/python3 tools/gen/make_weight_sample.py
"""
import numpy as np
import torch
from sklearn.datasets import load_digits

torch.manual_seed(0)
digits = load_digits()
x = torch.tensor(digits.data / 16.0, dtype=torch.float32)
y = torch.tensor(digits.target)
perm = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))
train, test = perm[:1437], perm[1437:]
model = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
opt = torch.optim.Adam(model.parameters(), lr=1e-2)
for epoch in range(60):
    opt.zero_grad()
    loss = torch.nn.functional.cross_entropy(model(x[train]), y[train])
    loss.backward()
    opt.step()
acc = (model(x[test]).argmax(1) == y[test]).float().mean().item()
w = model[0].weight.detach().numpy().astype("<f4")
w.tofile("docs/data/digits_mlp_fc1_128x64.f32")
print(f"test accuracy {acc:.4f}; wrote weights {w.shape}, |w| max {np.abs(w).max():.4f}")
