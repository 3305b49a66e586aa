"""Gradient-lab probes: activation statistics per layer and the weight-update ratio per layer.

Both only read the model. Activation statistics come from a forward pass in evaluation mode, under
no_grad, on a fixed probe set of training inputs (as Glorot & Bengio measured on fixed examples):
eval mode never updates BatchNorm's running statistics and dropout draws no random numbers, so
training is unchanged whether the probe runs or not.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from core.engine import Probe
from core.probes import GradNormProbe, weight_layers

PROBE_SET = 256  # the fixed training inputs whose activations are measured
HIST_BINS = 30
# A unit counts as saturated where its activation's derivative is below this share of the maximum:
# sigmoid' = a (1 - a) <= 0.25, tanh' = 1 - a^2 <= 1.
SATURATION_SHARE = 0.08
BOUNDS = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0)}


def _numpy(a) -> np.ndarray:
    """A layer's activations (N, ...) as a float32 NumPy array (N, units), without a copy on the CPU."""
    if isinstance(a, torch.Tensor):
        a = a.detach().float().cpu().numpy()
    return a.reshape(len(a), -1)


def saturated_share(a, activation: str) -> float:
    """Share of activations whose derivative is below 8 % of its maximum (sigmoid and tanh only)."""
    a = _numpy(a)
    if activation == "sigmoid":
        return float(((a * (1 - a)) / 0.25 < SATURATION_SHARE).mean())
    if activation == "tanh":
        return float((1 - a * a < SATURATION_SHARE).mean())
    return 0.0


def dead_share(a, activation: str) -> float:
    """Share of ReLU units that output 0 for every input of the probe set ("dead" units)."""
    if activation != "relu":
        return 0.0
    return float((_numpy(a) <= 0).all(0).mean())


def _finite(a: np.ndarray) -> np.ndarray:
    """The finite values, flattened: an exploding network can overflow; describe what is finite."""
    flat = a.reshape(-1)
    return flat if np.isfinite(flat).all() else flat[np.isfinite(flat)]


def activation_stats(a, activation: str) -> dict:
    """Quantiles, mean, std, saturated and dead shares of one layer's activations (N, units).

    In NumPy: on this machine its quantiles (a partial sort) and finite filter are 3-50x faster than
    torch's for a layer of 256 x 64 activations."""
    a = _numpy(a)
    flat = _finite(a)
    if flat.size == 0:
        nan = float("nan")
        return dict.fromkeys(("mean", "std", "q05", "q25", "q50", "q75", "q95", "saturated", "dead"), nan)
    q = np.quantile(flat, [0.05, 0.25, 0.5, 0.75, 0.95]).tolist()  # linear interpolation, as torch.quantile
    return {
        "mean": float(flat.mean(dtype=np.float64)),
        "std": float(flat.std(ddof=1, dtype=np.float64)) if flat.size > 1 else 0.0,
        "q05": q[0],
        "q25": q[1],
        "q50": q[2],
        "q75": q[3],
        "q95": q[4],
        "saturated": saturated_share(a, activation),
        "dead": dead_share(a, activation),
    }


def histogram(a, activation: str) -> dict:
    """Histogram of one layer's activations: bin edges and the share of values in each bin."""
    flat = _finite(_numpy(a))
    if flat.size == 0:
        return {"edges": np.zeros(0, np.float32), "share": np.zeros(0, np.float32)}
    lo, hi = BOUNDS.get(activation, (float(flat.min()), float(flat.max())))
    if hi <= lo:
        hi = lo + 1e-6
    counts, edges = np.histogram(np.clip(flat, lo, hi), bins=HIST_BINS, range=(lo, hi))
    return {"edges": edges.astype(np.float32), "share": (counts / max(1, flat.size)).astype(np.float32)}


class ActivationStatsProbe(Probe):
    """Per-layer activation statistics at the end of each measured epoch (record key "activation").

    Measured epochs are those the trainer evaluates (`trainer.measuring`), so the statistics sit in the same
    records as the whole-set losses.

    `latest_hist` keeps each layer's histogram of the latest measurement (for the charts; the
    history keeps only the numbers, so long runs stay small).
    """

    def __init__(self, probe_size: int = PROBE_SET):
        self.probe_size = probe_size
        self.latest_hist: dict[str, dict] = {}

    def on_train_start(self, trainer):
        model = trainer.model
        self.modules = model.activation_modules() if hasattr(model, "activation_modules") else []
        acts = trainer.spec.model.activation
        self.act_names = [acts[0] if len(acts) == 1 else acts[i] for i in range(len(self.modules))]
        self.x = trainer.data.x_train[: self.probe_size]

    def measure(self, trainer) -> tuple[dict, dict]:
        """(stats, histograms) per layer from one eval-mode forward pass on the probe set."""
        captured: dict[str, torch.Tensor] = {}
        hooks = [
            m.register_forward_hook(lambda mod, inp, out, name=name: captured.__setitem__(name, out))
            for name, m in self.modules
        ]
        was_training = trainer.model.training
        trainer.model.eval()
        try:
            with torch.no_grad():
                trainer.model(self.x)
        finally:
            trainer.model.train(was_training)
            for h in hooks:
                h.remove()
        stats, hists = {}, {}
        for (name, _), act in zip(self.modules, self.act_names):
            a = _numpy(captured[name])  # one conversion per layer for both
            stats[name] = activation_stats(a, act)
            hists[name] = histogram(a, act)
        return stats, hists

    def on_epoch_end(self, trainer) -> dict:
        if not self.modules or not trainer.measuring:
            return {}
        stats, self.latest_hist = self.measure(trainer)
        return {"activation": stats}


class UpdateRatioProbe(Probe):
    """‖ΔW‖ / ‖W‖ of each weight layer over the last optimiser step of each measured epoch (key "update_ratio").

    Measured epochs are those the trainer evaluates (`trainer.measuring`): every epoch in the runner, Step and
    slow motion, on the evaluation cadence while a page trains live.
    """

    def on_train_start(self, trainer):
        self.layers = weight_layers(trainer.model)
        self.names = [n for n, _ in self.layers]
        self._weights = [m.weight for _, m in self.layers]
        self._before: list[torch.Tensor] | None = None
        self._ratios: dict[str, float] = {}

    def after_backward(self, trainer):
        # Only the last step of a measured epoch: one weight copy then, none on the other steps.
        if trainer.measuring:
            self._before = [w.detach().clone() for w in self._weights]

    def after_step(self, trainer):
        if self._before is None:
            return
        after = [w.detach() for w in self._weights]
        norms = torch.stack(torch._foreach_norm(self._before)).tolist()
        deltas = torch.stack(torch._foreach_norm(torch._foreach_sub(after, self._before))).tolist()
        self._ratios = {name: d / n if n > 0 else math.inf for name, n, d in zip(self.names, norms, deltas)}
        self._before = None

    def on_epoch_end(self, trainer) -> dict:
        ratios, self._ratios = self._ratios, {}  # a record carries only what its own epoch measured
        return {"update_ratio": ratios} if ratios else {}


def gradlab_probes() -> list[Probe]:
    """Gradient norms, activation statistics and update ratios: everything the Gradient lab draws."""
    return [GradNormProbe(keep_steps=True), ActivationStatsProbe(), UpdateRatioProbe()]


def first_last_ratio(record: dict) -> float | None:
    """Gradient norm of the first weight layer divided by the output layer's, from one epoch record."""
    g = record.get("grad_norm") or {}
    if len(g) < 2:
        return None
    values = list(g.values())
    return values[0] / values[-1] if values[-1] > 0 else math.inf
