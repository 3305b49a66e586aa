"""make_dataset(spec): the spec's dataset, split and ready for the Trainer, whatever its kind."""

from __future__ import annotations

import numpy as np

from core.data.base import Dataset, expand_features, targets_for
from core.data.gan_targets import make_gan_dataset
from core.data.images import make_image_dataset
from core.data.sequences import make_sequences
from core.data.table import make_table_dataset
from core.registry import DATASETS
from core.spec import Spec, n_classes, task_of


def make_points(name: str, n: int, noise_pct: float, seed: int, classes: int = 3):
    """Generate a toy set with its registry generator and shuffle it (seeded); no split yet."""
    rng = np.random.default_rng(seed)
    pts, labels = DATASETS[name].make(n, noise_pct / 100.0, rng, classes)
    order = rng.permutation(len(pts))
    return pts[order].astype(np.float32), labels[order]


def make_toy_dataset(spec: Spec) -> Dataset:
    """A 2-D set: the first train_frac of the shuffled points train, the rest validate and test."""
    d = spec.data
    pts, labels = make_points(d.name, d.n, d.noise, spec.seed, d.classes)
    split = int(len(pts) * d.train_frac)
    x = expand_features(pts, d.features)
    y = targets_for(spec, labels)
    return Dataset.train_test(
        x,
        y,
        slice(None, split),
        slice(split, None),
        task=task_of(spec),
        n_classes=n_classes(spec),
        points_train=pts[:split],
        points_test=pts[split:],
        extra={"labels_train": labels[:split], "labels_test": labels[split:]},
    )


BUILDERS = {  # DatasetInfo.kind -> f(spec) -> Dataset
    "toy": make_toy_dataset,
    "image": make_image_dataset,
    "gan": make_gan_dataset,
    "gan_image": make_gan_dataset,
    "seq": make_sequences,
    "table": make_table_dataset,
}


def make_dataset(spec: Spec) -> Dataset:
    """Build the spec's dataset; the same spec (seed included) gives the same tensors."""
    return BUILDERS[DATASETS[spec.data.name].kind](spec)
