"""What we measure from the real model while it trains: gradient norms per layer.

Probes return floats and NumPy arrays, so charts and tests never touch tensors. Probes only read:
with probes on or off, the same seed gives the same losses.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from core.engine import Probe


def weight_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """(name, module) of every weight layer from input to output.

    Models name their layers with `named_layers()`; otherwise Linear/Conv modules are numbered.
    """
    if hasattr(model, "named_layers"):
        return model.named_layers()
    found = [m for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d))]
    return [(f"layer{i + 1}", m) for i, m in enumerate(found)]


class GradNormProbe(Probe):
    """L2 norm of each weight layer's gradient, read after backward (before clipping), on every step.

    `last_values` holds the values of the latest step; the epoch record gets `grad_norm`, the mean over
    the epoch's steps, as {layer name: norm} ordered from input to output.
    """

    MAX_KEPT_STEPS = 4000

    def __init__(self, keep_steps: bool = False):
        self.keep_steps = keep_steps  # also keep every step's norms (thinned to at most MAX_KEPT_STEPS)
        self.step_ids: list[int] = []
        self._kept: torch.Tensor | None = None  # (MAX_KEPT_STEPS, L): row i holds the norms of step_ids[i]
        self._stride = 1
        self._epoch: list[list[torch.Tensor]] = []  # this epoch's per-step norms, one list per step
        self._last: list[torch.Tensor] | None = None

    def on_train_start(self, trainer):
        self.layers = weight_layers(trainer.model)
        self.names = [n for n, _ in self.layers]
        # The weight tensors themselves: nn.Module attribute lookups cost ~1 us each, on every step.
        self._weights = [m.weight for _, m in self.layers]
        if self.keep_steps:
            self._kept = torch.zeros(self.MAX_KEPT_STEPS, len(self.names), device=trainer.device)

    def after_backward(self, trainer):
        grads = [w.grad for w in self._weights]
        # One fused call per step and no host sync: the epoch's norms are stacked once, at its end.
        try:
            norms = torch._foreach_norm(grads)  # the L2 norm of each tensor
        except TypeError:  # a layer without a gradient this step (frozen, or not on the loss's path)
            zero = torch.zeros((), device=trainer.device)
            norms = [torch.linalg.vector_norm(g) if g is not None else zero for g in grads]
        self._epoch.append(norms)
        if self.keep_steps and (trainer.step_count + 1) % self._stride == 0:
            torch.stack(norms, out=self._kept[len(self.step_ids)])
            self.step_ids.append(trainer.step_count + 1)
            if len(self.step_ids) == self.MAX_KEPT_STEPS:
                # Long runs keep every other step, then every fourth, ...: the memory stays bounded.
                self._kept[: self.MAX_KEPT_STEPS // 2] = self._kept[1::2].clone()
                self.step_ids, self._stride = self.step_ids[1::2], self._stride * 2

    @property
    def last_values(self) -> dict[str, float]:
        """{layer: norm} of the most recent step."""
        last = self._epoch[-1] if self._epoch else self._last
        return dict(zip(self.names, torch.stack(last).tolist())) if last else {}

    def on_epoch_end(self, trainer) -> dict:
        if not self._epoch:
            return {}
        self._last = self._epoch[-1]
        steps, layers = len(self._epoch), len(self.names)
        # One stack of every step's norms, (S, L) row by row, then the mean over the steps.
        mean = torch.stack([n for norms in self._epoch for n in norms]).view(steps, layers).mean(0).tolist()
        self._epoch = []
        return {"grad_norm": dict(zip(self.names, mean))}

    def steps_view(self) -> dict:
        """Kept per-step norms: {"steps": (S,), "norms": (S, L) float32, "names": [L]} (copies)."""
        n = len(self.step_ids)
        if not n:
            return {
                "steps": np.zeros(0, np.int64),
                "norms": np.zeros((0, len(self.names)), np.float32),
                "names": self.names,
            }
        norms = self._kept[:n].float().cpu().numpy().copy()
        return {"steps": np.asarray(self.step_ids), "norms": norms, "names": self.names}


def default_probes() -> list[Probe]:
    """The probes every page and the runner attach."""
    return [GradNormProbe()]
