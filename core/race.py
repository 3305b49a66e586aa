"""Optimisers racing on a 2-D surface: `torch.optim` on one 2-parameter tensor per optimiser.

Each racer starts from the same point and takes `steps` steps with its own learning rate. The race
records every point and loss, and the first step at which the loss is within `tol` of the
surface's minimum (the loss gap f(p) - f*, not the distance to the minimiser).
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import torch

from core.registry import OPTIMIZERS
from core.surfaces import SURFACES

TOL = 1e-3  # "reached the minimum": the loss within 1e-3 of it
MOMENTUM = 0.9  # for momentum and Nesterov, as the spec's default
MAX_STEPS = 5000
BLOWUP = 1e6  # a point this far out has left the surface for good: the racer stops there


def run_racer(surface: str, optimizer: str, lr: float, steps: int, start=None, tol: float = TOL) -> dict:
    """One optimiser's race: path (n, 2), losses (n,), steps_to_tol (None if never), diverged, final point and loss."""
    if surface not in SURFACES:
        raise ValueError(f"unknown surface {surface!r}; known: {', '.join(SURFACES)}")
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r}; known: {', '.join(OPTIMIZERS)}")
    if not (math.isfinite(lr) and lr > 0):
        raise ValueError(f"the learning rate must be a positive number, not {lr!r}")
    if not 1 <= steps <= MAX_STEPS:
        raise ValueError(f"steps must be between 1 and {MAX_STEPS}, not {steps!r}")
    s = SURFACES[surface]
    p = torch.tensor(start or s.start, dtype=torch.float64, requires_grad=True)
    opt = OPTIMIZERS[optimizer].make([p], SimpleNamespace(lr=lr, momentum=MOMENTUM, weight_decay=0.0))
    path, losses, reached, diverged = [p.detach().clone()], [], None, False
    for step in range(steps + 1):
        opt.zero_grad()
        loss = s.f(p)
        value = float(loss.detach())
        if not math.isfinite(value) or float(p.detach().abs().max()) > BLOWUP:
            diverged = True
            break
        losses.append(value)
        if reached is None and value - s.f_min <= tol:
            reached = step
        if step == steps:
            break
        loss.backward()
        opt.step()
        path.append(p.detach().clone())
    points = torch.stack(path[: len(losses)]).numpy()
    return {
        "optimizer": optimizer,
        "lr": lr,
        "path": points,
        "losses": np.asarray(losses),
        "steps_to_tol": reached,
        "diverged": diverged,
        "final": points[-1].tolist() if len(points) else None,
        "final_loss": losses[-1] if losses else None,
    }


def race(surface: str, lrs: dict[str, float], steps: int, start=None, tol: float = TOL) -> dict[str, dict]:
    """Every optimiser of `lrs` (name -> learning rate) from one start point; name -> `run_racer`'s result."""
    return {name: run_racer(surface, name, lr, steps, start, tol) for name, lr in lrs.items()}


def race_summary(results: dict[str, dict]) -> dict:
    """The runner's JSON: per optimiser its lr, final point, final loss, steps to tolerance and whether it diverged."""
    keys = ("lr", "final", "final_loss", "steps_to_tol", "diverged")
    return {name: {k: r[k] for k in keys} for name, r in results.items()}
