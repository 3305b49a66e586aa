"""Engine speed: our Trainer (with probes) against a bare PyTorch loop, and a Job's epochs per second.

    python -m bench.bench_engine [--seconds S]

(a) steps per CPU second (this thread's CPU time, so a busy shared machine changes the ratios little) of the
    Trainer with the Playground's probes and with the Gradient lab's, against a bare loop on the same model,
    data and batch order: each variant and a bare loop take turns epoch by epoch in one thread, and the ratio
    of the pair is printed (goal >= 0.90). The Trainer evaluates both sets every epoch (the runner, Step,
    slow motion) or every EVAL_S seconds (a live page);
(b) epochs/s of the `tfp-default` preset through a running Job that also computes the decision grid the
    page draws: full speed (a snapshot every 0.1 s), slow motion (every epoch) and every 10 epochs; wall
    clock and per CPU second of the job's thread.
"""

from __future__ import annotations

import argparse
import os
import time

import torch
import torch.nn.functional as F

from core.engine import Trainer
from core.gradlab import gradlab_probes
from core.jobs import EVAL_S, Job
from core.presets import load_preset
from core.probes import default_probes
from core.views.mlp import decision_grid
from tests.core.bare import bare_loop


def bare_epochs(spec):
    """The plain PyTorch loop tests/core/test_engine.py holds the Trainer to (same model, data, optimiser and batch
    order; nothing measured). Returns a function that trains one epoch and returns its number of steps."""
    epoch = bare_loop(spec, lambda out, y: 0.5 * F.mse_loss(out, y))
    return lambda: len(epoch())


def trainer_epochs(spec, probes, eval_s: float):
    """Our Trainer with `probes`, evaluating every eval_s seconds (0: every epoch); one epoch per call."""
    t = Trainer(spec, probes)
    t.eval_interval_s = eval_s

    def epoch() -> int:
        s0 = t.step_count
        t.run_epoch()
        return t.step_count - s0

    epoch.trainer = t
    return epoch


def interleaved(variants: dict, seconds: float) -> dict[str, float]:
    """Steps per CPU second of each variant, trained epoch by epoch in turn (A, B, C, A, B, C, ...).

    Load from other processes comes and goes on a scale of milliseconds to seconds, so taking turns every
    few milliseconds spreads it evenly over the variants; this thread's CPU time leaves out the time other
    processes hold the core.
    """
    runs = {name: make() for name, make in variants.items()}
    for run in runs.values():
        if hasattr(run, "trainer"):
            # Each variant gets 1/k of the wall clock: stretch the evaluation cadence k times, so that it
            # evaluates as often per step of its own as a live Job does.
            run.trainer.eval_interval_s *= len(runs)
        run()  # warm-up: the first epoch allocates, and the Trainer always evaluates it
    cpu, steps = dict.fromkeys(runs, 0.0), dict.fromkeys(runs, 0)
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds * len(runs):
        for name, run in runs.items():
            c0 = time.thread_time()
            steps[name] += run()
            cpu[name] += time.thread_time() - c0
    return {name: steps[name] / cpu[name] for name in runs}


def job_epochs_per_s(specs, speed: int, seconds: float, views=None, probes=None) -> tuple[float, float]:
    """(epochs per wall second, epochs per CPU second of the job's thread) of a running Job.

    `views` defaults to the Playground's decision grid; `probes` to each family's own."""
    views = views or (lambda tr: {"grid": decision_grid(tr)})
    job = Job(specs, views=views, probes=probes, speed=speed)
    job.play()
    time.sleep(1.0)  # warm-up
    clock = time.pthread_getcpuclockid(job._thread.ident)
    e0, t0, c0 = job.trainers[0].epoch, time.perf_counter(), time.clock_gettime(clock)
    time.sleep(seconds)
    e1, t1, c1 = job.trainers[0].epoch, time.perf_counter(), time.clock_gettime(clock)
    job.stop()
    return (e1 - e0) / (t1 - t0), (e1 - e0) / max(1e-9, c1 - c0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=4.0, help="CPU seconds per variant, roughly")
    args = ap.parse_args()
    torch.set_num_threads(1)  # as the JobManager sets it on a 2-core machine
    spec = load_preset("tfp-default").spec.with_(**{"train.epochs": 100_000})
    print(f"cpu cores: {os.cpu_count()}, torch {torch.__version__}, threads {torch.get_num_threads()}")
    print("load average at start: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    print("circle data, 250 training points")
    cases = {
        "tfp-default (2-4-2-1 tanh, batch 10)": spec,
        "8 x 64 ReLU, batch 32": spec.with_(
            **{"model.hidden": (64,) * 8, "model.activation": ("relu",), "data.batch_size": 32}
        ),
    }
    for label, case in cases.items():
        variants = {
            "bare PyTorch loop": lambda: bare_epochs(case),
            "grad-norm probe, eval every epoch": lambda: trainer_epochs(case, default_probes(), 0.0),
            f"grad-norm probe, eval every {EVAL_S} s": lambda: trainer_epochs(case, default_probes(), EVAL_S),
            "gradient-lab set, every epoch": lambda: trainer_epochs(case, gradlab_probes(), 0.0),
            f"gradient-lab set, eval every {EVAL_S} s": lambda: trainer_epochs(case, gradlab_probes(), EVAL_S),
        }
        bare_name, make_bare = next(iter(variants.items()))
        print(f"(a) {label}")
        for name, make in list(variants.items())[1:]:
            # Each variant takes turns with its own bare loop: the ratio of the pair is what is compared.
            rates = interleaved({bare_name: make_bare, name: make}, args.seconds)
            ratio = rates[name] / rates[bare_name]
            print(f"    {name:40s} {rates[name]:7.0f} steps/s  ratio {ratio:.3f} (bare {rates[bare_name]:.0f})")
    bare = interleaved({"bare": lambda: bare_epochs(spec)}, args.seconds)["bare"]
    print(f"(b) Job + 80 x 80 decision grid, tfp-default (bare loop {bare:.0f} steps per CPU second):")
    for speed in (0, 1, 10):
        wall, cpu = job_epochs_per_s(spec, speed, args.seconds * 2)
        what = {0: "full speed", 1: "slow motion"}.get(speed, f"{speed} epochs per redraw")
        print(f"    {what:20s} {wall:6.1f} epochs/s wall, {cpu:6.1f} per CPU second ({cpu * 25 / bare:.2f} x bare)")
    print("load average at end: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
