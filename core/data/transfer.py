"""The two tasks of transfer learning: a source task to pretrain on and a target task with new classes.

`transfer.source` names the pair: digits 0-4 or five generated shapes, then digits 5-9; or glyphs 0-99
of the generated alphabet (core.data.glyphs), then ten glyphs it never showed (100-109).

Both are (N, 1, S, S) images at `data.image_size`, normalised with the mean and std of the source
training images, so the pretrained body sees target images on the scale it learned from (and all
three target modes see exactly the same tensors). The target's labelled training set is the first
`labels_per_class` images of each class in the seeded order; its test set is every image of the
held-out share, whatever the number of labels.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch

from core.data.base import Dataset
from core.data.glyphs import make_glyphs
from core.data.images import SHAPES, image_extra, image_stats, image_tensor, load_digits_images, make_shapes
from core.spec import Spec

TARGET_DIGITS = (5, 6, 7, 8, 9)
SOURCE_DIGITS = (0, 1, 2, 3, 4)
SOURCE_SHAPES = 5  # circle, square, triangle, cross, star
SHAPES_N = 1500
# Many source classes: the body has to learn strokes, not a few templates. Measured at seed 1 (10 labels per class,
# 12 pretraining epochs): 40 glyphs x 150 images left the frozen body 9.1 points ahead of scratch, 100 x 120 16.9.
GLYPH_SOURCE = tuple(range(100))
GLYPH_TARGET = tuple(range(100, 110))
GLYPH_SOURCE_PER_CLASS = 120
GLYPH_TARGET_PER_CLASS = 200  # train_frac of them is the labelled pool, the rest the test set
TARGETS = {  # source -> what the target task is, for pages and lessons
    "digits_0_4": "handwritten digits 5, 6, 7, 8 and 9",
    "shapes": "handwritten digits 5, 6, 7, 8 and 9",
    "glyphs": "ten new glyphs (100-109), never shown in pretraining, drawn with the same variation",
}
SOURCE_TRAIN_FRAC = 0.8  # the source keeps a fifth of its images to report its own test accuracy


def _source_raw(spec: Spec) -> tuple[torch.Tensor, np.ndarray, list[str]]:
    """The source task's images (shuffled by the seed), labels and class names; the callers copy, never write."""
    x, labels, names = _source_images(spec.transfer.source, spec.data.image_size, spec.seed)
    return x, labels.copy(), list(names)


# Generating the glyphs takes seconds (12,000 drawn images) and every target dataset needs the source's mean and
# std: a sweep or the three target modes would draw them again each time. Two sources at once stay drawn (at most
# 38 MB each: 12,000 glyphs of 28x28).
@lru_cache(maxsize=2)
def _source_images(source: str, size: int, seed: int) -> tuple[torch.Tensor, np.ndarray, list[str]]:
    if source == "glyphs":
        images, labels = make_glyphs(list(GLYPH_SOURCE), GLYPH_SOURCE_PER_CLASS, size, seed)
        return image_tensor(images, size), labels, [f"glyph {k}" for k in GLYPH_SOURCE]
    if source == "shapes":
        images, labels = make_shapes(SHAPES_N, SOURCE_SHAPES, size, 0.0, seed)
        return image_tensor(images, size), labels, list(SHAPES[:SOURCE_SHAPES])
    images, labels = load_digits_images(seed)
    keep = np.isin(labels, SOURCE_DIGITS)
    return image_tensor(images[keep], size), labels[keep], [str(d) for d in SOURCE_DIGITS]


def _dataset(x, labels, n_train, mean, std, names, extra=None) -> Dataset:
    x = (x - mean) / std
    y = torch.as_tensor(labels, dtype=torch.long)
    tr, te = slice(0, n_train), slice(n_train, None)
    return Dataset.train_test(
        x,
        y,
        tr,
        te,
        task="multiclass",
        n_classes=len(names),
        extra=image_extra(labels, names, mean, std, tr, None, te) | (extra or {}),
    )


def source_dataset(spec: Spec) -> Dataset:
    """The pretraining task (digits 0-4, five generated shapes or 100 glyphs), 80 % for training."""
    x, labels, names = _source_raw(spec)
    n_train = int(round(len(x) * SOURCE_TRAIN_FRAC))
    mean, std = image_stats(x[:n_train])
    return _dataset(x, labels, n_train, mean, std, names)


def pick_per_class(labels: np.ndarray, k: int) -> np.ndarray:
    """Indices of the first k examples of each class (all when k is 0), in their original order."""
    if k == 0:
        return np.arange(len(labels))
    keep = np.zeros(len(labels), bool)
    for c in np.unique(labels):
        keep[np.flatnonzero(labels == c)[:k]] = True
    return np.flatnonzero(keep)


def _target_raw(spec: Spec) -> tuple[torch.Tensor, np.ndarray, list[str]]:
    """The target task's images (shuffled by the seed), labels from 0 and class names."""
    x, labels, names = _target_images(spec.transfer.source, spec.data.image_size, spec.seed)
    return x, labels.copy(), list(names)


@lru_cache(maxsize=3)
def _target_images(source: str, size: int, seed: int) -> tuple[torch.Tensor, np.ndarray, list[str]]:
    if source == "glyphs":  # another draw than the source's: seed + 1
        images, labels = make_glyphs(list(GLYPH_TARGET), GLYPH_TARGET_PER_CLASS, size, seed + 1)
        return image_tensor(images, size), labels, [f"glyph {k}" for k in GLYPH_TARGET]
    images, digits = load_digits_images(seed)
    keep = np.isin(digits, TARGET_DIGITS)
    return image_tensor(images[keep], size), digits[keep] - TARGET_DIGITS[0], [str(d) for d in TARGET_DIGITS]


def target_classes(spec: Spec) -> int:
    """How many classes the target task has."""
    return len(GLYPH_TARGET) if spec.transfer.source == "glyphs" else len(TARGET_DIGITS)


def target_dataset(spec: Spec, labels_per_class: int | None = None) -> Dataset:
    """The target task's classes from 0: a labelled training set of k per class and the held-out test set.

    The pool the labels come from is `data.train_frac` of the (seed-shuffled) images; the rest is the
    test set. `extra["pool_per_class"]` is the smallest class's pool size (what "all" means).
    """
    k = spec.transfer.labels_per_class if labels_per_class is None else labels_per_class
    src, _, _ = _source_raw(spec)
    mean, std = image_stats(src[: int(round(len(src) * SOURCE_TRAIN_FRAC))])
    x, labels, names = _target_raw(spec)
    n_pool = int(round(len(x) * spec.data.train_frac))
    chosen = pick_per_class(labels[:n_pool], k)
    order = np.concatenate([chosen, np.arange(n_pool, len(x))])
    pool_counts = np.bincount(labels[:n_pool], minlength=len(names))
    extra = {"pool_per_class": int(pool_counts.min()), "chosen": chosen}
    return _dataset(x[order], labels[order], len(chosen), mean, std, names, extra)
