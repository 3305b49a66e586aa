"""Autoencoder figures: time to a clean 2-D latent map, the anomaly AUC, denoising, and the cost of a redraw.

    python -m bench.bench_ae [--device cpu|cuda]

"Clean" latent map: the 2-D codes of held-out digits sort by class, measured as the share of held-out
images whose 5 nearest training codes vote for their own class (5-NN accuracy in the code plane;
chance is about 10 %). The map counts as clean from the first epoch at which that share reaches
CLEAN. Training runs through the same AeTrainer and grad-norm probe as the page and the runner,
one intra-op thread as in the app.
"""

from __future__ import annotations

import argparse
import os
import time

import torch
from sklearn.neighbors import KNeighborsClassifier

from bench.timing import ms_per_call
from core.presets import load_preset
from core.probes import default_probes
from core.trainers import make_trainer
from core.views.ae import ae_views

CLEAN = 0.80


def knn_share(trainer) -> float:
    """5-NN accuracy of held-out codes against training codes (the VAE's means)."""
    train = trainer.reconstruct(trainer.data.x_train)[2].cpu().numpy()
    test = trainer.reconstruct(trainer.data.x_test)[2].cpu().numpy()
    ex = trainer.data.extra
    knn = KNeighborsClassifier(5).fit(train, ex["labels_train"])
    return float(knn.score(test, ex["labels_test"]))


def latent_run(name: str, device: torch.device) -> None:
    """Epochs and training seconds until the 2-D map is clean, and the final 5-NN share."""
    t = make_trainer(load_preset(name).spec, default_probes(), device)
    seconds, reached = 0.0, None
    while not t.done:
        t0 = time.perf_counter()
        t.run_epoch()
        seconds += time.perf_counter() - t0  # training and the trainer's own evaluation; the probe below is not counted
        if reached is None:
            share = knn_share(t)
            if share >= CLEAN:
                reached = (t.epoch, seconds, share)
    final = knn_share(t)
    when = f"epoch {reached[0]} ({reached[1]:.1f} s, 5-NN {reached[2]:.0%})" if reached else "never"
    print(
        f"{name:14s} clean (5-NN >= {CLEAN:.0%}) at {when}; after {t.epoch} epochs ({seconds:.1f} s) 5-NN {final:.0%}"
    )


def anomaly_run(device: torch.device) -> None:
    spec = load_preset("ae-anomaly").spec
    t = make_trainer(spec, default_probes(), device)
    t0 = time.perf_counter()
    while not t.done:
        t.run_epoch()
    r = t.history[-1]
    kinds = ", ".join(f"{k[4:]} {v:.3f}" for k, v in r.items() if k.startswith("auc_"))
    print(f"ae-anomaly     {t.epoch} epochs in {time.perf_counter() - t0:.1f} s: AUC {r['auc']:.3f} ({kinds})")


def denoise_run(device: torch.device) -> None:
    t = make_trainer(load_preset("denoising-ae").spec, default_probes(), device)
    t0 = time.perf_counter()
    while not t.done:
        t.run_epoch()
    r = t.history[-1]
    print(
        f"denoising-ae   {t.epoch} epochs in {time.perf_counter() - t0:.1f} s: held-out noisy input MSE "
        f"{r['val_noisy_mse']:.4f}, denoised {r['val_denoised_mse']:.4f}"
    )


def views_ms(name: str, device: torch.device, repeats: int = 10) -> float:
    """Milliseconds for one ae_views call (what a redraw costs the training thread)."""
    t = make_trainer(load_preset(name).spec, default_probes(), device)

    def fresh_views() -> None:
        t.step_count += 1  # new weights as far as the score cache knows: measure the full cost
        ae_views(t)

    return ms_per_call(fresh_views, repeats)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    args = ap.parse_args()
    torch.set_num_threads(1)
    device = torch.device(args.device)
    print(f"cpu cores: {os.cpu_count()}, torch {torch.__version__}, threads 1, device {device}")
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    for name in ("ae-latent-2d", "vae-digits"):
        latent_run(name, device)
    anomaly_run(device)
    denoise_run(device)
    for name in ("ae-latent-2d", "vae-digits", "denoising-ae", "ae-anomaly"):
        print(f"views {name:14s} {views_ms(name, device):6.1f} ms")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
