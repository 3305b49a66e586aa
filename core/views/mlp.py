"""What the Playground draws: the network's prediction over the input plane, and the network itself.

The network diagram: neuron values are read with forward hooks during one forward pass in
evaluation mode on a grid over the plane: batch norm uses its running statistics, dropout is off,
and a residual layer's neuron shows its output after the skip is added (what the next layer gets).
"""

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


ZERO_TOL = 1e-3  # |w| below this counts as a zero weight (L1 drives weights to ~0, rarely to exactly 0)


def _plane(n: int, extent: float) -> tuple[np.ndarray, np.ndarray]:
    xs = np.linspace(-extent, extent, n, dtype=np.float32)
    gx, gy = np.meshgrid(xs, xs)  # row i has x2 = xs[i]
    return xs, np.stack([gx.ravel(), gy.ravel()], 1)


def network_view(trainer, n: int = 24, extent: float = 6.0) -> dict:
    """Inputs, hidden neurons and outputs as (units, n, n) float32 grids, plus the weight matrices.

    Returns xs (n,), "features" (names), "inputs" (F, n, n), "hidden" [(units, n, n) per layer],
    "outputs" (K, n, n) (P(class) for classifiers, the output value otherwise), "weights"
    [(out, in) per Linear, input to output], "biases", "zero_weights" (count of |w| < ZERO_TOL)
    and "notes" (what the picture shows for batch norm, dropout and residual links).
    """
    model, spec = trainer.model, trainer.spec
    xs, pts = _plane(n, extent)
    x = expand_features(pts, spec.data.features).to(trainer.device)
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
        "features": list(spec.data.features),
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


def mlp_views(trainer) -> dict:
    """The Playground's look inside: the decision grid over the plane and the network diagram."""
    return {"grid": decision_grid(trainer), "network": network_view(trainer, n=40)}
