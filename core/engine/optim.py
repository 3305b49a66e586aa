"""Optimisers and LR schedules from the registry, and a preview of a schedule over a whole run."""

from __future__ import annotations

import torch

from core.registry import OPTIMIZERS, SCHEDULES


def make_optimizer(params, name: str, train) -> torch.optim.Optimizer:
    """A torch.optim optimiser from the registry."""
    return OPTIMIZERS[name].make(params, train)


def make_scheduler(optimizer, train, steps_per_epoch: int):
    """The spec's LR schedule (SCHEDULES' entry) as a torch.optim.lr_scheduler, or None for a constant LR.

    It is stepped once per optimiser step."""
    return SCHEDULES[train.schedule].make(optimizer, train, steps_per_epoch)


def schedule_preview(train, steps_per_epoch: int, max_points: int = 400) -> tuple[list[float], list[float]]:
    """(epochs, lrs) of the schedule over the whole run, from the real torch scheduler, subsampled."""
    param = torch.zeros(1, requires_grad=True)
    # With momentum, so schedules that also cycle momentum (one-cycle) can; the LR does not depend on it.
    opt = torch.optim.SGD([param], lr=train.lr, momentum=0.9)
    total = max(1, train.epochs * steps_per_epoch)
    sched = make_scheduler(opt, train, steps_per_epoch)
    every = max(1, total // max_points)
    xs, ys = [], []
    for s in range(total):
        if s % every == 0:
            xs.append(s / steps_per_epoch)
            ys.append(opt.param_groups[0]["lr"])
        if sched is not None:
            opt.step()
            sched.step()
    return xs, ys
