"""Sequence speed: steps per second of each cell on the adding problem, one redraw's views, and the time the
LSTM takes to beat the baseline.

    python -m bench.bench_seq [--seconds S] [--rounds R] [--device cpu|cuda|both] [--no-race]

Steps go through the same SeqTrainer and grad-norm probe as the page and the runner (an epoch also measures the
gradient through time on 32 validation sequences). "views" is one `seq_views` call (hidden states of 4 examples,
LSTM gates recomputed from the weights, predictions). The race trains `adding-lstm` until its validation loss
falls below half the baseline and reports the wall time and epoch.
"""

from __future__ import annotations

import argparse
import os
import time

import torch

from bench.timing import app_devices, gpu_name, ms_per_call, steps_per_s
from core.presets import load_preset
from core.probes import default_probes
from core.trainers import make_trainer
from core.views.seq import seq_views

CELLS = ("rnn_tanh", "rnn_relu", "lstm", "gru")


def views_ms(spec, device: torch.device, repeats: int = 5) -> float:
    """Milliseconds for one seq_views call (what a redraw costs the training thread)."""
    t = make_trainer(spec, default_probes(), device)
    return ms_per_call(lambda: seq_views(t), repeats)


def race(device: torch.device) -> tuple[float | None, int | None]:
    """(seconds, epoch) until adding-lstm's validation loss is below half the baseline; (None, None) if never."""
    t = make_trainer(load_preset("adding-lstm").spec, default_probes(), device)
    t0 = time.perf_counter()
    while not t.done:
        rec = t.run_epoch()
        if rec and rec["val_loss"] < 0.5 * rec["baseline_loss"]:
            return time.perf_counter() - t0, rec["epoch"]
    return None, None


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=3.0, help="measuring time per case and round")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--device", choices=["cpu", "cuda", "both"], default="both")
    ap.add_argument("--no-race", action="store_true", help="skip the time-to-beat-the-baseline run")
    args = ap.parse_args()
    devices = app_devices(args.device)
    gpu = gpu_name()
    load = os.getloadavg()[0]
    print(f"cpu cores: {os.cpu_count()}, torch {torch.__version__}, threads {torch.get_num_threads()}, gpu: {gpu}")
    print(f"load average at start: {load:.1f}")
    base = load_preset("adding-lstm").spec.with_(**{"train.epochs": 100_000})
    for device in devices:
        for cell in CELLS:
            spec = base.with_(**{"seq.cell": cell})
            best = max(steps_per_s(spec, device, args.seconds) for _ in range(args.rounds))
            ms = views_ms(spec, device)
            print(
                f"{device.type:4s} adding T=100 hidden 32 batch 50  {cell:9s} {best:7.0f} steps/s   views {ms:6.1f} ms"
            )
        if not args.no_race:
            seconds, epoch = race(device)
            if seconds is None:
                print(f"{device.type:4s} adding-lstm never got below half the baseline")
            else:
                print(f"{device.type:4s} adding-lstm below half the baseline after {seconds:.1f} s (epoch {epoch})")
    print(f"load average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
