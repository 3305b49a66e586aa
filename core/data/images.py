"""Image datasets (scikit-learn's digits, generated shapes) and training-batch augmentation.

Images are (N, 1, H, W) float32 in [0, 1] before normalisation, ink bright on a dark background.
The same spec (seed included) gives the same images, split and augmentation draws.
"""

from __future__ import annotations

import functools
import importlib.util
import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw

from core.data.base import Dataset, targets_for
from core.registry import DATASETS
from core.spec import Spec, SpecError, n_classes, task_of

SHAPES = ("circle", "square", "triangle", "cross", "star", "ring", "bar", "half-disc")
SUPERSAMPLE = 4  # shapes are drawn 4x larger, then box-filtered down: smooth anti-aliased edges
MAX_ROTATION_DEG = 30.0  # at aug_strength 1
MAX_SHIFT = 0.15  # share of the image width, at aug_strength 1
MAX_NOISE_STD = 0.5  # in normalised units (one train std), at aug_strength 1


@functools.cache
def digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 1,797 handwritten 8x8 digits (values 0-16, read-only) and their labels, in its order.

    Read from the file its package ships (sklearn/datasets/data/digits.csv.gz: 64 pixels and the label per row),
    as its `load_digits` does, without importing scikit-learn: that import (scipy.stats among it) took 1.6 s of
    CPU and held the lock Python's threads share while a page was being drawn."""
    found = importlib.util.find_spec("sklearn")  # finds the package without importing it
    if found is None or not found.submodule_search_locations:
        raise ImportError("scikit-learn is not installed: the digits ship with it (pip install scikit-learn)")
    rows = np.loadtxt(Path(found.submodule_search_locations[0]) / "datasets" / "data" / "digits.csv.gz", delimiter=",")
    images, labels = rows[:, :-1].reshape(-1, 8, 8), rows[:, -1].astype(np.int64)
    images.flags.writeable = labels.flags.writeable = False  # one copy per process, shared by every caller
    return images, labels


def load_digits_images(seed: int, n: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 1,797 8x8 digits in [0, 1], shuffled by the seed; the first n when n > 0."""
    raw, target = digits()
    images = (raw / 16.0).astype(np.float32)  # (1797, 8, 8), values 0-16 -> [0, 1]
    order = np.random.default_rng(seed).permutation(len(images))
    if n > 0:
        order = order[:n]
    return images[order], target[order]


def _polygon(cx, cy, radii, angles, rot) -> list[tuple[float, float]]:
    return [(cx + r * math.cos(a + rot), cy + r * math.sin(a + rot)) for r, a in zip(radii, angles)]


def draw_shape(kind: str, size: int, cx: float, cy: float, r: float, rot: float) -> np.ndarray:
    """One shape (white on black) of radius r (pixels) at (cx, cy), rotated by rot radians -> (size, size) [0, 1]."""
    s = SUPERSAMPLE
    img = Image.new("L", (size * s, size * s), 0)
    d = ImageDraw.Draw(img)
    cx, cy, r = cx * s, cy * s, r * s
    if kind == "circle":
        d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=255)
    elif kind == "ring":
        d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=255)
        d.ellipse([cx - 0.55 * r, cy - 0.55 * r, cx + 0.55 * r, cy + 0.55 * r], fill=0)
    elif kind == "square":
        d.polygon(_polygon(cx, cy, [r * 0.85] * 4, [math.pi / 4 + k * math.pi / 2 for k in range(4)], rot), fill=255)
    elif kind == "triangle":
        d.polygon(_polygon(cx, cy, [r] * 3, [-math.pi / 2 + k * 2 * math.pi / 3 for k in range(3)], rot), fill=255)
    elif kind == "star":
        radii = [r if k % 2 == 0 else 0.42 * r for k in range(10)]
        d.polygon(_polygon(cx, cy, radii, [-math.pi / 2 + k * math.pi / 5 for k in range(10)], rot), fill=255)
    elif kind == "cross":
        w = 0.3 * r  # half the arm width
        pts = [
            (w, r),
            (w, w),
            (r, w),
            (r, -w),
            (w, -w),
            (w, -r),
            (-w, -r),
            (-w, -w),
            (-r, -w),
            (-r, w),
            (-w, w),
            (-w, r),
        ]
        c, sn = math.cos(rot), math.sin(rot)
        d.polygon([(cx + x * c - y * sn, cy + x * sn + y * c) for x, y in pts], fill=255)
    elif kind == "bar":
        pts = [(r, 0.3 * r), (r, -0.3 * r), (-r, -0.3 * r), (-r, 0.3 * r)]
        c, sn = math.cos(rot), math.sin(rot)
        d.polygon([(cx + x * c - y * sn, cy + x * sn + y * c) for x, y in pts], fill=255)
    elif kind == "half-disc":
        start = math.degrees(rot)
        d.pieslice([cx - r, cy - r, cx + r, cy + r], start, start + 180, fill=255)
    else:
        raise ValueError(f"unknown shape {kind!r}")
    small = img.resize((size, size), Image.Resampling.BOX)
    return np.asarray(small, dtype=np.float32) / 255.0


def make_shapes(n: int, classes: int, size: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """n images (n, size, size) in [0, 1] of `classes` shape kinds with random position, size and rotation.

    Classes are balanced (i mod classes, then shuffled); noise is Gaussian with std noise/100, clipped.
    """
    if not 2 <= classes <= len(SHAPES):
        raise SpecError("data.classes", classes, f"2 to {len(SHAPES)} for shapes ({', '.join(SHAPES)})")
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % classes)
    images = np.empty((n, size, size), np.float32)
    for i, label in enumerate(labels):
        r = rng.uniform(0.22, 0.42) * size
        cx, cy = rng.uniform(r, size - r, 2)
        images[i] = draw_shape(SHAPES[label], size, cx, cy, r, rng.uniform(0, 2 * math.pi))
    if noise > 0:
        images = np.clip(images + rng.normal(0.0, noise / 100.0, images.shape).astype(np.float32), 0.0, 1.0)
    return images, labels.astype(np.int64)


def split_sizes(n: int, train_frac: float, val_frac: float) -> tuple[int, int, int]:
    """(train, validation, test) counts: train_frac of n, then val_frac of the rest for validation."""
    n_train = int(round(n * train_frac))
    n_val = int(round((n - n_train) * val_frac))
    return n_train, n_val, n - n_train - n_val


def make_image_dataset(spec: Spec) -> Dataset:
    """Digits or shapes as (N, 1, S, S) tensors, split train/validation/test and normalised by train statistics.

    With val_frac 0 there is no separate validation set: the validation metrics are the test set's
    (as on the 2-D sets), and extra["val_is_test"] says so.
    """
    d = spec.data
    size = d.image_size
    if d.name == "digits":
        images, labels = load_digits_images(spec.seed, d.n)
        names = [str(i) for i in range(10)]
    elif d.name == "shapes":
        n = d.n or DATASETS["shapes"].default_n
        images, labels = make_shapes(n, d.classes, size, d.noise, spec.seed)
        names = list(SHAPES[: d.classes])
    else:
        raise SpecError("data.name", d.name, "an image dataset: digits or shapes")
    x = image_tensor(images, size)
    n_train, n_val, n_test = split_sizes(len(x), d.train_frac, d.val_frac)
    if n_train < 1 or n_test < 1:
        raise SpecError("data.n", d.n, "enough images for a training and a test set (at least 10)")
    mean, std = 0.0, 1.0
    if d.normalize == "standard":
        mean, std = image_stats(x[:n_train])
        x = (x - mean) / std
    y = targets_for(spec, labels)
    tr, te = slice(0, n_train), slice(n_train + n_val, None)
    va = slice(n_train, n_train + n_val) if n_val else None
    return Dataset(
        x_train=x[tr],
        y_train=y[tr],
        x_val=x[va or te],
        y_val=y[va or te],
        x_test=x[te],
        y_test=y[te],
        task=task_of(spec),
        n_classes=n_classes(spec),
        extra=image_extra(labels, names, mean, std, tr, va, te),
    )


def image_tensor(images: np.ndarray, size: int) -> torch.Tensor:
    """(N, h, w) in [0, 1] -> (N, 1, size, size), resized bilinearly when h is not size."""
    x = torch.from_numpy(images).unsqueeze(1)
    if x.shape[-1] != size:
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False).clamp(0.0, 1.0)
    return x


def image_stats(x: torch.Tensor) -> tuple[float, float]:
    """Mean and std of training images (std 1 for blank images), to normalise every split by."""
    return float(x.mean()), float(x.std()) or 1.0


def image_extra(labels: np.ndarray, names: list[str], mean: float, std: float, train, val, test) -> dict:
    """What the image views read beside the tensors: normalisation, class names and each split's labels.

    `val` None: there is no separate validation set; the test set's labels stand in and `val_is_test` says so.
    """
    return {
        "mean": mean,
        "std": std,
        "class_names": names,
        "labels_train": labels[train],
        "labels_val": labels[test if val is None else val],
        "labels_test": labels[test],
        "val_is_test": val is None,
    }


def make_augmenter(spec: Spec):
    """f(batch (B, 1, H, W), generator) -> augmented batch of the same shape (training batches only).

    Rotation (up to 30 degrees) and shift (up to 15 % of the width) are one affine resampling whose
    edges repeat the border pixels; flip mirrors left-right with probability 1/2; noise adds Gaussian
    noise (std up to 0.5 of the normalised scale). aug_strength scales rotation, shift and noise.
    Every random number comes from `generator`, so the same seed gives the same augmentations.
    """
    ops = set(spec.data.augment)
    strength = spec.data.aug_strength

    def augment(batch: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        b = len(batch)
        out = batch
        if ops & {"rotate", "shift"}:
            angle = torch.zeros(b)
            shift = torch.zeros(b, 2)
            if "rotate" in ops:
                limit = math.radians(MAX_ROTATION_DEG * strength)
                angle = (torch.rand(b, generator=generator) * 2 - 1) * limit
            if "shift" in ops:
                # affine_grid works in [-1, 1] coordinates: a shift of s widths is 2 s.
                shift = (torch.rand(b, 2, generator=generator) * 2 - 1) * 2 * MAX_SHIFT * strength
            cos, sin = torch.cos(angle), torch.sin(angle)
            theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1)
            grid = F.affine_grid(theta.to(out), list(out.shape), align_corners=False)
            out = F.grid_sample(out, grid, mode="bilinear", padding_mode="border", align_corners=False)
        if "flip" in ops:
            flip = (torch.rand(b, generator=generator) < 0.5).to(out.device)
            out = torch.where(flip[:, None, None, None], out.flip(-1), out)
        if "noise" in ops and strength > 0:
            noise = torch.randn(out.shape, generator=generator) * MAX_NOISE_STD * strength
            out = out + noise.to(out)
        return out

    return augment


def augment_preview(spec: Spec, n: int = 8) -> np.ndarray:
    """(2, n, H, W) float32: the first n training images and one augmented draw of each."""
    data = make_image_dataset(spec)
    x = data.x_train[:n]
    aug = make_augmenter(spec)(x, torch.Generator().manual_seed(spec.seed + 2)) if spec.data.augment else x
    return np.stack([x[:, 0].numpy(), aug[:, 0].numpy()]).astype(np.float32)
