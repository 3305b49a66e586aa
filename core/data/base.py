"""The Dataset every family trains on, input features of the 2-D sets and target encoding."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from core.registry import FEATURES, LOSSES
from core.spec import Spec, resolved_loss, task_of


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

    @classmethod
    def train_test(cls, x: torch.Tensor, y: torch.Tensor, train, test, **rest) -> Dataset:
        """Rows `train` to train on, rows `test` to validate and test on (indices or slices); `rest` as above."""
        return cls(
            x_train=x[train], y_train=y[train], x_val=x[test], y_val=y[test], x_test=x[test], y_test=y[test], **rest
        )


def expand_features(points: torch.Tensor | np.ndarray, features) -> torch.Tensor:
    """(N, 2) raw points -> (N, F) feature columns, in the order given."""
    p = torch.as_tensor(points, dtype=torch.float32)
    a, b = p[:, 0], p[:, 1]
    return torch.stack([FEATURES[f].make(a, b) for f in features], 1)


def targets_for(spec: Spec, labels: np.ndarray) -> torch.Tensor:
    """Labels -> the target tensor the loss expects (class index, 0/1 float, +-1 float, value)."""
    target = LOSSES[resolved_loss(spec)].target
    if task_of(spec) == "regression":
        return torch.as_tensor(labels, dtype=torch.float32).unsqueeze(1)
    if target == "index":
        return torch.as_tensor(labels, dtype=torch.long)
    if target == "01":
        return torch.as_tensor(labels, dtype=torch.float32).unsqueeze(1)
    # "pm1" (mse / half_mse on a binary set): TF Playground's +1 / -1 labels
    return torch.as_tensor(labels * 2.0 - 1.0, dtype=torch.float32).unsqueeze(1)
