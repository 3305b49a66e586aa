"""What the Playground draws: the network's prediction over the input plane."""

from __future__ import annotations

import numpy as np
import torch

from core.data.base import expand_features
from core.registry import LOSSES


def decision_grid(trainer, n: int = 80, extent: float = 6.0) -> dict:
    """The model's output over the input plane [-extent, extent]^2 on an n x n grid.

    Returns xs, ys (n,), 'label' and either 'value' (n, n) with its 'range' (P(class 1) for
    logit losses (BCE, cross-entropy), the output clamped to [-1, 1] otherwise) or 'probs' (n, n, K) for K > 2.
    """
    xs = np.linspace(-extent, extent, n, dtype=np.float32)
    gx, gy = np.meshgrid(xs, xs)  # row i has y = xs[i]
    pts = np.stack([gx.ravel(), gy.ravel()], 1)
    x = expand_features(pts, trainer.spec.data.features).to(trainer.device)
    out = trainer.predict(x)
    grid = {"xs": xs, "ys": xs}
    target = LOSSES[trainer.loss_name].target
    if target == "index" and out.shape[1] > 2:
        grid["probs"] = torch.softmax(out, 1).cpu().numpy().astype(np.float32).reshape(n, n, -1)
        grid["label"] = "P(class)"
    elif target in ("index", "01"):
        p = torch.softmax(out, 1)[:, 1] if target == "index" else torch.sigmoid(out[:, 0])
        grid["value"], grid["range"], grid["label"] = (
            p.cpu().numpy().reshape(n, n),
            (0.0, 1.0),
            "P(blue class)",
        )
    else:
        grid["value"] = out[:, 0].clamp(-1, 1).cpu().numpy().reshape(n, n)
        grid["range"], grid["label"] = (-1.0, 1.0), "network output"
    return grid


def mlp_views(trainer) -> dict:
    """The Playground's look inside: the decision grid over the plane."""
    return {"grid": decision_grid(trainer)}
