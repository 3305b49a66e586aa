"""CNN speed: steps per second and time to 95 % test accuracy on the cnn-digits lesson; cost of a redraw.

    python -m bench.bench_cnn [--seeds 0 1 2] [--seconds S] [--device cpu|cuda|both] [--no-write]

Training goes through the same Trainer and grad-norm probe as the page and the runner, including the
trainer's own evaluation at the end of every epoch. Time to 95 % counts training wall time only: the
test accuracy is checked after each epoch (with the page's `cnn_views`) on a stopped clock. The
figures are printed and written into docs/benchmarks.md under "## CNN page".
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

import torch

from bench.timing import app_devices, gpu_name, ms_per_call, steps_per_s
from core.presets import load_preset
from core.probes import default_probes
from core.trainers import make_trainer
from core.views.cnn import cnn_views, frozen_copy, image_view

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"
HEADING = "## CNN page"
TARGET = 0.95


def time_to_target(spec, device: torch.device) -> tuple[float | None, int | None, float]:
    """(training seconds, epochs) until the test accuracy first reaches 95 %, and the final test accuracy."""
    t = make_trainer(spec, default_probes(), device)
    train_s = 0.0
    hit = (None, None)
    while not t.done:
        t0 = time.perf_counter()
        t.run_epoch()
        train_s += time.perf_counter() - t0
        acc = cnn_views(t)["test_accuracy"]
        if hit[0] is None and acc >= TARGET:
            hit = (train_s, t.epoch)
    return hit[0], hit[1], acc


def redraw_ms(spec, device: torch.device, repeats: int = 20) -> tuple[float, float]:
    """Milliseconds for the job's views (test set) and for one image's feature maps on a frozen copy."""
    t = make_trainer(spec, default_probes(), device)
    x = t.data.x_test[:1].cpu().numpy()
    views = ms_per_call(lambda: cnn_views(t), repeats)
    return views, ms_per_call(lambda: image_view(frozen_copy(t.model), x), repeats)


def runner_seconds() -> tuple[float, dict]:
    """Wall seconds of `python -m core run cnn-digits --quiet` (start-up included) and its summary line."""
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "core", "run", "cnn-digits", "--quiet", "--device", "cpu"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return time.perf_counter() - t0, json.loads(out.stdout.strip().splitlines()[-1])


def write_section(lines: list[str]) -> None:
    """Replace (or append) the '## CNN page' section of docs/benchmarks.md, leaving other sections alone."""
    text = DOC.read_text() if DOC.exists() else "# Benchmarks\n\nFigures printed by `python -m bench.<name>`.\n"
    section = HEADING + "\n\n" + "\n".join(lines).rstrip() + "\n"
    pattern = re.compile(rf"^{re.escape(HEADING)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _: section + "\n", text).rstrip() + "\n"
    else:
        text = text.rstrip() + "\n\n" + section
    DOC.parent.mkdir(exist_ok=True)
    DOC.write_text(text)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--device", choices=["cpu", "cuda", "both"], default="cpu")
    ap.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = ap.parse_args()
    devices = app_devices(args.device)
    spec = load_preset("cnn-digits").spec
    endless = spec.with_(**{"train.epochs": 100_000})  # steps/s: the clock, not the lesson, ends the run
    gpu = gpu_name()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = [
        f"Measured {time.strftime('%Y-%m-%d')} with `python -m bench.bench_cnn`: {os.cpu_count()} CPU cores "
        f"({platform.processor() or platform.machine()}), torch {torch.__version__}, "
        f"{torch.get_num_threads()} intra-op thread(s) as in the app, GPU: {gpu}, load average at start {load:.1f} "
        "(a machine shared with other jobs: single timings vary by up to 2x).",
        "Lesson `cnn-digits`: 8x8 digits, 1,258 training images, batch 32 (40 steps per epoch), two 3x3 convs "
        "(16, 32 filters) with 2x2 max pooling, dense 64, Adam 0.003, 15 epochs, 13,706 parameters.",
        "",
        "| device | steps/s | seed | time to 95 % test accuracy | epochs | test accuracy after 15 epochs |",
        "|---|---|---|---|---|---|",
    ]
    for device in devices:
        sps = steps_per_s(endless, device, args.seconds)
        for seed in args.seeds:
            secs, epochs, final = time_to_target(spec.with_(seed=seed), device)
            when = f"{secs:.1f} s" if secs is not None else "not reached"
            row = f"| {device.type} | {sps:.0f} | {seed} | {when} | {epochs or '-'} | {100 * final:.1f} % |"
            print(row, flush=True)
            lines.append(row)
        views, image = redraw_ms(spec, device)
        lines.append("")
        lines.append(
            f"Redraw cost on {device.type}: test-set views (confusion matrix, misclassified, filters) "
            f"{views:.1f} ms; one image's feature maps and probabilities on a frozen copy {image:.1f} ms."
        )
        print(lines[-1])
    if "cpu" in [d.type for d in devices]:
        app_threads = torch.get_num_threads()
        torch.set_num_threads(os.cpu_count() or 1)
        sps_all = steps_per_s(endless, torch.device("cpu"), args.seconds)
        torch.set_num_threads(app_threads)
        lines.append("")
        lines.append(
            f"With PyTorch's default {os.cpu_count()} intra-op threads instead of {app_threads}: {sps_all:.0f} steps/s "
            "(on a busy shared machine extra threads wait for each other; the app gives each run one thread)."
        )
        print(lines[-1])
        wall, summary = runner_seconds()
        lines.append("")
        lines.append(
            f"`python -m core run cnn-digits --device cpu`: "
            f"{wall:.1f} s wall including start-up, {summary['seconds']:.1f} s training, "
            f"validation accuracy {100 * summary['val_accuracy']:.1f} %."
        )
        print(lines[-1])
    if not args.no_write:
        write_section(lines)
        print(f"written to {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
