"""The standalone script's text: code per registry name and the blocks `core.export.script` fills in.

Each block is a template for `str.format` (literal braces doubled). The script is DOC, IMPORTS and
SPEC_CODE, then the data, model, loss and training blocks, then RUN.
"""

# Code text per registry name. A test checks every registry entry has one, so a new entry cannot be
# exported silently wrong.
INIT_CODE = {
    "default": None,
    "zeros": "nn.init.zeros_(w)",
    "normal": "nn.init.normal_(w, 0.0, scale)",
    "uniform": "nn.init.uniform_(w, -scale, scale)",
    "xavier": "nn.init.xavier_uniform_(w)",
    "he": "nn.init.kaiming_normal_(w, nonlinearity='relu')",
    "orthogonal": "nn.init.orthogonal_(w)",
}
FEATURE_CODE = {
    "x1": "a",
    "x2": "b",
    "x1sq": "a * a",
    "x2sq": "b * b",
    "x1x2": "a * b",
    "sin_x1": "torch.sin(a)",
    "sin_x2": "torch.sin(b)",
}
SCHEDULE_CODE = {
    "constant": "None",
    "step": "S.StepLR(opt, step_size=T['step_size'] * spe, gamma=T['gamma'])",
    "exponential": "S.ExponentialLR(opt, gamma=T['gamma'] ** (1.0 / spe))",
    "cosine": "S.CosineAnnealingLR(opt, T_max=total)",
    "warmup_cosine": (
        "S.SequentialLR(opt, [S.LinearLR(opt, start_factor=0.01, end_factor=1.0, total_iters=warm), "
        "S.CosineAnnealingLR(opt, T_max=total - warm)], milestones=[warm]) if warm > 0 "
        "else S.CosineAnnealingLR(opt, T_max=total)"
    ),
    "onecycle": (
        "S.OneCycleLR(opt, max_lr=T['lr'], total_steps=total + 1, "
        "pct_start=min(0.9, max(0.05, T['warmup'] / max(1, T['epochs']))), "
        "cycle_momentum='momentum' in opt.defaults or 'betas' in opt.defaults)"
    ),
}


DOC = '''#!/usr/bin/env python
"""Train a '{title}' network exactly as the Deep Learning Playground does, in plain PyTorch.

Run:  python {{this file}}  [--epochs N]
Needs torch and numpy (and scikit-learn for the digits). Prints one JSON line at the end with the
final epoch's mean training `loss` and the test `val_loss`.
"""'''

IMPORTS = """from __future__ import annotations

import argparse
import base64
import json
import math
import zlib

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn"""

SPEC_CODE = '''SPEC = json.loads("""
{spec}
""")
D, M, T, SEED = SPEC["data"], SPEC["model"], SPEC["train"], SPEC["seed"]'''

TOY_DATA = '''# ---- data: the 2-D dataset, as TF Playground generates it

{sources}


def make_data():
    """(x_train, y_train, x_test, y_test, labels): points -> feature columns, split by train_frac."""
    rng = np.random.default_rng(SEED)
    pts, labels = {gen}({n}, {noise!r}, rng, {classes})
    order = rng.permutation(len(pts))
    pts, labels = pts[order].astype(np.float32), labels[order]
    p = torch.as_tensor(pts)
    a, b = p[:, 0], p[:, 1]
    x = torch.stack([{feats}], 1)
    y = {targets}
    split = int(len(pts) * D["train_frac"])
    return x[:split], y[:split], x[split:], y[split:]


make_augmenter = None'''

DIGITS_LOAD = """    from sklearn.datasets import load_digits

    raw = load_digits()
    images = (raw.images / 16.0).astype(np.float32)
    order = np.random.default_rng(SEED).permutation(len(images))
    if {n} > 0:
        order = order[:{n}]
    images, labels = images[order], raw.target[order].astype(np.int64)"""

SHAPES_LOAD = """    # The generated shapes, shipped as pixels (zlib + base64 of float32 images and int64 labels).
    images = np.frombuffer(zlib.decompress(base64.b64decode("{images}")), np.float32).reshape({shape})
    labels = np.frombuffer(zlib.decompress(base64.b64decode("{labels}")), np.int64).copy()"""

IMAGE_DATA = '''# ---- data: images (N, 1, S, S), normalised by the training set's mean and std

def make_data():
    """(x_train, y_train, x_test, y_test): split train / validation / test as the app does."""
{load}
    x = torch.from_numpy(images.copy()).unsqueeze(1)
    if x.shape[-1] != {size}:
        x = F.interpolate(x, size=({size}, {size}), mode="bilinear", align_corners=False).clamp(0.0, 1.0)
    n = len(x)
    n_train = int(round(n * D["train_frac"]))
    n_val = int(round((n - n_train) * D["val_frac"]))
    if {standard}:
        mean, std = float(x[:n_train].mean()), float(x[:n_train].std()) or 1.0
        x = (x - mean) / std
    y = {targets}
    val = slice(n_train, n_train + n_val) if n_val else slice(n_train + n_val, None)
    return x[:n_train], y[:n_train], x[val], y[val]


{augment}'''

TABLE_DATA = '''# ---- data: your uploaded table {key}, shipped as the numbers the app trains on: rows split by
# train_frac (seeded), feature columns scaled by the training rows' mean and std, targets as the loss expects
# them (label '{target}' as class indices or 0/1, or the target scaled to [-1, 1] by the training rows' range).

def _array(blob, dtype, shape):
    return torch.from_numpy(np.frombuffer(zlib.decompress(base64.b64decode(blob)), dtype).reshape(shape).copy())


def make_data():
    """(x_train, y_train, x_test, y_test)."""
{arrays}
    return x_train, y_train, x_test, y_test


make_augmenter = None'''

MODEL = '''# ---- model: the same modules, built in the same order under the same seed

class Residual(nn.Module):
    """A hidden layer plus its input (a skip connection)."""

    def __init__(self, *mods):
        super().__init__()
        self.body = nn.Sequential(*mods)

    def forward(self, x):
        return x + self.body(x)


def build_model():
{build}


def init_weights(model):
    if not {has_init}:
        return  # PyTorch's own initialisation
    scale = M["init_scale"]
    for mod in model.modules():
        if isinstance(mod, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            w = mod.weight
            {init}
            if mod.bias is not None:
                nn.init.constant_(mod.bias, M["init_bias"])'''

TRAIN = """# ---- training: mini-batch steps, the LR schedule per step, L1/L2 penalties, clipping

def loss_fn(out, y):
    return {loss_code}


def penalty(model):
    total = 0.0
    for p in model.parameters():
        if p.ndim >= 2:  # weights only: biases and norm scales are not regularised
            if T["l1"]:
                total = total + T["l1"] * p.abs().sum()
            if T["l2"]:
                total = total + T["l2"] * 0.5 * (p * p).sum()
    return total


{evaluate}


def train(epochs):
    # A fresh model trained as the app trains it; one record per epoch: mean training loss, test loss, accuracy.
    torch.set_num_threads(1)
    torch.manual_seed(SEED)
    x_train, y_train, x_test, y_test = make_data()
    model = build_model()
    init_weights(model)
    model.train()
    torch.manual_seed(SEED + 3)  # dropout's own stream, as in the app
    batches = torch.Generator().manual_seed(SEED + 1)
    aug_gen = torch.Generator().manual_seed(SEED + 2)
    augment = make_augmenter(SPEC_NS) if make_augmenter else None
    params = model.parameters()
    opt = {optimizer_code}
    S = torch.optim.lr_scheduler
    bs = D["batch_size"]
    spe = max(1, math.ceil(len(x_train) / bs))
    total = max(1, T["epochs"] * spe)
    warm = min(total - 1, T["warmup"] * spe)
    sched = {schedule_code}
    history = []
    for epoch in range(1, epochs + 1):
        order = torch.randperm(len(x_train), generator=batches)
        x_epoch, y_epoch = x_train[order], y_train[order]  # shuffled once an epoch; batches are slices
        losses = []
        for i in range(spe):
            xb, yb = x_epoch[i * bs : (i + 1) * bs], y_epoch[i * bs : (i + 1) * bs]
            if augment is not None:
                xb = augment(xb, aug_gen)
            opt.zero_grad(set_to_none=True)
            data_loss = loss_fn(model(xb), yb)
            if not math.isfinite(float(data_loss.detach())):
                history.append({{"status": "diverged", "epoch": epoch}})
                return history
            (data_loss + penalty(model)).backward()
            if T["clip"] > 0:
                nn.utils.clip_grad_norm_(model.parameters(), T["clip"])
            opt.step()
            if sched is not None:
                sched.step()
            losses.append(float(data_loss.detach()))
        val_loss, val_accuracy = evaluate(model, x_test, y_test)  # no randomness: the batches stay the app's
        loss = math.fsum(losses) / len(losses)
        history.append({{"epoch": epoch, "loss": loss, "val_loss": val_loss, "val_accuracy": val_accuracy}})
    return history


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=T["epochs"])
    history = train(ap.parse_args().epochs)
    last = history[-1] if history else {{"epoch": 0}}
    if last.get("status") == "diverged":
        print(json.dumps(last))
        raise SystemExit(3)
    print(json.dumps({{"epochs": last["epoch"]}} | {{k: last.get(k) for k in ("loss", "val_loss", "val_accuracy")}}))


class _Namespace:
    def __init__(self, d):
        self.__dict__.update({{k: _Namespace(v) if isinstance(v, dict) else v for k, v in d.items()}})


SPEC_NS = _Namespace(SPEC)"""

EVALUATE = """def evaluate(model, x, y):
    model.eval()
    with torch.no_grad():
        out = model(x)
        loss = float(loss_fn(out, y))
        classes = y if y.ndim == 1 else (y[:, 0] > {threshold}).long()
        accuracy = float(({classify} == classes).float().mean())
    model.train()
    return loss, accuracy"""

RUN = """if __name__ == "__main__":
    main()"""
