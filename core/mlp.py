"""The MLP family (Playground, Gradient lab, Optimization): the shared Trainer plus what a student can do
to a paused network by hand: set one weight, run the learning-rate finder on copies, follow one example
through backpropagation and apply its SGD step, or map the loss landscape around the weights."""

from __future__ import annotations

import math

import torch

from core.backprop import backprop, finite_difference
from core.engine import Trainer
from core.landscape import landscape
from core.lr_find import LrFinderAction

MAX_WEIGHT = 100.0  # a weight edited by hand stays within +-100


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

    def _example(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        n = len(self.data.x_train)
        if not 0 <= int(index) < n:
            raise ValueError(f"there is no training example {int(index) + 1}; there are {n}")
        return self.data.x_train[int(index)], self.data.y_train[int(index)]

    def backprop(self, index: int = 0, weight: tuple[int, int, int] | None = None) -> dict:
        """Forward and backward by hand for training example `index`; with `weight` (layer, out, in) its
        finite-difference dL/dw too."""
        x, y = self._example(index)
        result = backprop(self.model, x, y, self.loss_name) | {"index": int(index)}
        result["point"] = [float(v) for v in self.data.points_train[int(index)]]
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

    def backprop_step(self, index: int, lr: float) -> dict:
        """One SGD step on example `index` alone, w <- w - lr dL/dw with the gradients of `backprop`."""
        lr = float(lr)
        if not (math.isfinite(lr) and 0 < lr <= 10):
            raise ValueError(f"the step's learning rate must be in (0, 10], not {lr}")
        before = self.backprop(index)
        with torch.no_grad():
            for layer, lin in zip(before["layers"], self.linears()):
                lin.weight -= lr * torch.tensor(layer["grad_w"], dtype=lin.weight.dtype, device=lin.weight.device)
                lin.bias -= lr * torch.tensor(layer["grad_b"], dtype=lin.bias.dtype, device=lin.bias.device)
        after = backprop(self.model, *self._example(index), self.loss_name)
        return {"index": int(index), "lr": lr, "loss_before": before["loss"], "loss_after": after["loss"]}

    def landscape(self, grid: int = 21, span: float = 1.0, directions: str = "random") -> dict:
        """The loss line from the initial weights and a 2-D slice around these ones, on a copy."""
        return landscape(self, grid=int(grid), span=float(span), directions=directions, seed=self.spec.seed)
