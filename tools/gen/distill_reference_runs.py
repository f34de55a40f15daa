#!/usr/bin/python3
"""PyTorch's numbers for the digits distillation experiments of docs/distillation.md, beside
sparq's (examples/distill_digits.cpp runs the same recipe in sparq):

  teacher 64-128-64-10 (ReLU) on the whole training split of data/digits; students 64-32-10 on
  150 labelled rows (the first 15 of each class in train_y's order; --subset first150 takes the
  first 150 rows instead) with cross-entropy alone or with the KD loss
  alpha * T^2 * kl_div(log_softmax(s/T), softmax(t/T), 'batchmean') + (1 - alpha) * CE(s, y);
  Adam 1e-3, batch 32 (shuffled, last batch smaller), 300 epochs, seeds 1-3 (torch.manual_seed).

Run: /usr/bin/python3 tools/gen/distill_reference_runs.py [--epochs N] [--subset per_class|first150] [--sweep]
"""
import argparse

import numpy as np
import torch
import torch.nn.functional as F

p = argparse.ArgumentParser()
p.add_argument("--epochs", type=int, default=300)
p.add_argument("--subset", default="per_class", choices=["per_class", "first150"])
p.add_argument("--sweep", action="store_true")
p.add_argument("--full", action="store_true", help="also the students on the whole training split")
args = p.parse_args()
torch.set_num_threads(1)

d = "data/digits/"
x, y = torch.tensor(np.load(d + "train_x.npy")), torch.tensor(np.load(d + "train_y.npy"))
tx, ty = torch.tensor(np.load(d + "test_x.npy")), torch.tensor(np.load(d + "test_y.npy"))


def mlp(widths):
    layers = []
    for i in range(len(widths) - 1):
        layers.append(torch.nn.Linear(widths[i], widths[i + 1]))
        if i + 2 < len(widths):
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def train(model, xs, ys, teacher_logits=None, T=8.0, alpha=0.9, seed=0, epochs=args.epochs):
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        perm = torch.randperm(len(xs), generator=g)
        for i in range(0, len(xs), 32):
            b = perm[i:i + 32]
            s = model(xs[b])
            labelled = ys[b] >= 0  # -1: unlabelled (transfer set rows): no CE, as sparq's nn::train::unlabelled
            ce = F.cross_entropy(s, ys[b], ignore_index=-1) if labelled.any() else s.sum() * 0
            if teacher_logits is None:
                loss = ce
            else:
                kl = F.kl_div(F.log_softmax(s / T, 1), F.softmax(teacher_logits[b] / T, 1), reduction="batchmean")
                loss = alpha * T * T * kl + (1 - alpha) * ce
            opt.zero_grad()
            loss.backward()
            opt.step()
    return model


def acc(model):
    with torch.no_grad():
        return (model(tx).argmax(1) == ty).float().mean().item()


torch.manual_seed(0)
teacher = train(mlp([64, 128, 64, 10]), x, y, seed=0)
with torch.no_grad():
    t_logits = teacher(x)
print(f"teacher 64-128-64-10: test accuracy {acc(teacher):.4f}")

if args.subset == "per_class":
    pick = torch.tensor([i for c in range(10) for i in (y == c).nonzero().flatten()[:15].tolist()])
    pick = pick.sort().values
else:
    pick = torch.arange(150)
xs, ys, ts = x[pick], y[pick], t_logits[pick]


def students(xs_, ys_, ts_, T=8.0, alpha=0.9, kd=True):
    out = []
    for seed in (1, 2, 3):
        torch.manual_seed(seed)
        out.append(acc(train(mlp([64, 32, 10]), xs_, ys_, ts_ if kd else None, T, alpha, seed=seed)))
    return float(np.mean(out))


ce150 = students(xs, ys, ts, kd=False)
kd150 = students(xs, ys, ts)
print(f"student 64-32-10, 150 rows ({args.subset}): CE {ce150:.4f}, KD (T=8, alpha=0.9) {kd150:.4f}, gap {kd150 - ce150:+.4f}")
some = torch.full_like(y, -1)
some[pick] = y[pick]
kd_transfer = students(x, some, t_logits)
print(f"student 64-32-10, 150 labelled ({args.subset}) + the teacher on all 1437 images: KD {kd_transfer:.4f}, "
      f"gap to CE on the 150 {kd_transfer - ce150:+.4f}")
if args.full:
    ce_all = students(x, y, t_logits, kd=False)
    kd_all = students(x, y, t_logits)
    print(f"student 64-32-10, all 1437 rows: CE {ce_all:.4f}, KD {kd_all:.4f}, gap {kd_all - ce_all:+.4f}")
if args.sweep:
    print("| T | alpha 0.5 | alpha 0.9 | alpha 1.0 |")
    for T in (1.0, 2.0, 4.0, 8.0, 16.0):
        print(f"| {T:g} | " + " | ".join(f"{students(xs, ys, ts, T, a):.4f}" for a in (0.5, 0.9, 1.0)) + " |")
