"""GAN speed: training steps per second of the 2-D ring GAN and the digits GANs, and the cost of one redraw.

    python -m bench.bench_gan [--seconds S] [--rounds R] [--device cpu|cuda|both]

A step is `d_steps` discriminator updates plus one generator update, through the same GanTrainer and
grad-norm probe as the page and the runner. "views" is one `gan_views` call (the D heatmap on 80 x 80
points, 400 fakes, 40 gradient arrows and mode coverage of 1,000 fakes; or the 6 x 6 digits grid).
"""

from __future__ import annotations

import argparse
import os
import time

import torch

from core.presets import load_preset
from core.probes import default_probes
from core.trainers import make_trainer
from core.views.gan import gan_views

CASES = [
    ("gan-ring", {}, "ring, MLP 64-64 G and D, non-saturating, batch 64"),
    ("wgan-gp-ring", {}, "ring, WGAN-GP, 5 D updates per step, batch 64"),
    ("gan-digits", {}, "digits 8x8, DCGAN, batch 64"),
    ("gan-digits", {"gan.arch": "mlp", "gan.gen_hidden": (128, 128), "gan.disc_hidden": (128, 128)}, "digits, MLP"),
]


def steps_per_s(spec, device: torch.device, seconds: float) -> float:
    """Steps per second of a fresh trainer over `seconds` (after one warm-up epoch)."""
    t = make_trainer(spec, default_probes(), device)
    t.run_epoch()  # warm-up: allocations, cuDNN autotuning
    if device.type == "cuda":
        torch.cuda.synchronize()
    s0, t0 = t.step_count, time.perf_counter()
    while time.perf_counter() - t0 < seconds and not t.done:
        t.step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return (t.step_count - s0) / (time.perf_counter() - t0)


def views_ms(spec, device: torch.device, repeats: int = 20) -> float:
    """Milliseconds for one gan_views call (what a redraw costs the training thread)."""
    t = make_trainer(spec, default_probes(), device)
    gan_views(t)
    t0 = time.perf_counter()
    for _ in range(repeats):
        gan_views(t)
    return 1000 * (time.perf_counter() - t0) / repeats


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=3.0, help="measuring time per case and round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--device", choices=["cpu", "cuda", "both"], default="both")
    args = ap.parse_args()
    torch.set_num_threads(max(1, (os.cpu_count() or 2) // 2))  # as the JobManager sets it
    devices = [torch.device("cpu")] if args.device in ("cpu", "both") else []
    if args.device in ("cuda", "both") and torch.cuda.is_available():
        devices.append(torch.device("cuda"))
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    print(f"cpu cores: {os.cpu_count()}, torch {torch.__version__}, threads {torch.get_num_threads()}, gpu: {gpu}")
    for device in devices:
        for name, overrides, label in CASES:
            spec = load_preset(name).spec.with_(**overrides, **{"train.epochs": 100_000})
            best = max(steps_per_s(spec, device, args.seconds) for _ in range(args.rounds))
            ms = views_ms(spec, device)
            print(f"{device.type:4s} {name:13s} {label:48s} {best:8.0f} steps/s   views {ms:6.1f} ms")


if __name__ == "__main__":
    main()
