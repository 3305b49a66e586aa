"""Datasets: make_dataset(spec) -> Dataset of tensors, split and ready for the Trainer."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from core.registry import DATASETS, FEATURES
from core.spec import Spec, n_classes, resolved_loss, task_of


@dataclass
class Dataset:
    """Training, validation and test tensors plus what the charts need to draw them.

    For the 2-D sets the validation and the test set are the same points (TF Playground's "test").
    `points_*` are the raw 2-D coordinates (before feature expansion), for plotting.
    """

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    task: str
    n_classes: int
    points_train: np.ndarray | None = None
    points_test: np.ndarray | None = None
    extra: dict = field(default_factory=dict)  # family-specific: normalisation, class names, ...

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])


def expand_features(points: torch.Tensor | np.ndarray, features) -> torch.Tensor:
    """(N, 2) raw points -> (N, F) feature columns, in the order given."""
    p = torch.as_tensor(points, dtype=torch.float32)
    a, b = p[:, 0], p[:, 1]
    return torch.stack([FEATURES[f].make(a, b) for f in features], 1)


def targets_for(spec: Spec, labels: np.ndarray) -> torch.Tensor:
    """Labels -> the target tensor the loss expects (class index, 0/1 float, +-1 float, value)."""
    loss = resolved_loss(spec)
    task = task_of(spec)
    if task == "regression":
        return torch.as_tensor(labels, dtype=torch.float32).unsqueeze(1)
    if loss == "ce":
        return torch.as_tensor(labels, dtype=torch.long)
    if loss == "bce":
        return torch.as_tensor(labels, dtype=torch.float32).unsqueeze(1)
    # mse / half_mse on a binary set: TF Playground's +1 / -1 labels
    return torch.as_tensor(labels * 2.0 - 1.0, dtype=torch.float32).unsqueeze(1)


def make_dataset(spec: Spec) -> Dataset:
    """Build the spec's dataset; the same spec (seed included) gives the same tensors."""
    kind = DATASETS[spec.data.name].kind
    if kind == "toy":
        return _toy_dataset(spec)
    if kind == "image":
        from core.data.images import make_image_dataset

        return make_image_dataset(spec)
    if kind == "seq":
        from core.data.sequences import make_sequences

        return make_sequences(spec)
    from core.data.gan_targets import make_gan_dataset

    return make_gan_dataset(spec)


def _toy_dataset(spec: Spec) -> Dataset:
    from core.data.toy import make_points

    d = spec.data
    pts, labels = make_points(d.name, d.n, d.noise, spec.seed, d.classes)
    split = int(len(pts) * d.train_frac)
    x = expand_features(pts, d.features)
    y = targets_for(spec, labels)
    return Dataset(
        x_train=x[:split],
        y_train=y[:split],
        x_val=x[split:],
        y_val=y[split:],
        x_test=x[split:],
        y_test=y[split:],
        task=task_of(spec),
        n_classes=n_classes(spec),
        points_train=pts[:split],
        points_test=pts[split:],
        extra={"labels_train": labels[:split], "labels_test": labels[split:]},
    )
