"""What the transfer page shows of a run: its layers (frozen or trained, pretrained or random) and how far
training has moved the body from where it started. Floats, lists and NumPy arrays only."""

from __future__ import annotations

import math

import torch


def architecture(trainer) -> list[dict]:
    """One row per module: name, text, parameters, and whether it is frozen and whether it starts pretrained."""
    mode = trainer.spec.transfer.mode
    rows = []
    for step, module in zip(trainer.model.steps, [*trainer.model.body, trainer.model.output]):
        is_head = step.kind == "output"
        params = sum(p.numel() for p in module.parameters())
        rows.append(
            {
                "kind": step.kind,
                "text": step.text,
                "params": params,
                "frozen": bool(params) and not any(p.requires_grad for p in module.parameters()),
                "pretrained": bool(params) and not is_head and mode in ("frozen", "finetune"),
            }
        )
    return rows


def body_drift(trainer) -> float:
    """‖θ − θ₀‖₂ / ‖θ₀‖₂ over every body parameter: 0 for a frozen body, small when fine-tuning gently."""
    now = [p.detach() for p in trainer.model.body.parameters()]
    if not now:
        return 0.0
    with torch.no_grad():
        diff = math.sqrt(sum(float(((a - b.to(a)) ** 2).sum()) for a, b in zip(now, trainer.start_body)))
        base = math.sqrt(sum(float((b**2).sum()) for b in trainer.start_body))
    return diff / base if base else 0.0


def transfer_views(trainer) -> dict:
    """The page's numbers for one run: mode, test accuracy, layer rows, trainable and frozen counts, body drift.

    A sweep gives its progress instead: points done and points in all.
    """
    if not hasattr(trainer, "start_body"):  # the sweep (and the lockstep runner trainer) have no single network
        return {"points_done": trainer.epoch, "points": len(getattr(trainer, "points", ()))}
    last = trainer.history[-1] if trainer.history else {}
    params = list(trainer.model.parameters())
    trainable = sum(p.numel() for p in params if p.requires_grad)
    optimised = sum(p.numel() for g in trainer.optimizer.param_groups for p in g["params"])
    return {
        "mode": trainer.spec.transfer.mode,
        "test_accuracy": last.get("test_accuracy", float("nan")),
        "layers": architecture(trainer),
        "trainable_params": trainable,
        "frozen_params": sum(p.numel() for p in params) - trainable,
        "optimised_params": optimised,
        "body_drift": body_drift(trainer),
        "lrs": [g["lr"] for g in trainer.optimizer.param_groups],
        "n_train": trainer.n_train,
    }
