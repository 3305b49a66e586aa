"""The MLP family (Playground and Gradient lab): the shared Trainer plus what a student can do to a
paused network by hand: set one weight, or run a learning-rate range test on a copy of it."""

from __future__ import annotations

import math

import torch

from core.engine import Trainer
from core.lr_find import lr_range_test

MAX_WEIGHT = 100.0  # a weight edited by hand stays within +-100


class MlpTrainer(Trainer):
    """The supervised Trainer with two actions a paused page can run through `Job.act`."""

    ACTIONS = ("set_weight", "lr_find")

    def linears(self) -> list[torch.nn.Linear]:
        """The weight layers from input to output: each hidden layer's Linear, then the output."""
        return [b.linear for b in self.model.blocks] + [self.model.output]

    def set_weight(self, layer: int, out_unit: int, in_unit: int, value: float) -> dict:
        """Set one weight (layer 0 = first hidden layer, the last = output); ValueError naming what is wrong."""
        linears = self.linears()
        if not 0 <= layer < len(linears):
            raise ValueError(f"there is no layer {layer + 1}; this network has {len(linears)} weight layers")
        w = linears[layer].weight
        if not (0 <= out_unit < w.shape[0] and 0 <= in_unit < w.shape[1]):
            raise ValueError(f"layer {layer + 1} has {w.shape[0]} x {w.shape[1]} weights")
        value = float(value)
        if not math.isfinite(value) or abs(value) > MAX_WEIGHT:
            raise ValueError(f"a weight must be a number between -{MAX_WEIGHT:g} and {MAX_WEIGHT:g}")
        with torch.no_grad():
            old = float(w[out_unit, in_unit])
            w[out_unit, in_unit] = value
        return {"layer": layer, "out": out_unit, "in": in_unit, "old": old, "value": value}

    def lr_find(self, steps: int = 200) -> dict:
        """LR range test on a copy of the network (this one is left untouched)."""
        return lr_range_test(self, steps=int(steps))
