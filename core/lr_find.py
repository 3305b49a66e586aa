"""Learning-rate finder: short training runs on copies of the network, one per rate on a log grid.

Each rate trains a fresh copy from the same weights, with a fresh optimiser of the spec's kind and
the same seeded batch order, for `steps` steps; the curve is the full training loss each copy
ends with. The suggestion is the best rate divided by SAFETY: the rate that made the most progress
in a short run is near the edge of stability, and a long run wants a margin.

Why not Smith's range test (one run while the rate grows, the steepest fall of the loss)? Measured
2026-12-02 on `tfp-default`, seeds 0-9: over its 200 steps the loss never left chance at any rate,
so the steepest fall was noise, and the suggestion trained for only 4 of 10 seeds (docs in
tests/core/test_lr_find.py). Short runs from a common start compare rates on equal terms.

The trainer's own network, optimiser, batch order and random streams are never touched.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import torch

from core.engine import Trainer, make_optimizer

SAFETY = math.sqrt(10)  # one half-decade step of the grid below the best rate
BLOWUP = 4.0  # a copy whose loss passes 4x its start has diverged: the rest of its run is not needed


def _short_run(trainer: Trainer, lr: float, steps: int) -> float:
    """The full training loss of a copy trained `steps` steps at `lr` (inf when it diverged)."""
    model = copy.deepcopy(trainer.model)
    model.train()
    spec = trainer.spec
    opt = make_optimizer(model.parameters(), spec.train.optimizer, spec.train)
    for g in opt.param_groups:
        g["lr"] = lr
    gen = torch.Generator().manual_seed(spec.seed + 7)
    x, y = trainer.data.x_train, trainer.data.y_train
    bs = min(spec.data.batch_size, len(x))
    order, pos, start = torch.randperm(len(x), generator=gen), 0, None
    for _ in range(steps):
        if pos + bs > len(order):
            order, pos = torch.randperm(len(x), generator=gen), 0
        idx = order[pos : pos + bs]
        pos += bs
        opt.zero_grad(set_to_none=True)
        loss = trainer.objective(model, x[idx], y[idx])
        value = float(loss.detach())
        start = value if start is None else start
        if not math.isfinite(value) or value > BLOWUP * max(start, 1e-12):
            return math.inf
        loss.backward()
        opt.step()
    value = _full_loss(trainer, model)
    return value if math.isfinite(value) else math.inf


def _full_loss(trainer: Trainer, model: torch.nn.Module, chunk: int = 1024) -> float:
    """The data loss of `model` on the whole training set, in evaluation mode: the mean of the chunks' mean losses,
    each weighted by its size."""
    x, y = trainer.data.x_train, trainer.data.y_train
    model.eval()
    with torch.no_grad():
        total = sum(
            float(trainer.objective(model, x[i : i + chunk], y[i : i + chunk])) * len(x[i : i + chunk])
            for i in range(0, len(x), chunk)
        )
    return total / max(1, len(x))


def lr_range_test(
    trainer: Trainer,
    steps: int = 300,
    lr_min: float = 1e-4,
    lr_max: float = 10.0,
    rates: int = 11,
) -> dict:
    """Loss after `steps` steps at each of `rates` log-spaced rates; returns lrs, losses, start_loss, best_lr, suggested_lr."""
    if steps < 10:
        raise ValueError("an LR finder run needs at least 10 steps per rate")
    if not (0 < lr_min < lr_max) or rates < 3:
        raise ValueError("the finder needs 0 < min rate < max rate and at least 3 rates")
    lrs = [float(v) for v in np.logspace(math.log10(lr_min), math.log10(lr_max), rates)]
    start = _full_loss(trainer, copy.deepcopy(trainer.model))
    with trainer.own_rng():  # dropout in the copies draws from the trainer's stream: restore it afterwards
        rng_before = torch.get_rng_state() if trainer._rng_state is not None else None
        losses = [_short_run(trainer, lr, steps) for lr in lrs]
        if rng_before is not None:
            torch.set_rng_state(rng_before)
    best, suggested = suggest(lrs, losses, start)
    return {
        "lrs": lrs,
        "losses": [v if math.isfinite(v) else None for v in losses],
        "steps": steps,
        "start_loss": start,
        "best_lr": best,
        "suggested_lr": suggested,
    }


class LrFinderAction:
    """A trainer mixin: the finder as an action a paused page runs through `Job.act` (ui/network_panel.py)."""

    ACTIONS = ("lr_find",)

    def lr_find(self, steps: int = 300) -> dict:
        """LR finder: short runs on copies of the network (this one is left untouched)."""
        return lr_range_test(self, steps=int(steps))


def suggest(lrs: list[float], losses: list[float], start: float) -> tuple[float | None, float | None]:
    """(best rate, suggestion = best / SAFETY); (None, None) when no rate lowered the loss by 5 % of its start."""
    finite = [(v, lr) for v, lr in zip(losses, lrs) if math.isfinite(v)]
    if not finite:
        return None, None
    value, best = min(finite)
    if value > 0.95 * start:
        return None, None
    return best, best / SAFETY
