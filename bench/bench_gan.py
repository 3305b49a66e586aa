"""GAN speed: training steps per second of the 2-D ring GAN and the digits GANs, and the cost of one redraw.

    python -m bench.bench_gan [--seconds S] [--rounds R] [--device cpu|cuda|both]

A step is `d_steps` discriminator updates plus one generator update, through the same GanTrainer and
grad-norm probe as the page and the runner. "views" is one `gan_views` call (the D heatmap on 80 x 80
points, 400 fakes, 40 gradient arrows and mode coverage of 1,000 fakes; or the 6 x 6 digits grid).
"""

from __future__ import annotations

import argparse
import os

import torch

from bench.timing import app_devices, gpu_name, ms_per_call, steps_per_s
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


def views_ms(spec, device: torch.device, repeats: int = 20) -> float:
    """Milliseconds for one gan_views call (what a redraw costs the training thread)."""
    t = make_trainer(spec, default_probes(), device)
    return ms_per_call(lambda: gan_views(t), repeats)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=3.0, help="measuring time per case and round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--device", choices=["cpu", "cuda", "both"], default="both")
    args = ap.parse_args()
    devices = app_devices(args.device)
    gpu = gpu_name()
    print(f"cpu cores: {os.cpu_count()}, torch {torch.__version__}, threads {torch.get_num_threads()}, gpu: {gpu}")
    for device in devices:
        for name, overrides, label in CASES:
            spec = load_preset(name).spec.with_(**overrides, **{"train.epochs": 100_000})
            best = max(steps_per_s(spec, device, args.seconds) for _ in range(args.rounds))
            ms = views_ms(spec, device)
            print(f"{device.type:4s} {name:13s} {label:48s} {best:8.0f} steps/s   views {ms:6.1f} ms")


if __name__ == "__main__":
    main()
