"""Gradient-lab speed: probe overhead at depth 50, the lab's preset through a Job, and one redraw's work.

    python -m bench.bench_gradlab [--seconds S]

(a) steps per CPU second of the training thread (robust to a busy machine) of the lab's deepest network:
    50 hidden layers of 32 sigmoid units on the circle set (350 training points, batch 10: 35 steps an
    epoch) trained epoch by epoch in turn, with its probes off, with the per-step gradient norms only, and with every gradient-lab probe
    measuring every epoch (Step, slow motion, the runner) or on the evaluation cadence of a live page
    (activation statistics and update ratios with each whole-set evaluation, at most every EVAL_S seconds);
(b) `fix-relu-he` (A and B, 12 x 32, in lockstep) through a Job that also builds the page's views, at full
    speed: epochs per CPU second of the job's thread;
(c) one redraw's server work for A and B on the default view: the views and the figures the page draws.
"""

from __future__ import annotations

import argparse
import os
import time

import torch

from bench.bench_engine import interleaved, job_epochs_per_s, trainer_epochs
from core.charts.gradients import grad_heatmap_figure, heatmap_range
from core.charts.training import grad_norm_figure
from core.engine import Trainer
from core.gradlab import gradlab_probes
from core.jobs import EVAL_S
from core.presets import load_preset
from core.probes import GradNormProbe
from core.spec import Spec
from core.views.gradients import gradients_views

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

VARIANTS = {  # name: (probes, evaluation cadence in seconds; 0 = every epoch)
    "probes off": (list, EVAL_S),
    "gradient norms only (every step)": (lambda: [GradNormProbe(keep_steps=True)], EVAL_S),
    "all gradient-lab probes, every epoch": (gradlab_probes, 0.0),
    f"all gradient-lab probes, every {EVAL_S} s": (gradlab_probes, EVAL_S),
}


def redraw_ms(specs: list[Spec], epochs: int = 200, repeat: int = 20) -> float:
    """CPU ms of one redraw of the default view for A and B: views, then grad-norm curves and heatmaps."""
    trainers = [Trainer(s, gradlab_probes()) for s in specs]
    for t in trainers:
        t.eval_interval_s = EVAL_S
        for _ in range(epochs):
            t.run_epoch()
    c0 = time.thread_time()
    for _ in range(repeat):
        views = [gradients_views(t) for t in trainers]
        zrange = heatmap_range(*(v["steps"] for v in views))
        for t, v in zip(trainers, views):
            grad_norm_figure(list(t.history)).to_plotly_json()
            grad_heatmap_figure(v["steps"], zrange=zrange).to_plotly_json()
    return (time.thread_time() - c0) / repeat * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=4.0, help="CPU seconds per variant, roughly")
    args = ap.parse_args()
    torch.set_num_threads(1)
    print(f"torch {torch.__version__}, 1 thread, load average at start: {os.getloadavg()[0]:.2f}")
    best = interleaved(
        {
            name: (lambda make=make, eval_s=eval_s: trainer_epochs(SPEC, make(), eval_s))
            for name, (make, eval_s) in VARIANTS.items()
        },
        args.seconds,
    )
    base = best["probes off"]
    print("(a) depth 50 x 32 sigmoid MLP, batch 10, 35 steps an epoch, per CPU second of the training thread")
    for name, v in best.items():
        print(f"    {name:40s} {v:7.1f} steps/s  ratio to probes off {v / base:.3f}")
    preset = load_preset("fix-relu-he")
    sides = [preset.compare_spec(), preset.spec]  # A (the broken setting), B (the fix)
    specs = [s.with_(**{"train.epochs": 100_000}) for s in sides]
    wall, cpu = job_epochs_per_s(specs, 0, args.seconds * 2, views=gradients_views, probes=gradlab_probes)
    print(f"(b) Job, fix-relu-he (A and B, 12 x 32), full speed: {cpu:.1f} epochs per CPU second ({wall:.1f}/s wall)")
    print(f"(c) one redraw, A and B, Gradients view (views + 4 figures): {redraw_ms(sides):.1f} ms CPU")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
