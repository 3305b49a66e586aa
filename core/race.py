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


def _check(surface: str, optimizer: str, lr: float, steps: int) -> None:
    if surface not in SURFACES:
        raise ValueError(f"unknown surface {surface!r}; known: {', '.join(SURFACES)}")
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r}; known: {', '.join(OPTIMIZERS)}")
    if not (math.isfinite(lr) and lr > 0):
        raise ValueError(f"the learning rate must be a positive number, not {lr!r}")
    if not 1 <= steps <= MAX_STEPS:
        raise ValueError(f"steps must be between 1 and {MAX_STEPS}, not {steps!r}")


def run_racer(surface: str, optimizer: str, lr: float, steps: int, start=None, tol: float = TOL) -> dict:
    """One optimiser's race: path (n, 2), losses (n,), steps_to_tol (None if never), diverged, final point and loss."""
    return race(surface, {optimizer: lr}, steps, start, tol)[optimizer]


def race(surface: str, lrs: dict[str, float], steps: int, start=None, tol: float = TOL) -> dict[str, dict]:
    """Every optimiser of `lrs` (name -> learning rate) from one start point; name -> its racer's result.

    The racers move together: each step evaluates the surface at every racer's point in one call and one
    backward pass gives each its own gradient (the surface is applied column by column, so racer i's gradient
    is that of f at its point alone), then each optimiser steps its own parameter. A racer that diverges stops.
    """
    for name, lr in lrs.items():
        _check(surface, name, lr, steps)
    s = SURFACES[surface]
    params = {n: torch.tensor(start or s.start, dtype=torch.float64, requires_grad=True) for n in lrs}
    opts = {
        n: OPTIMIZERS[n].make([params[n]], SimpleNamespace(lr=lr, momentum=MOMENTUM, weight_decay=0.0))
        for n, lr in lrs.items()
    }
    path = {n: [p.detach().clone()] for n, p in params.items()}
    losses: dict[str, list[float]] = {n: [] for n in lrs}
    reached: dict[str, int | None] = dict.fromkeys(lrs)
    active = list(lrs)
    for step in range(steps + 1):
        for n in active:
            opts[n].zero_grad()
        points = torch.stack([params[n] for n in active], dim=1)  # (2, racers): f's p[0], p[1] are rows
        values = s.f(points)
        far = points.detach().abs().amax(dim=0).tolist()
        moving = []
        for i, (n, value) in enumerate(zip(active, values.tolist())):
            if not math.isfinite(value) or far[i] > BLOWUP:
                continue  # diverged: it stops here
            losses[n].append(value)
            if reached[n] is None and value - s.f_min <= tol:
                reached[n] = step
            moving.append(i)
        if step == steps or not moving:
            break
        values[moving].sum().backward()
        active = [active[i] for i in moving]
        for n in active:
            opts[n].step()
            path[n].append(params[n].detach().clone())
    out = {}
    for n, lr in lrs.items():
        points = torch.stack(path[n][: len(losses[n])]).numpy()
        out[n] = {
            "optimizer": n,
            "lr": lr,
            "path": points,
            "losses": np.asarray(losses[n]),
            "steps_to_tol": reached[n],
            "diverged": len(losses[n]) < steps + 1,
            "final": points[-1].tolist() if len(points) else None,
            "final_loss": losses[n][-1] if losses[n] else None,
        }
    return out


def race_summary(results: dict[str, dict]) -> dict:
    """The runner's JSON: per optimiser its lr, final point, final loss, steps to tolerance and whether it diverged."""
    keys = ("lr", "final", "final_loss", "steps_to_tol", "diverged")
    return {name: {k: r[k] for k in keys} for name, r in results.items()}
