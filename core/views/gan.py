"""What the GAN page draws, measured from the real networks: samples on the plane, D's heatmap, G's push."""

from __future__ import annotations

import numpy as np
import torch

from core.charts.base import image_grid
from core.gan import ARROWS, EVAL_SAMPLES, GRID_N, VIEW_SAMPLES, GanTrainer, d_output, mode_coverage


def score_midpoint(trainer: GanTrainer) -> float:
    """The score where D is undecided: the loss's `midpoint` (0.5 for the probability and least-squares
    losses, targets 0 and 1; 0 for hinge), else (the Wasserstein critic, whose level is arbitrary: only
    differences count) the mean of its scores on real and on generated samples."""
    if trainer.gan_loss.midpoint is not None:
        return trainer.gan_loss.midpoint
    real = trainer.data.x_train[:VIEW_SAMPLES]
    fake = trainer.generate(trainer.fixed_z[:VIEW_SAMPLES])
    return 0.5 * float(trainer.discriminate(real).mean() + trainer.discriminate(fake).mean())


def d_grid(trainer: GanTrainer, n: int = GRID_N) -> dict:
    """D over the plane [-extent, extent]^2 on an n x n grid: xs, ys (n,), value (n, n), range, mid, label.

    The colour range is [0, 1] for probabilities, else centred on `score_midpoint` and wide enough for
    every value on the plane.
    """
    extent = trainer.data.extra["extent"]
    xs = np.linspace(-extent, extent, n, dtype=np.float32)
    gx, gy = np.meshgrid(xs, xs)  # row i has y = xs[i]
    pts = torch.as_tensor(np.stack([gx.ravel(), gy.ravel()], 1)).to(trainer.device)
    out = d_output(trainer.loss_name, trainer.discriminate(pts))[:, 0].cpu().numpy().reshape(n, n)
    mid = score_midpoint(trainer)
    if trainer.gan_loss.sigmoid:
        rng, label = (0.0, 1.0), "D(x): P(real)"
    else:
        half = float(np.abs(out - mid).max()) or 1.0
        critic = trainer.gan_loss.gradient_penalty
        rng, label = (mid - half, mid + half), "D(x): critic score" if critic else "D(x): score"
    return {"xs": xs, "ys": xs, "value": out.astype(np.float32), "range": rng, "mid": mid, "label": label}


def g_arrows(trainer: GanTrainer, z: torch.Tensor) -> dict:
    """Fakes G(z) and -dL_G/dx at each: the direction the generator's loss pushes each fake sample."""
    x = trainer.generate(z).requires_grad_(True)
    trainer.D.eval()
    try:
        loss = trainer.g_loss_fn(trainer.D(x)) * len(x)  # per-sample gradients, not divided by the batch
        (grad,) = torch.autograd.grad(loss, x)
    finally:
        trainer.D.train()
    return {"points": x.detach().cpu().numpy(), "push": (-grad).cpu().numpy()}


def gan_views(trainer: GanTrainer) -> dict:
    """What the GAN page draws: the plane (real, fake, D heatmap, arrows) or a digits sample grid."""
    if trainer.image:
        imgs = trainer.generate(trainer.fixed_z).cpu().numpy()[:, 0]  # (N, S, S) in [-1, 1], +1 = ink
        return {"mosaic": image_grid(imgs, cols=6, scale=6)}  # high values are drawn dark
    real = trainer.data.points_train[:VIEW_SAMPLES]
    fake = trainer.generate(trainer.fixed_z[:VIEW_SAMPLES]).cpu().numpy()
    view = {"real": real, "fake": fake, "grid": d_grid(trainer), "arrows": g_arrows(trainer, trainer.fixed_z[:ARROWS])}
    centers = trainer.data.extra.get("centers")
    if centers is not None:
        view["centers"] = centers
        view["coverage"] = mode_coverage(
            trainer.generate(trainer.fixed_z[:EVAL_SAMPLES]).cpu().numpy(), centers, trainer.data.extra["std"]
        )
    return view
