"""Learning-rate range test: train a copy of the network for a few hundred steps while the learning
rate grows exponentially, record the loss at each rate, and suggest the rate where it fell fastest.

The trainer's own network, optimiser, batch order and random streams are never touched: the test
runs on deep copies with its own seeded batch generator.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import torch

from core.engine import Trainer, make_optimizer

SMOOTHING = 0.9  # exponential moving average of the loss, as the curve is noisy batch to batch
STOP_FACTOR = 4.0  # stop once the smoothed loss is 4x its best: the rate is far too high already


def lr_range_test(
    trainer: Trainer,
    steps: int = 200,
    lr_min: float = 1e-5,
    lr_max: float = 10.0,
) -> dict:
    """Loss vs LR on a copy of `trainer`'s network; returns lrs, losses, smoothed and suggested_lr.

    Step i uses lr_min * (lr_max / lr_min) ** (i / (steps - 1)) on a fresh optimiser of the spec's
    kind. The suggestion is the rate of the steepest descent of the smoothed loss against log(LR),
    looked for before the loss's minimum (past it, the loss is already rising).
    """
    if steps < 10:
        raise ValueError("an LR range test needs at least 10 steps")
    model = copy.deepcopy(trainer.model)
    model.train()
    spec = trainer.spec
    opt = make_optimizer(model.parameters(), spec.train.optimizer, spec.train)
    gen = torch.Generator().manual_seed(spec.seed + 7)
    x, y = trainer.data.x_train, trainer.data.y_train
    bs = spec.data.batch_size
    ratio = lr_max / lr_min
    lrs, losses, smoothed = [], [], []
    avg, best = 0.0, math.inf
    order, pos = torch.randperm(len(x), generator=gen), 0
    with trainer.own_rng():  # dropout in the copy draws from the trainer's stream: restore it afterwards
        rng_before = torch.get_rng_state() if trainer._rng_state is not None else None
        for i in range(steps):
            lr = lr_min * ratio ** (i / (steps - 1))
            for g in opt.param_groups:
                g["lr"] = lr
            if pos + bs > len(order):
                order, pos = torch.randperm(len(x), generator=gen), 0
            idx = order[pos : pos + bs]
            pos += bs
            opt.zero_grad(set_to_none=True)
            loss = trainer.loss_fn(model(x[idx]), y[idx])
            value = float(loss.detach())
            if not math.isfinite(value):
                break
            loss.backward()
            opt.step()
            avg = SMOOTHING * avg + (1 - SMOOTHING) * value
            smooth = avg / (1 - SMOOTHING ** (i + 1))  # bias-corrected, as Adam corrects its averages
            lrs.append(lr)
            losses.append(value)
            smoothed.append(smooth)
            best = min(best, smooth)
            if smooth > STOP_FACTOR * best and i > steps // 10:
                break
        if rng_before is not None:
            torch.set_rng_state(rng_before)
    return {
        "lrs": lrs,
        "losses": losses,
        "smoothed": smoothed,
        "suggested_lr": suggest(lrs, smoothed),
    }


def suggest(lrs: list[float], smoothed: list[float]) -> float | None:
    """The LR of the steepest fall of the smoothed loss against log10(LR), before its minimum.

    The first tenth of the points is skipped (the moving average is still settling there), and the
    slope is a centred difference over a window of a tenth of the points, so one noisy batch cannot
    decide the suggestion.
    """
    n = len(lrs)
    if n < 20:
        return None
    log_lr = np.log10(np.asarray(lrs))
    loss = np.asarray(smoothed)
    w = max(2, n // 10)
    end = int(np.argmin(loss[w:])) + w
    centres = range(w, min(end, n - w))
    if not centres:
        return None
    slopes = [(loss[i + w] - loss[i - w]) / (log_lr[i + w] - log_lr[i - w]) for i in centres]
    return float(lrs[centres[int(np.argmin(slopes))]])
