"""The MLP family (Playground, Gradient lab, Optimization): the shared Trainer plus what a student can do
to a paused network by hand: set one weight, run the learning-rate finder on copies, follow one example
through backpropagation and apply its SGD step, or map the loss landscape around the weights."""

from __future__ import annotations

import math

import numpy as np
import torch

from core.backprop import backprop, finite_difference
from core.data.base import expand_features, targets_for
from core.engine import Trainer
from core.landscape import landscape
from core.lr_find import LrFinderAction

MAX_WEIGHT = 100.0  # a weight edited by hand stays within +-100
PLANE = 10.0  # a typed point lies within +-10 on each axis (the 2-D sets lie within +-6)
MAX_TARGET = 100.0  # a typed regression target stays within +-100 (the sets' targets lie within +-1.2)


class MlpTrainer(LrFinderAction, Trainer):
    """The supervised Trainer with two actions a paused page can run through `Job.act`."""

    ACTIONS = ("set_weight", *LrFinderAction.ACTIONS, "backprop", "backprop_step", "landscape")

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

    def _example(self, example: int | dict) -> tuple[torch.Tensor, torch.Tensor]:
        """Training example `example` (an index), or a typed one: {"point": [x1, x2], "label": class or value}."""
        if isinstance(example, dict):
            return self._typed(example.get("point"), example.get("label"))
        n = len(self.data.x_train)
        if not 0 <= int(example) < n:
            raise ValueError(f"there is no training example {int(example) + 1}; there are {n}")
        return self.data.x_train[int(example)], self.data.y_train[int(example)]

    def _typed(self, point, label) -> tuple[torch.Tensor, torch.Tensor]:
        """A student's own example: a point of the plane, expanded into the network's input features as the data
        is, and its label as the loss expects it; ValueError naming what is wrong."""
        if self.data.points_train is None or self.spec.data.table:
            raise ValueError("an example can be typed on the 2-D sets only; pick one from the data")
        try:
            xy = [float(v) for v in point]
        except (TypeError, ValueError):
            raise ValueError(f"the point must be two numbers x1, x2, not {point!r}") from None
        if len(xy) != 2 or not all(math.isfinite(v) and abs(v) <= PLANE for v in xy):
            shown = ", ".join(f"{v:g}" for v in xy)
            raise ValueError(f"the point must be two numbers x1, x2 between -{PLANE:g} and {PLANE:g}, not {shown}")
        try:
            value = float(label)
        except (TypeError, ValueError):
            raise ValueError(f"the target must be a number, not {label!r}") from None
        if self.data.task == "regression":
            if not (math.isfinite(value) and abs(value) <= MAX_TARGET):
                raise ValueError(f"the target must be a number between -{MAX_TARGET:g} and {MAX_TARGET:g}")
        elif value not in range(self.data.n_classes):
            classes = ", ".join(str(c) for c in range(self.data.n_classes))
            raise ValueError(f"the target must be a class: one of {classes}, not {value:g}")
        x = expand_features(np.array([xy], dtype=np.float32), self.spec.data.features)[0]
        y = targets_for(self.spec, np.array([value if self.data.task == "regression" else int(value)]))[0]
        return x.to(self.data.x_train.device), y.to(self.data.y_train.device)

    def backprop(self, example: int | dict = 0, weight: tuple[int, int, int] | None = None) -> dict:
        """Forward and backward by hand for `example` (a training example's index, or a typed one as in
        `_example`); with `weight` (layer, out, in) its finite-difference dL/dw too."""
        x, y = self._example(example)
        result = backprop(self.model, x, y, self.loss_name) | {"example": example}
        points = self.data.points_train
        point = example["point"] if isinstance(example, dict) else (None if points is None else points[int(example)])
        result["point"] = None if point is None else [float(v) for v in point]
        if weight is not None:
            layer, out, inp = (int(v) for v in weight)
            sizes = [(len(L["grad_w"]), len(L["grad_w"][0])) for L in result["layers"]]
            if not (0 <= layer < len(sizes) and 0 <= out < sizes[layer][0] and 0 <= inp < sizes[layer][1]):
                raise ValueError(f"there is no weight {weight} in this network")
            result["finite_difference"] = {
                "weight": [layer, out, inp],
                "value": finite_difference(self.model, x, y, self.loss_fn, layer, out, inp),
            }
        return result

    def backprop_step(self, example: int | dict, lr: float) -> dict:
        """One SGD step on `example` alone (as in `backprop`), w <- w - lr dL/dw with the gradients of `backprop`."""
        lr = float(lr)
        if not (math.isfinite(lr) and 0 < lr <= 10):
            raise ValueError(f"the step's learning rate must be in (0, 10], not {lr}")
        before = self.backprop(example)
        with torch.no_grad():
            for layer, lin in zip(before["layers"], self.linears()):
                lin.weight -= lr * torch.tensor(layer["grad_w"], dtype=lin.weight.dtype, device=lin.weight.device)
                lin.bias -= lr * torch.tensor(layer["grad_b"], dtype=lin.bias.dtype, device=lin.bias.device)
        after = backprop(self.model, *self._example(example), self.loss_name)
        return {"example": example, "lr": lr, "loss_before": before["loss"], "loss_after": after["loss"]}

    def landscape(self, grid: int = 21, span: float = 1.0, directions: str = "random") -> dict:
        """The loss line from the initial weights and a 2-D slice around these ones, on a copy."""
        return landscape(self, grid=int(grid), span=float(span), directions=directions, seed=self.spec.seed)
