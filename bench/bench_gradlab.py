"""Gradient-lab probe overhead at depth 50: steps/s with its probes against probes off.

    python -m bench.bench_gradlab [--seconds S] [--rounds R]

The network is the Gradient lab's deepest: 50 hidden layers of 32 sigmoid units on the circle set
(350 training points, batch 10: 35 steps an epoch). The activation statistics run once an epoch
on 256 inputs; the gradient norms and update ratios on every step.
"""

from __future__ import annotations

import argparse
import time

import torch

from core.engine import Trainer
from core.gradlab import ActivationStatsProbe, UpdateRatioProbe, gradlab_probes
from core.probes import GradNormProbe
from core.spec import Spec

SPEC = Spec().with_(
    **{
        "data.n": 500,
        "data.train_frac": 0.7,
        "data.batch_size": 10,
        "model.hidden": (32,) * 50,
        "model.activation": ("sigmoid",),
        "train.lr": 0.1,
        "train.epochs": 100_000,
    }
)

VARIANTS = {
    "probes off": list,
    "gradient norms only": lambda: [GradNormProbe()],
    "activation statistics only": lambda: [ActivationStatsProbe()],
    "update ratios only": lambda: [UpdateRatioProbe()],
    "all gradient-lab probes": gradlab_probes,
}


def steps_per_s(make_probes, seconds: float) -> float:
    t = Trainer(SPEC, make_probes())
    t.run_epoch()  # warm-up
    s0, t0 = t.step_count, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        t.run_epoch()
    return (t.step_count - s0) / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(1)
    best = dict.fromkeys(VARIANTS, 0.0)
    for _ in range(args.rounds):  # interleaved, best of each
        for name, make in VARIANTS.items():
            best[name] = max(best[name], steps_per_s(make, args.seconds))
    base = best["probes off"]
    print("depth 50 x 32 sigmoid MLP, batch 10, 35 steps an epoch, 1 thread")
    for name, v in best.items():
        print(f"{name:28s} {v:8.1f} steps/s  ratio to probes off {v / base:.3f}")


if __name__ == "__main__":
    main()
