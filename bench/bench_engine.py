"""Engine speed: our Trainer (with probes) against a bare PyTorch loop, and a Job's epochs per second.

    python -m bench.bench_engine [--seconds S] [--rounds R]

(a) steps/s of Trainer with the Playground's probes and with the Gradient lab's, against a bare loop
    on the same model, data and batch order, as ratios measured in the same process (goal >= 0.90);
(b) epochs/s of the `tfp-default` preset through a running Job that also computes the decision
    grid the page draws, with speed 1 (one redraw snapshot per epoch) and 10.
"""

from __future__ import annotations

import argparse
import os
import time

import torch
import torch.nn.functional as F

from core.data.dataset import make_dataset
from core.engine import Trainer
from core.gradlab import gradlab_probes
from core.jobs import Job
from core.models import build_model
from core.presets import load_preset
from core.probes import default_probes
from core.views.mlp import decision_grid


def bare_steps_per_s(spec, seconds: float) -> float:
    """Plain PyTorch: the same model, data, optimiser and batch order; nothing measured."""
    torch.manual_seed(spec.seed)
    data = make_dataset(spec)
    model = build_model(spec)
    opt = torch.optim.SGD(model.parameters(), lr=spec.train.lr)
    gen = torch.Generator().manual_seed(spec.seed + 1)
    n, bs = len(data.x_train), spec.data.batch_size
    steps, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        order = torch.randperm(n, generator=gen)
        for i in range(0, n, bs):
            idx = order[i : i + bs]
            opt.zero_grad(set_to_none=True)
            loss = 0.5 * F.mse_loss(model(data.x_train[idx]), data.y_train[idx])
            loss.backward()
            opt.step()
            steps += 1
    return steps / (time.perf_counter() - t0)


def trainer_steps_per_s(spec, probes, seconds: float) -> float:
    t = Trainer(spec, probes)
    steps, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        t.run_epoch()
        steps = t.step_count
    return steps / (time.perf_counter() - t0)


def job_epochs_per_s(spec, speed: int, seconds: float) -> float:
    job = Job(spec, views=lambda tr: {"grid": decision_grid(tr)}, speed=speed)
    job.play()
    time.sleep(1.0)  # warm-up
    e0, t0 = job.trainers[0].epoch, time.perf_counter()
    time.sleep(seconds)
    e1, t1 = job.trainers[0].epoch, time.perf_counter()
    job.stop()
    return (e1 - e0) / (t1 - t0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=3.0, help="measuring time per variant and round")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(1)  # as the JobManager sets it on a 2-core machine
    spec = load_preset("tfp-default").spec.with_(**{"train.epochs": 100_000})
    print(f"cpu cores: {os.cpu_count()}, torch {torch.__version__}, threads {torch.get_num_threads()}")
    print("circle data, 250 training points; the Trainer also evaluates both sets once an epoch")
    cases = {
        "tfp-default (2-4-2-1 tanh, batch 10)": spec,
        "8 x 64 ReLU, batch 32": spec.with_(
            **{"model.hidden": (64,) * 8, "model.activation": ("relu",), "data.batch_size": 32}
        ),
    }
    for label, case in cases.items():
        best = {"bare": 0.0, "trainer": 0.0, "gradlab": 0.0}
        for _ in range(args.rounds):  # interleaved rounds, best of each: robust to a busy machine
            best["bare"] = max(best["bare"], bare_steps_per_s(case, args.seconds))
            best["trainer"] = max(best["trainer"], trainer_steps_per_s(case, default_probes(), args.seconds))
            best["gradlab"] = max(best["gradlab"], trainer_steps_per_s(case, gradlab_probes(), args.seconds))
        print(f"(a) {label}")
        print(f"    bare PyTorch loop           {best['bare']:9.0f} steps/s")
        print(
            f"    Trainer + grad-norm probe   {best['trainer']:9.0f} steps/s  ratio {best['trainer'] / best['bare']:.3f}"
        )
        print(
            f"    Trainer + gradient-lab set  {best['gradlab']:9.0f} steps/s  ratio {best['gradlab'] / best['bare']:.3f}"
        )
    for speed in (1, 10):
        eps = job_epochs_per_s(spec, speed, args.seconds * 2)
        print(f"(b) Job, tfp-default, {speed:2d} epochs per redraw: {eps:7.1f} epochs/s ({eps * 25:.0f} steps/s)")


if __name__ == "__main__":
    main()
