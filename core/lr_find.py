"""Learning-rate finder: short training runs on copies of the network, one per rate on a log grid.

Each rate trains a fresh copy from the same weights, with a fresh optimiser of the spec's kind and
the same seeded batch order, for `steps` steps; the curve is the full training loss each copy
ends with. The suggestion is the best rate divided by SAFETY: the rate that made the most progress
in a short run is near the edge of stability, and a long run wants a margin.

On a plateau the short runs cannot rank the rates. Measured 2026-12-02 on `rnn-vs-lstm-adding` (LSTM), seeds
0-9: every 300-step run from 1e-3 to 0.1 ended at the loss of guessing the mean (within 1-7 %), so the best
rate was picked by noise and its suggestion trained for 3 of 10 seeds. A family whose task has such a
baseline (`finder_baseline`) gets another rule when no short run got clearly below it: the largest rate
that stayed stable, one grid step below the first that diverged (docs/benchmarks.md).

Why not Smith's range test (one run while the rate grows, the steepest fall of the loss)? Measured
2026-12-02 on `tfp-default`, seeds 0-9: over its 200 steps the loss never left chance at any rate,
so the steepest fall was noise, and the suggestion trained for only 4 of 10 seeds (docs in
tests/core/test_lr_find.py). Short runs from a common start compare rates on equal terms.

The trainer's own network, optimiser, batch order and random streams are never touched.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable

import numpy as np
import torch

from core.engine import Trainer, make_optimizer

SAFETY = math.sqrt(10)  # one half-decade step of the grid below the best rate
BLOWUP = 4.0  # a copy whose loss passes 4x its start has diverged: the rest of its run is not needed
PAST_BASELINE = 0.9  # a short run has learned more than the baseline when it ends below 90 % of its loss


def _short_run(trainer: Trainer, lr: float, steps: int, tick: Callable[[int], None] = lambda i: None) -> float:
    """The full training loss of a copy trained `steps` steps at `lr` (inf when it diverged); `tick(i)` before
    step i (it may raise to cancel)."""
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
    for i in range(steps):
        tick(i)
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
    progress: Callable[[float], None] | None = None,
) -> dict:
    """Loss after `steps` steps at each of `rates` log-spaced rates; returns lrs, losses, start_loss, best_lr, suggested_lr.

    `progress(share done)` is called before every step of every short run; it may raise to cancel the test.
    """
    if steps < 10:
        raise ValueError("an LR finder run needs at least 10 steps per rate")
    if not (0 < lr_min < lr_max) or rates < 3:
        raise ValueError("the finder needs 0 < min rate < max rate and at least 3 rates")
    lrs = [float(v) for v in np.logspace(math.log10(lr_min), math.log10(lr_max), rates)]
    start = _full_loss(trainer, copy.deepcopy(trainer.model))
    with trainer.own_rng():  # dropout in the copies draws from the trainer's stream: restore it afterwards
        rng_before = torch.get_rng_state() if trainer._rng_state is not None else None
        report = progress or (lambda share: None)
        try:
            losses = [
                _short_run(trainer, lr, steps, lambda i, k=k: report((k * steps + i) / (rates * steps)))
                for k, lr in enumerate(lrs)
            ]
        finally:  # a cancelled test leaves the stream as it found it too
            if rng_before is not None:
                torch.set_rng_state(rng_before)
    finder_baseline = getattr(trainer, "finder_baseline", None)
    baseline = finder_baseline() if finder_baseline else None
    best, suggested = suggest(lrs, losses, start, baseline)
    return {
        "lrs": lrs,
        "losses": [v if math.isfinite(v) else None for v in losses],
        "steps": steps,
        "start_loss": start,
        "best_lr": best,
        "suggested_lr": suggested,
        "baseline": baseline,
        "plateau": on_plateau(losses, baseline),
    }


class LrFinderAction:
    """A trainer mixin: the finder as an action a paused page starts in the background through `Job.begin`
    (ui/network_panel.py)."""

    ACTIONS = ("lr_find",)

    def lr_find(self, steps: int = 300, progress: Callable[[float], None] | None = None) -> dict:
        """LR finder: short runs on copies of the network (this one is left untouched); `progress` as in
        `lr_range_test` (the Job's `begin` passes it)."""
        return lr_range_test(self, steps=int(steps), progress=progress)

    def finder_baseline(self) -> float | None:
        """The loss of a predictor that ignores the input, where the task has one the short runs may sit on
        (None: the finder ranks the rates by their loss alone)."""
        return None


def on_plateau(losses: list[float], baseline: float | None) -> bool:
    """True when no short run ended clearly below the baseline: they all sit on its plateau."""
    finite = [v for v in losses if v is not None and math.isfinite(v)]
    return baseline is not None and bool(finite) and min(finite) > PAST_BASELINE * baseline


def suggest(
    lrs: list[float], losses: list[float], start: float, baseline: float | None = None
) -> tuple[float | None, float | None]:
    """(best rate, suggestion); (None, None) when no rate lowered the loss by 5 % of its start.

    The suggestion is the best rate / SAFETY. On a baseline's plateau (`on_plateau`) it is the largest rate
    below the first that diverged: that rate is already one grid step (SAFETY) below one too large; None when no
    rate diverged, as nothing then marks the edge.
    """
    finite = [(v, lr) for v, lr in zip(losses, lrs) if math.isfinite(v)]
    if not finite:
        return None, None
    value, best = min(finite)
    if value > 0.95 * start:
        return None, None
    if not on_plateau(losses, baseline):
        return best, best / SAFETY
    first_diverged = next((i for i, v in enumerate(losses) if not math.isfinite(v)), None)
    if first_diverged is None or first_diverged == 0:
        return best, None
    return best, lrs[first_diverged - 1]
