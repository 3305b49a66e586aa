"""What the Playground draws: the network's prediction over the input plane, and the network itself.

An uploaded table with two feature columns is a plane too (its standardised columns, `extra["extent"]` wide);
a table with more columns has no plane: its view is the network's prediction for every row, drawn on the
rows' principal-component projection.

The network diagram: neuron values are read with forward hooks during one forward pass in
evaluation mode on a grid over the plane: batch norm uses its running statistics, dropout is off,
and a residual layer's neuron shows its output after the skip is added (what the next layer gets).
"""

from __future__ import annotations

import numpy as np
import torch

from core.data.base import expand_features
from core.data.toy import DOMAIN
from core.registry import DATASETS, LOSSES


def plane_inputs(trainer, pts: np.ndarray) -> torch.Tensor:
    """(N, 2) points of the plane -> the network's inputs: a toy set's feature columns, a table's two columns."""
    if DATASETS[trainer.spec.data.name].kind == "table":
        return torch.as_tensor(pts, dtype=torch.float32)
    return expand_features(pts, trainer.spec.data.features)


def input_names(trainer) -> list[str]:
    """The network's input names: a toy set's feature names, a table's columns."""
    return list(trainer.data.extra.get("features") or trainer.spec.data.features)


def decision_grid(trainer, n: int = 80, extent: float = DOMAIN) -> dict:
    """The model's output over the input plane [-extent, extent]^2 on an n x n grid.

    Returns xs, ys (n,), 'label' and either 'value' (n, n) with its 'range' (P(class 1) for
    logit losses (BCE, cross-entropy), the output clamped to [-1, 1] otherwise) or 'probs' (n, n, K) for K > 2.
    """
    xs = np.linspace(-extent, extent, n, dtype=np.float32)
    gx, gy = np.meshgrid(xs, xs)  # row i has y = xs[i]
    pts = np.stack([gx.ravel(), gy.ravel()], 1)
    x = plane_inputs(trainer, pts).to(trainer.device)
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


ZERO_TOL = 1e-3  # |w| below this counts as a zero weight (L1 drives weights to ~0, rarely to exactly 0)


def _plane(n: int, extent: float) -> tuple[np.ndarray, np.ndarray]:
    xs = np.linspace(-extent, extent, n, dtype=np.float32)
    gx, gy = np.meshgrid(xs, xs)  # row i has x2 = xs[i]
    return xs, np.stack([gx.ravel(), gy.ravel()], 1)


def network_view(trainer, n: int = 24, extent: float = DOMAIN) -> dict:
    """Inputs, hidden neurons and outputs as (units, n, n) float32 grids, plus the weight matrices.

    Returns xs (n,), "features" (names), "inputs" (F, n, n), "hidden" [(units, n, n) per layer],
    "outputs" (K, n, n) (P(class) for classifiers, the output value otherwise), "weights"
    [(out, in) per Linear, input to output], "biases", "zero_weights" (count of |w| < ZERO_TOL)
    and "notes" (what the picture shows for batch norm, dropout and residual links).
    """
    model, spec = trainer.model, trainer.spec
    xs, pts = _plane(n, extent)
    x = plane_inputs(trainer, pts).to(trainer.device)
    blocks = list(model.blocks)
    captured: list[torch.Tensor] = [None] * len(blocks)
    hooks = [
        b.register_forward_hook(lambda mod, inp, out, i=i: captured.__setitem__(i, out.detach()))
        for i, b in enumerate(blocks)
    ]
    try:
        out = trainer.predict(x)
    finally:
        for h in hooks:
            h.remove()
    linears = [b.linear for b in blocks] + [model.output]
    weights = [m.weight.detach().float().cpu().numpy() for m in linears]

    def grids(t: torch.Tensor) -> np.ndarray:  # (n*n, units) -> (units, n, n)
        return t.float().cpu().numpy().T.reshape(-1, n, n).astype(np.float32)

    return {
        "xs": xs,
        "features": input_names(trainer),
        "inputs": grids(x),
        "hidden": [grids(h) for h in captured],
        "outputs": grids(_output_values(trainer, out)),
        "weights": weights,
        "biases": [m.bias.detach().float().cpu().numpy() for m in linears],
        "zero_weights": int(sum((np.abs(w) < ZERO_TOL).sum() for w in weights)),
        "zero_tol": ZERO_TOL,
        "n_weights": int(sum(w.size for w in weights)),
        "notes": _notes(spec),
    }


def _output_values(trainer, out: torch.Tensor) -> torch.Tensor:
    """P(class) per output unit for classifiers (softmax or sigmoid), else the output itself."""
    if trainer.loss_name == "ce":
        return torch.softmax(out, 1)
    if trainer.loss_name == "bce":
        return torch.sigmoid(out)
    return out


def _notes(spec) -> list[str]:
    m, notes = spec.model, []
    if m.batchnorm:
        notes.append("batch norm: neurons show outputs after normalising with the running statistics")
    if m.dropout > 0:
        notes.append(f"dropout {m.dropout:g}: off in this picture, as at test time")
    if m.residual:
        notes.append("residual links: a layer of the same width as its input adds that input to its output")
    return notes


def projection_view(trainer) -> dict:
    """The network's prediction for every training and test row: "pred_train", "pred_test" (N,), a class
    index for classifiers, the output clamped to [-1, 1] (the scaled target's range) for regression."""
    out = {}
    for part, x in (("train", trainer.data.x_train), ("test", trainer.data.x_test)):
        y = trainer.predict(x)
        pred = trainer.classify(y) if trainer.data.task != "regression" else y[:, 0].clamp(-1, 1)
        out[f"pred_{part}"] = pred.cpu().numpy()
    return out


def mlp_views(trainer) -> dict:
    """The Playground's look inside: the decision grid over the plane and the network diagram
    (a table of more than two columns: its projection's predictions)."""
    extra = trainer.data.extra
    if extra.get("plane") is False:
        return {"projection": projection_view(trainer)}
    extent = extra.get("extent", DOMAIN)
    return {"grid": decision_grid(trainer, extent=extent), "network": network_view(trainer, n=40, extent=extent)}
